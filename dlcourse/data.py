"""Data sets shipped with the course, loaded offline with checksum and shape checks.

Every file lives in ``datasets/`` at the top of the course (see ``datasets/README.md``).
A missing or damaged file raises :class:`DatasetError` with one sentence that names the
file and says how to fix it.
"""
from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import os
import zlib
from pathlib import Path

import numpy as np

DATA_ENV = "DLCOURSE_DATA"

# sha256 of the *uncompressed* IDX bytes (MNIST) and of the CSV file (Boston).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", (60000,)),
    "t10k-images-idx3-ubyte.gz": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", (10000,)),
}
BOSTON_FILE = "boston_house_prices.csv"
BOSTON_SHA256 = "d98212636026544fc9b9c0f372e5f819872e6fa6fa757ab025efdda22180f2d6"
BOSTON_FEATURES = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
)

_FIX = "restore it with `git checkout -- datasets/` in the course folder (or copy it from the course repository)"


class DatasetError(RuntimeError):
    """A data file is missing, damaged or not what the course expects."""


def data_dir() -> Path:
    """The folder that holds the data sets: ``$DLCOURSE_DATA`` or ``<course>/datasets``."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "datasets"


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise DatasetError(f"Data file {path} is missing: {_FIX}.")
    return path.read_bytes()


def _gunzip(path: Path) -> bytes:
    raw = _read(path)
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"Data file {path} is damaged (not a complete gzip file: {exc}): {_FIX}.") from None


def _check_sha(path: Path, payload: bytes, expected: str) -> None:
    got = hashlib.sha256(payload).hexdigest()
    if got != expected:
        raise DatasetError(
            f"Data file {path} is damaged (sha256 {got[:12]}... instead of {expected[:12]}...): {_FIX}."
        )


def _parse_idx(path: Path, payload: bytes, shape: tuple) -> np.ndarray:
    ndim = len(shape)
    header = 4 + 4 * ndim
    magic = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else -1
    dims = tuple(int.from_bytes(payload[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if magic != 0x0800 + ndim or dims != shape or len(payload) != header + int(np.prod(shape)):
        raise DatasetError(f"Data file {path} does not hold a uint8 array of shape {shape}: {_FIX}.")
    arr = np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape)
    return arr  # read-only view: a chapter cannot damage the cached copy


@functools.lru_cache(maxsize=None)
def _mnist_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = {"train": "train", "test": "t10k"}[split]
    out = []
    for kind, suffix in (("images", "idx3"), ("labels", "idx1")):
        name = f"{prefix}-{kind}-{suffix}-ubyte.gz"
        sha, shape = MNIST_FILES[name]
        path = data_dir() / "mnist" / name
        payload = _gunzip(path)
        _check_sha(path, payload, sha)
        out.append(_parse_idx(path, payload, shape))
    return out[0], out[1]


def load_mnist(split: str = "train", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST digits.

    split: "train" (60,000 images) or "test" (10,000 images).
    limit: keep only the first ``limit`` images (fast mode uses this).
    Returns ``x: (N, 28, 28) uint8`` and ``y: (N,) uint8`` (digits 0-9), read-only;
    the files are read and checked once per process and then kept in memory.
    """
    if split not in ("train", "test"):
        raise ValueError(f'split must be "train" or "test", got {split!r}.')
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit <= 0):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}.")
    x, y = _mnist_split(split)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y


@functools.lru_cache(maxsize=None)
def _boston_raw() -> tuple[np.ndarray, np.ndarray]:
    path = data_dir() / "boston" / BOSTON_FILE
    payload = _read(path)
    _check_sha(path, payload, BOSTON_SHA256)
    rows = list(csv.reader(io.StringIO(payload.decode("ascii"))))
    table = np.array(rows[2:], dtype=np.float64)
    if table.shape != (506, 14):
        raise DatasetError(f"Data file {path} does not hold 506 rows of 14 numbers: {_FIX}.")
    table.setflags(write=False)
    return table[:, :13], table[:, 13]


def load_boston(*, drop_b: bool = False, dtype=np.float64):
    """Load the Boston housing data (Harrison & Rubinfeld, 1978).

    Returns ``X: (506, 13)`` features, ``y: (506,)`` median value (MEDV, in $1000s) and the
    feature names. ``drop_b=True`` removes the ``B`` column, built on a racist assumption
    (the reason scikit-learn removed its loader in 1.2): then ``X`` is ``(506, 12)``.
    """
    X, y = _boston_raw()
    names = list(BOSTON_FEATURES)
    if drop_b:
        keep = [i for i, n in enumerate(names) if n != "B"]
        X = X[:, keep]
        names = [names[i] for i in keep]
    return X.astype(dtype), y.astype(dtype), names
