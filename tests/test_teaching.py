"""DESIGN.md's teaching rules that a machine can check, over every solution notebook.

- a hint never hands over a line of its exercise's solution;
- learner-facing text (markdown, and the strings code cells print) never speaks of the course's
  machinery (issues, targets, budgets, CI, "met / NOT met", paths into solutions/ or benchmarks/);
- one name, one signature: a function graded in any chapter is defined with the same parameters
  wherever a chapter defines that name;
- notebooks run on Linux, macOS and Windows: no `resource` module, `ru_maxrss` or `/proc`;
- a requirement a test checks is stated in the exercise: a test that checks "inputs unchanged"
  belongs to an exercise whose text says so.

Each check reads the notebooks' sources only (no kernel), so it runs in a second.
"""
from __future__ import annotations

import ast
import re
import textwrap
from collections import defaultdict

import nbformat
import pytest

from dlcourse.course import ROOT, chapter_ids
from gradecheck import exercises

CHAPTERS = chapter_ids()
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", re.S)


def _nb(cid):
    return nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _code_source(src: str) -> str:
    """A code cell's Python, with IPython magics and shell lines blanked so that ast can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())


# ---------------------------------------------------------------------------------------------- hints

MIN_STATEMENT = 12   # characters (whitespace removed): `return x` or `pass` is no give-away
MIN_EXPRESSION = 20  # a part of a line: naming `np.zeros_like(x)` is a method, `(f_plus - f_minus) / (2 * h)` the answer


def solution_statements(solution: str) -> list[str]:
    """Every statement and every sizeable expression of a solution, whitespace removed.

    A statement is a line of code as the learner would type it (`m = beta_1 * m + (1 - beta_1) * g`);
    an expression counts too when it is long enough to be the answer on its own (the right-hand side
    of that line). Docstrings and comments are not statements."""
    solution = textwrap.dedent(solution)
    try:
        tree = ast.parse(solution)
    except SyntaxError:  # a solution region that is only part of a statement: fall back to its lines
        return [s for s in (_squash(line.split("#")[0]) for line in solution.splitlines()) if len(s) >= MIN_STATEMENT]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.With, ast.Try)):
            continue  # the header of a block is judged by its parts
        if isinstance(node, ast.stmt):
            seg = ast.get_source_segment(solution, node) or ast.unparse(node)
            stmt = _squash(seg.split("\n")[0] if "\n" in seg else seg)
            if len(stmt) >= MIN_STATEMENT:
                out.append(stmt)
            value = getattr(node, "value", None)
            if isinstance(value, ast.expr) and not isinstance(value, (ast.Name, ast.Constant)):
                expr = _squash(ast.get_source_segment(solution, value) or ast.unparse(value))
                if len(expr) >= MIN_EXPRESSION:
                    out.append(expr)
    return sorted(set(out))


def hint_cells(nb, info) -> list[str]:
    """The markdown cells with folded hints that follow an exercise, up to the next exercise."""
    cells = []
    for c in nb.cells[info["cell"] + 1:]:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("fn-"):
            break
        if c.cell_type == "markdown" and "<details>" in c.source:
            cells.append(c.source)
        elif cells and c.cell_type == "markdown":
            break  # the hints are over: the next section starts
    return cells


def hint_give_aways(nb) -> list[str]:
    found = []
    for fn, info in exercises(nb).items():
        m = SOLUTION.search(nb.cells[info["cell"]].source)
        if not m:
            continue
        hints = _squash("\n".join(hint_cells(nb, info)))
        for stmt in solution_statements(m.group(1)):
            if stmt in hints:
                found.append(f"{fn}: its hint contains the solution's `{stmt}`")
    return found


@pytest.mark.parametrize("cid", CHAPTERS)
def test_hints_guide_and_never_hand_over_the_solution(cid):
    give_aways = hint_give_aways(_nb(cid))
    assert not give_aways, (f"{cid}: a hint gives the answer away (hint 1 is a nudge, hint 2 the method: "
                            "steps, functions, shapes; never a line of the solution):\n  " + "\n  ".join(give_aways))


def test_the_hint_check_catches_a_hint_that_is_the_solution():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    y = np.clip(x, 0.0, 1.0)\n"
                                  "    return float(np.mean(y ** 2))\n    ### END SOLUTION",
                                  metadata={"nbgrader": {"grade_id": "fn-f", "solution": True}}),
        nbformat.v4.new_code_cell("assert f(1) == 1", metadata={"nbgrader": {"grade_id": "test-f", "grade": True, "points": 1}}),
        nbformat.v4.new_markdown_cell("<details><summary>Hint 2</summary>\n\nClip, then `return  float(np.mean(y**2))`."
                                      "\n</details>"),
    ])
    assert hint_give_aways(nb) == ["f: its hint contains the solution's `float(np.mean(y**2))`",
                                   "f: its hint contains the solution's `returnfloat(np.mean(y**2))`"]
    nb.cells[2].source = "<details><summary>Hint 2</summary>\n\nClip into [0, 1] with `np.clip`, then average the squares.\n</details>"
    assert hint_give_aways(nb) == []


# ------------------------------------------------------------------------------ learner-facing words

# Words that speak of how the course is made, not of deep learning. Each is a regular expression
# (case-sensitive where case matters); ALLOWED lists the learner-facing uses of the same words.
MACHINERY = {
    "an issue (of the course's tracker)": r"\b[Ii]ssues?\b",
    "a budget": r"\b[Bb]udgets?\b",
    "CI": r"\bCI\b",
    "a verdict (met / NOT met)": r"\bNOT met\b|\b(?:is|are|was|were|not|target) met\b|\bmet\s*[/(]",
    "a target to reach": r"\b[Tt]argets?(?:\s*:|\s+\d|[^.\n]{0,30}?\b(?:met|reach(?:ed)?|at least|asks?)\b)",
    "a path into the course's sources": r"(?<![\w.])(?:\.\./)*(?:solutions|benchmarks)/",  # in prose, see below
    "grading machinery": r"\bwhich CI and grading use\b",
}
ALLOWED = [
    # "target" as the quantity a model predicts, with a number after it (the target MEDV of 24.0 ...)
    r"\b[Tt]argets?\s+(?:MEDV|variables?|values?|column|labels?|vectors?|y\b|`y`)",
]


def learner_texts(nb):
    """(where, text) of every markdown cell and of every string literal in a code cell (what a cell can print)."""
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown":
            yield f"cell {i} (markdown)", c.source
        elif c.cell_type == "code":
            src = HIDDEN.sub("", _code_source(c.source))
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    yield f"cell {i} (a string in code)", node.value


def machinery_words(nb) -> list[str]:
    found = []
    for where, text in learner_texts(nb):
        masked = text
        for pat in ALLOWED:
            masked = re.sub(pat, lambda m: "_" * len(m.group(0)), masked)
        for what, pat in MACHINERY.items():
            if what.startswith("a path") and not re.search(r"\s", text.strip()):
                continue  # a bare path in code is a file the cell reads, not a sentence the learner reads
            for m in re.finditer(pat, masked):
                lo, hi = max(0, m.start() - 40), min(len(text), m.end() + 40)
                found.append(f"{where}: {what}: ...{text[lo:hi]!r}...")
    return found


@pytest.mark.parametrize("cid", CHAPTERS)
def test_learner_facing_text_speaks_to_the_learner(cid):
    found = machinery_words(_nb(cid))
    assert not found, (f"{cid}: learner-facing text speaks of the course's machinery (teach the figure, "
                       "do not judge it):\n  " + "\n  ".join(found))


def test_the_words_check_tells_machinery_from_deep_learning():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The regression target MEDV; the targets y of a batch; one-hot targets; "
                                      "the target of 24.0 for this house; predictions minus every target."),
        nbformat.v4.new_code_cell('print(f"loss {L:.3f} against target values y")'),
    ])
    assert machinery_words(nb) == []
    nb.cells.append(nbformat.v4.new_markdown_cell("The issue asks for at least 20x: NOT met. The target: 5x."))
    nb.cells.append(nbformat.v4.new_code_cell('print("300 s budget; see ../../benchmarks/README.md")'))
    found = " ".join(machinery_words(nb))
    for what in ("an issue", "a verdict", "a budget", "a path", "a target to reach"):
        assert what in found, (what, found)


# --------------------------------------------------------------------------------- one signature

def definitions():
    """{name: [(chapter, 'params as ast.unparse gives them', graded?)]} of every top-level def."""
    defs = defaultdict(list)
    for cid in CHAPTERS:
        nb = _nb(cid)
        for c in nb.cells:
            if c.cell_type != "code":
                continue
            gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            try:
                tree = ast.parse(_code_source(c.source))
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    defs[node.name].append((cid, ast.unparse(node.args), gid == f"fn-{node.name}"))
                elif isinstance(node, ast.ClassDef):
                    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
                    defs[node.name].append((cid, "class" + (f"({ast.unparse(init.args)})" if init else ""),
                                            gid == f"fn-{node.name}"))
    return defs


def signature_clashes(defs) -> list[str]:
    out = []
    for name, where in sorted(defs.items()):
        if not any(graded for *_, graded in where):
            continue
        sigs = {sig for _, sig, _ in where}
        if len(sigs) > 1:
            out.append(f"{name}: " + "; ".join(f"{cid}{' (graded)' if g else ''}: {name}({sig})" for cid, sig, g in where))
    return out


def test_one_name_one_signature_across_chapters():
    clashes = signature_clashes(definitions())
    assert not clashes, ("a name graded in one chapter is defined with other parameters elsewhere (a learner who "
                         "pastes one chapter's answer into another gets a TypeError):\n  " + "\n  ".join(clashes))


def test_the_signature_check_catches_renamed_keywords():
    defs = {"adam_step": [("06", "w, g, m, v, t, learning_rate=0.001", True), ("10", "w, g, m, v, t, lr", True)],
            "helper": [("05", "x", False), ("09", "x, y", False)]}
    assert [c.split(":")[0] for c in signature_clashes(defs)] == ["adam_step"]


# ------------------------------------------------------------------------------------- portable

NOT_PORTABLE = {
    "the resource module (not on Windows)": r"^\s*(?:import\s+resource\b|from\s+resource\s+import)",
    "ru_maxrss (KiB on Linux, bytes on macOS)": r"\bru_maxrss\b",
    "/proc (Linux only)": r"[\"']/proc/",
}


@pytest.mark.parametrize("cid", CHAPTERS)
def test_notebooks_run_on_every_learners_laptop(cid):
    found = []
    for i, c in enumerate(_nb(cid).cells):
        if c.cell_type != "code":
            continue
        for what, pat in NOT_PORTABLE.items():
            if re.search(pat, c.source, re.M):
                found.append(f"cell {i}: {what}")
    assert not found, f"{cid}: platform-only code (use psutil for memory):\n  " + "\n  ".join(found)


# ------------------------------------------------------------------------- requirements are stated

UNCHANGED = re.compile(r"(?i)unchanged|not changed|not modif|never modif|does not change|doesn't change|"
                       r"leaves? (?:its|the|their) inputs?|in place|new arrays?")


@pytest.mark.parametrize("cid", CHAPTERS)
def test_a_requirement_a_test_checks_is_stated_in_the_exercise(cid):
    """A test that checks that the inputs are left unchanged (`call_unchanged`) belongs to an exercise
    whose text (docstring or the markdown just above it) says so."""
    nb = _nb(cid)
    unstated = []
    for fn, info in exercises(nb).items():
        tests = [c.source for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in info["tests"]]
        if not any(re.search(rf"call_unchanged\(\s*{re.escape(fn)}\b", HIDDEN.sub("", t) + t) for t in tests):
            continue
        solution = nb.cells[info["cell"]].source
        before = "\n".join(c.source for c in nb.cells[max(0, info["cell"] - 2):info["cell"]] if c.cell_type == "markdown")
        if not UNCHANGED.search(SOLUTION.sub("", solution) + "\n" + before):
            unstated.append(fn)
    assert not unstated, (f"{cid}: tests check that the inputs are left unchanged, but the exercise does not say "
                          f"so: {unstated} (write it in the docstring: 'leaves its inputs unchanged')")
