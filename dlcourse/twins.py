"""Copy weights between NumPy models and Keras models, for the chapters' twin checks.

The course's NumPy convention is the same as Keras' ``Dense``: ``z = x @ W + b`` with
``x: (N, D_in)``, ``W: (D_in, D_out)``, ``b: (D_out,)``. So copying is a plain assignment,
checked for shape, and float64 arrays are cast to the layer's dtype.
"""
from __future__ import annotations

import numpy as np


def _dense_layers(model):
    layers = [layer for layer in model.layers if layer.weights]
    if not layers:
        raise ValueError("the Keras model has no layers with weights: build it (give it an Input) first.")
    return layers


def set_dense_weights(model, params) -> None:
    """Load NumPy parameters into a Keras model, layer by layer.

    params: a list of ``(W, b)`` pairs, one per layer that has weights, in order;
            ``W: (D_in, D_out)``, ``b: (D_out,)``.
    """
    layers = _dense_layers(model)
    if len(params) != len(layers):
        raise ValueError(f"got {len(params)} (W, b) pairs for a model with {len(layers)} layers that have weights.")
    for i, (layer, (W, b)) in enumerate(zip(layers, params)):
        expected = [tuple(w.shape) for w in layer.weights]
        given = [np.shape(W), np.shape(b)]
        if [tuple(s) for s in given] != expected:
            raise ValueError(f"layer {i} ({layer.name}) expects weight shapes {expected}, got {given}.")
        dtype = layer.weights[0].dtype
        layer.set_weights([np.asarray(W, dtype=dtype), np.asarray(b, dtype=dtype)])


def get_dense_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Read a Keras model's ``(W, b)`` pairs as NumPy arrays, one per layer that has weights."""
    out = []
    for layer in _dense_layers(model):
        values = layer.get_weights()
        if len(values) != 2:
            raise ValueError(f"layer {layer.name} has {len(values)} weight arrays; expected a kernel and a bias.")
        out.append((values[0], values[1]))
    return out


def max_abs_diff(a, b) -> float:
    """Largest absolute difference between two arrays (or nested lists/tuples of arrays)."""
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            raise ValueError(f"cannot compare {len(a)} arrays with {len(b)} arrays.")
        return max((max_abs_diff(x, y) for x, y in zip(a, b)), default=0.0)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}.")
    return float(np.max(np.abs(a - b))) if a.size else 0.0
