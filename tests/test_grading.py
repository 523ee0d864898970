"""Autograding every chapter with the instructor's command (``dlcourse.grading.grade_chapter``:
nbgrader autograde in the sandbox, with the tamper checks): right answers get full marks, the
blank release gets 0 within its time limit, and wrong exercises lose exactly their own points.
Each chapter's submissions are graded as one class.

Wrong answers: by default two submissions per chapter, one with every other exercise wrong
(``wrong-odd``: the 1st, 3rd, ...) and one with the rest wrong (``wrong-even``); each asserts that
exactly the wrong exercises' test cells lose their points, so every exercise is graded wrong once
and right once, at two notebooks per chapter instead of one per exercise (CI's 45-minute budget on
2 cores, with ten chapters). ``DLCOURSE_GRADING_SINGLE_WRONG=1`` grades one submission per exercise
with only that exercise wrong instead (``wrong-<function>``), as ``python tests/gradecheck.py`` does.
The typical mistakes of every exercise are also checked, without a kernel, by test_alternatives.py."""
import os
import shutil

import nbformat
import pytest

from dlcourse.course import ROOT, chapter_ids, make_course_copy
from dlcourse.grading import grade_chapter
from gradecheck import exercises, make_wrong
from test_alternatives import load_alternatives

SINGLE_WRONG = os.environ.get("DLCOURSE_GRADING_SINGLE_WRONG", "").strip() not in ("", "0")
CASES = []
for _cid in chapter_ids():
    _nb = nbformat.read(ROOT / "solutions" / _cid / f"{_cid}.ipynb", as_version=4)
    CASES += [(_cid, "solution"), (_cid, "blank")]
    CASES += ([(_cid, f"wrong-{fn}") for fn in exercises(_nb)] if SINGLE_WRONG
              else [(_cid, "wrong-odd"), (_cid, "wrong-even")])
    if load_alternatives(_cid):
        CASES.append((_cid, "alternative"))  # every exercise answered by its first alternative

BLANK_LIMIT_S = 240  # the untouched release must be graded (to 0) well within this
_classes: dict = {}


def wrong_functions(nb, kind: str) -> list[str]:
    """The exercises a wrong-* submission gets wrong, in notebook order."""
    names = list(exercises(nb))
    if kind == "wrong-odd":
        return names[0::2]
    if kind == "wrong-even":
        return names[1::2]
    return [kind[len("wrong-"):]]


def wrong_submission(nb, kind: str):
    sub = nb
    for fn in wrong_functions(nb, kind):
        sub = make_wrong(sub, fn)
    return sub


def alternative_submission(nb, cid):
    """The solution notebook with every exercise's cell replaced by its first alternative answer."""
    alts, _ = load_alternatives(cid)
    sub = nbformat.reads(nbformat.writes(nb), as_version=4)
    for fn, info in exercises(sub).items():
        sub.cells[info["cell"]].source = alts[fn][0].strip("\n")
    return sub


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, monkeypatch_module):
    """Grade every case of a chapter once, as one class with 2 workers; cached per chapter."""
    def grade(cid):
        if cid not in _classes:
            root = make_course_copy(tmp_path_factory.mktemp(cid), [cid])
            nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
            for student in [k for c, k in CASES if c == cid]:
                dest = root / "submitted" / student / cid
                dest.mkdir(parents=True)
                if student == "solution":
                    nbformat.write(nb, dest / f"{cid}.ipynb")
                elif student == "blank":
                    shutil.copy2(ROOT / "chapters" / cid / f"{cid}.ipynb", dest / f"{cid}.ipynb")
                elif student == "alternative":
                    nbformat.write(alternative_submission(nb, cid), dest / f"{cid}.ipynb")
                else:
                    nbformat.write(wrong_submission(nb, student), dest / f"{cid}.ipynb")
            results = grade_chapter(root, cid, workers=2, timeout=300, log=lambda m: None)
            _classes[cid] = {r["student"]: r for r in results}
        return _classes[cid]
    return grade


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.delenv("DLCOURSE_GRADEBOOK", raising=False)
    yield mp
    mp.undo()


@pytest.mark.parametrize("cid, kind", CASES, ids=[f"{c}:{k}" for c, k in CASES])
def test_autograde(cid, kind, graded_class):
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    ex = exercises(nb)
    points = {gid: p for e in ex.values() for gid, p in e["tests"].items()}
    if kind in ("solution", "alternative"):
        expected = dict(points)
    elif kind == "blank":
        expected = {gid: 0.0 for gid in points}
    else:
        wrong = {gid for fn in wrong_functions(nb, kind) for gid in ex[fn]["tests"]}
        assert wrong, f"{cid} {kind}: no exercise made wrong"
        expected = {gid: (0.0 if gid in wrong else p) for gid, p in points.items()}
    res = graded_class(cid)[kind]
    assert res["status"] == "graded", f"{cid} {kind}: {res['message']}"
    assert not res["flags"], f"{cid} {kind}: an honest submission was flagged: {res['flags']}"
    # ... and gets no note either (the blank is the release itself, with nbgrader's checksums).
    assert res["message"] == "", f"{cid} {kind}: an honest submission got notes: {res['message']}"
    # The gradebook holds exactly one grade per test cell, each as asserted.
    assert set(res["scores"]) == set(points), f"grades {sorted(res['scores'])} != test cells {sorted(points)}"
    assert res["scores"] == expected, f"{cid} {kind}: got {res['scores']}, expected {expected}"
    if kind == "blank":
        assert res["seconds"] < BLANK_LIMIT_S, f"grading the blank release took {res['seconds']:.0f} s"


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


def test_the_wrong_wrapper_bends_a_class():
    """A class exercise (chapter 05's MLP, 04's Value) made wrong: methods and public attributes are bent."""
    src = ("import numpy as np\nclass C:\n    def __init__(self, k):\n        self.params = [np.ones(2) * k]\n"
           "    def forward(self, x):\n        return x * 2.0\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
    nb.cells[0].metadata["nbgrader"] = {"solution": True, "grade_id": "fn-C"}
    ns = {}
    exec(make_wrong(nb, "C").cells[0].source, ns)
    import numpy as np
    obj = ns["C"](1.0)
    assert np.allclose(obj.forward(np.ones(2)), 2.03) and np.allclose(obj.params[0], 1.02)
    assert type(obj).__name__ == "C"
