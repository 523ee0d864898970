"""Red team: the instructor's grading command against hostile and broken submissions.

One class of submissions of the demo chapter (tests/redteam.py, one per attack) is graded once
with ``dlcourse.grading.grade_chapter`` (2 workers, a 10 s cell limit, a 2 GB kernel limit), then
every submission's score, flag and status is asserted, and the gradebook is checked row by row.
"""
import csv
import re
import os
import time

import nbformat
import pytest

from dlcourse import sandbox
from dlcourse.course import COURSE_ID
from dlcourse.grading import grade_chapter
from redteam import DEMO, FULL, POINTS, cases, demo_course, write_submission

TIMEOUT = 10
SANDBOX = sandbox.can_sandbox()
HIDDEN_LINE = "assert_array(f(np.zeros(2)), np.ones(2)"  # a hidden test of the demo chapter
needs_sandbox = pytest.mark.skipif(not SANDBOX, reason="the grading sandbox needs root on Linux")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    os.environ.pop("DLCOURSE_GRADEBOOK", None)
    course, release = demo_course(tmp_path_factory.mktemp("class"))
    all_cases = {c.name: c for c in cases(course)}
    for c in all_cases.values():
        write_submission(release, c, course / "submitted" / c.name / DEMO)
    log = []
    start = time.monotonic()
    results = grade_chapter(course, DEMO, workers=2, timeout=TIMEOUT, memory_mb=2048,
                            csv_path=course / "grades.csv", log=log.append)
    elapsed = time.monotonic() - start
    return course, all_cases, {r["student"]: r for r in results}, log, elapsed


def _names():
    return [c.name for c in cases(__import__("pathlib").Path("/nonexistent"))]


@pytest.mark.parametrize("name", _names())
def test_each_submission_scores_what_it_deserves(graded, name):
    course, all_cases, results, log, _ = graded
    case, res = all_cases[name], results[name]
    if case.expect is None:
        assert res["status"] == "error", f"{name}: expected a clear per-submission error, got {res}"
        assert len(res["message"]) > 10 and "Traceback" not in res["message"], res["message"]
        return
    assert res["status"] == "graded", f"{name}: {res['message']}"
    if name == "snoop" and not SANDBOX:
        pytest.skip("without the sandbox a submission can read the course folder")
    assert res["scores"] in (case.expect, case.alt), f"{name}: scored {res['scores']}, deserves {case.expect}"
    assert res["max_scores"] == POINTS, f"{name}: the points were changed to {res['max_scores']}"
    if case.flagged:
        assert res["flags"], f"{name}: tampering was not flagged"
        assert any(name in line and "FLAGGED" in line for line in log), "the instructor's log names no flag"
    elif name in ("right", "blank", "wrong-g"):
        assert not res["flags"], f"{name}: an honest submission was flagged: {res['flags']}"


def test_the_class_finishes_in_bounded_time(graded):
    *_, elapsed = graded
    n = len(_names())
    # every attack is bounded by the cell limit (+ grace and a re-run); 2 workers share them
    assert elapsed < n * (TIMEOUT + 5), f"grading {n} submissions took {elapsed:.0f} s"


def test_gradebook_has_one_row_per_submission_and_test_cell(graded):
    from nbgrader.api import Gradebook

    course, all_cases, results, _, _ = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        assignment = gb.find_assignment(DEMO)
        subs = {s.student.id: s for s in assignment.submissions}
        assert set(subs) == set(all_cases), sorted(set(subs) ^ set(all_cases))
        for name, sub in subs.items():
            grades = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
            assert sorted(grades) == sorted(POINTS), f"{name}: grade rows {sorted(grades)}"
            expect = all_cases[name].expect or {k: 0.0 for k in POINTS}
            assert grades in (expect, all_cases[name].alt), f"{name}: gradebook says {grades}, expected {expect}"
            assert sub.notebooks[0].flagged == bool(results[name]["flags"] or results[name]["status"] != "graded")
        n_grades = gb.db.execute(__import__("sqlalchemy").text("select count(*) from grade")).scalar()
        assert n_grades == len(all_cases) * len(POINTS)


def test_csv_export_matches(graded):
    course, all_cases, results, _, _ = graded
    with open(course / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(all_cases)
    assert rows["right"]["score"] == "5" and rows["blank"]["score"] == "0" and rows["wrong-g"]["score"] == "2"
    assert rows["reply-pickle"]["flags"], "the CSV must carry the flag"
    assert rows["invalid-json"]["status"] == "error" and "not a valid notebook" in rows["invalid-json"]["message"]
    with open(course / "grades.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert [h for h in header if h.startswith("test-")] == list(POINTS), f"columns not in notebook order: {header}"


def test_feedback_has_no_hidden_tests_and_no_solutions(graded):
    course, *_ = graded
    html = list((course / "feedback").rglob("*.html"))
    assert len(html) >= 10
    course_, all_cases, *_ = graded
    for path in html:
        text = path.read_text()
        case = all_cases.get(path.parent.parent.name)
        if case is not None and "np.zeros(2)" in (case.f or "") + (case.g or ""):
            continue  # a submission that itself searches for these strings (hunt-secrets) shows its own code
        assert "BEGIN HIDDEN TESTS" not in text and "np.zeros(2)" not in text, f"{path}: hidden test leaked"
    blank = (course / "feedback" / "blank" / DEMO / f"{DEMO}.html").read_text()
    assert "return x + 1.0" not in blank and "return 2.0 * x" not in blank, "the solution leaked into feedback"
    # The course's feedback page (dlcourse/templates/dlcourse-feedback), not nbgrader's default one:
    # each test cell named by its exercise, and no MathJax from a CDN.
    assert "Test of <code>f</code>" in blank and "Test of <code>g</code>" in blank, "feedback uses nbgrader's template"
    assert not re.search(r"<script[^>]+mathjax", blank, re.I) and "cdnjs" not in blank.lower()


@needs_sandbox
def test_submissions_cannot_write_into_the_course(graded):
    course, *_ = graded
    assert not list(course.rglob("PWNED")), "a submission wrote into the course folder"


def test_rerun_grades_nothing_twice(graded):
    course, all_cases, results, _, _ = graded
    log = []
    again = grade_chapter(course, DEMO, workers=2, timeout=TIMEOUT, memory_mb=2048, log=log.append)
    graded_now = [r for r in again if not r.get("skipped")]
    # submissions whose grading ended in an error are tried again (the error may have been the machine's,
    # e.g. a kernel that could not start); everything else is skipped
    assert {r["student"] for r in graded_now} == {n for n, c in all_cases.items() if c.expect is None}
    assert any("trying again" in line for line in log)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        n_grades = gb.db.execute(__import__("sqlalchemy").text("select count(*) from grade")).scalar()
    assert n_grades == len(all_cases) * len(POINTS)


def test_resume_and_regrade_a_changed_submission(graded):
    """A changed submission is graded again and replaces its old grades; nothing else moves."""
    course, all_cases, results, _, _ = graded
    nb_path = course / "submitted" / "wrong-g" / DEMO / f"{DEMO}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "fn-g":
            cell.source = "def g(x):\n    return 2.0 * x\n"
    nbformat.write(nb, nb_path)
    again = {r["student"]: r for r in grade_chapter(course, DEMO, workers=1, timeout=TIMEOUT, log=lambda m: None)}
    assert not again["wrong-g"].get("skipped") and again["wrong-g"]["scores"] == FULL
    assert again["right"].get("skipped")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        assert gb.find_submission(DEMO, "wrong-g").score == 5
        n_grades = gb.db.execute(__import__("sqlalchemy").text("select count(*) from grade")).scalar()
    assert n_grades == len(all_cases) * len(POINTS)


def test_dask_local_cluster(tmp_path):
    """The same command hands the notebooks to Dask distributed (a local cluster here)."""
    pytest.importorskip("distributed")
    os.environ.pop("DLCOURSE_GRADEBOOK", None)
    course, release = demo_course(tmp_path / "class")
    picked = {c.name: c for c in cases(course) if c.name in ("right", "blank", "wrong-g", "os-exit")}
    for c in picked.values():
        write_submission(release, c, course / "submitted" / c.name / DEMO)
    results = grade_chapter(course, DEMO, workers=2, dask="local", timeout=TIMEOUT, log=lambda m: None)
    assert {r["student"]: r["scores"] for r in results} == {n: c.expect for n, c in picked.items()}
    assert all(r["status"] == "graded" for r in results)


def test_sandbox_uids_are_never_shared():
    """Concurrent grading jobs each hold their own uid, so killing one job's processes spares the others."""
    held = [sandbox.claim_uid() for _ in range(3)]
    assert len({uid for uid, _ in held}) == 3
    first_uid, first_lock = held[0]
    first_lock.close()
    again = sandbox.claim_uid()
    assert again[0] not in {uid for uid, _ in held[1:]}
    for _, lock in held[1:] + [again]:
        lock.close()
