"""The trusted side of grading: test cells run here, never in the learner's kernel.

``python -m dlcourse.trusted`` is started by the grading worker (:class:`dlcourse.grading.SafeExecute`)
once per submission. It never executes the learner's code and never unpickles anything that comes
from the learner's kernel. For each test cell the worker sends ``{"op": "cell", "source", "gid",
"contract"}`` on stdin; this process runs the cell's source in a fresh namespace made of
:func:`dlcourse.testing.test_namespace` and the chapter's *contract names*, each bound to what the
learner's kernel holds under that name at this point of the notebook: plain data (arrays, numbers,
strings, tuples/lists/dicts of those) as a copy, anything else (a function, a class, an object) as a
:class:`Remote` proxy. Every use of a proxy (a call, an attribute, an operator) is sent back to the
worker as ``{"op": "kernel", "code"}``, code for the learner's kernel that calls
:func:`dlcourse.kernelside.serve`; the worker runs it there within the cell's time limit and relays
what the kernel published, as bytes, in ``{"op": "reply", ...}``. The answer is decoded here with
limits (depth, size, ``.npy`` with ``allow_pickle=False`` and numeric/bool dtypes only): anything
else fails the test cell and flags the submission. At the end this process answers ``{"op": "done",
"outputs", "flags"}``: the test cell's outputs (its stdout, stderr and error) for nbgrader to score.

Arguments go to the kernel pickled (cloudpickle), so a function a test cell defines (chapter 02's
``grad_fn``) runs in the learner's kernel. After a call, array arguments the learner's function
changed in place are written back into this side's arrays (so ``call_unchanged`` sees the change),
and ``np.random.Generator`` arguments get the state the learner's function advanced them to.
Warning filters (``warnings.simplefilter("error")`` in a test) and ``np.errstate`` are applied to
the learner's call as they are set here.
"""
from __future__ import annotations

import base64
import builtins
import io
import json
import linecache
import os
import sys
import traceback
import warnings

import numpy as np

from . import kernelside
from .testing import CheckFailed, test_namespace

MAX_DEPTH = 20
MAX_NODES = 2_000_000
MAX_TEXT = 2_000_000  # characters of stdout/stderr kept per test cell
NUMERIC_KINDS = "biufc"


class ProtocolError(Exception):
    """The learner's kernel answered with something that is not plain data (the cell scores 0)."""


class GradingAborted(BaseException):
    """The learner's kernel did not answer in time (a BaseException: a test's ``except Exception`` cannot hide it)."""


class LearnerError(Exception):
    """An exception raised by the learner's code whose type is not a built-in one."""


# Exceptions of the learner's code come back as a type name and a message; built-in exception types
# are re-created (so a test's ``except RuntimeWarning`` works), others become a LearnerError subclass.
_BUILTIN_EXC = {n: c for n, c in vars(builtins).items() if isinstance(c, type) and issubclass(c, Exception)
                and c not in (StopIteration, StopAsyncIteration)}


def _exception(kind: str, msg: str) -> BaseException:
    cls = _BUILTIN_EXC.get(kind)
    if cls is None:
        name = kind if kind.isidentifier() and len(kind) <= 100 else "LearnerError"
        cls = type(name, (LearnerError,), {})
    try:
        return cls(msg)
    except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs 5 arguments
        return type(kind, (LearnerError,), {})(msg)


class _Channel:
    """The pipe to the grading worker (JSON lines)."""

    def __init__(self, rfile, wfile):
        self.rfile, self.wfile = rfile, wfile
        self.flags: list[str] = []
        self.out = None  # the test cell's captured stdout/stderr
        self.err = None
        self.baseline_filters: list = []

    def send(self, msg: dict) -> None:
        self.wfile.write(json.dumps(msg).encode() + b"\n")
        self.wfile.flush()

    def receive(self) -> dict:
        line = self.rfile.readline()
        if not line:
            raise GradingAborted("the grading worker went away")
        return json.loads(line)

    # ------------------------------------------------------------------ one proxied operation
    def rpc(self, op: str, target=None, args=(), kwargs=None, extra=None):
        import cloudpickle

        kwargs = kwargs or {}
        try:
            blob = base64.b64encode(cloudpickle.dumps((target, tuple(args), dict(kwargs)), protocol=5)).decode("ascii")
        except Exception as exc:  # noqa: BLE001 - a test passed something that cannot travel
            raise TypeError(f"grading cannot send this argument to the learner's kernel ({exc})") from None
        req = {"op": op, "extra": extra, "warnings": self._added_filters(), "errstate": np.geterr()}
        code = f"__import__('dlcourse.kernelside', fromlist=['serve']).serve({json.dumps(req)!r}, {blob!r})"
        self.send({"op": "kernel", "code": code})
        reply = self.receive()
        for name, text in reply.get("streams", []):
            (self.err if name == "stderr" else self.out).write(str(text))
        status = reply.get("status")
        if status == "timeout":
            raise GradingAborted(reply.get("message") or "the learner's code did not answer within the cell's time limit")
        if status == "toolarge":
            self._violation(reply.get("message") or "the answer was too large")
        if status != "ok" or reply.get("data") is None:
            self._violation(f"the learner's kernel gave no answer to the grader's request"
                            f"{' (' + str(reply.get('message'))[:300] + ')' if reply.get('message') else ''}")
        try:
            answer = json.loads(reply["data"])
        except (ValueError, RecursionError, TypeError) as exc:
            self._violation(f"the answer is not JSON ({exc.__class__.__name__})")
        if not isinstance(answer, dict) or answer.get("t") not in ("ok", "err"):
            self._violation("the answer has no status")
        if answer["t"] == "err":
            raise _exception(str(answer.get("type", "Error"))[:100], str(answer.get("msg", ""))[:2000])
        budget = [MAX_NODES]
        if op == "resolve":
            value = answer.get("value")
            if not isinstance(value, dict) or set(value) - set(extra):
                self._violation("the answer to 'which contract names exist' is malformed")
            out = {k: (Missing if v == "missing" else self.decode(v, 0, budget)) for k, v in value.items()}
        else:
            out = self.decode(answer.get("value"), 0, budget)
        self._write_back(args, kwargs, answer, budget)
        return out

    def _violation(self, what: str):
        msg = f"the learner's kernel answered the grader with something that is not plain data: {what}"
        if msg not in self.flags:
            self.flags.append(msg)
        raise ProtocolError(msg)

    def _added_filters(self) -> list:
        cur, base = list(warnings.filters), self.baseline_filters
        added = cur[:len(cur) - len(base)] if len(cur) >= len(base) and cur[len(cur) - len(base):] == base else cur
        out = []
        for action, message, category, module, lineno in added:
            out.append([action, getattr(message, "pattern", message), category.__name__,
                        getattr(module, "pattern", module), lineno])
        return out

    # ------------------------------------------------------------------ decoding untrusted answers
    def _npy(self, text) -> np.ndarray:
        if not isinstance(text, str):
            self._violation("an array is not .npy bytes")
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
            arr = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any malformed array is a violation
            self._violation(f"an array could not be read as .npy without pickle ({exc.__class__.__name__})")
        if arr.dtype.kind not in NUMERIC_KINDS or arr.dtype.fields is not None or arr.dtype.hasobject:
            self._violation(f"an array has dtype {arr.dtype} (numbers and booleans only)")
        return arr

    def decode(self, v, depth: int, budget: list):
        budget[0] -= 1
        if budget[0] < 0:
            self._violation(f"more than {MAX_NODES} values in one answer")
        if depth > MAX_DEPTH:
            self._violation(f"nested deeper than {MAX_DEPTH} levels")
        if v is None or isinstance(v, (bool, str, float)):
            return v
        if type(v) is int:
            return v
        if not isinstance(v, dict) or not isinstance(v.get("t"), str):
            self._violation(f"a value of JSON type {type(v).__name__} without a tag")
        t = v["t"]
        if t == "a":
            return self._npy(v.get("npy"))
        if t == "s":
            arr = self._npy(v.get("npy"))
            if arr.ndim != 0:
                self._violation("a NumPy scalar that is not 0-d")
            return arr[()]
        if t in ("list", "tuple"):
            items = v.get("v")
            if not isinstance(items, list):
                self._violation("a list without items")
            if len(items) > budget[0]:
                self._violation(f"more than {MAX_NODES} values in one answer")
            out = [self.decode(x, depth + 1, budget) for x in items]
            return out if t == "list" else tuple(out)
        if t == "dict":
            keys, vals = v.get("k"), v.get("v")
            if not isinstance(keys, list) or not isinstance(vals, list) or len(keys) != len(vals) \
                    or not all(type(k) in (str, int) for k in keys):
                self._violation("a malformed dict")
            return {k: self.decode(x, depth + 1, budget) for k, x in zip(keys, vals)}
        if t == "h":
            ref, cls = v.get("id"), v.get("cls")
            if type(ref) is not int or not isinstance(cls, str):
                self._violation("a malformed object handle")
            return _remote_class(cls[:80])(self, ref, cls[:80], None)
        self._violation(f"unknown tag {t[:20]!r}")

    def _write_back(self, args, kwargs, answer: dict, budget: list) -> None:
        def arg(path):
            if not isinstance(path, str):
                return None
            if path.startswith("a") and path[1:].isdigit() and int(path[1:]) < len(args):
                return args[int(path[1:])]
            return kwargs.get(path[1:]) if path.startswith("k") else None

        mut = answer.get("mut") or {}
        rng = answer.get("rng") or {}
        if not isinstance(mut, dict) or not isinstance(rng, dict):
            self._violation("malformed write-back")
        for path, npy in mut.items():
            mine = arg(path)
            if not isinstance(mine, np.ndarray):
                self._violation("a write-back to an argument that is not an array")
            new = self._npy(npy)
            if new.shape != mine.shape:
                continue  # an array cannot change shape in place; nothing to write
            if not mine.flags.writeable:
                raise ValueError("the learner's function wrote into a read-only array argument")
            np.copyto(mine, new, casting="unsafe")
        for path, state in rng.items():
            mine = arg(path)
            if not isinstance(mine, np.random.Generator) or not isinstance(state, dict):
                self._violation("a generator state for an argument that is not a generator")
            try:
                mine.bit_generator.state = state
            except Exception as exc:  # noqa: BLE001
                self._violation(f"a generator state numpy refuses ({exc.__class__.__name__})")


class _MissingType:
    def __repr__(self):
        return "<missing>"


Missing = _MissingType()


def _binop(name, reflected=False):
    def op(self, other):
        return self._dlc_ch.rpc("binop", self._dlc_ref, (other,), extra=[name, reflected])
    op.__name__ = f"__{'r' if reflected else ''}{name}__"
    return op


def _unop(name, check=None):
    def op(self):
        value = self._dlc_ch.rpc("unop", self._dlc_ref, extra=name)
        if check is not None and not check(value):
            raise TypeError(f"the learner's object gave {type(value).__name__} for {name}()")
        return value
    op.__name__ = f"__{name}__"
    return op


class Remote:
    """A proxy for an object that lives in the learner's kernel (a function, a class, an instance)."""

    __array_ufunc__ = None  # NumPy operators defer to this class's reflected operators

    def __init__(self, channel, ref, cls, name):
        object.__setattr__(self, "_dlc_ch", channel)
        object.__setattr__(self, "_dlc_ref", ref)
        object.__setattr__(self, "_dlc_cls", cls)
        object.__setattr__(self, "_dlc_name", name)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            if name == "__name__" and self._dlc_name:
                return self._dlc_name
            raise AttributeError(name)
        if name.startswith("_dlc_"):
            raise AttributeError(name)
        return self._dlc_ch.rpc("getattr", self._dlc_ref, extra=name)

    def __setattr__(self, name, value):
        self._dlc_ch.rpc("setattr", self._dlc_ref, (value,), extra=name)

    def __call__(self, *args, **kwargs):
        return self._dlc_ch.rpc("call", self._dlc_ref, args, kwargs)

    def __getitem__(self, key):
        return self._dlc_ch.rpc("getitem", self._dlc_ref, (key,))

    def __setitem__(self, key, value):
        self._dlc_ch.rpc("setitem", self._dlc_ref, (key, value))

    def __contains__(self, item):
        return self._dlc_ch.rpc("contains", self._dlc_ref, (item,)) is True

    def __iter__(self):
        items = self._dlc_ch.rpc("unop", self._dlc_ref, extra="iter")
        if not isinstance(items, list):
            raise TypeError("the learner's object is not iterable")
        return iter(items)

    def __array__(self, dtype=None, copy=None):
        arr = self._dlc_ch.rpc("unop", self._dlc_ref, extra="asarray")
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"the learner's {self._dlc_cls} object is not an array of numbers")
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self):
        return f"<{self._dlc_name or self._dlc_cls} from the learner's notebook>"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __reduce__(self):  # sent to the kernel as the object it stands for
        return (kernelside.resolve, (self._dlc_ref,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    __len__ = _unop("len", lambda v: type(v) is int and v >= 0)
    __bool__ = _unop("bool", lambda v: type(v) is bool)
    __float__ = _unop("float", lambda v: type(v) is float)
    __int__ = _unop("int", lambda v: type(v) is int)
    __index__ = _unop("index", lambda v: type(v) is int)
    __neg__ = _unop("neg")
    __pos__ = _unop("pos")
    __abs__ = _unop("abs")


for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
    setattr(Remote, f"__{_n}__", _binop(_n))
    setattr(Remote, f"__r{_n}__", _binop(_n, reflected=True))
for _n in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Remote, f"__{_n}__", _binop(_n))


_REMOTE_CLASSES: dict = {}


def _remote_class(name: str):
    """A Remote subclass named like the learner's class, so that messages say "got Value", not "got Remote"."""
    if not name.isidentifier():
        return Remote
    if name not in _REMOTE_CLASSES:
        _REMOTE_CLASSES[name] = type(name, (Remote,), {"__module__": "learner"})
    return _REMOTE_CLASSES[name]


class _Capped(io.StringIO):
    def write(self, s):
        room = MAX_TEXT - self.tell()
        if room > 0:
            super().write(s[:room])
            if len(s) > room:
                super().write("\n[grading: output beyond this was dropped]\n")
        return len(s)


def _traceback(exc: BaseException, gid: str) -> list[str]:
    if isinstance(exc, CheckFailed):
        return exc._render_traceback_()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")]
    return (["Traceback (most recent call last):"] + [s.rstrip("\n") for s in traceback.format_list(frames)]
            + [f"{type(exc).__name__}: {exc}"])


def run_cell(ch: _Channel, source: str, gid: str, contract: list[str]) -> dict:
    """Run one test cell; returns {"outputs": [...], "flags": [...]}."""
    ch.out, ch.err, ch.flags = _Capped(), _Capped(), []
    saved = sys.stdout, sys.stderr
    error = None
    filename = f"<{gid}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    with warnings.catch_warnings():
        ch.baseline_filters = list(warnings.filters)
        sys.stdout, sys.stderr = ch.out, ch.err
        try:
            ns = test_namespace()
            ns.update(__name__="__main__", __builtins__=builtins)
            if contract:
                for name, value in ch.rpc("resolve", extra=list(contract)).items():
                    if isinstance(value, Remote):
                        object.__setattr__(value, "_dlc_name", name)
                    if value is not Missing:
                        ns[name] = value
            exec(compile(source, filename, "exec"), ns)  # noqa: S102 - the chapter's own test code
        except BaseException as exc:  # noqa: BLE001 - every failure is this test cell's error output
            error = exc
        finally:
            sys.stdout, sys.stderr = saved
    outputs = []
    for name, buf in (("stdout", ch.out), ("stderr", ch.err)):
        if buf.getvalue():
            outputs.append({"output_type": "stream", "name": name, "text": buf.getvalue()})
    if error is not None:
        if isinstance(error, GradingAborted):
            ename, evalue = "CellTimeoutError", str(error)
        else:
            ename, evalue = type(error).__name__, str(error)
        outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                        "traceback": _traceback(error, gid) if not isinstance(error, GradingAborted)
                        else [f"{ename}: {evalue}"]})
    return {"outputs": outputs, "flags": list(ch.flags)}


def main() -> None:
    # The protocol owns the original stdout; anything else printing to file descriptor 1 goes nowhere.
    wfile = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = io.TextIOWrapper(os.fdopen(os.dup(1), "wb"))
    ch = _Channel(sys.stdin.buffer, wfile)
    ch.send({"op": "ready"})
    while True:
        try:
            msg = ch.receive()
        except GradingAborted:
            return
        if msg.get("op") == "cell":
            result = run_cell(ch, msg["source"], msg["gid"], msg.get("contract", []))
            ch.send({"op": "done", **result})
        elif msg.get("op") == "exit":
            return


if __name__ == "__main__":
    main()
