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
    assert "All tests passed" in proc.stdout


def test_check_names_the_failing_test_with_its_helpful_message(demo, tmp_path):
    wrong_g = "def g(x):\n    return 3.0 * x\n"
    path = learner_copy(demo, tmp_path, {"fn-f": solution_source(demo, "fn-f"), "fn-g": wrong_g})
    proc = dlcourse_cli("check", str(path))
    assert proc.returncode == 1
    assert "1 of 2 exercises need work" in proc.stdout and "- g: CheckFailed: " in proc.stdout, proc.stdout
    assert "g(x) is wrong at 3 of 3 entries; worst at index (0,): got 3, expected 2" in proc.stdout, proc.stdout
    assert "Passed: f." in proc.stdout, proc.stdout


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


def _unactivated_env(tmp_path):
    """A shell as a learner has it: no virtual environment on PATH, none activated."""
    venv_bin = str(ROOT / ".venv" / "bin")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = __import__("os").pathsep.join(p for p in env.get("PATH", "").split(":") if p and p != venv_bin
                                                and not p.startswith(str(ROOT)))
    # The clone uses this checkout's environment as it is, instead of installing its own (minutes).
    env.update(DLCOURSE_VENV=str(ROOT / ".venv"), DLCOURSE_NO_SETUP="1", DLCOURSE_FAST="1")
    return env


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the course's .venv")
def test_learner_commands_check_and_reset_from_a_clean_clone(tmp_path):
    """`python3 course.py check 01` and `reset 01` as the README's learner section gives them."""
    import os

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=120)
    env = _unactivated_env(tmp_path)
    python3 = shutil.which("python3", path=env["PATH"])
    assert python3 and not python3.startswith(str(ROOT)), python3

    def course(*args):
        return subprocess.run([python3, "course.py", *args], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=900)

    # check, on the untouched release: every exercise is named as not written yet, nothing else.
    proc = course("check", "01")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "7 of 7 exercises need work" in out and "neuron_forward is not written yet" in out, out
    assert "Traceback" not in out and "WARNING" not in out and "TCP" not in out, out

    # A damaged notebook: check says how to get a fresh copy; reset keeps the learner's file.
    nb = clone / "chapters" / "01-neuron" / "01-neuron.ipynb"
    fresh = nb.read_bytes()
    nb.write_text('{"cells": [ this is not JSON')
    proc = course("check", "01")
    assert proc.returncode == 2 and "python3 course.py reset 01" in proc.stderr, proc.stdout + proc.stderr
    proc = course("reset", "01")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert nb.read_bytes() == fresh, "reset did not put the release copy back"
    backups = list(nb.parent.glob("01-neuron.backup-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_text() == '{"cells": [ this is not JSON', backups
    assert "kept as" in proc.stdout, proc.stdout
    # The backup is not part of the release (the release check ignores it; git ignores it).
    st = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True)
    assert st.stdout.strip() == "", st.stdout
    proc = course("reset", "01")
    assert proc.returncode == 0 and "nothing to do" in proc.stdout, proc.stdout + proc.stderr
    assert os.path.exists(backups[0])
