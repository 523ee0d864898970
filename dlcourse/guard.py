"""Tamper detection for grading (nbgrader preprocessors).

Before a submission runs, :class:`InjectGuard` puts a *preamble* cell at the top of the
notebook and a one-line *check* at the end of every test cell. The preamble runs before any
learner code: it snapshots what the tests rely on (builtins, NumPy, ``numpy.testing``,
``dlcourse.testing``, IPython's input/AST transformers and hooks, ``sys.modules`` entries,
stdout/displayhook) and defines a check function under a random name. The check, run at the end
of each test cell, compares the live objects with the snapshot (at the start, so that a wrong
answer that also tampers is flagged too) and, when all is intact at the end, prints a
*receipt*: an HMAC of the cell's grade id under a per-run secret. After execution,
:class:`CheckGuard` gives 0 points to every test cell without its receipt (the cell did not run
to its end, e.g. an input transformer rewrote it) or with a tamper report, flags the
submission, and removes the injected code so the gradebook and feedback show the notebook as
the learner wrote it.

Limits (documented in the README): code in the same process can, in principle, find the
check function and the secret in memory and forge receipts; this catches the attacks a
learner is likely to try, not a determined attacker with knowledge of this file.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

SECRET_ENV = "DLCOURSE_GUARD_SECRET"
RECEIPT = "DLCOURSE-RECEIPT:"
TAMPER = "DLCOURSE-TAMPER:"
STOPPED = "grading stopped: the notebook changed what the tests rely on ("
_FLAGS_KEY = "dlcourse"

PREAMBLE = r'''
def __FACTORY__(secret, check_name):
    import builtins, sys, hmac, hashlib, types
    import numpy, numpy.testing, numpy.linalg, numpy.random
    import dlcourse.testing
    ip = get_ipython()
    ns = ip.user_ns
    skip = {"_", "__", "___", "exit", "quit", "get_ipython", "display", "__IPYTHON__", "__builtins__",
            "input", "raw_input", "getpass", "_dh", "_oh", "In", "Out"}
    def snap(mod):
        return mod, {k: v for k, v in vars(mod).items() if k not in skip and not k.startswith("_i")}
    mods = [snap(m) for m in (builtins, numpy, numpy.testing, numpy.linalg, numpy.random, dlcourse.testing, hmac, hashlib)]
    modnames = {n: sys.modules[n] for n in ("builtins", "numpy", "numpy.testing", "numpy.linalg", "dlcourse", "dlcourse.testing", "hmac", "hashlib")}
    shell_cls = type(ip)
    mro = shell_cls.__mro__
    shell_attrs = {}
    for c in reversed(mro):
        for k, v in vars(c).items():
            if callable(v) or isinstance(v, (staticmethod, classmethod)):
                shell_attrs[k] = v
    inst0 = {k: v for k, v in vars(ip).items() if k in shell_attrs}
    def owner(k):
        for c in mro:
            if k in vars(c):
                return vars(c)[k]
        return None
    lists = {n: list(getattr(ip, n)) for n in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")}
    tm = ip.input_transformer_manager
    tm_lists = {n: list(getattr(tm, n)) for n in ("cleanup_transforms", "line_transforms", "token_transformers")}
    hooks = {n: list(ip.events.callbacks.get(n, [])) for n in ("pre_execute", "pre_run_cell")}
    custom_exc = (ip.custom_exceptions, vars(ip).get("CustomTB"))
    streams = (sys.stdout, sys.stderr, sys.displayhook, sys.excepthook, type(sys.stdout).write)
    helper_names = [k for k in vars(dlcourse.testing) if k.startswith("assert_")]
    ok_types, _id, _len, _list, _getattr = (type, object), id, len, list, getattr
    def problems():
        found = []
        for mod, saved in mods:
            live = vars(mod)
            for k, v in saved.items():
                if live.get(k, None) is not v:
                    found.append(f"{mod.__name__}.{k} was replaced")
                    break
        for n, m in modnames.items():
            if sys.modules.get(n) is not m:
                found.append(f"sys.modules[{n!r}] was replaced")
        for k, v in shell_attrs.items():
            if owner(k) is not v:
                found.append(f"IPython's {k} was replaced")
                break
        for k in list(vars(ip)):
            if k in shell_attrs and vars(ip)[k] is not inst0.get(k):
                found.append(f"IPython's {k} was replaced on the shell")
                break
        for n, saved in lists.items():
            if _list(_getattr(ip, n)) != saved:
                found.append(f"IPython {n} was changed")
        for n, saved in tm_lists.items():
            if _list(_getattr(tm, n)) != saved:
                found.append(f"IPython input transformer {n} was changed")
        for n, saved in hooks.items():
            if _list(ip.events.callbacks.get(n, [])) != saved:
                found.append(f"IPython {n} hooks were changed")
        if (ip.custom_exceptions, vars(ip).get("CustomTB")) != custom_exc:
            found.append("IPython's exception handler was replaced (set_custom_exc)")
        if (sys.stdout, sys.stderr, sys.displayhook, sys.excepthook, type(sys.stdout).write) != streams:
            found.append("sys.stdout/stderr/displayhook was replaced")
        for name in helper_names:
            if name in ns and ns[name] is not vars(dlcourse.testing)[name]:
                found.append(f"the test helper {name} was redefined")
        if "np" in ns and ns["np"] is not numpy:
            found.append("the name np no longer refers to numpy")
        return found
    write, flush = type(sys.stdout).write, type(sys.stdout).flush
    out = sys.stdout
    STOPPED = __STOPPED__
    def check(grade_id, start=False):
        found = problems()
        if found:
            write(out, "__TAMPER__ " + "; ".join(found) + "\n")
            flush(out)
            raise RuntimeError(STOPPED + found[0] + ")")
        if start:
            return
        mac = hmac.new(secret, grade_id.encode(), hashlib.sha256).hexdigest()
        write(out, "__RECEIPT__" + mac + "\n")
        flush(out)
    ns[check_name] = check
__FACTORY__(__SECRET__, __CHECK__)
del __FACTORY__
'''


def receipt(secret: bytes, grade_id: str) -> str:
    return hmac.new(secret, grade_id.encode(), hashlib.sha256).hexdigest()


def _secret() -> bytes:
    raw = os.environ.get(SECRET_ENV)
    if not raw:
        raise RuntimeError(f"{SECRET_ENV} is not set: the grading guard needs a per-run secret.")
    return bytes.fromhex(raw)


def check_name(secret: bytes) -> str:
    return "_" + hashlib.sha256(b"name" + secret).hexdigest()[:12]


class InjectGuard(NbGraderPreprocessor):
    """Sanitize step: add the preamble cell and a check at the end of every test cell."""

    def preprocess(self, nb, resources):
        secret = _secret()
        name = check_name(secret)
        factory = "_" + hashlib.sha256(b"factory" + secret).hexdigest()[:12]
        src = (PREAMBLE.replace("__FACTORY__", factory).replace("__SECRET__", repr(secret))
               .replace("__CHECK__", repr(name)).replace("__TAMPER__", TAMPER).replace("__RECEIPT__", RECEIPT).replace("__STOPPED__", repr(STOPPED)))
        cell = new_code_cell(src.strip())
        cell.metadata[_FLAGS_KEY] = {"injected": True}
        for c in nb.cells:
            if utils.is_grade(c) and c.cell_type == "code":
                gid = c["metadata"]["nbgrader"]["grade_id"]
                c.source = f"{name}({gid!r}, True)\n" + c.source.rstrip() + f"\n{name}({gid!r})"
        nb.cells.insert(0, cell)
        return nb, resources


class CheckGuard(NbGraderPreprocessor):
    """After execution: zero test cells without a valid receipt, record flags, remove injected code."""

    def preprocess(self, nb, resources):
        secret = _secret()
        name = re.escape(check_name(secret))
        prefix = re.compile(r"^" + name + r"\('[^']*', True\)\n")
        suffix = re.compile(r"\n" + name + r"\('[^']*'\)\s*$")
        flags: list[str] = []
        nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(_FLAGS_KEY, {}).get("injected")]
        for c in nb.cells:
            if c.cell_type != "code" or not utils.is_grade(c):
                continue
            gid = c["metadata"]["nbgrader"]["grade_id"]
            c.source = prefix.sub("", suffix.sub("", c.source))
            text = "".join(o.get("text", "") for o in c.get("outputs", []) if o.get("output_type") == "stream")
            tamper = [line[len(TAMPER):].strip() for line in text.splitlines() if line.startswith(TAMPER)]
            tamper += [o["evalue"][len(STOPPED):].rstrip(")") for o in c.get("outputs", [])
                       if o.get("output_type") == "error" and str(o.get("evalue", "")).startswith(STOPPED)]
            good = RECEIPT + receipt(secret, gid) in text
            for o in c.get("outputs", []):
                if o.get("output_type") == "stream":
                    o["text"] = "".join(line for line in o["text"].splitlines(keepends=True)
                                        if not line.startswith((RECEIPT, TAMPER)))
            c.outputs = [o for o in c.get("outputs", []) if not (o.get("output_type") == "stream" and not o["text"])]
            has_error = any(o.get("output_type") == "error" for o in c.outputs)
            if tamper:
                flags.append(f"{gid}: {tamper[0]}")
            elif not good and not has_error:
                flags.append(f"{gid}: the test cell did not run to its end")
            if (tamper or not good) and not has_error:
                c.outputs.append(new_output("error", ename="GradingIntegrityError",
                                            evalue="this test cell did not run as written; it scores 0",
                                            traceback=["GradingIntegrityError: this test cell did not run as written; it scores 0"]))
        nb.metadata[_FLAGS_KEY] = {"flags": flags}
        return nb, resources


def new_secret() -> str:
    return secrets.token_hex(32)
