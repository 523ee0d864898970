"""Unit tests of the dlcourse package, including the errors a learner sees on bad input."""
import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import dlcourse
from dlcourse import config, data, gradcheck, testing
from dlcourse.course import ROOT


# ---------------------------------------------------------------- fast mode
@pytest.mark.parametrize("raw, fast", [("", False), ("0", False), ("1", True), ("true", True), (" YES ", True), ("off", False)])
def test_fast_mode_values(raw, fast):
    assert config.fast_mode({"DLCOURSE_FAST": raw}) is fast


def test_fast_mode_typo_is_a_clear_error():
    with pytest.raises(ValueError, match="DLCOURSE_FAST='fsat' is not understood"):
        config.fast_mode({"DLCOURSE_FAST": "fsat"})


def test_by_mode(monkeypatch):
    monkeypatch.setenv("DLCOURSE_FAST", "1")
    assert dlcourse.by_mode(full=100, fast=3) == 3
    monkeypatch.setenv("DLCOURSE_FAST", "0")
    assert dlcourse.by_mode(full=100, fast=3) == 100


# ---------------------------------------------------------------- seeds
def test_setup_is_repeatable():
    a = dlcourse.setup(seed=7).normal(size=5)
    legacy_a = np.random.rand(3)
    b = dlcourse.setup(seed=7).normal(size=5)
    legacy_b = np.random.rand(3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(legacy_a, legacy_b)
    assert not np.array_equal(a, dlcourse.setup(seed=8).normal(size=5))


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_setup_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        dlcourse.setup(seed=bad)


def test_setup_rejects_bad_deterministic():
    with pytest.raises(ValueError, match="deterministic must be True or False"):
        dlcourse.setup(seed=0, deterministic="no")


_TF_STATE = ("import os, warnings, dlcourse; warnings.simplefilter('error'); dlcourse.setup(seed=0, keras=True{});"
             "from tensorflow.python.framework import config;"
             "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], config.is_op_determinism_enabled())")


@pytest.mark.parametrize("arg, expected", [("", "0 True"), (", deterministic=False", "1 False")])
def test_setup_deterministic_chooses_tensorflow_settings(arg, expected):
    """The default is bit-for-bit repeatable Keras (oneDNN off, deterministic ops); deterministic=False
    keeps TensorFlow's fast CPU defaults. Each in a fresh process: oneDNN is read when TF is imported."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    proc = subprocess.run([sys.executable, "-c", _TF_STATE.format(arg)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[-2] == expected


# ---------------------------------------------------------------- data
def test_mnist_shapes_checksums_and_counts():
    x, y = dlcourse.load_mnist("train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert round(float(x.mean()), 3) == 33.318
    xt, yt = dlcourse.load_mnist("test", limit=100)
    assert xt.shape == (100, 28, 28) and yt.shape == (100,)
    assert not x.flags.writeable, "the cached copy must be read-only"


def test_mnist_bad_arguments():
    with pytest.raises(ValueError, match='split must be "train" or "test"'):
        dlcourse.load_mnist("validation")
    with pytest.raises(ValueError, match="limit must be a positive int"):
        dlcourse.load_mnist("test", limit=0)


def test_boston():
    X, y, names = dlcourse.load_boston()
    assert X.shape == (506, 13) and y.shape == (506,) and names[5] == "RM"
    assert y[0] == 24.0
    X2, _, names2 = dlcourse.load_boston(drop_b=True, dtype=np.float32)
    assert X2.shape == (506, 12) and "B" not in names2 and X2.dtype == np.float32


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    shutil.copytree(data.data_dir(), tmp_path / "datasets")
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path / "datasets"))
    data._mnist_split.cache_clear()
    data._boston_raw.cache_clear()
    yield tmp_path / "datasets"
    data._mnist_split.cache_clear()
    data._boston_raw.cache_clear()


def _one_line(exc):
    msg = str(exc.value)
    assert "\n" not in msg and "git checkout -- datasets/" in msg
    assert exc.value.__cause__ is None and (exc.value.__context__ is None or exc.value.__suppress_context__), "no chained traceback from inside gzip/NumPy"
    return msg


def test_missing_file_is_one_clear_sentence(data_copy):
    (data_copy / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(dlcourse.DatasetError) as exc:
        dlcourse.load_mnist("test")
    assert "t10k-labels-idx1-ubyte.gz is missing" in _one_line(exc)


def test_truncated_gzip_is_reported_as_damaged(data_copy):
    path = data_copy / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(dlcourse.DatasetError) as exc:
        dlcourse.load_mnist("test")
    assert "t10k-images-idx3-ubyte.gz is damaged" in _one_line(exc)


def test_changed_bytes_fail_the_checksum(data_copy):
    path = data_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(dlcourse.DatasetError) as exc:
        dlcourse.load_mnist("test")
    assert "is damaged (sha256" in _one_line(exc)


def test_boston_damaged(data_copy):
    path = data_copy / "boston" / "boston_house_prices.csv"
    path.write_text(path.read_text().replace("24\n", "25\n", 1))
    with pytest.raises(dlcourse.DatasetError) as exc:
        dlcourse.load_boston()
    assert "boston_house_prices.csv is damaged" in _one_line(exc)


# ---------------------------------------------------------------- gradient check
def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    f = lambda v: float(np.sum(v ** 3))  # noqa: E731
    np.testing.assert_allclose(gradcheck.numerical_gradient(f, x), 3 * x ** 2, rtol=1e-7)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored
    assert gradcheck.check_gradient(f, x, 3 * x ** 2) < 1e-8


def test_check_gradient_catches_a_wrong_gradient():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match=r"worst at index \(2,\)"):
        gradcheck.check_gradient(lambda v: float(np.sum(v ** 2)), x, np.array([2.0, 4.0, 7.0]))
    with pytest.raises(AssertionError, match="has shape"):
        gradcheck.check_gradient(lambda v: float(np.sum(v ** 2)), x, np.zeros(2))
    with pytest.raises(TypeError, match="needs a float array"):
        gradcheck.numerical_gradient(lambda v: 0.0, np.array([1, 2]))


# ---------------------------------------------------------------- assertion helpers
def test_assert_array_passes_a_right_answer():
    testing.assert_array(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9], name="z")


@pytest.mark.parametrize("actual, match", [
    ([1.0, 2.0], "z should be a NumPy array"),
    (None, "z should be a NumPy array"),
    (np.ones(3), r"z has shape \(3,\), expected \(2,\)"),
    (np.array([1, 2]), "z has dtype int64, expected a float array"),
    (np.array([1.0, np.nan]), r"z contains NaN at index \(1,\)"),
    (np.array([1.0, np.inf]), r"z contains inf at index \(1,\)"),
    (np.array([1.0, 2.5]), r"z is wrong at 1 of 2 entries; worst at index \(1,\): got 2.5, expected 2"),
])
def test_assert_array_messages(actual, match):
    with pytest.raises(testing.CheckFailed, match=match):
        testing.assert_array(actual, np.array([1.0, 2.0]), name="z")


def test_assert_array_exact_dtype():
    with pytest.raises(testing.CheckFailed, match="dtype float32, expected float64"):
        testing.assert_array(np.ones(2, np.float32), np.ones(2), dtype=np.float64)


def test_assert_scalar():
    testing.assert_scalar(np.float64(0.5), 0.5, name="loss")
    testing.assert_scalar(np.array(0.5), 0.5, name="loss")
    with pytest.raises(testing.CheckFailed, match="loss should be a single number, got ndarray of shape"):
        testing.assert_scalar(np.array([0.5, 1]), 0.5, name="loss")
    with pytest.raises(testing.CheckFailed, match="loss is nan"):
        testing.assert_scalar(float("nan"), 0.5, name="loss")
    with pytest.raises(testing.CheckFailed, match="loss is 0.6, expected 0.5"):
        testing.assert_scalar(0.6, 0.5, name="loss")
    with pytest.raises(testing.CheckFailed, match="single number, got bool"):
        testing.assert_scalar(True, 1.0, name="loss")


def test_helpers_ignore_later_rebinding_of_numpy_and_builtins(monkeypatch):
    import builtins
    monkeypatch.setattr(np, "abs", lambda x: np.zeros_like(x))
    monkeypatch.setattr(np, "isfinite", lambda x: np.ones_like(x, dtype=bool))
    monkeypatch.setattr(builtins, "abs", lambda x: 0)
    with pytest.raises(testing.CheckFailed):
        testing.assert_array(np.array([1.0, 5.0]), np.array([1.0, 2.0]))
    with pytest.raises(testing.CheckFailed, match="contains NaN"):
        testing.assert_array(np.array([1.0, np.nan]), np.array([1.0, 2.0]))


def test_assert_true_needs_a_real_true():
    testing.assert_true(True, "fine")
    testing.assert_true(np.bool_(True), "fine")
    with pytest.raises(testing.CheckFailed, match="explain"):
        testing.assert_true(False, "explain")
    with pytest.raises(testing.CheckFailed, match="explain"):
        testing.assert_true(np.array([True, False]), "explain")


def test_assert_shape_and_finite():
    testing.assert_shape(np.zeros((2, 3)), (2, 3))
    with pytest.raises(testing.CheckFailed, match=r"expected \(3, 2\)"):
        testing.assert_shape(np.zeros((2, 3)), (3, 2), name="W")
    with pytest.raises(testing.CheckFailed, match="contains inf"):
        testing.assert_finite(np.array([0.0, np.inf]))


_FAULTS = """
import resource, sys
import numpy as np
import dlcourse
if sys.argv[1] == "reuse":
    assert dlcourse.reuse_freed_memory() is True
    assert dlcourse.reuse_freed_memory() is True        # idempotent
def step():  # 8 x 10 MB alive at once, then all freed, as in a CNN training step
    arrays = [np.ones(2_500_000, np.float32) for _ in range(8)]
    return sum(float(a[0]) for a in arrays)
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_reuse_freed_memory_stops_the_page_faults_of_repeated_large_arrays():
    """With glibc's defaults every step maps and zeroes its arrays' pages again (about 80,000 page
    faults for these 20 steps); after reuse_freed_memory() the freed blocks are reused."""
    def faults(mode):
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    default, reused = faults("default"), faults("reuse")
    assert default > 20_000, f"the test's pattern should page-fault with glibc's defaults: {default}"
    assert reused < default / 20, f"page faults with reuse_freed_memory: {reused}, without: {default}"


def test_a_stub_shows_one_line_and_a_learners_own_error_its_traceback():
    """Run All on an untouched chapter: the stub's NotImplementedError is one line; a NotImplementedError
    of the learner's own keeps IPython's traceback; a failed check is its one message."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import dlcourse\nrng = dlcourse.setup(0)"),
        nbformat.v4.new_code_cell("def one_hot(labels, num_classes):\n    raise NotImplementedError("
                                  "'one_hot is not written yet: replace this line with your code')\none_hot(1, 2)"),
        nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError('my own')\nf()"),
        nbformat.v4.new_code_cell("from dlcourse.testing import assert_scalar\nassert_scalar(1.0, 2.0, name='x')"),
    ])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    stub, own, check = (c.outputs[0] for c in nb.cells[1:])
    assert stub.output_type == "error" and stub.traceback == [
        "NotImplementedError: one_hot is not written yet: replace this line with your code"], stub
    assert own.output_type == "error" and len(own.traceback) > 1 and "f()" in "".join(own.traceback), own
    assert check.output_type == "error" and check.ename == "CheckFailed" and len(check.traceback) == 1, check


def test_tensorflow_with_onednn_starts_without_a_word_on_stderr():
    """setup(keras=True, deterministic=False) turns oneDNN on; TensorFlow then writes a notice to file
    descriptor 2 before its logging is set up (twice), which a notebook shows as a red box."""
    import subprocess
    import sys

    code = "import dlcourse; dlcourse.setup(0, keras=True, deterministic=False); print('ready')"
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS",)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ready", proc.stdout + proc.stderr
    assert "oneDNN" not in proc.stderr and "absl::InitializeLog" not in proc.stderr, proc.stderr
