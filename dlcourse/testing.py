"""Assertion helpers for the chapters' test cells.

Each failure message tells a learner what is wrong in one or two lines: the name of the
value, then shape, dtype, NaN/inf, or the largest error and where it is. The NumPy functions
used here are captured when the module is imported (before any learner code runs), so a
submission that rebinds ``np.allclose`` or ``builtins.abs`` later does not change them.
"""
from __future__ import annotations

import builtins as _builtins
import math as _math

import numpy as _np

# Captured at import time: later rebinding by learner code does not reach these.
_asarray = _np.asarray
_isfinite = _np.isfinite
_isnan = _np.isnan
_abs = _np.abs
_maximum = _np.maximum
_argmax = _np.argmax
_unravel = _np.unravel_index
_array_equal = _np.array_equal
_issubdtype = _np.issubdtype
_ndarray = _np.ndarray
_floating = _np.floating
_integer = _np.integer
_float64 = _np.float64
_isinstance = _builtins.isinstance
_len = _builtins.len
_float = _builtins.float
_tuple = _builtins.tuple
_type = _builtins.type
_AssertionError = _builtins.AssertionError


class CheckFailed(_AssertionError):
    """A test found a wrong answer; the message says what to fix.

    IPython shows an exception's ``_render_traceback_()`` instead of a traceback, so a failed
    check appears in the notebook (and in nbgrader's Validate dialog) as its one message, not
    as frames of this module. Errors raised by the learner's own code keep their traceback.
    """

    def _render_traceback_(self):
        import textwrap

        # Wrapped, so that nbgrader's Validate dialog (a <pre> that does not wrap) shows all of it.
        return textwrap.wrap(f"CheckFailed: {self.args[0] if self.args else ''}", 100,
                             subsequent_indent="    ", break_on_hyphens=False) or ["CheckFailed"]


_passed = [0]  # checks that passed since the last call of passed()


def _ok() -> None:
    _passed[0] += 1


def passed(name: str) -> None:
    """Print the one line that says a test cell's public checks passed, e.g.

        neuron_forward: all 3 public checks passed

    Call it at the end of the public part of a test cell (before ``### BEGIN HIDDEN TESTS``),
    so that Validate and the notebook show success instead of silence. It counts the
    ``assert_*`` helpers and ``call_unchanged`` calls that passed since the previous call.
    """
    n, _passed[0] = _passed[0], 0
    what = f"all {n} public checks passed" if n else "public checks passed"
    _builtins.print(f"{name}: {what} (hidden tests run when the chapter is graded)")


def _fail(msg: str):
    __tracebackhide__ = True  # IPython leaves this module's frames out of the learner's traceback
    raise CheckFailed(msg)


def _is_float_kind(dtype) -> bool:
    return _issubdtype(dtype, _floating)


def assert_array(actual, expected, *, name: str = "result", rtol: float = 1e-6, atol: float = 1e-8,
                 dtype=None, check_dtype_kind: bool = True) -> None:
    """Assert that ``actual`` is an ndarray equal to ``expected`` within tolerance.

    Checks, in order: it is a NumPy array (not a list, not None); its shape; its dtype
    (exactly ``dtype`` when given, else the same kind, float vs int, as ``expected``);
    no NaN or inf where the expected value is finite; then values, reporting the
    largest absolute and relative error and the index where it occurs.
    """
    __tracebackhide__ = True
    if not _isinstance(actual, _ndarray) or _type(actual) is not _ndarray:
        _fail(f"{name} should be a NumPy array (np.ndarray), got {_type(actual).__name__}.")
    exp = _asarray(expected)
    if actual.shape != exp.shape:
        _fail(f"{name} has shape {actual.shape}, expected {exp.shape}.")
    if dtype is not None and actual.dtype != _np.dtype(dtype):
        _fail(f"{name} has dtype {actual.dtype}, expected {_np.dtype(dtype)}.")
    if check_dtype_kind and _is_float_kind(exp.dtype) and not _is_float_kind(actual.dtype):
        _fail(f"{name} has dtype {actual.dtype}, expected a float array (like {exp.dtype}).")
    if not _is_float_kind(actual.dtype) and not _issubdtype(actual.dtype, _np.number) and actual.dtype != _np.bool_:
        _fail(f"{name} has dtype {actual.dtype}, expected numbers.")
    a = actual.astype(_float64)
    e = exp.astype(_float64)
    bad = ~_isfinite(a) & _isfinite(e)
    if bad.any():
        idx = _tuple(int(i) for i in _unravel(_argmax(bad), a.shape)) if a.ndim else ()
        what = "NaN" if _isnan(a[idx]) else "inf"
        _fail(f"{name} contains {what} at index {idx} (where {e[idx]:.6g} was expected): "
              f"look for a division by zero, exp() of a large number or log(0).")
    err = _abs(a - e)
    tol = atol + rtol * _abs(e)
    over = err > tol
    if over.any() or (err != err).any():
        worst = _unravel(_argmax(err - tol), a.shape) if a.ndim else ()
        worst = _tuple(int(i) for i in worst)
        rel = err[worst] / _maximum(_abs(e[worst]), 1e-300)
        _fail(f"{name} is wrong at {int(over.sum())} of {a.size} entries; worst at index {worst}: "
              f"got {a[worst]:.8g}, expected {e[worst]:.8g} (abs error {err[worst]:.3g}, rel error {rel:.3g}; "
              f"tolerance rtol={rtol:g}, atol={atol:g}).")
    _ok()


def assert_scalar(actual, expected: float, *, name: str = "result", rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Assert that ``actual`` is one real number (Python or NumPy scalar, or 0-d array) close to ``expected``."""
    __tracebackhide__ = True
    if _isinstance(actual, _ndarray) and _type(actual) is _ndarray and actual.ndim == 0:
        actual = actual[()]
    if _isinstance(actual, (_builtins.bool, _np.bool_)) or not _isinstance(actual, (_builtins.int, _float, _floating, _integer)):
        _fail(f"{name} should be a single number, got {_type(actual).__name__}"
              f"{' of shape ' + str(actual.shape) if _isinstance(actual, _ndarray) else ''}.")
    value = _float(actual)
    if not _math.isfinite(value):
        _fail(f"{name} is {value}: look for a division by zero, exp() of a large number or log(0).")
    err = _math.fabs(value - _float(expected))
    if not err <= atol + rtol * _math.fabs(_float(expected)):
        _fail(f"{name} is {value:.8g}, expected {expected:.8g} (abs error {err:.3g}; rtol={rtol:g}, atol={atol:g}).")
    _ok()


def assert_shape(actual, shape: tuple, *, name: str = "result") -> None:
    """Assert that ``actual`` is an ndarray of the given shape."""
    __tracebackhide__ = True
    if not _isinstance(actual, _ndarray):
        _fail(f"{name} should be a NumPy array (np.ndarray), got {_type(actual).__name__}.")
    if actual.shape != _tuple(shape):
        _fail(f"{name} has shape {actual.shape}, expected {_tuple(shape)}.")
    _ok()


def assert_finite(actual, *, name: str = "result") -> None:
    """Assert that an array holds no NaN or inf."""
    __tracebackhide__ = True
    a = _asarray(actual, dtype=_float64)
    if not _isfinite(a).all():
        idx = _tuple(int(i) for i in _unravel(_argmax(~_isfinite(a)), a.shape)) if a.ndim else ()
        _fail(f"{name} contains {a[idx]} at index {idx}: look for a division by zero, exp() of a large number or log(0).")
    _ok()


def assert_true(condition, message: str) -> None:
    """Assert a plain condition with a message for the learner (works under ``python -O`` too)."""
    __tracebackhide__ = True
    if condition is not True and not (_isinstance(condition, _np.bool_) and _builtins.bool(condition)):
        _fail(message)
    _ok()


_ORDINAL = ("1st", "2nd", "3rd")


def call_unchanged(f, *args, **kwargs):
    """Call ``f(*args, **kwargs)``, fail if it changed one of its array arguments in place, and
    return what it returned.

    A function that writes into its inputs (``x -= mu`` instead of ``x = x - mu``) passes value
    checks but silently changes the caller's data, so a later cell fails far from the cause.
    Every test of an exercise that takes arrays calls it this way at least once, publicly.
    """
    __tracebackhide__ = True
    fname = _builtins.getattr(f, "__name__", "the function")
    before = [(i, a.copy()) for i, a in _builtins.enumerate(args) if _isinstance(a, _ndarray)]
    before_kw = [(k, a.copy()) for k, a in kwargs.items() if _isinstance(a, _ndarray)]
    result = f(*args, **kwargs)
    for i, old in before:
        new = args[i]
        if new.shape != old.shape or not _array_equal(new, old, equal_nan=_is_float_kind(old.dtype)):
            which = _ORDINAL[i] if i < 3 else f"{i + 1}th"
            _fail(f"{fname} changed its {which} argument in place: leave the inputs as they are and "
                  f"compute on new arrays (write x = x - m, not x -= m).")
    for k, old in before_kw:
        new = kwargs[k]
        if new.shape != old.shape or not _array_equal(new, old, equal_nan=_is_float_kind(old.dtype)):
            _fail(f"{fname} changed its argument {k} in place: leave the inputs as they are and "
                  f"compute on new arrays (write x = x - m, not x -= m).")
    _ok()
    return result


def test_namespace() -> dict:
    """The names a test cell may use besides the chapter's contract names.

    A test cell reaches the learner's work only through the contract (the names the chapter's
    graded solution cells define, grade ids ``fn-<name>``); everything else it needs is here
    (``np``, ``numpy``, ``math`` and this module's helpers) or imported by the cell itself.
    Grading runs test cells in a namespace built from this, outside the learner's kernel.
    """
    ns = {"np": _np, "numpy": _np, "math": _math}
    ns.update({k: v for k, v in globals().items()
               if not k.startswith("_") and k not in ("annotations", "test_namespace")
               and (_builtins.callable(v) and _builtins.getattr(v, "__module__", "") == __name__)})
    return ns


test_namespace.__test__ = False  # not a pytest test, whatever imports it
