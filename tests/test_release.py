"""The student release: generated from solutions/, byte for byte, and leaking nothing."""
import re

import nbformat
import pytest

from dlcourse.course import ROOT, chapter_ids, release_differences
from gradecheck import exercises

CHAPTERS = chapter_ids()
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2, CHAPTERS


def test_chapters_is_exactly_what_nbgrader_generates():
    diffs = release_differences()
    assert diffs == [], "chapters/ is stale; run `python -m dlcourse release`:\n" + "\n".join(diffs)


def _public_lines(nb) -> set[str]:
    return {line.strip() for cell in nb.cells for line in REGION.sub("", cell.source).splitlines()}


def _secret_lines(nb) -> set[str]:
    secret = set()
    for cell in nb.cells:
        for _, body in REGION.findall(cell.source):
            secret.update(line.strip() for line in body.splitlines())
    # A line that is also shown openly, in this chapter or any other (a formula in a markdown cell, a
    # generic `_r = np.random.default_rng(6)`), is not a secret.
    public = set().union(*(_public_lines(nbformat.read(ROOT / "solutions" / c / f"{c}.ipynb", as_version=4))
                           for c in CHAPTERS))
    return {line for line in secret - public if len(line) >= 12 and not line.startswith("#")}


@pytest.mark.parametrize("cid", CHAPTERS)
def test_no_solution_or_hidden_test_in_the_release(cid):
    secret = _secret_lines(nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4))
    assert len(secret) > 20, f"{cid}: suspiciously few solution / hidden-test lines ({len(secret)})"
    for path in (ROOT / "chapters").rglob("*"):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        lines = {line.strip() for line in text.splitlines()}
        leaked = sorted(secret & lines)
        assert not leaked, f"{path.relative_to(ROOT)} contains solution or hidden-test lines of {cid}: {leaked[:5]}"
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path.relative_to(ROOT)} contains `{marker}`"


@pytest.mark.parametrize("cid", CHAPTERS)
def test_release_has_stubs_and_no_outputs(cid):
    nb = nbformat.read(ROOT / "chapters" / cid / f"{cid}.ipynb", as_version=4)
    stubs = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert stubs
    for c in stubs:
        if c.cell_type == "code":
            name = c.metadata["nbgrader"]["grade_id"].removeprefix("fn-")
            # The stub names its exercise, so a test run on it says what to write.
            assert f'raise NotImplementedError("{name} is not written yet' in c.source, c.source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "release must carry no outputs"
    # Full kernel metadata: JupyterLab opens the chapter without marking it modified.
    assert nb.metadata.get("language_info", {}).get("mimetype") == "text/x-python", nb.metadata


@pytest.mark.parametrize("cid", CHAPTERS)
def test_chapter_follows_the_design(cid):
    """DESIGN.md's chapter anatomy: contract table, >= 5 graded exercises with hidden tests and a
    folded hint each, glossary link, Keras twin with an asserted twin check, Errata, summary."""
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    ex = exercises(nb)
    assert len(ex) >= 5, f"{cid} has {len(ex)} graded exercises; the design asks for at least 5"
    head = "\n".join(c.source for c in nb.cells[:4] if c.cell_type == "markdown")
    assert "GLOSSARY.md" in head, f"{cid}: the introduction should link to ../GLOSSARY.md"
    for fn, info in ex.items():
        # A function or class is listed as `name(...)`; a named result (a dict of hand-worked numbers) as `name`.
        assert f"`{fn}(" in head or f"`{fn}`" in head, f"{cid}: the exercise contract table at the top does not list `{fn}(`"
        assert info["tests"], f"{cid}: exercise {fn} has no test cell"
        tests = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in info["tests"]]
        assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), f"{cid}: {fn} has no hidden tests"
        after = nb.cells[info["cell"] + 1: info["cell"] + 5]
        assert any(c.cell_type == "markdown" and "<details>" in c.source for c in after), f"{cid}: {fn} has no folded hint"
    text = "\n".join(c.source for c in nb.cells)
    assert "import keras" in text, f"{cid}: no Keras twin"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"(?i)twin", text) and "assert" in code
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Errata" in md, f"{cid}: no Errata box"
    assert re.search(r"(?i)what you learned", md), f"{cid}: no summary"
    assert re.search(r"(?i)next", nb.cells[-1].source + nb.cells[-2].source), f"{cid}: no pointer to the next chapter"


def test_glossary_is_released_and_bilingual():
    src = (ROOT / "solutions" / "GLOSSARY.md").read_text()
    assert (ROOT / "chapters" / "GLOSSARY.md").read_text() == src
    assert "梯度下降" in src and "gradient descent" in src.lower() and src.count("|") > 300


@pytest.mark.parametrize("cid", CHAPTERS)
def test_pinned_cells_carry_their_expected_output(cid):
    """nbval compares only cells marked # NBVAL_CHECK_OUTPUT, against the output stored in the
    solution notebook; a marked cell without a stored output would be checked against nothing."""
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    marked = [c for c in code if "NBVAL_CHECK_OUTPUT" in c.source]
    assert marked, f"{cid}: no cell is marked # NBVAL_CHECK_OUTPUT"
    for c in marked:
        assert c.outputs, f"{cid}: a pinned cell has no stored output: run `python -m dlcourse pin-outputs {cid}`"
        # nbval skips a stored output whose cell has no execution count ("Unrun reference cell has outputs").
        assert c.execution_count is not None, f"{cid}: a pinned cell has outputs but no execution count"
    assert not any(c.outputs for c in code if c not in marked), f"{cid}: only pinned cells may carry outputs"
