"""Seeds and determinism for NumPy, Python and (optionally) TensorFlow/Keras, in one call."""
from __future__ import annotations

import logging
import os
import random
import sys
import warnings

import numpy as np

# Set before TensorFlow is imported anywhere: keeps TF's C++ start-up log off stderr,
# which nbval would compare and nbgrader would count as a failed test cell.
_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
    "TF_ENABLE_ONEDNN_OPTS": "0",  # bit-for-bit repeatable float results on one CPU
}


def quiet_tensorflow_env() -> None:
    """Put the environment variables that silence TensorFlow in place (idempotent)."""
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)


def setup(seed: int = 0, *, keras: bool = False, deterministic: bool = True) -> np.random.Generator:
    """Seed everything the chapter uses and return a NumPy ``Generator``.

    seed:          an int; the same seed gives the same numbers on the same machine.
    keras:         also import TensorFlow/Keras (about 5-8 s the first time), silence their logs
                   and seed them.
    deterministic: with keras=True, bit-for-bit repeatable Keras results: oneDNN off and
                   deterministic ops (the course's default). False keeps TensorFlow's fast CPU
                   defaults instead: measured on 2 cores (benchmarks/throughput.py), Keras trains
                   the small MNIST CNN 1.7-2x and the MLP 1.5-1.6x faster, and results may
                   differ in the last bits from run to run. oneDNN is chosen when TensorFlow is
                   imported, so call this first, in a fresh kernel.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    if not isinstance(deterministic, bool):
        raise ValueError(f"deterministic must be True or False, got {deterministic!r}.")
    if keras and not deterministic and "tensorflow" not in sys.modules:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    quiet_tensorflow_env()
    random.seed(seed)
    np.random.seed(seed)
    if keras:
        _setup_keras(int(seed), deterministic)
    return np.random.default_rng(seed)


def _setup_keras(seed: int, deterministic: bool = True) -> None:
    warnings.filterwarnings("ignore", module=r"(tensorflow|keras|absl)(\..*)?")
    import tensorflow as tf  # noqa: F401  (heavy import, done once)
    import keras

    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TF
        pass
    keras.utils.set_random_seed(seed)
    from tensorflow.python.framework import config as tf_config

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        if onednn != "0":
            warnings.warn("TensorFlow was imported with oneDNN on, so Keras results may still differ in the last "
                          "bits between runs: restart the kernel and run dlcourse.setup(..., keras=True) first.",
                          stacklevel=3)
    else:
        tf_config.disable_op_determinism()
        if onednn == "0":
            warnings.warn("TensorFlow was already imported with oneDNN off (the deterministic setting), so it "
                          "stays slower: restart the kernel and run dlcourse.setup(..., deterministic=False) first.",
                          stacklevel=3)
