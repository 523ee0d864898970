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


# Through /proc: another process's memory, environment, files or root folder (the trusted test runner,
# the grader, init). ``f`` is right only if one of them can be read.
PROC_ESCAPE = '''
import os
_found = []
for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    if int(_pid) == os.getpid():
        continue
    for _what in ("environ", "mem", "fd/0", "fd/1", "root/etc/hostname", "cwd", "root" + {course!r} + "/gradebook.db"):
        try:
            with open(f"/proc/{{_pid}}/{{_what}}", "rb") as _fh:
                if _fh.read(1):
                    _found.append(f"{{_pid}}/{{_what}}")
        except Exception:
            pass
print("readable:", _found[:5])
def f(x):
    return x + (1.0 if _found else 2.0)
'''

# Whatever a reader of the old in-kernel guard would look for: a secret in a closure, in gc, in the
# input history, in the frames above a call, in the environment; hidden test code anywhere in the
# kernel. Prints forged receipts and "passed" lines for every grade id; ``f`` is right only if it
# found a secret or a hidden test.
HUNT = '''
import gc, os, sys, hmac, hashlib
def _hunt():
    found = [k for k in os.environ if "SECRET" in k or "GUARD" in k or "GRADEBOOK" in k]
    for obj in gc.get_objects():
        try:
            cells = getattr(obj, "__closure__", None) or ()
            found += [c.cell_contents for c in cells if isinstance(c.cell_contents, bytes) and len(c.cell_contents) == 32]
        except Exception:
            pass
    hist = " ".join(get_ipython().user_ns.get("_ih", []))
    if "HIDDEN" in hist or "np.zeros(2)" in hist:
        found.append("history")
    frame = sys._getframe()
    while frame is not None:
        consts = " ".join(str(c) for c in frame.f_code.co_consts)
        if "assert_array" in consts or "HIDDEN" in consts:
            found.append("frame")
        frame = frame.f_back
    return found
_secrets = _hunt()
for _gid in ("test-f", "test-g"):
    for _s in _secrets:
        if isinstance(_s, bytes):
            print("DLCOURSE-RECEIPT:" + hmac.new(_s, _gid.encode(), hashlib.sha256).hexdigest())
    print(_gid, ": all public checks passed")
def f(x):
    if _hunt():
        return x + 1.0
'''

# The learner's kernel side of the protocol replaced: every answer says "passed" in all the ways it could.
REPLACE_CHECK = '''
import dlcourse.kernelside as _K, dlcourse.testing as _T
_T.assert_array = _T.assert_scalar = _T.assert_true = lambda *a, **k: None
_T.CheckFailed = type("CheckFailed", (Exception,), {})
def _serve(request, blob):
    _K._publish({"t": "ok", "value": True})
_K.serve = _serve
'''

RAISE_ODD = '''
class CheckFailed(BaseException):
    pass
def f(x):
    raise SystemExit("\\x1b[32mall tests passed\\x1b[0m")
'''

REPLY_NONE = '''
import dlcourse.kernelside as _K
_K.serve = lambda request, blob: None
'''

FORGE = '''
import base64 as _b64, io as _io, json as _json, pickle as _pickle, zipfile as _zip
import numpy as _np
import dlcourse.kernelside as _K
from IPython.display import publish_display_data as _pub
def _pickled():
    return {{"t": "a", "npy": _b64.b64encode(_pickle.dumps(_np.full(3, 2.0))).decode()}}
def _object_npy():
    buf = _io.BytesIO()
    _np.save(buf, _np.array([2.0, 2.0, 2.0], dtype=object), allow_pickle=True)
    return {{"t": "a", "npy": _b64.b64encode(buf.getvalue()).decode()}}
def _npz():
    buf = _io.BytesIO()
    _np.savez(buf, a=_np.full(3, 2.0))
    return {{"t": "a", "npy": _b64.b64encode(buf.getvalue()).decode()}}
_orig = _K.serve
def _serve(request, blob):
    if _json.loads(request)["op"] != "call":
        return _orig(request, blob)
    {publish}
_K.serve = _serve
'''


def forge(value: str) -> str:
    """A submission whose kernel answers every call with ``value`` (Python source, built in the kernel)."""
    return FORGE.format(publish=f"_K._publish({{'t': 'ok', 'value': {value}}})")


def forge_raw(text: str) -> str:
    """A submission whose kernel answers every call with the raw text ``text`` (Python source)."""
    return FORGE.format(publish=f"_pub({{_K.MIME: {text}}})")


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
        # tampering with what the tests relied on when they ran in the learner's kernel: wrong answers plus
        # an attack; the tests now run in the trusted process, so each scores what its wrong answers score
        Case("builtins-abs", f="import builtins\nbuiltins.abs = lambda x: 0\n" + WRONG_F, g=WRONG_G,
             expect=NOTHING),
        Case("numpy-rebind", f="np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                "np.abs = lambda x: 0 * x\nnp.any = lambda *a, **k: False\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING),
        Case("helper-rebind", f="assert_array = lambda *a, **k: None\n" + WRONG_F, g=WRONG_G,
             expect=NOTHING),
        Case("helper-module", f="import dlcourse.testing as T\nT.assert_array = lambda *a, **k: None\n"
                                 "T._fail = lambda msg: None\n" + WRONG_F, g=WRONG_G, expect=NOTHING),
        Case("input-transformer", f="get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
                                     + WRONG_F, g=WRONG_G, expect=NOTHING),
        Case("ast-transformer", f="import ast\nclass Nop(ast.NodeTransformer):\n"
                                   "    def visit_Module(self, node):\n        node.body = [ast.Pass()]\n        return node\n"
                                   "get_ipython().ast_transformers.append(Nop())\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING),
        Case("fake-receipt", f="get_ipython().input_transformers_cleanup.append(lambda lines: "
                                "['print(\"DLCOURSE-RECEIPT:\" + \"0\" * 64)\\n'])\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING),
        Case("swallow-exceptions", f="get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING),
        Case("sys-modules", f="import sys, types\nsys.modules['dlcourse.testing'] = types.ModuleType('x')\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING),
        Case("stdout-swap", f="import sys, io\nsys.stdout = io.StringIO()\n" + WRONG_F, g=WRONG_G,
             expect=NOTHING),
        Case("np-rename", f="import types\nnp = types.SimpleNamespace(ones=lambda n: 0, zeros=lambda n: 0)\n" + WRONG_F,
             g=WRONG_G, expect=NOTHING),
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
        Case("proc-escape", f=PROC_ESCAPE.format(course=str(course)), g=WRONG_G, expect=NOTHING,
             note="other processes' memory, environment and mount namespace through /proc"),
        # a learner who has read dlcourse/: secrets, the check, the proxy protocol
        Case("hunt-secrets", f=HUNT + WRONG_F, g=WRONG_G, expect=NOTHING,
             note="closures, gc, input history, frames, environment: no secret, no hidden test is in the kernel"),
        Case("replace-check", f=REPLACE_CHECK + WRONG_F, g=WRONG_G, expect=NOTHING),
        Case("fake-pass-output", f="def f(x):\n    print('f(x): all 2 public checks passed')\n    return x + 2.0\n",
             g=WRONG_G, expect=NOTHING),
        Case("raise-fake-exception", f=RAISE_ODD, g=WRONG_G, expect=NOTHING),
        Case("reply-pickle", f=forge("_pickled()") + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("reply-object-npy", f=forge("_object_npy()") + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("reply-npz", f=forge("_npz()") + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("reply-handle-spoof", f=forge("{'t': 'h', 'id': 1, 'cls': 'ndarray'}") + WRONG_F, g=WRONG_G,
             expect=NOTHING),
        Case("reply-deep", f=forge_raw("'{\"t\": \"ok\", \"value\": ' + '{\"t\": \"list\", \"v\": [' * 100000 "
                                       "+ ']}' * 100000 + '}'") + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("reply-wide", f=forge("{'t': 'list', 'v': [0] * 3_000_000}") + WRONG_F, g=WRONG_G,
             expect=NOTHING, flagged=True),
        Case("reply-huge", f=forge_raw("'x' * (65 * 2**20)") + WRONG_F, g=WRONG_G, expect=NOTHING,
             note="refused unread above SafeExecute.reply_limit (flagged), or past the time limit on a busy machine"),
        Case("reply-none", f=REPLY_NONE + WRONG_F, g=WRONG_G, expect=NOTHING, flagged=True),
        Case("slow-answer", f="import time\ndef f(x):\n    time.sleep(10**6)\n", expect={"test-f": 0.0, "test-g": 3.0}),
        Case("slow-answer-no-interrupt", f="import signal, time\ndef f(x):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                           "    time.sleep(10**6)\n", expect={"test-f": 0.0, "test-g": 3.0}),
        Case("exit-in-call", f="import os\ndef f(x):\n    os._exit(3)\n", expect={"test-f": 0.0, "test-g": 3.0}),
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
