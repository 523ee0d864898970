"""The learner's side of the grading proxy protocol (runs inside the learner's sandboxed kernel).

Grading runs test cells in a trusted process (:mod:`dlcourse.trusted`); each contract name there is
a proxy whose every use becomes one ``execute_request`` on the learner's kernel calling :func:`serve`.
:func:`serve` loads the request (arguments pickled by the trusted side), does the one operation it
names on the learner's object (call, attribute, operator, ...) and publishes the answer as plain
data in a display message of type :data:`MIME`: JSON for numbers, str, None, bool, lists, tuples
and dicts; ``.npy`` bytes for NumPy arrays and scalars of numeric or bool dtype; a *handle* (a
number) for any other object, which stays here in ``_objects``.

Nothing here is trusted: the learner's code can replace this module, and the trusted side checks
every answer as untrusted bytes (and never unpickles or executes them).
"""
from __future__ import annotations

import base64
import builtins
import io
import json
import pickle
import traceback
import warnings

import numpy as np

MIME = "application/x-dlcourse-reply"
NUMERIC_KINDS = "biufc"
_objects: dict[int, object] = {}
_next = [1]


class _Missing:
    pass


def resolve(ref):
    """Unpickling hook for a proxy passed as an argument: the learner's object it stands for."""
    if isinstance(ref, str):
        return _user_ns()[ref]
    return _objects[ref]


def _user_ns():
    return get_ipython().user_ns  # noqa: F821 - runs in IPython


def _keep(obj) -> dict:
    n = _next[0]
    _next[0] += 1
    _objects[n] = obj
    return {"t": "h", "id": n, "cls": type(obj).__name__[:80], "call": callable(obj)}


def _npy(a) -> str:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)  # 0-d stays 0-d
    return base64.b64encode(buf.getvalue()).decode("ascii")


def encode(v, depth=0):
    """Plain data for ``v``, or a handle for what is not plain data."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if type(v) is int or type(v) is float:
        return v
    if isinstance(v, np.ndarray) and v.dtype.kind in NUMERIC_KINDS and v.dtype.fields is None:
        return {"t": "a", "npy": _npy(np.asarray(v))}
    if isinstance(v, np.generic) and v.dtype.kind in NUMERIC_KINDS:
        return {"t": "s", "npy": _npy(np.asarray(v))}
    if depth < 16 and type(v) in (tuple, list) and len(v) <= 10000:
        return {"t": type(v).__name__, "v": [encode(x, depth + 1) for x in v]}
    if depth < 16 and type(v) is dict and len(v) <= 10000 and all(type(k) in (str, int) for k in v):
        return {"t": "dict", "k": list(v), "v": [encode(x, depth + 1) for x in v.values()]}
    return _keep(v)


def _flat_args(args, kwargs):
    for i, a in enumerate(args):
        yield f"a{i}", a
    for k, a in kwargs.items():
        yield f"k{k}", a


def _publish(reply: dict) -> None:
    from IPython.display import publish_display_data

    publish_display_data({MIME: json.dumps(reply, allow_nan=True)})


_BINOPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b, "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b,
    "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b,
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}
_UNOPS = {"neg": lambda a: -a, "pos": lambda a: +a, "abs": lambda a: abs(a), "len": len,
          "bool": bool, "float": float, "int": int, "index": lambda a: a.__index__(),
          "iter": lambda a: list(a)[:100000], "asarray": np.asarray, "repr": lambda a: repr(a)[:2000],
          "str": lambda a: str(a)[:2000]}


def _do(op, target, args, kwargs, extra):
    if op == "resolve":
        ns = _user_ns()
        return {name: ns.get(name, _Missing) for name in extra}
    if op == "call":
        return target(*args, **kwargs)
    if op == "getattr":
        return getattr(target, extra)
    if op == "setattr":
        setattr(target, extra, args[0])
        return None
    if op == "getitem":
        return target[args[0]]
    if op == "setitem":
        target[args[0]] = args[1]
        return None
    if op == "contains":
        return args[0] in target
    if op == "binop":
        name, reflected = extra
        return _BINOPS[name](args[0], target) if reflected else _BINOPS[name](target, args[0])
    if op == "unop":
        return _UNOPS[extra](target)
    raise ValueError(f"unknown operation {op!r}")


def serve(request: str, blob: str) -> None:
    """Do one proxied operation and publish its answer (see the module docstring)."""
    req = json.loads(request)
    reply: dict
    try:
        target_ref, args, kwargs = pickle.loads(base64.b64decode(blob)) if blob else (None, (), {})
        target = None if target_ref is None else resolve(target_ref)
        before = {p: a.copy() for p, a in _flat_args(args, kwargs) if isinstance(a, np.ndarray)}
        with warnings.catch_warnings(), np.errstate(**req.get("errstate", {})):
            for action, message, category, module, lineno in reversed(req.get("warnings", [])):
                cls = getattr(builtins, category, Warning)
                warnings.filterwarnings(action, message or "", cls if isinstance(cls, type) and issubclass(cls, Warning)
                                        else Warning, module or "", lineno)
            value = _do(req["op"], target, args, kwargs, req.get("extra"))
        if req["op"] == "resolve":
            reply = {"t": "ok", "value": {k: ("missing" if v is _Missing else encode(v)) for k, v in value.items()}}
        else:
            reply = {"t": "ok", "value": encode(value)}
        mut, rng = {}, {}
        for p, a in _flat_args(args, kwargs):
            if p in before and (a.shape != before[p].shape or not np.array_equal(a, before[p], equal_nan=a.dtype.kind in "fc")):
                mut[p] = _npy(a)
            elif isinstance(a, np.random.Generator):
                rng[p] = a.bit_generator.state
        if mut:
            reply["mut"] = mut
        if rng:
            reply["rng"] = rng
    except BaseException as exc:  # noqa: BLE001 - the learner's exception goes back as two strings
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        reply = {"t": "err", "type": type(exc).__name__[:100], "msg": str(exc)[:2000],
                 "tb": "".join(tb[-6:])[-4000:]}
    _publish(reply)
