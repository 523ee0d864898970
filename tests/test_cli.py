"""`python -m dlcourse` as learners and instructors meet it, on a tiny demo chapter (tests/fixtures)."""
import shutil
import subprocess
import sys

import nbformat
import pytest

from dlcourse.course import ROOT, nbgrader

DEMO = "99-demo"


def dlcourse_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "dlcourse", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo chapter's solution and its nbgrader release, in a throw-away course folder."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "tests" / "fixtures" / DEMO, course / "solutions" / DEMO)
    proc = nbgrader(["generate_assignment", DEMO], course)
    assert proc.returncode == 0, proc.stderr
    solution = nbformat.read(course / "solutions" / DEMO / f"{DEMO}.ipynb", as_version=4)
    release = nbformat.read(course / "chapters" / DEMO / f"{DEMO}.ipynb", as_version=4)
    return course, solution, release


def learner_copy(demo, tmp_path, answers):
    """The release with the learner's answers typed into the solution cells: {grade_id: source}."""
    _, _, release = demo
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    path = tmp_path / f"{DEMO}.ipynb"
    nbformat.write(nb, path)
    return path


def solution_source(demo, gid):
    _, solution, _ = demo
    src = next(c.source for c in solution.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    return "\n".join(line for line in src.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def test_check_passes_a_right_answer(demo, tmp_path):
    path = learner_copy(demo, tmp_path, {g: solution_source(demo, g) for g in ("fn-f", "fn-g")})
    proc = dlcourse_cli("check", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All tests passed." in proc.stdout


def test_check_names_the_failing_test_with_its_helpful_message(demo, tmp_path):
    wrong_g = "def g(x):\n    return 3.0 * x\n"
    path = learner_copy(demo, tmp_path, {"fn-f": solution_source(demo, "fn-f"), "fn-g": wrong_g})
    proc = dlcourse_cli("check", str(path))
    assert proc.returncode == 1
    assert "1 cell(s) failed" in proc.stdout
    assert "g(x) is wrong at 3 of 3 entries; worst at index (0,): got 3, expected 2" in proc.stdout


def test_check_of_the_blank_release_fails(demo, tmp_path):
    path = learner_copy(demo, tmp_path, {})
    proc = dlcourse_cli("check", str(path))
    assert proc.returncode == 1 and "NotImplementedError" in proc.stdout


def test_check_notices_an_edited_test_cell(demo, tmp_path):
    _, _, release = demo
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test-g":
            cell.source = "pass"
    path = tmp_path / f"{DEMO}.ipynb"
    nbformat.write(nb, path)
    proc = dlcourse_cli("check", str(path))
    assert proc.returncode == 1 and "test cells were changed or deleted" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["check", "42"], "no chapter called '42'; the chapters are: 01-"),
    (["check", "nowhere.ipynb"], "notebook nowhere.ipynb does not exist."),
    (["grade", "banana"], "no chapter called 'banana'"),
])
def test_bad_input_gives_one_clear_error(args, message):
    proc = dlcourse_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_check_of_a_broken_notebook_file(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [')
    proc = dlcourse_cli("check", str(bad))
    assert proc.returncode == 2 and "is not a readable notebook" in proc.stderr and "Traceback" not in proc.stderr


def test_release_check_passes_on_the_committed_release():
    proc = dlcourse_cli("release", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "in step with solutions/" in proc.stdout
