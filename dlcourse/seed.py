"""Seeds and determinism for NumPy, Python and (optionally) TensorFlow/Keras, in one call."""
from __future__ import annotations

import logging
import os
import random
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


def setup(seed: int = 0, *, keras: bool = False) -> np.random.Generator:
    """Seed everything the chapter uses and return a NumPy ``Generator``.

    seed:  an int; the same seed gives the same numbers on the same machine.
    keras: also import TensorFlow/Keras (about 8 s the first time), silence their logs,
           seed them and turn on deterministic ops.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    quiet_tensorflow_env()
    random.seed(seed)
    np.random.seed(seed)
    if keras:
        _setup_keras(int(seed))
    return np.random.default_rng(seed)


def _setup_keras(seed: int) -> None:
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
    tf.config.experimental.enable_op_determinism()
