"""The class report: one HTML page, written by ``python -m dlcourse grade`` next to ``grades.csv``.

What an instructor wants to see of a graded class at a glance, in a page that opens offline (plots are
PNGs embedded as data URIs, no script, no web font):

- the score distribution (a histogram and the summary figures);
- each test cell's pass rate (full points) and its most common failure message, read from the
  autograded notebooks (``autograded/<student>/<chapter>/``), so the instructor sees what the class
  got wrong, not only who;
- flagged submissions and those whose grading ended in an error, with the reason;
- pairs of learners whose answer cells are the same up to names and whitespace: each solution cell is
  reduced to its tokens, with comments and layout dropped and every name (but attribute names after a
  dot and keywords) replaced by its order of first appearance, so ``return np.maximum(0, z)`` and
  ``return  np.maximum(0,x) # relu`` are the same. A pair is listed for the instructor to look at,
  never as a verdict: short answers are often the same by nature, which is why each pair shows how
  many of its shared cells no other learner has.
"""
from __future__ import annotations

import base64
import collections
import html
import io
import itertools
import keyword
import re
import statistics
import tokenize
from pathlib import Path

import nbformat

REPORT_NAME = "class-report.html"


def report_path(csv_path: Path) -> Path:
    """Where the report of a grading run goes: next to its grades.csv."""
    return Path(csv_path).with_name(REPORT_NAME)


# ------------------------------------------------------------------ answers, up to names and whitespace
def normalise_code(source: str) -> str:
    """The code's tokens with comments, layout and names abstracted (see the module's docstring)."""
    names: dict[str, str] = {}
    out: list[str] = []
    prev = ""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.sub(r"\s+", "", source)
    for tok in tokens:
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        text = tok.string
        if tok.type == tokenize.NAME and not keyword.iskeyword(text) and prev != ".":
            text = names.setdefault(text, f"v{len(names)}")
        out.append(text)
        prev = tok.string
    return " ".join(out)


def _answers(nb) -> dict[str, str]:
    """grade_id -> source of each solution cell (the learner's answers)."""
    out = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and meta.get("grade_id"):
            out[meta["grade_id"]] = cell.source
    return out


def similar_pairs(answers: dict[str, dict[str, str]], blank: dict[str, str], min_cells: int = 2) -> list[dict]:
    """Pairs of learners with at least ``min_cells`` answer cells the same up to names and whitespace.

    answers: learner -> {grade_id: source}; blank: {grade_id: source} of the release (unanswered cells
    are the release's own and never count)."""
    blank_norm = {gid: normalise_code(src) for gid, src in blank.items()}
    norm = {who: {gid: normalise_code(src) for gid, src in cells.items()} for who, cells in answers.items()}
    norm = {who: {gid: n for gid, n in cells.items() if n and n != blank_norm.get(gid)} for who, cells in norm.items()}
    holders = collections.Counter((gid, n) for cells in norm.values() for gid, n in cells.items())
    pairs = []
    for a, b in itertools.combinations(sorted(norm), 2):
        both = sorted(set(norm[a]) & set(norm[b]))
        same = [gid for gid in both if norm[a][gid] == norm[b][gid]]
        if len(same) >= min_cells:
            pairs.append({"a": a, "b": b, "same": same, "answered_by_both": len(both),
                          "only_these_two": [gid for gid in same if holders[(gid, norm[a][gid])] == 2]})
    pairs.sort(key=lambda p: (-len(p["only_these_two"]), -len(p["same"]), p["a"], p["b"]))
    return pairs


# ------------------------------------------------------------------ failures, from the autograded notebooks
def failure_messages(nb) -> dict[str, str]:
    """grade_id -> the failure message of each graded test cell that failed (its error's last line)."""
    out = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                msg = f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
                out[meta["grade_id"]] = re.sub(r"\x1b\[[0-9;]*m", "", msg).splitlines()[0][:300]
                break
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                out.setdefault(meta["grade_id"], "wrote to stderr: " + str(o.get("text", "")).strip()[:200])
    return out


# ------------------------------------------------------------------ plots
def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _histogram(totals: list[float], top: float) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    if top == int(top) and 1 <= top <= 40:  # one bar per whole score
        ax.hist(totals, bins=[i - 0.5 for i in range(int(top) + 2)], color="#4477aa", edgecolor="white")
    else:
        ax.hist(totals, bins=20, range=(0, top or 1), color="#4477aa", edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("learners")
    ax.set_title("Score distribution")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def _pass_rates(cells: list[str], rates: list[float]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 0.35 * len(cells) + 1))
    ax = fig.add_subplot()
    y = list(range(len(cells)))[::-1]
    ax.barh(y, [100 * r for r in rates], color=["#228833" if r >= 0.8 else "#ccbb44" if r >= 0.5 else "#ee6677"
                                                for r in rates])
    ax.set_yticks(y, cells)
    ax.set_xlim(0, 100)
    ax.set_xlabel("learners with full points (%)")
    ax.set_title("Pass rate of each test cell")
    return _png(fig)


# ------------------------------------------------------------------ the page
def build_report(root: Path, chapter: str, grades: dict, max_scores: dict, journal: dict,
                 order: list[str]) -> str:
    """The page's HTML. grades: learner -> {grade_id: score}; max_scores: {grade_id: points}."""
    esc = html.escape
    cells = sorted(max_scores, key=lambda g: (order.index(g) if g in order else len(order), g))
    top = sum(max_scores.values())
    learners = sorted(set(grades) | set(journal))
    graded = [s for s in learners if s in grades and journal.get(s, {}).get("status", "graded") == "graded"]
    totals = [sum(grades[s].values()) for s in graded]
    failures: dict[str, collections.Counter] = {c: collections.Counter() for c in cells}
    answers: dict[str, dict[str, str]] = {}
    for s in graded:
        nb_path = root / "autograded" / s / chapter / f"{chapter}.ipynb"
        try:
            nb = nbformat.read(nb_path, as_version=4)
        except (OSError, ValueError):
            continue
        for gid, msg in failure_messages(nb).items():
            if gid in failures and grades[s].get(gid, 0) < max_scores[gid]:
                failures[gid][msg] += 1
        answers[s] = _answers(nb)
    blank: dict[str, str] = {}  # the release's own answer cells (stubs): an unanswered cell never counts
    from .course import ROOT

    for release in (root / "chapters" / chapter / f"{chapter}.ipynb", ROOT / "chapters" / chapter / f"{chapter}.ipynb"):
        if release.is_file():
            try:
                blank = _answers(nbformat.read(release, as_version=4))
                break
            except (OSError, ValueError):
                pass
    pairs = similar_pairs(answers, blank)
    rates = [sum(1 for s in graded if grades[s].get(c, 0) >= max_scores[c]) / len(graded) if graded else 0.0
             for c in cells]

    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class report: {esc(chapter)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
             "text-align:left;vertical-align:top}th{background:#f4f4f4}.num{text-align:right}"
             "code{background:#f6f6f6;padding:0 .2em}.note{color:#555;font-size:.9em}</style></head><body>",
             f"<h1>Class report: {esc(chapter)}</h1>",
             f"<p>{len(learners)} learner(s); {len(graded)} graded, "
             f"{sum(1 for s in learners if journal.get(s, {}).get('status') == 'error')} with a grading error, "
             f"{sum(1 for s in learners if journal.get(s, {}).get('flags'))} flagged. Maximum score {top:g}.</p>"]
    if totals:
        parts.append("<h2>Scores</h2><table><tr><th>mean</th><th>median</th><th>lowest</th><th>highest</th>"
                     "<th>full marks</th></tr>"
                     f"<tr><td class='num'>{statistics.mean(totals):.2f}</td><td class='num'>{statistics.median(totals):g}</td>"
                     f"<td class='num'>{min(totals):g}</td><td class='num'>{max(totals):g}</td>"
                     f"<td class='num'>{sum(1 for t in totals if t >= top)} of {len(totals)}</td></tr></table>")
        parts.append(f"<img alt='histogram of the scores' src='{_histogram(totals, top)}'>")
        parts.append(f"<img alt='pass rate of each test cell' src='{_pass_rates(cells, rates)}'>")
    parts.append("<h2>Each test cell</h2><table><tr><th>test cell</th><th>points</th><th>pass rate</th>"
                 "<th>most common failure (learners)</th></tr>")
    for c, r in zip(cells, rates):
        common = failures[c].most_common(1)
        fail = f"<code>{esc(common[0][0])}</code> ({common[0][1]})" if common else ""
        parts.append(f"<tr><td><code>{esc(c)}</code></td><td class='num'>{max_scores[c]:g}</td>"
                     f"<td class='num'>{100 * r:.0f}%</td><td>{fail}</td></tr>")
    parts.append("</table>")
    trouble = [s for s in learners if journal.get(s, {}).get("status", "graded") != "graded" or journal.get(s, {}).get("flags")]
    parts.append("<h2>Flagged and errored submissions</h2>")
    if trouble:
        parts.append("<table><tr><th>learner</th><th>status</th><th>flags</th><th>message</th></tr>")
        for s in trouble:
            info = journal.get(s, {})
            parts.append(f"<tr><td>{esc(s)}</td><td>{esc(info.get('status', ''))}</td>"
                         f"<td>{esc(' | '.join(info.get('flags', [])))}</td><td>{esc(info.get('message', ''))}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>Answers that are the same up to names and whitespace</h2>"
                 "<p class='note'>For you to look at, not a verdict: short answers are often the same by nature. "
                 "A cell counts when both learners answered it and their code has the same tokens once comments, "
                 "layout and names are set aside. &ldquo;Only these two&rdquo; are the shared cells no other learner "
                 "has.</p>")
    if pairs:
        parts.append("<table><tr><th>learners</th><th>same cells</th><th>only these two</th></tr>")
        for p in pairs:
            parts.append(f"<tr><td>{esc(p['a'])} &amp; {esc(p['b'])}</td>"
                         f"<td>{len(p['same'])} of {p['answered_by_both']}: {esc(', '.join(p['same']))}</td>"
                         f"<td class='num'>{len(p['only_these_two'])}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_class_report(path: Path, root: Path, chapter: str, db_url: str, journal: dict, order: list[str],
                       course_id: str) -> Path:
    """Read the chapter's grades from the gradebook and write the report to ``path``."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        assignment = gb.find_assignment(chapter)
        max_scores = {c.name: float(c.max_score) for nb in assignment.notebooks for c in nb.grade_cells}
        grades = {sub.student.id: {g.name: float(g.score) for nb in sub.notebooks for g in nb.grades}
                  for sub in assignment.submissions}
    text = build_report(Path(root), chapter, grades, max_scores, journal, order)
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
