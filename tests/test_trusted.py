"""The trusted side of grading (dlcourse/trusted.py) and grading failures that are not the learner's.

- What the learner's kernel sends is decoded as untrusted plain data, with limits: no pickle, no
  object arrays, no .npz, bounded depth and size (no kernel needed for these).
- A grading environment reached through a symbolic link grades as usual (the sandbox gives the
  environment back by its real path).
- When the first submissions all fail in the same way for a reason that is not theirs, the run
  stops early, says what failed and what to do, and names a log file that holds the traceback.
"""
from __future__ import annotations

import base64
import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlcourse import sandbox
from dlcourse.course import CourseError
from dlcourse.trusted import ProtocolError, Remote, _Channel
from redteam import DEMO, cases, demo_course, write_submission

needs_sandbox = pytest.mark.skipif(not sandbox.can_sandbox(), reason="the grading sandbox needs root on Linux")


def _npy(a, allow_pickle=False) -> str:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return base64.b64encode(buf.getvalue()).decode()


def _decode(v):
    return _Channel(None, None).decode(v, 0, [10**6])


def test_plain_data_is_decoded():
    out = _decode({"t": "tuple", "v": [{"t": "a", "npy": _npy(np.arange(3.0))}, 2, 2.5, "s", None, True,
                                       {"t": "s", "npy": _npy(np.float32(1.5))},
                                       {"t": "dict", "k": ["w"], "v": [{"t": "list", "v": [1]}]}]})
    assert isinstance(out, tuple) and type(out[0]) is np.ndarray and out[0].tolist() == [0.0, 1.0, 2.0]
    assert out[1:6] == (2, 2.5, "s", None, True)
    assert type(out[6]) is np.float32 and out[7] == {"w": [1]}
    handle = _decode({"t": "h", "id": 3, "cls": "Value"})
    assert isinstance(handle, Remote) and "Value" in repr(handle)


@pytest.mark.parametrize("bad", [
    {"t": "a", "npy": _npy(np.array([1.0, None], dtype=object), allow_pickle=True)},   # object array (a pickle)
    {"t": "a", "npy": base64.b64encode(pickle.dumps(np.ones(2))).decode()},            # a plain pickle
    {"t": "a", "npy": _npy(np.array(["a", "b"]))},                                      # strings are not numbers
    {"t": "a", "npy": _npy(np.zeros(2, dtype=[("x", float)]))},                         # structured dtype
    {"t": "a", "npy": "%%%"},                                                           # not base64
    {"t": "pickle", "v": "gASV"},                                                       # unknown tag
    {"t": "list", "v": [0] * (10**6 + 1)},                                              # too many values
    [1, 2],                                                                             # untagged list
    {"t": "dict", "k": [[1]], "v": [1]},                                                # unhashable key
])
def test_what_is_not_plain_data_is_refused(bad):
    with pytest.raises(ProtocolError):
        _decode(bad)


def test_npz_and_deep_nesting_are_refused():
    buf = io.BytesIO()
    np.savez(buf, a=np.ones(2))
    with pytest.raises(ProtocolError):
        _decode({"t": "a", "npy": base64.b64encode(buf.getvalue()).decode()})
    deep = v = {"t": "list", "v": []}
    for _ in range(50):
        v["v"].append({"t": "list", "v": []})
        v = v["v"][0]
    with pytest.raises(ProtocolError):
        _decode(deep)


def _class(tmp: Path, names: list[str]) -> Path:
    course, release = demo_course(tmp / "class")
    all_cases = {c.name: c for c in cases(course)}
    for i, name in enumerate(names):
        write_submission(release, all_cases[name], course / "submitted" / f"{name}-{i}" / DEMO)
    return course


GRADE = """
import json, sys
sys.path.insert(0, {root!r})
from dlcourse.grading import grade_chapter
res = grade_chapter({course!r}, {demo!r}, workers=1, timeout=30, log=lambda m: None)
print(json.dumps({{r["student"]: [r["status"], r["scores"], r["message"]] for r in res}}))
"""


@needs_sandbox
def test_a_symlinked_environment_grades(tmp_path):
    """The course's environment reached through a link in /tmp (which the sandbox hides)."""
    course = _class(tmp_path, ["right", "wrong-g"])
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    python = link / Path(sys.executable).relative_to(sys.prefix)
    env = {k: v for k, v in os.environ.items() if k != "DLCOURSE_GRADEBOOK"}
    env["PATH"] = f"{link / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    root = str(Path(__file__).resolve().parent.parent)
    proc = subprocess.run([str(python), "-c", GRADE.format(root=root, course=str(course), demo=DEMO)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["right-0"][:2] == ["graded", {"test-f": 2.0, "test-g": 3.0}], got
    assert got["wrong-g-1"][:2] == ["graded", {"test-f": 2.0, "test-g": 0.0}], got


@needs_sandbox
def test_a_run_whose_kernels_cannot_start_stops_early_and_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("DLCOURSE_GRADEBOOK", raising=False)
    from dlcourse.grading import STOP_AFTER, grade_chapter

    course = _class(tmp_path, ["right"] * (STOP_AFTER + 3))
    lines: list[str] = []
    with pytest.raises(CourseError) as info:  # 32 MB: no Python kernel can start
        grade_chapter(course, DEMO, workers=1, timeout=30, memory_mb=32, log=lines.append)
    msg = str(info.value)
    assert f"the first {STOP_AFTER} submissions all failed in the same way" in msg, msg
    assert "not because of the submission" in msg and "What to do:" in msg, msg
    log_path = Path(msg.split("Details: ")[-1].strip())
    assert log_path.is_file() and log_path.parent == course / "grading" / "logs", msg
    assert "Traceback" in log_path.read_text() or "Error" in log_path.read_text()
    journal = json.loads((course / "grading" / f"{DEMO}.json").read_text())
    assert len(journal) == STOP_AFTER and all(j["status"] == "error" for j in journal.values())


def test_proxies_carry_objects_generators_in_place_changes_and_warnings(tmp_path, monkeypatch):
    """tests/fixtures/98-proxy: an autodiff Value class (operators, attributes get and set, methods),
    a network class built from an np.random.Generator, an in-place change caught by call_unchanged,
    a test-defined grad_fn run in the kernel and a warning filter that reaches the learner's call."""
    import shutil

    import nbformat

    from dlcourse.course import nbgrader
    from dlcourse.grading import grade_chapter

    monkeypatch.delenv("DLCOURSE_GRADEBOOK", raising=False)
    root, chapter = Path(__file__).resolve().parent.parent, "98-proxy"
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(root / "nbgrader_config.py", course)
    shutil.copytree(root / "tests" / "fixtures" / chapter, course / "solutions" / chapter)
    proc = nbgrader(["generate_assignment", chapter, "--force"], course,
                    env={"DLCOURSE_GRADEBOOK": f"sqlite:///{tmp_path / 'release.db'}"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    nb = nbformat.read(course / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)
    (course / "submitted" / "learner" / chapter).mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / "learner" / chapter / f"{chapter}.ipynb")
    (res,) = grade_chapter(course, chapter, workers=1, timeout=60, log=lambda m: None)
    graded = nbformat.read(course / "autograded" / "learner" / chapter / f"{chapter}.ipynb", as_version=4)
    errors = {c.metadata.get("nbgrader", {}).get("grade_id"): o.get("evalue") for c in graded.cells
              for o in c.get("outputs", []) if o.get("output_type") == "error"}
    assert res["status"] == "graded" and not res["flags"], res
    assert res["scores"] == {"test-Value": 1.0, "test-Net": 1.0, "test-normalise": 1.0}, errors
    out = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert "proxy protocol: all checks passed" in out
