"""A real server gradebook: chapter 01 graded into Debian's PostgreSQL, as into SQLite.

The test starts its own PostgreSQL server (``initdb`` in a temporary folder, Unix socket only, no TCP
port), grades a small class of chapter 01 into it with 2 workers through the instructor's command,
and checks: the grades are what they must be (solution full, blank 0, one wrong exercise loses
exactly its points), a SQLite gradebook given the same results holds the same grades, and a re-run
adds no row. The server is stopped at the end. Skipped where the server is not installed, unless
``DLCOURSE_REQUIRE_POSTGRES=1`` (CI, which installs it in ``.ci/run``).
"""
from __future__ import annotations

import os
import shutil

import nbformat
import pytest

from dlcourse.course import COURSE_ID, ROOT, make_course_copy
from dlcourse.grading import ensure_assignment, grade_chapter, record, template_gradebook
from gradecheck import exercises, make_wrong
from pgserver import NoServer, postgres_server

CHAPTER = "01-neuron"
REQUIRED = os.environ.get("DLCOURSE_REQUIRE_POSTGRES") == "1"


def _missing(reason: str):
    if REQUIRED:
        pytest.fail(f"DLCOURSE_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def postgres_url():
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg (3) is not installed (requirements.txt)")
    try:
        server = postgres_server(port=54329)
        url = server.__enter__()
    except NoServer as exc:
        _missing(str(exc))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


def _grades(db_url: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gb:
        return {s.student.id: {g.name: float(g.score) for nb in s.notebooks for g in nb.grades}
                for s in gb.find_assignment(CHAPTER).submissions}


def _rows(db_url: str) -> int:
    import sqlalchemy
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gb:
        return gb.db.execute(sqlalchemy.text("select count(*) from grade")).scalar()


def test_grade_a_class_into_postgresql(postgres_url, tmp_path, monkeypatch):
    nb = nbformat.read(ROOT / "solutions" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    ex = exercises(nb)
    wrong = next(iter(ex))
    points = {gid: p for e in ex.values() for gid, p in e["tests"].items()}
    expected = {"solution": dict(points), "blank": {g: 0.0 for g in points},
                f"wrong-{wrong}": {g: (0.0 if g in ex[wrong]["tests"] else p) for g, p in points.items()}}
    root = make_course_copy(tmp_path / "course", [CHAPTER])
    for student in expected:
        dest = root / "submitted" / student / CHAPTER
        dest.mkdir(parents=True)
        if student == "blank":
            shutil.copy2(ROOT / "chapters" / CHAPTER / f"{CHAPTER}.ipynb", dest / f"{CHAPTER}.ipynb")
        else:
            nbformat.write(nb if student == "solution" else make_wrong(nb, wrong), dest / f"{CHAPTER}.ipynb")
    monkeypatch.setenv("DLCOURSE_GRADEBOOK", postgres_url)
    results = grade_chapter(root, CHAPTER, workers=2, timeout=300, csv_path=root / "grades.csv", log=lambda m: None)
    assert all(r["status"] == "graded" for r in results), [r["message"] for r in results]
    assert _grades(postgres_url) == expected
    rows = _rows(postgres_url)
    assert rows == len(expected) * len(points)

    # The same results written into a SQLite gradebook give the same grades, cell by cell.
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    ensure_assignment(root, CHAPTER, sqlite_url, tmp_path, template_gradebook(root, CHAPTER, tmp_path))
    for r in results:
        record(sqlite_url, r)
    assert _grades(sqlite_url) == _grades(postgres_url)

    # A re-run grades nothing and adds no row; writing a result again replaces it.
    again = grade_chapter(root, CHAPTER, workers=2, timeout=300, log=lambda m: None)
    assert all(r.get("skipped") for r in again)
    record(postgres_url, results[0])
    assert _rows(postgres_url) == rows
    assert (root / "grades.csv").read_text().count("\n") == len(expected) + 1
