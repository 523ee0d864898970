"""Timing: the machine's matmul rate, one epoch of each side, and interleaved rounds.

A shared machine's load drifts over minutes, so the three contestants (NumPy, Keras' default
``fit``, Keras at its best ``steps_per_execution``) run one epoch each, back to back, in every
round; a ratio is taken within a round and reported as min / median / max over the rounds.
"""
from __future__ import annotations

import gc
import statistics
import time

import numpy as np


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The best float32 ``A @ B`` rate (n x n) in GFLOP/s: the most this machine's BLAS gives."""
    rng = np.random.default_rng(1)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - t0)
    return round(2.0 * n ** 3 / min(times) / 1e9, 1)


def spread(values: list[float]) -> dict:
    """min / median / max of per-round figures, and how many rounds."""
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3), "rounds": len(values)}


class KerasEpochs:
    """``model.fit(x, y, batch_size=B, epochs=1, verbose=0)``, timed from ``on_epoch_begin`` to
    ``on_epoch_end`` by a callback (fit's own set-up, such as wrapping the arrays, is not counted)."""

    def __init__(self, model, x, y, batch: int):
        import keras

        self.model, self.x, self.y, self.batch, self.times = model, x, y, batch, []
        outer = self

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                outer.times.append(time.perf_counter() - self.t0)

        self.timer = Timer()

    def epoch(self) -> float:
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=1, verbose=0, shuffle=True,
                       callbacks=[self.timer])
        return self.times[-1]


def interleaved(contestants: dict, rounds: int) -> dict[str, list[float]]:
    """``contestants``: name -> a function that runs one epoch and returns its time in seconds (or
    None, then the wall time is used). Each is warmed up once (Keras traces its graph), then every
    round runs each once, in the given order. Returns name -> epoch times, one per round."""
    for run in contestants.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, run in contestants.items():
            gc.collect()
            t0 = time.perf_counter()
            inner = run()
            times[name].append(inner if inner is not None else time.perf_counter() - t0)
    return times
