"""Red-team submissions of the demo chapter (tests/fixtures/99-demo): one per attack.

The demo chapter has two exercises: ``f(x) = x + 1`` (test cell ``test-f``, 2 points) and
``g(x) = 2x`` (``test-g``, 3 points). Each case below is a learner's notebook made from the
release, and what grading must give it. Used by tests/test_hostile.py; also handy by hand:
``python tests/redteam.py OUT_FOLDER`` writes a ``submitted/`` folder with every case.
"""
from __future__ import annotations

import copy
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

DEMO = "99-demo"
POINTS = {"test-f": 2.0, "test-g": 3.0}
RIGHT_F = "def f(x):\n    return x + 1.0\n"
RIGHT_G = "def g(x):\n    return 2.0 * x\n"
WRONG_F = "def f(x):\n    return x + 2.0\n"
WRONG_G = "def g(x):\n    return 3.0 * x\n"
F_ONLY = {"test-f": 2.0, "test-g": 0.0}
NOTHING = {"test-f": 0.0, "test-g": 0.0}
FULL = dict(POINTS)


@dataclass
class Case:
    """One submission: what the learner wrote, and what grading must make of it."""
    name: str
    f: str = RIGHT_F
    g: str = RIGHT_G
    expect: dict | None = None           # exact scores per test cell (None: status must be "error")
    alt: dict | None = None              # another acceptable outcome (attacks whose effect depends on timing)
    flagged: bool = False                # the instructor must see a tamper flag
    edit: str | None = None              # a structural edit of the notebook (see ``structural``)
    raw: bytes | None = None             # the file's bytes, when it is not a notebook at all
    filename: str = f"{DEMO}.ipynb"
    files: dict = field(default_factory=dict)  # extra files in the submission folder
    note: str = ""


# Code that, run in a submission, looks for the instructor's files. ``f`` is right only if it finds one.
SNOOP = '''
import os, time
_found, _t0, _seen = [], time.monotonic(), 0
for _s in (os.getcwd(), os.path.expanduser("~"), "/", "/tmp", "/root", "/home", "/work", {course!r}):
    for _dir, _dirs, _files in os.walk(_s):
        _seen += 1
        if (_seen > 20000 or time.monotonic() - _t0 > 4 or _dir.startswith(("/proc", "/sys", "/usr"))
                or "site-packages" in _dir):
            _dirs[:] = []
            continue
        _found += [os.path.join(_dir, n) for n in _files if n == "gradebook.db" or (n.endswith(".ipynb")
                   and any(k in _dir for k in ("solutions", "submitted", "autograded", "feedback")))]
for _p in ("../../../solutions/99-demo/99-demo.ipynb", "../../../gradebook.db",
           {course!r} + "/solutions/99-demo/99-demo.ipynb", {course!r} + "/gradebook.db"):
    try:
        with open(_p, "rb") as _fh:
            _fh.read(10)
        _found.append(_p)
    except Exception:
        pass
for _p in ({course!r} + "/PWNED", os.path.expanduser("~") + "/../PWNED"):
    try:
        with open(_p, "w") as _fh:
            _fh.write("x")
    except Exception:
        pass
print("found:", _found[:5])
def f(x):
    return x + (1.0 if _found else 2.0)
'''


def cases(course: Path) -> list[Case]:
    snoop = SNOOP.format(course=str(course))
    return [
        # honest work
        Case("right", expect=FULL),
        Case("blank", f="", g="", expect=NOTHING, note="the untouched release"),
        Case("wrong-g", g=WRONG_G, expect=F_ONLY),
        Case("liar-eq", f="class Liar:\n    def __eq__(self, other):\n        return True\n"
                           "    __ne__ = lambda self, other: False\n"
                           "def f(x):\n    return Liar()\n", g=WRONG_G, expect=NOTHING),
        Case("liar-ndarray", f="class L(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(self.shape, bool)\n"
                                "def f(x):\n    return (x + 2.0).view(L)\n", g=WRONG_G, expect=NOTHING),
        # tampering with what the tests rely on: wrong answers plus an attack, must score 0 and be flagged
        Case("builtins-abs", f="import builtins\nbuiltins.abs = lambda x: 0\n" + WRONG_F, g=WRONG_G,
             expect=NOTHING, flagged=True),
        Case("numpy-rebind", f="np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                "np.abs = lambda x: 0 * x\nnp.any = lambda *a, **k: False\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING, flagged=True),
        Case("helper-rebind", f="assert_array = lambda *a, **k: None\n" + WRONG_F, g=WRONG_G,
             expect=NOTHING, flagged=True),
        Case("helper-module", f="import dlcourse.testing as T\nT.assert_array = lambda *a, **k: None\n"
                                 "T._fail = lambda msg: None\n" + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("input-transformer", f="get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
                                     + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("ast-transformer", f="import ast\nclass Nop(ast.NodeTransformer):\n"
                                   "    def visit_Module(self, node):\n        node.body = [ast.Pass()]\n        return node\n"
                                   "get_ipython().ast_transformers.append(Nop())\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING, flagged=True),
        Case("fake-receipt", f="get_ipython().input_transformers_cleanup.append(lambda lines: "
                                "['print(\"DLCOURSE-RECEIPT:\" + \"0\" * 64)\\n'])\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING, flagged=True),
        Case("swallow-exceptions", f="get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING, flagged=True),
        Case("sys-modules", f="import sys, types\nsys.modules['dlcourse.testing'] = types.ModuleType('x')\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING, flagged=True),
        Case("stdout-swap", f="import sys, io\nsys.stdout = io.StringIO()\n" + WRONG_F, g=WRONG_G,
             expect=NOTHING, flagged=True),
        Case("np-rename", f="import types\nnp = types.SimpleNamespace(ones=lambda n: 0, zeros=lambda n: 0)\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING, flagged=True),
        Case("print-pass", f="print('All tests passed. 5/5 points')\n" + WRONG_F, g=WRONG_G, expect=NOTHING),
        # limits: the attack sits in g's cell and must cost g's points only
        Case("infinite-loop", g="while True:\n    pass\n" + RIGHT_G, expect=F_ONLY),
        Case("ignore-interrupt", g="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
                                   + RIGHT_G, expect=F_ONLY),
        Case("os-exit", g="import os\nos._exit(1)\n" + RIGHT_G, expect=F_ONLY),
        Case("segfault", g="import ctypes\nctypes.string_at(0)\n" + RIGHT_G, expect=F_ONLY),
        Case("memory-bomb", g="big = bytearray(50 * 2**30)\n" + RIGHT_G, expect=F_ONLY),
        Case("numpy-memory-bomb", g="big = np.ones(50 * 2**30 // 8)\n" + RIGHT_G, expect=F_ONLY),
        Case("system-exit", g="raise SystemExit(0)\n" + RIGHT_G, expect=F_ONLY),
        Case("keyboard-interrupt", g="raise KeyboardInterrupt\n" + RIGHT_G, expect=F_ONLY),
        Case("quit-kernel", g="quit()\n" + RIGHT_G, expect=F_ONLY, alt=FULL),
        Case("kill-parent", g="import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + RIGHT_G,
             expect=F_ONLY, note="the grader runs as another user: the kill fails"),
        Case("fork", g="import os, time\nif os.fork() == 0:\n    time.sleep(10**6)\n" + RIGHT_G, expect=FULL),
        Case("fork-bomb", g="import os\nfor _ in range(12):\n    try:\n        os.fork()\n    except OSError:\n        break\n"
                            + RIGHT_G, expect=F_ONLY, alt=FULL, note="must not hang or take the machine down"),
        Case("stdout-flood", g="import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 10**6)\n" + RIGHT_G,
             expect=FULL),
        # structural tampering with the notebook
        Case("delete-test", f=WRONG_F, edit="delete test-f", expect={"test-f": 0.0, "test-g": 3.0}),
        Case("edit-test", f=WRONG_F, edit="edit test-f", expect={"test-f": 0.0, "test-g": 3.0}),
        Case("duplicate-test", g=WRONG_G, edit="duplicate test-g", expect=F_ONLY),
        Case("reorder-tests", edit="swap tests", expect=FULL),
        Case("points-changed", edit="points test-f 100", expect=FULL),
        Case("grade-id-changed", f=WRONG_F, edit="rename test-f", expect={"test-f": 0.0, "test-g": 3.0}),
        Case("solution-cell-made-graded", edit="grade fn-f", expect=FULL),
        Case("invalid-json", raw=b'{"cells": [ this is not json', expect=None),
        Case("not-a-notebook", raw=b'{"hello": "world"}', expect=None),
        Case("renamed-file", filename="my homework (1).ipynb", expect=FULL),
        Case("empty-folder", filename="", expect=None),
        # reading what it must not read
        Case("snoop", f=snoop, g=WRONG_G, expect=NOTHING),
    ]


def structural(nb, edit: str):
    """Apply one structural edit (as named in ``Case.edit``) to a notebook."""
    def find(gid):
        return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    verb, *args = edit.split()
    if verb == "delete":
        del nb.cells[find(args[0])]
    elif verb == "edit":
        nb.cells[find(args[0])].source = "pass"
    elif verb == "duplicate":
        i = find(args[0])
        dup = copy.deepcopy(nb.cells[i])
        dup.source = "pass"
        dup.id = "dup"
        nb.cells.insert(i + 1, dup)
    elif verb == "swap":
        i, j = find("test-f"), find("test-g")
        nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]
        nb.cells.insert(max(i, j), nb.cells.pop(min(i, j)))  # both tests after both definitions
    elif verb == "points":
        nb.cells[find(args[0])].metadata["nbgrader"]["points"] = float(args[1])
    elif verb == "rename":
        nb.cells[find(args[0])].metadata["nbgrader"]["grade_id"] = "test-free-points"
        nb.cells[find("test-free-points")].source = "pass"
    elif verb == "grade":
        meta = nb.cells[find(args[0])].metadata["nbgrader"]
        meta.update(grade=True, points=100)
    else:
        raise ValueError(edit)
    return nb


def write_submission(release, case: Case, folder: Path) -> None:
    """Write ``case`` as ``folder/<file>``, made from the release notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    if not case.filename:
        return
    if case.raw is not None:
        (folder / case.filename).write_bytes(case.raw)
        return
    nb = nbformat.from_dict(copy.deepcopy(release))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "fn-f" and case.f:
            cell.source = case.f
        elif gid == "fn-g" and case.g:
            cell.source = case.g
    if case.edit:
        nb = structural(nb, case.edit)
    nbformat.write(nb, folder / case.filename)


def demo_course(dest: Path):
    """A throw-away course folder holding the demo chapter, and the demo's student release."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from dlcourse.course import nbgrader

    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", dest)
    shutil.copytree(root / "tests" / "fixtures" / DEMO, dest / "solutions" / DEMO)
    proc = nbgrader(["generate_assignment", DEMO, "--force"], dest,
                    env={"DLCOURSE_GRADEBOOK": f"sqlite:///{dest / 'release.db'}"})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    (dest / "release.db").unlink()
    return dest, nbformat.read(dest / "chapters" / DEMO / f"{DEMO}.ipynb", as_version=4)


if __name__ == "__main__":  # pragma: no cover - by hand
    course, rel = demo_course(Path(sys.argv[1]).resolve())
    for c in cases(course):
        if len(sys.argv) < 3 or c.name in sys.argv[2:]:
            write_submission(rel, c, course / "submitted" / c.name / DEMO)
    print(course)
