"""nbgrader autograding of every chapter: right answers get full marks, the blank release gets 0
within its time limit, and a submission with exactly one exercise wrong loses exactly that
exercise's points. Each case grades in its own throw-away course folder, so they run in parallel."""
import time

import nbformat
import pytest

from dlcourse.course import ROOT, chapter_ids
from gradecheck import autograde, exercises, make_wrong

CASES = []
for _cid in chapter_ids():
    _nb = nbformat.read(ROOT / "solutions" / _cid / f"{_cid}.ipynb", as_version=4)
    CASES += [(_cid, "solution"), (_cid, "blank")] + [(_cid, f"wrong-{fn}") for fn in exercises(_nb)]

BLANK_LIMIT_S = 240  # the untouched release must be graded (to 0) well within this


@pytest.mark.parametrize("cid, kind", CASES, ids=[f"{c}:{k}" for c, k in CASES])
def test_autograde(cid, kind, tmp_path):
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    ex = exercises(nb)
    points = {gid: p for e in ex.values() for gid, p in e["tests"].items()}
    total = sum(points.values())
    if kind == "solution":
        submission, expected = nb, dict(points)
    elif kind == "blank":
        submission, expected = "release", {gid: 0.0 for gid in points}
    else:
        fn = kind[len("wrong-"):]
        submission = make_wrong(nb, fn)
        expected = {gid: (0.0 if gid in ex[fn]["tests"] else p) for gid, p in points.items()}
    start = time.monotonic()
    scores = autograde(cid, {"student": submission}, tmp_path)["student"]
    elapsed = time.monotonic() - start
    # The gradebook holds exactly one grade per test cell, each as asserted.
    assert set(scores) == set(points), f"gradebook rows {sorted(scores)} != test cells {sorted(points)}"
    assert scores == expected, f"{cid} {kind}: got {scores}, expected {expected} (of {total:g})"
    if kind == "blank":
        assert elapsed < BLANK_LIMIT_S, f"grading the blank release took {elapsed:.0f} s"


def test_the_wrong_wrapper_changes_every_number():
    """The 'one exercise wrong' submissions are only meaningful if the wrapper really bends results."""
    ns = {}
    exec("import numpy as np\ndef f(x):\n    return x * 2.0, [1.5], 3\n", ns)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f(x):\n    return x * 2.0, [1.5], 3")])
    nb.cells[0].metadata["nbgrader"] = {"solution": True, "grade_id": "fn-f"}
    exec(make_wrong(nb, "f").cells[0].source, ns)
    import numpy as np
    a, b, c = ns["f"](np.ones(2))
    assert np.allclose(a, 2.03) and b == [1.5 * 1.01 + 0.01] and c == 4
