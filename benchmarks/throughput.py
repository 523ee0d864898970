"""NumPy vs Keras, side by side in one run (issue 4): training throughput on the CPU.

Two models, each trained by a hand-written NumPy loop and by Keras on the same data (a fixed
subset: the first N MNIST training images, float32 in [0, 1], reshuffled every epoch on both
sides), with the same architecture, initial weights, optimizer, batch size and dtype (float32):

  (a) MLP 784-64-10: Dense(64, ReLU) -> Dense(10, softmax), sparse softmax cross-entropy, batch 32.
      The NumPy side is chapter 07's reference solution itself (its ``train_epoch``, ``forward``,
      ``backward``, ``adam_step`` and the ``# bench: mlp`` cells), loaded from the solution notebook
      by ``benchmarks/solution_loader.py``; ``NumpyMLP`` (preallocated, fused) is an ablation variant;
  (b) the article's MNIST CNN (NHWC), batch 128, RMSprop: Conv2D(32, 3x3, ReLU) -> MaxPool 2x2 ->
      Conv2D(64, 3x3, ReLU) -> MaxPool 2x2 -> Flatten (1600) -> Dense(64, ReLU) -> Dense(10, softmax).
      The NumPy side is chapter 08's reference solution itself, loaded from the solution notebook
      by ``benchmarks/solution_loader.py`` (its graded cells and its ``# bench: cnn`` cell).

Optimizer: Adam (lr 1e-3 and Keras' other defaults) on both sides (``--optimizer sgd``: plain SGD) for
the MLP; RMSprop (Keras' defaults, the article's choice) on both sides for the CNN.

Method (per model):
  1. checks, asserted: one step's NumPy gradients equal Keras' ``tf.GradientTape`` gradients for
     the same weights and batch (max abs difference <= 1e-4), and one NumPy epoch lowers the loss;
  2. NumPy with BLAS threads = cores and with 1 BLAS thread; the faster is used from then on;
  3. Keras grid: ``steps_per_execution`` in (1, 16, 64, 256) x ``jit_compile`` in (False, True),
     each one ``fit(epochs=1 + R)`` whose first epoch (tracing/compiling) is the warm-up; a config
     whose first timed epoch is below half the best so far is not repeated;
  4. headline: NumPy, Keras' default ``model.fit(x, y, batch_size=B, epochs=1, verbose=0)`` and
     Keras' best config, each warmed up, then R interleaved rounds of one epoch each (so load
     changes on this shared machine hit all three alike); samples/s min / median / max;
  5. ablations: NumPy variants with single optimisations undone, in interleaved rounds; and Keras'
     best configuration under each TensorFlow setting (oneDNN, op determinism, intra-op threads),
     a fresh process per setting.
Keras epochs are timed by a callback (on_epoch_begin -> on_epoch_end). Keras runs with
TensorFlow's own CPU defaults (oneDNN on, op determinism off: its fastest); a subprocess then
re-measures Keras' default and best config with the course's settings from ``dlcourse.setup``
(oneDNN off, op determinism on). The matmul bound is the best float32 ``A @ B`` rate (2048x2048,
BLAS threads = cores), measured at the start and at the end.

FLOP convention (the usual one for training, as in "model FLOPs utilisation" and 6N-per-token
counts): per sample, a dense layer costs 2*in*out forward, a conv layer 2*K*K*Cin*Cout*Hout*Wout
forward, and forward+backward is 3x forward. Neither side computes the gradient with respect to the
input images, so the work actually done is smaller (``flops_per_sample.executed``, about 2/3 of it
for these models); achieved GFLOP/s use the nominal count, and the ratios table also gives the
fraction with the executed count.

Also measured: 6. a time budget of one NumPy MLP step (each part timed on its own, in a loop, on
the same buffers), which says where the time goes and what the matmuls alone would allow; 7. a
batch-size sweep, NumPy and Keras (its best steps_per_execution/jit_compile from step 3) at larger
batches: the issue counts batch size as part of Keras' best configuration, and the sweep shows how
the fraction of the matmul bound grows with the batch.

    python benchmarks/throughput.py [--n 12800] [--repeats 3] [--json out.json] [--md out.md] [--quick]
    python -m dlcourse bench --throughput [--quick]      (the same, results in bench-results/)

--quick (for tests): N=1024, R=2, steps_per_execution in (1, 64) only, a 1024x1024 matmul.

``main(argv)`` returns the result dict; ``to_markdown(result)`` renders it.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import dlcourse  # noqa: E402

# as every chapter does through dlcourse.setup(): freed blocks are reused, not mapped afresh
# (for the NumPy CNN, about 1.5x per step on 2 cores); TensorFlow has its own allocator
dlcourse.reuse_freed_memory()

F32 = np.float32
SPE_GRID = (1, 16, 64, 256)
ABANDON = 0.5   # a candidate whose first timed epoch is below half the best so far is not repeated
JIT_GRID = (False, True)
ADAM = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7)  # Keras' Adam defaults
SGD_LR = 0.01


# ----------------------------------------------------------------------------- machine
def load_avg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def busy_cores(seconds: float = 1.0) -> float | None:
    """How many cores other processes keep busy, sampled from /proc/stat over ``seconds`` while this
    process sleeps (unlike the load average, this is not a lagging average of the past minutes)."""
    def sample():
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:]]
        return sum(v[:8]), v[3] + v[4]          # total and idle + iowait, in clock ticks
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    cores = os.cpu_count() or 1
    return round(cores * (1 - (i1 - i0) / max(t1 - t0, 1)), 2)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average: {', '.join(map(str, load_avg()))}"


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return []
    return [{k: d.get(k) for k in ("internal_api", "num_threads", "version", "architecture")}
            for d in threadpool_info() if d.get("user_api") == "blas"]


def set_blas_threads(n: int):
    """Set the BLAS thread count for the rest of the process (threadpoolctl); returns the limiter."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n, user_api="blas")


def matmul_rate(n: int = 2048, repeats: int = 6) -> dict:
    """float32 GFLOP/s of ``A @ B`` (n x n), best and median of ``repeats`` after one warm-up."""
    rng = np.random.default_rng(1)
    a = rng.random((n, n), dtype=F32)
    b = rng.random((n, n), dtype=F32)
    c = np.empty((n, n), F32)
    np.matmul(a, b, out=c)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    flops = 2.0 * n ** 3
    return {"n": n, "repeats": repeats, "gflops_best": round(flops / min(times) / 1e9, 1),
            "gflops_median": round(flops / statistics.median(times) / 1e9, 1),
            "gflops_worst": round(flops / max(times) / 1e9, 1)}


# ----------------------------------------------------------------------------- helpers
def glorot(rng, shape, fan_in, fan_out) -> np.ndarray:
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, size=shape).astype(F32)


def stats(times: list[float], n_samples: int) -> dict:
    """Samples/s (min/median/max) and epoch seconds over repeated timed epochs."""
    rates = sorted(n_samples / t for t in times)
    return {"epochs_timed": len(times), "epoch_s": [round(t, 4) for t in times],
            "epoch_s_median": round(statistics.median(times), 4),
            "samples_per_s_min": round(rates[0]), "samples_per_s_median": round(statistics.median(rates)),
            "samples_per_s_max": round(rates[-1])}


def flat_parameters(shapes, dtype):
    """One zeroed parameter vector and one gradient vector for all ``shapes``, and per-shape views
    of each: returns (theta, grad, params, grads), so an optimizer updates all layers in one pass."""
    n = sum(int(np.prod(s)) for s in shapes)
    theta, grad = np.zeros(n, dtype), np.zeros(n, dtype)
    params, grads, off = [], [], 0
    for s in shapes:
        k = int(np.prod(s))
        params.append(theta[off:off + k].reshape(s))
        grads.append(grad[off:off + k].reshape(s))
        off += k
    return theta, grad, params, grads


class Optimizer:
    """Adam (Keras' update, Keras' defaults) or plain SGD, in place, on one flat parameter vector.

    All parameters live in one contiguous vector (the layers hold reshaped views of it), and so do
    the gradients, so an update is a few ufunc calls over ~51k (MLP) / ~54k (CNN) numbers instead
    of a few per parameter array.

    fast=True keeps the moments rescaled, m' = m / (1 - b1) and v' = v / (1 - b2), so that
    m' = b1 m' + g and v' = b2 v' + g^2, and folds the constants into the step:
    p -= alpha (1 - b1) / sqrt(1 - b2) * m' / (sqrt(v') + eps / sqrt(1 - b2)) - the same update as
    Keras' (up to float rounding) in 10 passes over the vector instead of 12.
    fast=False is Keras' formula as written (the ablation).
    """

    def __init__(self, kind: str, size: int, dtype=F32, fast: bool = True):
        if kind not in ("adam", "sgd"):
            raise ValueError(f"unknown optimizer {kind!r}")
        self.kind, self.fast, self.dtype = kind, fast, dtype
        self.t = 0
        self.tmp = np.empty(size, dtype)
        if kind == "adam":
            self.m = np.zeros(size, dtype)
            self.v = np.zeros(size, dtype)

    def step(self, p: np.ndarray, g: np.ndarray) -> None:
        tmp, dt = self.tmp, self.dtype
        if self.kind == "sgd":
            np.multiply(g, dt(SGD_LR), out=tmp)
            p -= tmp
            return
        b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["eps"]
        self.t += 1
        alpha = ADAM["lr"] * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        m, v = self.m, self.v
        if self.fast:
            c = math.sqrt(1 - b2)
            np.multiply(m, dt(b1), out=m)
            m += g                              # m' = b1 m' + g
            np.multiply(v, dt(b2), out=v)
            np.multiply(g, g, out=tmp)
            v += tmp                            # v' = b2 v' + g^2
            np.sqrt(v, out=tmp)
            np.add(tmp, dt(eps / c), out=tmp)
            np.divide(m, tmp, out=tmp)
            np.multiply(tmp, dt(alpha * (1 - b1) / c), out=tmp)
            p -= tmp
            return
        np.subtract(g, m, out=tmp)              # m += (g - m) * (1 - b1)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)              # v += (g*g - v) * (1 - b2)
        tmp -= v
        tmp *= 1 - b2
        v += tmp
        np.sqrt(v, out=tmp)                     # p -= m * alpha / (sqrt(v) + eps)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        p -= tmp


class SoftmaxCE:
    """Softmax + mean sparse cross-entropy, forward and backward fused, in place, for batches of
    ``b`` rows: ``__call__(z, y)`` turns the logits z (b, classes) into dLoss/dz = (p - onehot(y)) / b
    and returns the loss (computed stably from the shifted logits, as Keras does for a softmax
    output). Buffers are preallocated; the label entries are addressed by flat indices."""

    def __init__(self, b: int, classes: int, dtype=F32):
        self.b = b
        self.zmax = np.empty((b, 1), dtype)
        self.s = np.empty((b, 1), dtype)
        self.base = np.arange(b) * classes
        self.fi = np.empty(b, np.intp)
        self.zy = np.empty(b, dtype)
        self.ones = np.ones((classes, 1), dtype)
        self.inv_b = dtype(1.0 / b)

    def __call__(self, z: np.ndarray, y: np.ndarray) -> float:
        np.max(z, axis=1, keepdims=True, out=self.zmax)
        np.subtract(z, self.zmax, out=z)
        np.add(self.base, y, out=self.fi)
        zf = z.reshape(-1)                       # a view: z is a contiguous buffer
        np.take(zf, self.fi, out=self.zy, mode="clip")
        np.exp(z, out=z)
        np.matmul(z, self.ones, out=self.s)      # row sums; ~2x faster than np.sum(axis=1) here
        loss = (float(np.log(self.s).sum()) - float(self.zy.sum())) / self.b
        self.s *= self.b
        np.divide(z, self.s, out=z)              # p / b
        zf[self.fi] -= self.inv_b                # (p - onehot) / b
        return loss


def softmax_ce_unfused(z: np.ndarray, y: np.ndarray) -> float:
    """The textbook way (ablation): softmax, then dL/dp = -onehot/p/b, then the softmax
    Jacobian-vector product p * (dL/dp - sum(dL/dp * p)); in place on z, returns the loss."""
    b = z.shape[0]
    rows = np.arange(b)
    z -= z.max(axis=1, keepdims=True)
    zy = z[rows, y]
    np.exp(z, out=z)
    s = z.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) - zy))
    z /= s
    dp = np.zeros_like(z)
    dp[rows, y] = -1.0 / (b * z[rows, y])
    z *= dp - (dp * z).sum(axis=1, keepdims=True)
    return loss


# ----------------------------------------------------------------------------- NumPy MLP
class NumpyMLP:
    """784-64-10 MLP: ``x @ W + b`` (Keras' Dense convention), float32, preallocated buffers,
    every op in place (``out=``), fused softmax-CE backward, bias gradients as ``ones @ dZ`` (a BLAS
    gemv, ~5x faster than ``np.sum(axis=0)`` here), one flat parameter vector for the optimizer.
    The flags turn single optimisations off for the ablation."""

    name = "mlp"

    def __init__(self, batch: int, optimizer: str, seed: int = 0, dtype=F32, fused: bool = True,
                 flat: bool = True, fast_adam: bool = True, blas_sums: bool = True, sizes=(784, 64, 10)):
        rng = np.random.default_rng(seed)
        d0, d1, d2 = sizes
        self.sizes, self.batch, self.dtype = sizes, batch, dtype
        self.fused, self.flat, self.blas_sums = fused, flat, blas_sums
        self.theta, self.grad, self.params, self.grads = flat_parameters([(d0, d1), (d1,), (d1, d2), (d2,)], dtype)
        self.n_params = self.theta.size
        self.params[0][...] = glorot(rng, (d0, d1), d0, d1)
        self.params[2][...] = glorot(rng, (d1, d2), d1, d2)
        if flat:
            self.opt = Optimizer(optimizer, self.n_params, dtype, fast=fast_adam)
        else:
            self.opts = [Optimizer(optimizer, p.size, dtype, fast=fast_adam) for p in self.params]
        self._bufs: dict[int, tuple] = {}

    def weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]

    def _buffers(self, b: int):
        if b not in self._bufs:
            d0, d1, d2 = self.sizes
            e = lambda *s, dt=self.dtype: np.empty(s, dt)  # noqa: E731
            self._bufs[b] = (e(b, d1), e(b, d2), e(b, d1), e(b, d1, dt=bool), np.ones(b, self.dtype),
                             SoftmaxCE(b, d2, self.dtype))
        return self._bufs[b]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> float:
        W1, b1, W2, b2 = self.params
        gW1, gb1, gW2, gb2 = self.grads
        h, z, dh, mask, ones, softmax_ce = self._buffers(x.shape[0])
        np.matmul(x, W1, out=h)
        h += b1
        np.maximum(h, 0, out=h)                    # h = relu(x W1 + b1), in place
        np.matmul(h, W2, out=z)
        z += b2
        loss = softmax_ce(z, y) if self.fused else softmax_ce_unfused(z, y)   # z := dL/dz
        np.matmul(h.T, z, out=gW2)
        np.matmul(z, W2.T, out=dh)
        np.greater(h, 0, out=mask)
        dh *= mask                                 # relu'
        np.matmul(x.T, dh, out=gW1)                # no gradient w.r.t. the input images
        if self.blas_sums:
            np.matmul(ones, z, out=gb2)
            np.matmul(ones, dh, out=gb1)
        else:
            np.sum(z, axis=0, out=gb2)
            np.sum(dh, axis=0, out=gb1)
        return loss

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss = self.loss_and_grads(x, y)
        if self.flat:
            self.opt.step(self.theta, self.grad)
        else:
            for o, p, g in zip(self.opts, self.params, self.grads):
                o.step(p.reshape(-1), g.reshape(-1))
        return loss

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean loss, plain NumPy (independent of the training code path)."""
        W1, b1, W2, b2 = self.params
        z = np.maximum(x @ W1 + b1, 0) @ W2 + b2
        z -= z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


class NaiveMLP(NumpyMLP):
    """The same MLP written the 'textbook' way (ablation baseline): new arrays for every
    intermediate, one-hot labels, separate softmax and cross-entropy backward, per-array updates."""

    def __init__(self, batch, optimizer, seed=0, dtype=F32):
        super().__init__(batch, optimizer, seed, dtype=dtype, fused=False, flat=False, fast_adam=False)

    def loss_and_grads(self, x, y):
        W1, b1, W2, b2 = self.params
        b = x.shape[0]
        z1 = x @ W1 + b1
        h = np.maximum(z1, 0)
        z2 = h @ W2 + b2
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        onehot = np.eye(z2.shape[1], dtype=x.dtype)[y]
        loss = float(-np.mean(np.sum(onehot * np.log(p), axis=1)))
        dp = -onehot / p / b
        dz2 = p * (dp - np.sum(dp * p, axis=1, keepdims=True))
        self.grads[2][...] = h.T @ dz2
        self.grads[3][...] = dz2.sum(axis=0)
        dh = (dz2 @ W2.T) * (z1 > 0)
        self.grads[0][...] = x.T @ dh
        self.grads[1][...] = dh.sum(axis=0)
        return loss


# ----------------------------------------------------------------------------- chapter 07's MLP
class ChapterMLP:
    """The 784-64-10 MLP exactly as chapter 07's reference solution builds and trains it (issue 15):
    the solution notebook's graded cells (``forward``, ``backward``, ``adam_step``, ``train_epoch``)
    and its given ``init_params`` and ``AdamTrainer`` (the cells tagged ``# bench: mlp``), loaded
    with ``solution_loader``, so the headline times the course's own code and keeps no copy of it.
    An epoch is the chapter's ``train_epoch(params, x, y, B, rng, AdamTrainer(params).step)``: its
    own shuffling (``rng.permutation``), batch gathering (``x[idx]``), new arrays for every
    intermediate and per-array Adam. ``optimizer="sgd"`` swaps the Adam step for plain SGD on the
    chapter's forward/backward. (``NumpyMLP`` above, preallocated and fused, is kept as the
    optimised variant of the ablation table.)"""

    name = "mlp"
    implementation = ("chapter 07's reference solution (solutions/07-mnist-mlp: train_epoch, forward, "
                      "backward, adam_step, AdamTrainer), loaded by benchmarks/solution_loader.py")
    keys = ("W1", "b1", "W2", "b2")           # Keras' weight order
    _ns: dict | None = None

    def __init__(self, batch: int, optimizer: str, seed: int = 0, dtype=F32):
        if ChapterMLP._ns is None:
            here = str(Path(__file__).resolve().parent)
            if here not in sys.path:
                sys.path.insert(0, here)
            from solution_loader import load_solution
            ChapterMLP._ns = load_solution("07-mnist-mlp", extra=["mlp"])
        self.ns, self.batch, self.dtype, self.optimizer = ChapterMLP._ns, batch, dtype, optimizer
        self.params = self.ns["init_params"](np.random.default_rng(seed), dtype=dtype)
        self.theta = self.params["W1"]          # its dtype is the model's (used by the ablations)
        self.n_params = sum(p.size for p in self.params.values())
        if optimizer == "adam":
            self.trainer = self.ns["AdamTrainer"](self.params, lr=ADAM["lr"])
            self.step = self.trainer.step
        elif optimizer == "sgd":
            self.step = self._sgd_step
        else:
            raise ValueError(f"unknown optimizer {optimizer!r}")
        self.grads: list[np.ndarray] = []

    def _sgd_step(self, params, xb, yb):
        h, p = self.ns["forward"](params, xb)
        loss = float(-np.mean(np.log(np.maximum(p[np.arange(len(yb)), yb], 1e-7))))
        g = self.ns["backward"](params, xb, h, p, yb)
        return {k: params[k] - self.dtype(SGD_LR) * g[k] for k in params}, loss

    def weights(self) -> list[np.ndarray]:
        return [self.params[k].copy() for k in self.keys]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One step (for the checks): keeps the gradients at the weights before the step in ``grads``."""
        h, p = self.ns["forward"](self.params, x)
        g = self.ns["backward"](self.params, x, h, p, y)
        self.grads = [g[k] for k in self.keys]
        self.params, loss = self.step(self.params, x, y)
        return loss

    def update_only(self, grads: dict) -> None:
        """The optimizer's arithmetic for all parameters, results discarded (for the step budget)."""
        if self.optimizer == "adam":
            tr = self.trainer
            for k in self.keys:
                self.ns["adam_step"](self.params[k], grads[k], tr.m[k], tr.v[k], tr.t + 1, lr=tr.lr)
        else:
            for k in self.keys:
                self.params[k] - self.dtype(SGD_LR) * grads[k]

    def run_epoch(self, data) -> list[float]:
        """One epoch by the chapter's own ``train_epoch`` on ``data.x, data.y`` with ``data.rng``."""
        self.params, losses = self.ns["train_epoch"](self.params, data.x, data.y, self.batch, data.rng, self.step)
        return list(losses)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        p = self.ns["forward"](self.params, x)[1]
        return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-7))))


# ----------------------------------------------------------------------------- NumPy CNN
class ChapterCNN:
    """The article's MNIST CNN exactly as chapter 08's reference solution builds it (issue 16): the
    solution notebook's graded cells (``conv2d_forward``, ``conv2d_backward``, ``maxpool_forward``,
    ``maxpool_backward``, ``rmsprop_step``) and its given ``CNN`` class (the cell tagged
    ``# bench: cnn``), loaded with ``solution_loader``, so the benchmark times the course's own code
    and keeps no copy of it. Conv2D(32, 3x3, relu) -> MaxPool 2x2 -> Conv2D(64, 3x3, relu) -> MaxPool
    2x2 -> Flatten (1600) -> Dense(64, relu) -> Dense(10, softmax), NHWC, float32, trained with
    RMSprop (Keras' defaults), the article's optimizer, whatever ``--optimizer`` says (it applies to
    the MLP). Like Keras, it does not compute the first layer's input gradient (no col2im there)."""

    name = "cnn"
    implementation = ("chapter 08's reference solution (solutions/08-mnist-cnn: conv2d_forward, conv2d_backward, "
                      "maxpool_forward, maxpool_backward, rmsprop_step, CNN), loaded by benchmarks/solution_loader.py")
    _ns: dict | None = None

    def __init__(self, batch: int, optimizer: str = "rmsprop", seed: int = 0, dtype=F32):
        if ChapterCNN._ns is None:
            here = str(Path(__file__).resolve().parent)
            if here not in sys.path:
                sys.path.insert(0, here)
            from solution_loader import load_solution
            ChapterCNN._ns = load_solution("08-mnist-cnn", extra=["cnn"])
        self.batch = batch
        self.net = ChapterCNN._ns["CNN"](seed=seed, dtype=dtype)
        self.theta = self.net.params[0]          # its dtype is the model's (used by the ablations)
        self.n_params = sum(p.size for p in self.net.params)

    @property
    def grads(self) -> list[np.ndarray]:
        return self.net.grads

    def weights(self) -> list[np.ndarray]:
        return self.net.weights()

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.net.train_step(x, y)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.net.loss(x, y)


SPECS = {
    "mlp": {"batch": 32, "cls": ChapterMLP, "shape": (784,), "ablation_n": 6400, "ablation_rounds": 3,
            "sweep": (128, 512),
            "arch": "Dense(64, relu) -> Dense(10, softmax) on 784 inputs (784-64-10)"},
    "cnn": {"batch": 128, "cls": ChapterCNN, "shape": (28, 28, 1), "ablation_n": 3200, "ablation_rounds": 1,
            "sweep": (512,), "optimizer": "rmsprop",
            "arch": "the article's CNN, chapter 08's reference solution: Conv2D(32, 3x3, relu) -> MaxPool 2x2 -> "
                    "Conv2D(64, 3x3, relu) -> MaxPool 2x2 -> Flatten (5*5*64 = 1600) -> Dense(64, relu) -> "
                    "Dense(10, softmax) on 28x28x1 NHWC, RMSprop"},
}


# ----------------------------------------------------------------------------- NumPy training loop
class Batches:
    """Shuffled mini-batches, as Keras' ``fit(shuffle=True)`` makes them: a new permutation every
    epoch, each batch gathered (``np.take``) into a preallocated contiguous buffer. The dataset
    itself is never copied or modified."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch: int, seed: int = 0):
        self.x, self.y, self.batch = x, y, batch
        self.xb = np.empty((batch,) + x.shape[1:], x.dtype)
        self.yb = np.empty(batch, y.dtype)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.x)

    def epoch(self):
        perm = self.rng.permutation(len(self.x))
        x, y, xb, yb, B = self.x, self.y, self.xb, self.yb, self.batch
        for i in range(0, len(perm), B):
            idx = perm[i:i + B]
            k = len(idx)
            np.take(x, idx, axis=0, out=xb[:k], mode="clip")   # "clip": no buffered copy of out
            np.take(y, idx, axis=0, out=yb[:k], mode="clip")   # (the indices are always valid)
            yield xb[:k], yb[:k]


def numpy_epoch(model, data: Batches) -> list[float]:
    if hasattr(model, "run_epoch"):          # chapter 07's MLP: its own train_epoch runs the loop
        return model.run_epoch(data)
    step = model.train_step
    return [step(xb, yb) for xb, yb in data.epoch()]


def time_numpy(model, data: Batches, repeats: int, abandon_below: float | None = None) -> dict:
    """A warm-up epoch (buffers, caches), then ``repeats`` timed epochs. If the first timed epoch
    runs at less than ``abandon_below`` samples/s, stop there (a clearly losing candidate)."""
    n = len(data)
    t0 = time.perf_counter()
    numpy_epoch(model, data)
    warm = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        numpy_epoch(model, data)
        times.append(time.perf_counter() - t0)
        if abandon_below and len(times) == 1 and n / times[0] < abandon_below:
            break
    return {"warmup_epoch_s": round(warm, 4), **stats(times, n),
            **({"abandoned": True} if len(times) < repeats else {})}


def choose_numpy_threads(make, X, y, B, repeats, cores, log) -> dict:
    """Time the NumPy loop with 1 BLAS thread and with BLAS threads = cores. OpenBLAS' threads
    cost more than they give on these small matrices, and a lot when other jobs share the cores,
    so the faster of the two (median; more threads must win by >10%) is used for the headline."""
    from threadpoolctl import threadpool_limits
    by: dict[int, dict] = {}
    for th in sorted({1, cores}):
        floor = ABANDON * by[1]["samples_per_s_median"] if th != 1 else None
        with threadpool_limits(limits=th, user_api="blas"):
            by[th] = time_numpy(make(), Batches(X, y, B, seed=1), repeats, abandon_below=floor)
        log(f"  numpy, BLAS {th} thread(s): {by[th]['samples_per_s_median']} samples/s"
            + (" (abandoned after 1 epoch)" if by[th].get("abandoned") else ""))
    # prefer 1 thread unless more threads are clearly (>10%) faster: OpenBLAS' threads are also the
    # fragile option when other jobs take a core (waking a descheduled worker costs milliseconds)
    best = max(by, key=lambda t: by[t]["samples_per_s_median"] / (1.1 if t != 1 else 1.0))
    return {"blas_threads": best, "by_blas_threads": {str(t): v for t, v in by.items()}}


# ----------------------------------------------------------------------------- Keras
def keras_model(kind: str):
    import keras
    from keras import layers
    if kind == "mlp":
        return keras.Sequential([keras.Input((784,)), layers.Dense(64, activation="relu"),
                                 layers.Dense(10, activation="softmax")])
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(64, activation="relu"),
                             layers.Dense(10, activation="softmax")])


def keras_optimizer(kind: str):
    import keras
    if kind == "adam":
        return keras.optimizers.Adam(learning_rate=ADAM["lr"], beta_1=ADAM["beta1"],
                                     beta_2=ADAM["beta2"], epsilon=ADAM["eps"])
    if kind == "rmsprop":
        return keras.optimizers.RMSprop()   # the article's CNN optimizer, Keras' defaults
    return keras.optimizers.SGD(learning_rate=SGD_LR)


def keras_grads(kind: str, weights, x, y, optimizer: str):
    """Loss and ``tf.GradientTape`` gradients of the Keras twin at ``weights`` on one batch, and
    its weights after one optimizer step with those gradients."""
    import keras
    import tensorflow as tf
    model = keras_model(kind)
    model.set_weights(weights)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    keras_optimizer(SPECS[kind].get("optimizer", optimizer)).apply_gradients(zip(grads, model.trainable_weights))
    return float(loss), [g.numpy() for g in grads], model.get_weights()


class KerasRunner:
    """A compiled Keras model and its data; ``fit`` runs ``model.fit(x, y, batch_size=B,
    epochs=E, verbose=0)`` and returns each epoch's time, measured by a callback from
    ``on_epoch_begin`` to ``on_epoch_end`` (so fit's per-call set-up, e.g. wrapping the arrays
    in a dataset, is not counted: the comparison is per epoch). ``spe=None`` compiles with Keras'
    defaults (``steps_per_execution=1``, ``jit_compile="auto"``, which is False on a CPU)."""

    def __init__(self, kind, weights, x, y, batch, optimizer, spe=None, jit=None):
        import keras
        self.x, self.y, self.batch = x, y, batch
        self.model = keras_model(kind)
        self.model.set_weights(weights)
        opts = {} if spe is None else {"steps_per_execution": spe, "jit_compile": jit}
        self.model.compile(optimizer=keras_optimizer(SPECS[kind].get("optimizer", optimizer)),
                           loss="sparse_categorical_crossentropy",
                           **opts)
        self.config = {"steps_per_execution": spe or 1,
                       "jit_compile": "auto (False on CPU)" if spe is None else jit}
        n = len(x)
        runner = self

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                runner.times.append(time.perf_counter() - self.t0)
                if (runner.abandon_below and len(runner.times) == 2
                        and n / runner.times[1] < runner.abandon_below):
                    self.model.stop_training = True

        self.timer = EpochTimer()
        self.times: list[float] = []
        self.abandon_below = None

    def fit(self, epochs: int, abandon_below: float | None = None) -> tuple[list[float], float]:
        """Returns (epoch times, wall time of the whole fit call). With ``abandon_below``, training
        stops after the second epoch (the first timed one) if it ran below that many samples/s."""
        self.times, self.abandon_below = [], abandon_below
        t0 = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=epochs, verbose=0,
                       callbacks=[self.timer])
        return self.times, time.perf_counter() - t0


def keras_grid(kind, weights, x, y, batch, optimizer, repeats, log, spe_grid=SPE_GRID) -> list[dict]:
    """Every (steps_per_execution, jit_compile) pair: one ``fit(epochs=1 + R)``, the first epoch
    (tracing/compiling) is the warm-up. A configuration whose first timed epoch is below half the
    best median so far is not repeated (marked "abandoned")."""
    results, best = [], 0.0
    for jit in JIT_GRID:
        for spe in spe_grid:
            runner = KerasRunner(kind, weights, x, y, batch, optimizer, spe=spe, jit=jit)
            times, _ = runner.fit(repeats + 1, abandon_below=ABANDON * best if best else None)
            r = {"config": {"steps_per_execution": spe, "jit_compile": jit},
                 "warmup_epoch_s": round(times[0], 3), **stats(times[1:], len(x))}
            if len(times) < repeats + 1:
                r["abandoned"] = True
            best = max(best, r["samples_per_s_median"])
            log(f"  keras {kind} spe={spe:<3} jit={jit!s:<5}: {r['samples_per_s_median']:>8} samples/s "
                f"(warm-up epoch {r['warmup_epoch_s']} s){' abandoned' if r.get('abandoned') else ''}")
            results.append(r)
    return results


def headline(kind, make_numpy, threads, weights, X, y, B, optimizer, best_cfg, repeats) -> dict:
    """The three headline figures measured interleaved - R rounds of (NumPy epoch, Keras default
    ``fit(epochs=1)``, Keras best ``fit(epochs=1)``) - so that a change in the machine's load
    hits all three alike. Each side is warmed up first (Keras: one fit call, which traces)."""
    from threadpoolctl import threadpool_limits
    n = len(X)
    model, data = make_numpy(), Batches(X, y, B, seed=1)
    with threadpool_limits(limits=threads, user_api="blas"):
        numpy_epoch(model, data)
    kd = KerasRunner(kind, weights, X, y, B, optimizer)
    kd_first = kd.fit(1)
    kb = KerasRunner(kind, weights, X, y, B, optimizer, spe=best_cfg["steps_per_execution"],
                     jit=best_cfg["jit_compile"])
    kb_first = kb.fit(1)
    t_np, t_kd, t_kb, call_kd = [], [], [], []
    for _ in range(repeats):
        gc.collect()                      # before each timed epoch, on both sides: Keras makes garbage
        with threadpool_limits(limits=threads, user_api="blas"):
            t0 = time.perf_counter()
            numpy_epoch(model, data)
            t_np.append(time.perf_counter() - t0)
        gc.collect()
        times, call = kd.fit(1)
        t_kd.append(times[0])
        call_kd.append(call)
        gc.collect()
        t_kb.append(kb.fit(1)[0][0])
    # round by round: each round's three epochs ran back to back, so their ratio is less exposed to
    # the machine's load drifting between rounds than the ratio of the medians is
    paired = {"numpy_over_keras_default": [round(k / t, 2) for t, k in zip(t_np, t_kd)],
              "numpy_over_keras_best": [round(k / t, 2) for t, k in zip(t_np, t_kb)]}
    return {"rounds": paired,
            "numpy": {"blas_threads": threads, **stats(t_np, n)},
            "keras_default": {"config": kd.config, "first_fit_call_s": round(kd_first[1], 3),
                              **stats(t_kd, n), "fit_call_s": [round(t, 4) for t in call_kd]},
            "keras_best": {"config": kb.config, "first_fit_call_s": round(kb_first[1], 3), **stats(t_kb, n)}}


def _spread(values: list[float]) -> dict:
    """min / median / max of a few per-round ratios."""
    return {"min": min(values), "median": round(statistics.median(values), 2), "max": max(values),
            "rounds": len(values)}


def _per_call_us(f, seconds: float = 0.3) -> float:
    """Median over 5 blocks of the mean time of one call of ``f`` (microseconds)."""
    f()
    n = 1
    while True:                                   # calls per block: about seconds / 5
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        if time.perf_counter() - t0 > seconds / 5 or n > 1 << 20:
            break
        n *= 2
    blocks = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        blocks.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(blocks)


def step_budget(X, y, B, optimizer, threads, epoch_samples_per_s) -> dict:
    """Where one step of chapter 07's MLP (the headline's NumPy code) goes: each part of the chapter's
    step timed on its own, in a tight loop (so caches are warmer than in training, and the parts add
    up to less than a step in an epoch); the matrix products alone on ``NumpyMLP``'s buffers. ``matmul_only`` is the six matrix products of a step (forward, weight and
    bias gradients, backward through W2), the rest is elementwise work and NumPy's per-call cost.
    The ceiling says what the loop would reach if everything but those matmuls were free."""
    from threadpoolctl import threadpool_limits
    model = NumpyMLP(B, optimizer, seed=0)     # its preallocated buffers time the matrix products alone
    chapter = ChapterMLP(B, optimizer, seed=0)  # the chapter's code (the headline) times everything else
    fwd, bwd, P = chapter.ns["forward"], chapter.ns["backward"], chapter.params
    xb, yb = np.ascontiguousarray(X[:B]), np.ascontiguousarray(y[:B])
    W1, _, W2, _ = model.params
    gW1, gb1, gW2, gb2 = model.grads
    h, z, dh, _, ones, _ = model._buffers(B)

    def matmuls():
        np.matmul(xb, W1, out=h)
        np.matmul(h, W2, out=z)
        np.matmul(h.T, z, out=gW2)
        np.matmul(z, W2.T, out=dh)
        np.matmul(xb.T, dh, out=gW1)
        np.matmul(ones, z, out=gb2)
        np.matmul(ones, dh, out=gb1)

    order = np.random.default_rng(5).permutation(len(X))

    def batching_epoch():                       # as the chapter's train_epoch gathers its batches
        for i in range(0, len(X), B):
            idx = order[i:i + B]
            X[idx], y[idx]

    with threadpool_limits(limits=threads, user_api="blas"):
        model.train_step(xb, yb)
        chapter.train_step(xb, yb)
        grads = dict(zip(chapter.keys, chapter.grads))
        t_mm = _per_call_us(matmuls)
        t_fb = _per_call_us(lambda: bwd(P, xb, *fwd(P, xb), yb))
        t_opt = _per_call_us(lambda: chapter.update_only(grads))
        t_batch = _per_call_us(batching_epoch, 0.5) / math.ceil(len(X) / B)
    step_in_epoch = B / epoch_samples_per_s * 1e6
    nominal = flops_per_sample("mlp")["nominal_fwd_bwd"]
    ceiling = B / (t_mm * 1e-6)                     # samples/s with nothing but the matmuls
    return {
        "batch": B, "blas_threads": threads,
        "step_in_epoch_us": round(step_in_epoch, 1),
        "forward_backward_us": round(t_fb, 1), "matmul_only_us": round(t_mm, 1),
        "elementwise_and_call_overhead_us": round(t_fb - t_mm, 1),
        "optimizer_us": round(t_opt, 1), "batch_gather_us": round(t_batch, 1),
        "matmul_gflops_executed": round(B * flops_per_sample("mlp")["executed"] / (t_mm * 1e3), 1),
        "ceiling_samples_per_s": round(ceiling),
        "ceiling_gflops": round(ceiling * nominal / 1e9, 2),
    }


def batch_sweep(kind, make_numpy, threads, weights, X, y, batches, optimizer, keras_cfg, repeats, log) -> list[dict]:
    """NumPy and Keras (its best steps_per_execution/jit_compile at the headline batch) at larger
    batch sizes: R timed epochs each after a warm-up epoch, NumPy first, then Keras (not
    interleaved). Keras keeps Adam's defaults and the same initial weights."""
    from threadpoolctl import threadpool_limits
    out = []
    for B in batches:
        with threadpool_limits(limits=threads, user_api="blas"):
            np_r = time_numpy(make_numpy(B), Batches(X, y, B, seed=1), repeats)
        gc.collect()
        kr = KerasRunner(kind, weights, X, y, B, optimizer, spe=keras_cfg["steps_per_execution"],
                         jit=keras_cfg["jit_compile"])
        times, _ = kr.fit(repeats + 1)
        k_r = stats(times[1:], len(X))
        del kr
        gc.collect()
        out.append({"batch": B, "numpy": {"blas_threads": threads, **np_r},
                    "keras_best_config": {"config": keras_cfg, **k_r}})
        log(f"  batch {B}: numpy {np_r['samples_per_s_median']} samples/s, keras {keras_cfg} "
            f"{k_r['samples_per_s_median']} samples/s")
    return out


# ----------------------------------------------------------------------------- FLOPs
def flops_per_sample(kind: str) -> dict:
    if kind == "mlp":
        fwd_layers = [2 * 784 * 64, 2 * 64 * 10]
        # executed: layer 1 has no input gradient (forward + weight gradient = 2x)
        executed = 2 * fwd_layers[0] + 3 * fwd_layers[1]
    else:
        fwd_layers = [2 * 3 * 3 * 1 * 32 * 26 * 26, 2 * 3 * 3 * 32 * 64 * 11 * 11, 2 * 1600 * 64, 2 * 64 * 10]
        executed = 2 * fwd_layers[0] + 3 * sum(fwd_layers[1:])
    return {"forward": sum(fwd_layers), "nominal_fwd_bwd": 3 * sum(fwd_layers), "executed": executed}


def gflops(samples_per_s: float, kind: str) -> float:
    return samples_per_s * flops_per_sample(kind)["nominal_fwd_bwd"] / 1e9


# ----------------------------------------------------------------------------- checks
def check_gradients(kind, model, x, y, optimizer, tol=1e-4) -> dict:
    """One NumPy training step vs the Keras twin from the same weights and batch: the loss, the
    gradients (vs ``tf.GradientTape``) and the weights after the optimizer step must agree to
    ``tol`` (max abs difference). Leaves ``model`` one step on."""
    w = model.weights()
    loss_k, g_k, w_k = keras_grads(kind, w, x, y, optimizer)
    loss_np = model.train_step(x, y)
    g_np = [g.copy() for g in model.grads]
    diffs = [float(np.max(np.abs(a - b))) for a, b in zip(g_np, g_k)]
    wdiff = max(float(np.max(np.abs(a - b))) for a, b in zip(model.weights(), w_k))
    scale = max(float(np.max(np.abs(g))) for g in g_k)
    ok = max(diffs) <= tol and abs(loss_np - loss_k) <= tol and wdiff <= tol
    return {"batch": len(x), "loss_numpy": loss_np, "loss_keras": loss_k,
            "max_abs_grad_diff": max(diffs), "max_abs_grad": scale,
            "max_abs_weight_diff_after_step": wdiff, "tol": tol, "ok": ok}


def check_loss_decreases(model, data: Batches, x_eval, y_eval) -> dict:
    before = model.loss(x_eval, y_eval)
    t0 = time.perf_counter()
    numpy_epoch(model, data)
    dt = time.perf_counter() - t0
    after = model.loss(x_eval, y_eval)
    return {"loss_before": round(before, 4), "loss_after_1_epoch": round(after, 4),
            "epoch_s": round(dt, 4), "ok": after < before}


# ----------------------------------------------------------------------------- main
COURSE_TF = {"onednn": "0", "determinism": True, "intra_op_threads": 0}
# What each TensorFlow setting costs Keras (measured by `tf_settings`, one fresh process each).
TF_SETTINGS = [
    ("TF defaults: oneDNN on, op determinism off", {"onednn": "1", "determinism": False, "intra_op_threads": 0}),
    ("oneDNN off", {"onednn": "0", "determinism": False, "intra_op_threads": 0}),
    ("op determinism on", {"onednn": "1", "determinism": True, "intra_op_threads": 0}),
    ("course: oneDNN off + op determinism on (dlcourse.setup)", COURSE_TF),
    ("TF defaults, 1 intra-op thread", {"onednn": "1", "determinism": False, "intra_op_threads": 1}),
]


def setup_tf(env: str, tf_settings: dict | None = None) -> dict:
    """Import TensorFlow/Keras through ``dlcourse.setup(seed=0, keras=True)`` (quiet, seeded).

    env="tf-defaults": TensorFlow's own CPU defaults - oneDNN on, op determinism off. Keras at its
      fastest: the course's setting below costs it up to ~3x on the CNN on this machine.
    env="course": what ``dlcourse.setup`` sets for the notebooks - oneDNN off and op determinism
      on (bit-for-bit repeatable results).
    tf_settings (overrides env): {"onednn": "0"|"1", "determinism": bool, "intra_op_threads": int (0 =
      TF's default)}; only for a fresh process (oneDNN is read when TensorFlow is imported)."""
    if tf_settings is None:
        tf_settings = {"onednn": "1", "determinism": False, "intra_op_threads": 0} if env == "tf-defaults" \
            else COURSE_TF
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = tf_settings["onednn"]   # dlcourse.setup only sets it if unset
    t0 = time.perf_counter()
    import warnings
    with warnings.catch_warnings():    # dlcourse.setup warns when oneDNN and determinism disagree: wanted here
        warnings.simplefilter("ignore")
        dlcourse.setup(seed=0, keras=True)
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config
    if not tf_settings["determinism"]:
        tf_config.disable_op_determinism()
    if tf_settings["intra_op_threads"]:
        tf.config.threading.set_intra_op_parallelism_threads(tf_settings["intra_op_threads"])
    return {"keras_env": env, "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
            "tf_op_determinism": bool(tf_config.is_op_determinism_enabled()),
            "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_import_s": round(time.perf_counter() - t0, 2), "tensorflow": tf.__version__}


def keras_worker(spec: dict) -> dict:
    """In a fresh process with the TF settings ``spec["tf"]``: for each model, the runners named in
    ``spec["which"]`` (Keras' default ``fit`` and/or the main run's best configuration), warmed up
    with one call, then R rounds of one timed ``fit(epochs=1)`` each."""
    env = setup_tf("course", spec["tf"])
    x, y = load_data(spec["n"])
    out = {"env": env}
    for kind in ("mlp", "cnn"):
        B = SPECS[kind]["batch"]
        X = x.reshape((len(x),) + SPECS[kind]["shape"])
        w0 = SPECS[kind]["cls"](B, spec["optimizer"], seed=0).weights()
        cfg = spec["best"][kind]
        make = {"keras_default": lambda: KerasRunner(kind, w0, X, y, B, spec["optimizer"]),
                "keras_best_config": lambda: KerasRunner(kind, w0, X, y, B, spec["optimizer"],
                                                         spe=cfg["steps_per_execution"], jit=cfg["jit_compile"])}
        runners = {k: make[k]() for k in spec["which"]}
        times: dict = {k: [] for k in runners}
        for r in runners.values():
            r.fit(1)
        for _ in range(spec["repeats"]):
            for k, r in runners.items():
                gc.collect()
                times[k].append(r.fit(1)[0][0])
        out[kind] = {k: {"config": runners[k].config, **stats(t, len(X))} for k, t in times.items()}
    return out


def run_keras_worker(n, repeats, optimizer, best, log, tf_settings=COURSE_TF,
                     which=("keras_default", "keras_best_config")) -> dict | None:
    spec = json.dumps({"n": n, "repeats": repeats, "optimizer": optimizer, "best": best, "tf": tf_settings,
                       "which": list(which)})
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--keras-worker", spec],
                          capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        log(f"  keras worker {tf_settings} failed: {proc.stderr.strip()[-500:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tf_settings(n, repeats, optimizer, best, course_env, log, settings_list=TF_SETTINGS) -> list[dict]:
    """Keras' best configuration (per model) under each TensorFlow setting of ``TF_SETTINGS``, one
    fresh process per setting, run one after another (not interleaved). The course's setting is
    the ``course_env`` run's figure, not measured again."""
    rows = []
    for label, settings in settings_list:
        if settings is COURSE_TF:
            res = course_env
        else:
            res = run_keras_worker(n, repeats, optimizer, best, log, settings, which=("keras_best_config",))
        if not res:
            continue
        row = {"setting": label, "tf": settings, "env": res["env"]}
        for kind in ("mlp", "cnn"):
            row[kind] = res[kind]["keras_best_config"]
        rows.append(row)
        log(f"  {label}: " + ", ".join(f"{k} {row[k]['samples_per_s_median']} samples/s" for k in ("mlp", "cnn")))
    return rows


def load_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n MNIST training images as float32 in [0, 1], (n, 28, 28), and int32 labels.
    The one float32 copy; the models see views of it."""
    x8, y8 = dlcourse.load_mnist("train")
    x = np.empty((n, 28, 28), F32)
    np.multiply(x8[:n], F32(1 / 255), out=x)
    return x, y8[:n].astype(np.int32)


def run(n: int, repeats: int, optimizer: str, ablations: bool, course_env: bool = True,
        spe_grid=SPE_GRID, matmul_n: int = 2048, log=print, tf_settings_list=TF_SETTINGS) -> dict:
    t_start = time.perf_counter()
    cores = os.cpu_count() or 1
    _limiter = set_blas_threads(cores)  # kept alive for the whole run
    result: dict = {"machine": {"cores": cores, "uptime_start": uptime(), "load_start": load_avg(),
                                "busy_cores_start": busy_cores(),
                                "platform": platform.platform(), "python": platform.python_version(),
                                "numpy": np.__version__, "blas": blas_info()}}
    tf_env = setup_tf("tf-defaults")
    import keras
    import tensorflow as tf
    result["machine"].update({
        "tensorflow": tf.__version__, "keras": keras.__version__,
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tf_threads_note": "0 = TensorFlow's default (all cores)",
        "tf_env": tf_env})
    log(f"machine: {cores} cores, {result['machine']['uptime_start']}")

    x, y = load_data(n)
    result["setup"] = {"n_samples": n, "subset": f"first {n} MNIST training images", "repeats": repeats,
                       "optimizer": optimizer, "dtype": "float32",
                       "optimizer_params": ADAM if optimizer == "adam" else {"lr": SGD_LR},
                       "keras_loss": "sparse_categorical_crossentropy (no metrics)",
                       "shuffle": "both sides reshuffle every epoch",
                       "spe_grid": list(spe_grid), "jit_grid": list(JIT_GRID), "matmul_n": matmul_n}

    result["matmul_samples"] = []

    def sample_matmul(when: str) -> None:
        """The matmul rate, sampled at several points of the run (the bound is the best sample:
        a sample taken while another job holds a core is low)."""
        from threadpoolctl import threadpool_limits
        mm = matmul_rate(matmul_n, 6 if repeats > 2 else 3)
        with threadpool_limits(limits=1, user_api="blas"):
            m1 = matmul_rate(matmul_n, 3)
        result["matmul_samples"].append({"when": when, "load": load_avg()[0], "cores_threads": mm,
                                         "one_thread": m1})
        log(f"matmul {matmul_n}^2 float32 ({when}): {mm['gflops_best']} GFLOP/s with {cores} BLAS threads, "
            f"{m1['gflops_best']} with 1")

    sample_matmul("start")

    for kind, spec in SPECS.items():
        B = spec["batch"]
        X = x.reshape((n,) + spec["shape"])                     # a view: no copy
        r: dict = {"architecture": spec["arch"], "batch": B, "flops_per_sample": flops_per_sample(kind)}
        log(f"{kind}: checks")
        model = spec["cls"](B, optimizer, seed=0)
        w0 = model.weights()
        r["check_gradients_vs_keras"] = check_gradients(kind, model, X[:B], y[:B], optimizer)
        assert r["check_gradients_vs_keras"]["ok"], r["check_gradients_vs_keras"]
        ev = min(n, 2048)
        r["check_loss_decreases"] = check_loss_decreases(model, Batches(X, y, B, seed=0), X[:ev], y[:ev])
        assert r["check_loss_decreases"]["ok"], r["check_loss_decreases"]
        log(f"  gradients vs GradientTape: max |diff| {r['check_gradients_vs_keras']['max_abs_grad_diff']:.2e}; "
            f"loss {r['check_loss_decreases']['loss_before']} -> {r['check_loss_decreases']['loss_after_1_epoch']}")

        make = lambda cls=spec["cls"], B=B: cls(B, optimizer, seed=0)  # noqa: E731
        choice = choose_numpy_threads(make, X, y, B, repeats, cores, log)
        grid = keras_grid(kind, w0, X, y, B, optimizer, repeats, log, spe_grid)
        best_cfg = max(grid, key=lambda g: g["samples_per_s_median"])["config"]
        log(f"  headline (interleaved): numpy with BLAS {choice['blas_threads']} thread(s), keras default, "
            f"keras best {best_cfg}")
        r.update(headline(kind, make, choice["blas_threads"], w0, X, y, B, optimizer, best_cfg, repeats))
        r["numpy"]["by_blas_threads"] = choice["by_blas_threads"]
        r["numpy"]["implementation"] = getattr(spec["cls"], "implementation", spec["cls"].__name__)
        r["keras_grid"] = grid
        for key in ("numpy", "keras_default", "keras_best"):
            log(f"  {key}: {r[key]['samples_per_s_median']} samples/s (epoch {r[key]['epoch_s_median']} s)")
        log(f"  batch sweep {spec['sweep']}")
        r["batch_sweep"] = batch_sweep(kind, lambda b, cls=spec["cls"]: cls(b, optimizer, seed=0),
                                       choice["blas_threads"], w0, X, y, spec["sweep"], optimizer, best_cfg,
                                       repeats, log)
        if kind == "mlp":
            r["step_budget"] = step_budget(X, y, B, optimizer, choice["blas_threads"],
                                           r["numpy"]["samples_per_s_median"])
            log(f"  step budget: {r['step_budget']}")
        if ablations:
            n_abl, rounds = min(n, spec["ablation_n"]), spec["ablation_rounds"] * repeats
            r["ablations_setup"] = {"n_samples": n_abl, "rounds": rounds, "blas_threads": choice["blas_threads"]}
            r["ablations"] = run_ablations(kind, X, y, B, optimizer, rounds, choice["blas_threads"], n_abl, log)
        result[kind] = r
        sample_matmul(f"after {kind}")

    if course_env:
        log("keras under the course's TF settings (dlcourse.setup: oneDNN off, op determinism on), "
            "in a subprocess")
        best = {k: result[k]["keras_best"]["config"] for k in SPECS}
        result["course_env"] = run_keras_worker(n, repeats, optimizer, best, log)
        if result["course_env"]:
            for kind in SPECS:
                for key, d in result["course_env"][kind].items():
                    log(f"  {kind} {key}: {d['samples_per_s_median']} samples/s")
            if ablations and tf_settings_list:
                log("what each TensorFlow setting costs Keras' best configuration (a process per setting)")
                result["tf_settings"] = tf_settings(n, repeats, optimizer, best, result["course_env"], log,
                                                    tf_settings_list)

    samples = result["matmul_samples"]
    bound = max(m["cores_threads"]["gflops_best"] for m in samples)
    bound1 = max(m["one_thread"]["gflops_best"] for m in samples)
    lowest = min(m["cores_threads"]["gflops_best"] for m in samples)
    result["matmul_bound_gflops"] = bound
    result["matmul_1_thread_gflops"] = bound1
    log(f"matmul bound used: {bound} GFLOP/s ({cores} BLAS threads; samples {lowest}-{bound}); 1 thread {bound1}")
    for kind in SPECS:
        for key in ("numpy", "keras_default", "keras_best"):
            d = result[kind][key]
            d["gflops"] = round(gflops(d["samples_per_s_median"], kind), 2)
            d["fraction_of_matmul"] = round(d["gflops"] / bound, 3)
    for kind in SPECS:
        for sw in result[kind]["batch_sweep"]:
            for key in ("numpy", "keras_best_config"):
                d = sw[key]
                d["gflops"] = round(gflops(d["samples_per_s_median"], kind), 2)
                d["fraction_of_matmul"] = round(d["gflops"] / bound, 3)
    mlp, cnn = result["mlp"], result["cnn"]
    sb = mlp["step_budget"]
    sb["ceiling_fraction_of_matmul"] = round(sb["ceiling_gflops"] / bound, 3)
    sb["ceiling_fraction_of_1_thread"] = round(sb["ceiling_gflops"] / bound1, 3)
    executed = flops_per_sample("mlp")["executed"] / flops_per_sample("mlp")["nominal_fwd_bwd"]
    result["ratios"] = {
        "mlp_numpy_over_keras_default": round(mlp["numpy"]["samples_per_s_median"]
                                              / mlp["keras_default"]["samples_per_s_median"], 2),
        "mlp_numpy_over_keras_best": round(mlp["numpy"]["samples_per_s_median"]
                                           / mlp["keras_best"]["samples_per_s_median"], 2),
        "mlp_numpy_fraction_of_matmul": mlp["numpy"]["fraction_of_matmul"],
        "mlp_numpy_fraction_of_matmul_executed_flops": round(mlp["numpy"]["fraction_of_matmul"] * executed, 3),
        "mlp_numpy_fraction_of_1_thread_matmul": round(mlp["numpy"]["gflops"]
                                                       / bound1, 3),
        "cnn_keras_best_epoch_over_numpy_epoch": round(cnn["keras_best"]["epoch_s_median"]
                                                       / cnn["numpy"]["epoch_s_median"], 2),
        "cnn_keras_default_epoch_over_numpy_epoch": round(cnn["keras_default"]["epoch_s_median"]
                                                          / cnn["numpy"]["epoch_s_median"], 2),
        "cnn_numpy_fraction_of_matmul": cnn["numpy"]["fraction_of_matmul"],
        # the same ratios round by round (Keras epoch time over NumPy's, both from one round): min, median, max
        "mlp_numpy_over_keras_default_by_round": _spread(mlp["rounds"]["numpy_over_keras_default"]),
        "cnn_keras_best_epoch_over_numpy_epoch_by_round": _spread(cnn["rounds"]["numpy_over_keras_best"]),
    }
    ce = result.get("course_env")
    if ce:  # not measured interleaved with the NumPy figures (another process, later)
        result["ratios"]["mlp_numpy_over_keras_default_course_env"] = round(
            mlp["numpy"]["samples_per_s_median"] / ce["mlp"]["keras_default"]["samples_per_s_median"], 2)
        result["ratios"]["cnn_keras_best_config_course_env_epoch_over_numpy_epoch"] = round(
            ce["cnn"]["keras_best_config"]["epoch_s_median"] / cnn["numpy"]["epoch_s_median"], 2)
        result["ratios"]["cnn_keras_fastest_any_setting_epoch_over_numpy_epoch"] = round(
            min(cnn["keras_best"]["epoch_s_median"], ce["cnn"]["keras_best_config"]["epoch_s_median"],
                ce["cnn"]["keras_default"]["epoch_s_median"]) / cnn["numpy"]["epoch_s_median"], 2)
    ra = result["ratios"]
    result["targets"] = {
        "mlp_numpy_over_keras_default >= 5": ra["mlp_numpy_over_keras_default"] >= 5,
        "mlp_numpy_fraction_of_matmul >= 0.25": ra["mlp_numpy_fraction_of_matmul"] >= 0.25,
        "cnn numpy epoch no slower than keras best": ra["cnn_keras_best_epoch_over_numpy_epoch"] >= 1,
        "cnn numpy epoch within 2x of keras best": ra["cnn_keras_best_epoch_over_numpy_epoch"] >= 0.5,
    }
    result["machine"]["uptime_end"] = uptime()
    result["machine"]["load_end"] = load_avg()
    result["wall_s"] = round(time.perf_counter() - t_start, 1)
    return result


def run_ablations(kind, X, y, B, optimizer, repeats, threads, n_abl, log) -> list[dict]:
    """The NumPy optimisations, one at a time: each variant against the optimised loop, on the
    first ``n_abl`` samples, in R interleaved rounds (one epoch of every variant per round, after a
    warm-up epoch each), so that load changes hit all variants alike. Median samples/s."""
    from threadpoolctl import threadpool_limits
    if kind == "mlp":
        opt = "Adam" if optimizer == "adam" else "SGD"
        variants = [
            ("chapter 07's reference solution (as in the headline)", lambda: ChapterMLP(B, optimizer)),
            ("optimised: preallocated buffers, in place, fused softmax-CE, flat parameter vector",
             lambda: NumpyMLP(B, optimizer)),
            (f"textbook: new arrays, one-hot, unfused softmax/CE, per-array {opt}"
             + (" in Keras' form" if optimizer == "adam" else ""), lambda: NaiveMLP(B, optimizer)),
            ("textbook, float64 data and weights", lambda: NaiveMLP(B, optimizer, dtype=np.float64)),
            ("optimised, float64 data and weights", lambda: NumpyMLP(B, optimizer, dtype=np.float64)),
            ("optimised but unfused softmax-CE backward", lambda: NumpyMLP(B, optimizer, fused=False)),
            ("optimised but bias gradients by np.sum(axis=0)", lambda: NumpyMLP(B, optimizer, blas_sums=False)),
            (f"optimised but {opt} per array (no flat parameter vector)",
             lambda: NumpyMLP(B, optimizer, flat=False)),
        ]
        if optimizer == "adam":
            variants += [
                ("optimised but Adam in Keras' form (12 passes, not 10)",
                 lambda: NumpyMLP(B, optimizer, fast_adam=False)),
                ("optimised, plain SGD instead of Adam (what Adam costs; not comparable to the Keras "
                 "Adam figures)", lambda: NumpyMLP(B, "sgd"))]
    else:
        variants = [
            ("the chapter's CNN, float32 (as in the headline)", lambda: ChapterCNN(B, optimizer)),
            ("the chapter's CNN, float64 data and weights", lambda: ChapterCNN(B, optimizer, dtype=np.float64)),
        ]
    Xa, ya = X[:n_abl], y[:n_abl]
    runs = []
    with threadpool_limits(limits=threads, user_api="blas"):
        for label, make in variants:
            model = make()
            data = Batches(Xa.astype(model.theta.dtype, copy=False), ya, B, seed=1)
            numpy_epoch(model, data)                      # warm-up
            runs.append((label, model, data, []))
        for _ in range(repeats):
            for label, model, data, times in runs:
                t0 = time.perf_counter()
                numpy_epoch(model, data)
                times.append(time.perf_counter() - t0)
    ref = statistics.median(n_abl / t for t in runs[0][3])
    out = []
    for label, _, _, times in runs:
        st = stats(times, n_abl)
        entry = {"variant": label, "samples_per_s_min": st["samples_per_s_min"],
                 "samples_per_s_median": st["samples_per_s_median"],
                 "samples_per_s_max": st["samples_per_s_max"],
                 "vs_optimised": round(st["samples_per_s_median"] / ref, 2)}
        log(f"  ablation {kind}: {label}: {entry['samples_per_s_median']} samples/s ({entry['vs_optimised']}x)")
        out.append(entry)
    return out


# ----------------------------------------------------------------------------- Markdown
def _fmt_rate(d: dict) -> str:
    return f"{d['samples_per_s_min']:,} / {d['samples_per_s_median']:,} / {d['samples_per_s_max']:,}"


def _disturbed(result: dict) -> bool:
    m, samples = result["machine"], result["matmul_samples"]
    rates = [x["cores_threads"]["gflops_best"] for x in samples]
    # the load at the start is the others' (taken before this run does any work); later readings
    # include this run's own threads
    busy = m.get("busy_cores_start")
    if busy is None:
        busy = m["load_start"][0]
    return busy > m["cores"] / 4 or min(rates) < 0.8 * max(rates)


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def to_markdown(result: dict) -> str:
    """The result as Markdown: set-up, the main table, ratios vs targets, the Keras grid, the
    checks and the ablation table."""
    m, s = result["machine"], result["setup"]
    bound, bound1 = result["matmul_bound_gflops"], result["matmul_1_thread_gflops"]
    samples = result["matmul_samples"]
    lines = [
        "# NumPy vs Keras training throughput, side by side (one run)",
        "",
        f"- Machine: {m['cores']} cores ({m['platform']}); Python {m['python']}, numpy {m['numpy']}, "
        f"tensorflow {m['tensorflow']}, keras {m['keras']}; BLAS "
        + ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in m["blas"])
        + f"; TF intra/inter-op threads {m['tf_intra_op_threads']}/{m['tf_inter_op_threads']} "
        f"(0 = TF's default: all cores).",
        f"- Keras runs with TensorFlow's own CPU defaults (TF_ENABLE_ONEDNN_OPTS="
        f"{m['tf_env'].get('TF_ENABLE_ONEDNN_OPTS')}, op determinism "
        f"{'on' if m['tf_env'].get('tf_op_determinism') else 'off'}), its fastest; the rows marked "
        f"'course TF settings' rerun Keras in a subprocess with what `dlcourse.setup(keras=True)` sets for "
        f"the notebooks (oneDNN off, op determinism on: bit-for-bit repeatable, slower).",
        f"- Load (`uptime`): start `{m['uptime_start']}`; end `{m.get('uptime_end', '?')}`; cores kept busy "
        f"by other processes in the second before the start (/proc/stat): {m.get('busy_cores_start', '?')}."
        + (" **Other jobs shared the cores during this run** (more than "
           f"{m['cores'] / 4:g} core(s) busy at the start, or matmul samples more than 20% apart): figures are "
           "noisier and lower than on an idle machine." if _disturbed(result) else ""),
        f"- Data: {s['subset']}, float32 in [0, 1], {s['shuffle']}; optimizer {s['optimizer']} "
        f"{s['optimizer_params']}; Keras loss {s['keras_loss']}.",
        f"- Timing: samples/s min / median / max over {s['repeats']} timed epochs after a warm-up epoch "
        f"(Keras: compile and tracing excluded; epochs timed by a callback). The NumPy, Keras-default and "
        f"Keras-best figures are measured interleaved, round by round.",
        f"- Matmul bound: float32 `A @ B`, {s['matmul_n']}x{s['matmul_n']}, BLAS threads = {m['cores']}, best of several, "
        f"sampled " + ", ".join(f"{x['when']} {x['cores_threads']['gflops_best']} (1-min load {x['load']})"
                               for x in samples)
        + f" GFLOP/s; the bound used is the best sample, {bound} GFLOP/s (1 BLAS thread: {bound1} GFLOP/s).",
        "- Models: " + "; ".join(f"{k.upper()}: {result[k]['architecture']}, batch {result[k]['batch']}"
                                 for k in ("mlp", "cnn")) + ".",
        "",
        "| model | implementation | samples/s min / median / max | epoch s (median) | GFLOP/s | "
        "of matmul bound |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind, title in (("mlp", "MLP 784-64-10, b=32"), ("cnn", "CNN, the article's (chapter 08's solution), b=128")):
        r = result[kind]
        best = r["keras_best"]["config"]
        th = r["numpy"]["blas_threads"]
        rows = [(f"NumPy (BLAS {th} thread{'s' if th != 1 else ''})", r["numpy"]),
                ("Keras `fit` default (spe=1, no XLA)", r["keras_default"]),
                (f"Keras best (spe={best['steps_per_execution']}, jit_compile={best['jit_compile']})",
                 r["keras_best"])]
        ce = (result.get("course_env") or {}).get(kind)
        if ce:
            for key, label in (("keras_default", "Keras `fit` default, course TF settings"),
                               ("keras_best_config", "Keras best config, course TF settings")):
                d = dict(ce[key], gflops=gflops(ce[key]["samples_per_s_median"], kind))
                d["fraction_of_matmul"] = d["gflops"] / bound
                rows.append((label, d))
        for label, d in rows:
            lines.append(f"| {title} | {label} | {_fmt_rate(d)} | {d['epoch_s_median']:.3f} | "
                         f"{d['gflops']:.2f} | {100 * d['fraction_of_matmul']:.1f}% |")
    ra = result["ratios"]
    c = ra["cnn_keras_best_epoch_over_numpy_epoch"]
    fl0 = result["mlp"]["flops_per_sample"]
    lines += [
        "",
        "| ratio | value | target | met |",
        "|---|---:|---|---|",
        f"| MLP: NumPy / Keras default `fit` (samples/s) | {ra['mlp_numpy_over_keras_default']:.2f}x | >= 5x | "
        f"{_yes(ra['mlp_numpy_over_keras_default'] >= 5)} |",
        f"| MLP: NumPy / Keras best (samples/s) | {ra['mlp_numpy_over_keras_best']:.2f}x | - | - |",
        f"| MLP: NumPy GFLOP/s / 1-thread matmul rate ({bound1} GFLOP/s; "
        f"the NumPy loop runs on {result['mlp']['numpy']['blas_threads']} BLAS thread(s)) | "
        f"{100 * ra['mlp_numpy_fraction_of_1_thread_matmul']:.1f}% | - | - |",
        f"| MLP: NumPy GFLOP/s / matmul bound | {100 * ra['mlp_numpy_fraction_of_matmul']:.1f}% | >= 25% | "
        f"{_yes(ra['mlp_numpy_fraction_of_matmul'] >= 0.25)} |",
        f"| MLP: the same with the FLOPs actually executed (no input gradient: "
        f"{fl0['executed']:,} of {fl0['nominal_fwd_bwd']:,} per sample) | "
        f"{100 * ra['mlp_numpy_fraction_of_matmul_executed_flops']:.1f}% | - | - |",
        f"| CNN: Keras best epoch time / NumPy epoch time | {c:.2f}x | >= 1 (NumPy no slower); >= 0.5 at worst | "
        f"{'yes' if c >= 1 else ('within 2x only' if c >= 0.5 else 'NO')} |",
        f"| CNN: Keras default epoch time / NumPy epoch time | {ra['cnn_keras_default_epoch_over_numpy_epoch']:.2f}x "
        f"| - | - |",
    ]
    for key, label in (("mlp_numpy_over_keras_default_by_round", "MLP: NumPy / Keras default `fit`"),
                       ("cnn_keras_best_epoch_over_numpy_epoch_by_round", "CNN: Keras best epoch / NumPy epoch")):
        if key in ra:
            sp = ra[key]
            lines.append(f"| {label}, round by round (min / median / max of {sp['rounds']}) | "
                         f"{sp['min']:.2f} / {sp['median']:.2f} / {sp['max']:.2f} | - | - |")
    if "cnn_keras_fastest_any_setting_epoch_over_numpy_epoch" in ra:
        c2 = ra["cnn_keras_fastest_any_setting_epoch_over_numpy_epoch"]
        lines += [
            f"| CNN: fastest Keras epoch under either TF setting / NumPy epoch (not interleaved) | {c2:.2f}x | "
            f">= 1; >= 0.5 at worst | {'yes' if c2 >= 1 else ('within 2x only' if c2 >= 0.5 else 'NO')} |",
            f"| MLP: NumPy / Keras default `fit`, course TF settings (not interleaved) | "
            f"{ra['mlp_numpy_over_keras_default_course_env']:.2f}x | - | - |"]
    sb = result["mlp"]["step_budget"]
    lines += [
        "",
        f"Where one step of chapter 07's NumPy MLP goes (batch {sb['batch']}, BLAS {sb['blas_threads']} thread(s); "
        f"each part timed alone in a tight loop, so with warmer caches than in training; the matrix products "
        f"alone on preallocated buffers):",
        "",
        f"- a step inside a timed epoch: {sb['step_in_epoch_us']:.0f} us (headline median);",
        f"- forward + backward: {sb['forward_backward_us']:.0f} us, of which the seven matrix products "
        f"{sb['matmul_only_us']:.0f} us ({sb['matmul_gflops_executed']:.1f} GFLOP/s executed) and elementwise "
        f"work plus NumPy's per-call cost {sb['elementwise_and_call_overhead_us']:.0f} us;",
        f"- the {s['optimizer']} update of all parameters: {sb['optimizer_us']:.0f} us; gathering the batch: "
        f"{sb['batch_gather_us']:.1f} us;",
        f"- ceiling if everything but the matrix products were free: {sb['ceiling_samples_per_s']:,} samples/s = "
        f"{100 * sb['ceiling_fraction_of_matmul']:.1f}% of the matmul bound "
        f"({100 * sb['ceiling_fraction_of_1_thread']:.1f}% of the 1-thread rate).",
        "",
        "Batch-size sweep (NumPy; Keras with the best `steps_per_execution`/`jit_compile` found at the "
        "headline batch; R timed epochs after a warm-up, not interleaved; the first row of each model is the "
        "headline, measured interleaved):",
        "",
        "| model | batch | NumPy samples/s (median) | NumPy of bound | Keras samples/s (median) | Keras of bound "
        "| NumPy / Keras |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("mlp", "cnn"):
        r = result[kind]
        rows = [(r["batch"], r["numpy"], r["keras_best"])]
        rows += [(sw["batch"], sw["numpy"], sw["keras_best_config"]) for sw in r["batch_sweep"]]
        for b, dn, dk in rows:
            lines.append(f"| {kind} | {b} | {dn['samples_per_s_median']:,} | {100 * dn['fraction_of_matmul']:.1f}% | "
                         f"{dk['samples_per_s_median']:,} | {100 * dk['fraction_of_matmul']:.1f}% | "
                         f"{dn['samples_per_s_median'] / dk['samples_per_s_median']:.2f}x |")
    lines += [
        "",
        "NumPy with BLAS threads = cores vs 1 thread (median samples/s; the faster is the headline):",
        "",
    ]
    for kind in ("mlp", "cnn"):
        by = result[kind]["numpy"]["by_blas_threads"]
        lines.append(f"- {kind}: " + "; ".join(
            f"{t} thread{'s' if t != '1' else ''}: {v['samples_per_s_median']:,}"
            + (" (abandoned after 1 epoch)" if v.get("abandoned") else "") for t, v in by.items()))
    lines += [
        "",
        "Keras grid, `steps_per_execution` x `jit_compile` (median samples/s; warm-up epoch in s, "
        "which includes tracing/compiling; * = abandoned after one timed epoch at under half the best):",
        "",
        "| model | " + " | ".join(f"spe={spe}" for spe in s["spe_grid"]) + " |",
        "|---|" + "---:|" * len(s["spe_grid"]),
    ]
    for kind in ("mlp", "cnn"):
        for jit in JIT_GRID:
            cells = []
            for spe in s["spe_grid"]:
                g = next(g for g in result[kind]["keras_grid"]
                         if g["config"]["steps_per_execution"] == spe and g["config"]["jit_compile"] == jit)
                cells.append(f"{g['samples_per_s_median']:,}{'*' if g.get('abandoned') else ''} "
                             f"({g['warmup_epoch_s']:.1f} s)")
            lines.append(f"| {kind}, jit_compile={jit} | " + " | ".join(cells) + " |")
    lines += ["", "Checks (asserted before timing):", ""]
    for kind in ("mlp", "cnn"):
        g, d = result[kind]["check_gradients_vs_keras"], result[kind]["check_loss_decreases"]
        lines.append(f"- {kind}: one step's gradients vs `tf.GradientTape` (same weights, batch {g['batch']}): "
                     f"max |diff| {g['max_abs_grad_diff']:.1e} (largest gradient {g['max_abs_grad']:.1e}; "
                     f"tolerance {g['tol']}); loss {g['loss_numpy']:.6f} (NumPy) vs {g['loss_keras']:.6f} "
                     f"(Keras); weights after one {s['optimizer']} step: max |diff| "
                     f"{g['max_abs_weight_diff_after_step']:.1e}. One NumPy epoch: loss on {min(s['n_samples'], 2048)} samples "
                     f"{d['loss_before']} -> {d['loss_after_1_epoch']}.")
    if any("ablations" in result[k] for k in ("mlp", "cnn")):
        lines += ["", "What the NumPy optimisations buy (each variant timed in interleaved rounds with the "
                  "optimised loop, one epoch of each per round after a warm-up epoch; median samples/s; "
                  "BLAS threads as in the headline):", "",
                  "| model | variant | samples/s | vs optimised |", "|---|---|---:|---:|"]
        for kind in ("mlp", "cnn"):
            a_set = result[kind].get("ablations_setup", {})
            if a_set:
                lines.append(f"| {kind} | *(first {a_set['n_samples']} samples, {a_set['rounds']} rounds)* | | |")
            for a in result[kind].get("ablations", []):
                lines.append(f"| {kind} | {a['variant']} | {a['samples_per_s_median']:,} | "
                             f"{a['vs_optimised']:.2f}x |")
    if result.get("tf_settings"):
        rows = result["tf_settings"]
        ref = rows[0]
        lines += ["", "What each TensorFlow setting costs Keras (its best `steps_per_execution`/`jit_compile` per "
                  "model; a fresh process per setting, run one after another; median samples/s and the "
                  f"ratio to '{ref['setting']}'):", "",
                  "| TensorFlow setting | MLP samples/s | MLP vs defaults | CNN samples/s | CNN vs defaults |",
                  "|---|---:|---:|---:|---:|"]
        for row in rows:
            lines.append(f"| {row['setting']} | {row['mlp']['samples_per_s_median']:,} | "
                         f"{row['mlp']['samples_per_s_median'] / ref['mlp']['samples_per_s_median']:.2f}x | "
                         f"{row['cnn']['samples_per_s_median']:,} | "
                         f"{row['cnn']['samples_per_s_median'] / ref['cnn']['samples_per_s_median']:.2f}x |")
    fl = {k: result[k]["flops_per_sample"] for k in ("mlp", "cnn")}
    lines += ["", f"FLOPs per sample (the usual training convention, forward+backward = 3x forward): "
              f"MLP {fl['mlp']['nominal_fwd_bwd']:,}, CNN {fl['cnn']['nominal_fwd_bwd']:,}; the work actually "
              f"done is smaller since neither side computes the gradient w.r.t. the input images: "
              f"MLP {fl['mlp']['executed']:,}, CNN {fl['cnn']['executed']:,}.",
              "", f"Total wall time of the run: {result['wall_s']} s."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=None, help="training samples (default 12800; 1024 with --quick)")
    ap.add_argument("--repeats", type=int, default=None, help="timed epochs per figure (default 3; 2 with --quick)")
    ap.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    ap.add_argument("--quick", action="store_true",
                    help="for tests: N=1024, R=2, steps_per_execution in (1, 64) only, 1024^2 matmul")
    ap.add_argument("--no-ablations", action="store_true",
                    help="skip the NumPy ablation timings and the TensorFlow-settings comparison")
    ap.add_argument("--no-course-env", action="store_true",
                    help="skip the Keras figures under the course's TF settings (a subprocess)")
    ap.add_argument("--json", help="write the result dict here")
    ap.add_argument("--md", help="write the Markdown rendering here")
    ap.add_argument("--keras-worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.keras_worker:
        res = keras_worker(json.loads(args.keras_worker))
        print(json.dumps(res))
        return res
    n = args.n or (1024 if args.quick else 12800)
    repeats = args.repeats or (2 if args.quick else 3)
    if n < 256 or repeats < 1:
        ap.error("need --n >= 256 and --repeats >= 1")
    result = run(n, repeats, args.optimizer, ablations=not args.no_ablations,
                 spe_grid=(1, 64) if args.quick else SPE_GRID, matmul_n=1024 if args.quick else 2048,
                 course_env=not args.no_course_env, log=lambda msg: print(msg, file=sys.stderr, flush=True),
                 tf_settings_list=[TF_SETTINGS[0], TF_SETTINGS[3]] if args.quick else TF_SETTINGS)
    md = to_markdown(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    if args.md:
        Path(args.md).write_text(md)
    print(md)
    return result


if __name__ == "__main__":
    main()
