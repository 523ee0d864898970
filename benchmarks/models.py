"""The two models the throughput benchmark times, NumPy side and Keras side, from the same weights.

- ``mlp``: chapter 07's 784-64-10 MLP (batch 32, Adam). The NumPy side is the chapter's own code:
  ``init_params``, ``AdamTrainer`` (``forward`` -> ``backward`` -> ``adam_step``) and ``fit_epoch``.
- ``cnn``: the article's MNIST CNN, chapter 08's ``CNN`` class (batch 128, RMSprop): its own
  ``fit`` over ``conv2d_forward``, ``maxpool_*``, ``conv2d_backward`` and ``rmsprop_step``.

Both are loaded from the solution notebooks by ``solution_loader`` (no copy of a chapter's model
lives here). The Keras side is the article's ``Sequential`` model with the same initial weights,
optimizer, batch size and float32 data.
"""
from __future__ import annotations

import numpy as np

from solution_loader import load_definitions

BATCH = {"mlp": 32, "cnn": 128}
SHAPE = {"mlp": (784,), "cnn": (28, 28, 1)}
ARCH = {"mlp": "Dense(64, relu) -> Dense(10, softmax) on 784 inputs; Adam (Keras' defaults)",
        "cnn": "Conv2D(32, 3x3, relu) -> MaxPool 2x2 -> Conv2D(64, 3x3, relu) -> MaxPool 2x2 -> Flatten (1600) -> "
               "Dense(64, relu) -> Dense(10, softmax) on 28x28x1 NHWC; RMSprop (Keras' defaults)"}
CODE = {"mlp": "chapter 07's fit_epoch, AdamTrainer, forward, backward, adam_step",
        "cnn": "chapter 08's CNN class (conv2d_forward/backward by im2col, maxpool, rmsprop_step)"}
_ns: dict = {}


def chapter(kind: str) -> dict:
    cid = {"mlp": "07-mnist-mlp", "cnn": "08-mnist-cnn"}[kind]
    if cid not in _ns:
        _ns[cid] = load_definitions(cid)
    return _ns[cid]


def flops_per_sample(kind: str) -> float:
    """Training FLOPs per sample, the usual convention: forward 2*in*out per dense layer and
    2*K*K*Cin*Cout*Hout*Wout per conv layer; forward + backward = 3x forward."""
    if kind == "mlp":
        forward = 2 * 784 * 64 + 2 * 64 * 10
    else:
        forward = 2 * 9 * 32 * 26 * 26 + 2 * 9 * 32 * 64 * 11 * 11 + 2 * 1600 * 64 + 2 * 64 * 10
    return 3.0 * forward


class NumpyModel:
    """The chapter's NumPy model: ``weights()`` in Keras' order, ``epoch(x, y)`` trains one epoch
    with the chapter's own loop, ``step(x, y)`` one batch (loss; gradients in ``grads``)."""

    def __init__(self, kind: str, seed: int = 0):
        self.kind, ns = kind, chapter(kind)
        self.rng = np.random.default_rng(seed + 1)        # the batch order
        if kind == "mlp":
            self.params = ns["init_params"](np.random.default_rng(seed), dtype=np.float32)
            self.trainer = ns["AdamTrainer"](self.params, learning_rate=1e-3)
        else:
            self.net = ns["CNN"](seed=seed, dtype=np.float32)
        self.grads: list[np.ndarray] = []

    def weights(self) -> list[np.ndarray]:
        if self.kind == "mlp":
            return [self.params[k].copy() for k in ("W1", "b1", "W2", "b2")]
        return self.net.weights()

    def epoch(self, x, y) -> None:
        if self.kind == "mlp":
            self.params, _ = chapter("mlp")["fit_epoch"](self.params, x, y, BATCH["mlp"], self.rng,
                                                         self.trainer.step)
        else:
            self.net.fit(x, y, epochs=1, batch_size=BATCH["cnn"], seed=int(self.rng.integers(2**31)))

    def step(self, x, y) -> float:
        if self.kind == "mlp":
            ns = chapter("mlp")
            h, p = ns["forward"](self.params, x)
            g = ns["backward"](self.params, x, h, p, y)
            self.grads = [g[k] for k in ("W1", "b1", "W2", "b2")]
            self.params, loss = self.trainer.step(self.params, x, y)
            return loss
        loss = self.net.train_step(x, y)
        self.grads = list(self.net.grads)
        return loss


def keras_model(kind: str, weights, steps_per_execution: int | None = None):
    """The article's model with ``weights``, compiled as the article does (no metrics);
    ``steps_per_execution=None`` is Keras' default ``compile``."""
    import keras
    from keras import layers

    if kind == "mlp":
        model = keras.Sequential([keras.Input(SHAPE[kind]), layers.Dense(64, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    else:
        model = keras.Sequential([keras.Input(SHAPE[kind]), layers.Conv2D(32, 3, activation="relu"),
                                  layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
                                  layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(64, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        optimizer = keras.optimizers.RMSprop()
    model.set_weights(weights)
    extra = {} if steps_per_execution is None else {"steps_per_execution": steps_per_execution}
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", **extra)
    return model


def check_against_keras(kind: str, x, y, tol: float = 1e-4) -> dict:
    """One NumPy step vs ``tf.GradientTape`` on the Keras twin, same weights and batch: the loss and
    every gradient agree to ``tol`` (float32). Asserted by the benchmark before it times anything."""
    import keras
    import tensorflow as tf

    model = NumpyModel(kind)
    twin = keras_model(kind, model.weights())
    with tf.GradientTape() as tape:
        loss_k = keras.losses.SparseCategoricalCrossentropy()(y, twin(x, training=True))
    grads_k = [g.numpy() for g in tape.gradient(loss_k, twin.trainable_weights)]
    loss_np = model.step(x, y)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(model.grads, grads_k))
    return {"batch": len(x), "loss_numpy": round(float(loss_np), 6), "loss_keras": round(float(loss_k), 6),
            "max_abs_grad_diff": diff, "tol": tol, "ok": diff <= tol and abs(loss_np - float(loss_k)) <= tol}
