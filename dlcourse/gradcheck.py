"""Numerical gradients by central differences, to check hand-written backward passes."""
from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function.

    f:   callable taking an array shaped like ``x`` and returning a scalar.
    x:   float array (any shape); float64 is strongly advised.
    Returns an array shaped like ``x``: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
    ``x`` is restored exactly after each probe.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"numerical_gradient needs a float array, got dtype {x.dtype}.")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + eps
        f_plus = float(f(x))
        x[i] = old - eps
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, 1e-12), elementwise, as one float."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def check_gradient(f, x: np.ndarray, analytic: np.ndarray, *, eps: float = 1e-6, tol: float = 1e-6) -> float:
    """Compare an analytic gradient with the numerical one; return the max relative error.

    Raises AssertionError naming the worst entry when the error is above ``tol``.
    """
    numeric = numerical_gradient(f, x, eps=eps)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(f"analytic gradient has shape {analytic.shape}, expected {numeric.shape} (the shape of x).")
    err = relative_error(analytic, numeric)
    if not err <= tol:
        where = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(analytic - numeric)), numeric.shape))
        raise AssertionError(
            f"gradient check failed: max relative error {err:.3e} > {tol:.0e}; worst at index {where}: "
            f"analytic {analytic[where]:.6g}, numerical {numeric[where]:.6g}."
        )
    return err
