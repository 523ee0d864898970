"""Plotting helpers shared by the chapters (matplotlib only)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_functions(z: np.ndarray, curves: dict, *, title: str = "", ncols: int = 2, figsize=None):
    """Plot several functions of ``z`` side by side.

    z:      (N,) points on the x axis.
    curves: {panel title: {label: (N,) values}}; one panel per entry.
    """
    n = len(curves)
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize or (4.5 * ncols, 3.2 * nrows), squeeze=False)
    for ax, (panel, lines) in zip(axes.flat, curves.items()):
        for label, values in lines.items():
            ax.plot(z, values, label=label)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.set_title(panel)
        ax.set_xlabel("z")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves: dict, *, xlabel: str = "step", ylabel: str = "loss", logy: bool = False, title: str = ""):
    """Plot loss curves: ``curves = {label: (T,) losses}``."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label, values in curves.items():
        ax.plot(np.arange(len(values)), values, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_loss_surface(loss_fn, w_range, b_range, *, paths: dict | None = None, levels: int = 30,
                      resolution: int = 80, title: str = "", xlabel: str = "w", ylabel: str = "b",
                      equal_aspect: bool = False):
    """Contour plot of ``loss_fn(w, b)`` with optional optimisation paths.

    loss_fn: callable (w, b) -> float.
    paths:   {label: (T, 2) array of (w, b) points}, drawn in this order (the last on top).
    equal_aspect: one unit is as long on both axes, so that right angles look right (gradient
                  steps cross the contour lines at right angles only in such a picture).
    """
    ws = np.linspace(*w_range, resolution)
    bs = np.linspace(*b_range, resolution)
    L = np.array([[loss_fn(w, b) for w in ws] for b in bs])
    fig, ax = plt.subplots(figsize=(6, 4.5))
    cs = ax.contour(ws, bs, L, levels=np.geomspace(max(L.min(), 1e-12), L.max(), levels), cmap="viridis")
    fig.colorbar(cs, ax=ax, label="loss")
    for label, path in (paths or {}).items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, label=label)
        ax.plot(path[-1, 0], path[-1, 1], "k*", ms=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
