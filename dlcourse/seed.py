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


# glibc's malloc gives a freed block of more than its mmap threshold back to the system, and the
# next array of that size starts on fresh pages that the kernel must zero and map, page by page.
# A CNN step allocates and frees dozens of arrays of 2-20 MB, so it pays that again and again:
# measured on chapter 08's NumPy CNN (batch 128, 2 cores), 102 ms per step with glibc's defaults,
# 70 ms with these settings, at the same peak memory.
_MMAP_THRESHOLD = 32 * 1024 * 1024    # glibc's upper limit for this setting on 64-bit Linux
_TRIM_THRESHOLD = 256 * 1024 * 1024


def reuse_freed_memory() -> bool:
    """Make glibc's malloc keep freed blocks of up to 32 MB for reuse instead of returning them to
    the system (``mallopt(M_MMAP_THRESHOLD)``, ``mallopt(M_TRIM_THRESHOLD)``). Idempotent; returns
    False (and changes nothing) where the C library is not glibc."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, _MMAP_THRESHOLD)) and bool(mallopt(m_trim_threshold, _TRIM_THRESHOLD))


STUB_MESSAGE = "is not written yet"  # the release's stubs: raise NotImplementedError("<name> is not written yet: ...")


def short_stub_errors() -> bool:
    """In IPython, show an exercise that is not written yet as its one-line message.

    Run All on an untouched chapter stops at the first test cell, inside the stub
    ``raise NotImplementedError("one_hot is not written yet: replace this line with your code")``;
    its full traceback is 16 lines of frames that say nothing more. Any other exception, including
    a NotImplementedError of the learner's own, keeps IPython's full traceback (a learner needs it to
    find a bug). Failed checks (:class:`dlcourse.testing.CheckFailed`) are one line already.
    Returns False outside IPython. Idempotent."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def handler(self, etype, value, tb, tb_offset=None):
        if STUB_MESSAGE in str(value):
            self._showtraceback(etype, value, [f"{etype.__name__}: {value}"])
        else:
            self.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)

    shell.set_custom_exc((NotImplementedError,), handler)
    return True


def setup(seed: int = 0, *, keras: bool = False, deterministic: bool = True) -> np.random.Generator:
    """Seed everything the chapter uses and return a NumPy ``Generator``; also
    :func:`reuse_freed_memory`, which makes code that makes many large arrays faster.

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
    reuse_freed_memory()
    short_stub_errors()
    random.seed(seed)
    np.random.seed(seed)
    if keras:
        _setup_keras(int(seed), deterministic)
    return np.random.default_rng(seed)


# Lines TensorFlow writes to the process's stderr (file descriptor 2) while it is imported, before
# its own logging is set up, so that TF_CPP_MIN_LOG_LEVEL cannot silence them: with oneDNN on
# (deterministic=False) a notice that oneDNN is on, twice. In a notebook they show as a red box.
_IMPORT_NOISE = ("All log messages before absl::InitializeLog() is called are written to STDERR",
                 "oneDNN custom operations are on")


def _import_tensorflow_quietly():
    """``import tensorflow``, with what it writes to file descriptor 2 caught; the known notices
    (``_IMPORT_NOISE``) are dropped and anything else is passed on to ``sys.stderr``."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no real file descriptor 2: import as is
        import tensorflow as tf
        return tf
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        text = caught.read().decode("utf-8", "replace")
    rest = [line for line in text.splitlines() if line.strip() and not any(n in line for n in _IMPORT_NOISE)]
    if rest:
        print("\n".join(rest), file=sys.stderr)
    return tf


def _setup_keras(seed: int, deterministic: bool = True) -> None:
    warnings.filterwarnings("ignore", module=r"(tensorflow|keras|absl)(\..*)?")
    tf = _import_tensorflow_quietly()  # heavy import, done once
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
