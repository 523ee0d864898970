"""``python -m dlcourse bench``: the measuring command runs end to end and records what it says.

The figures themselves are not tested (time depends on the machine's load; memory is tested by
tests/nbbudget.py on every nbval run): these tests check that the command measures a real kernel,
reads the headline figures from the notebook, and that the throughput benchmark's check
(NumPy gradients == Keras' GradientTape gradients) ran and its figures agree with each other.
"""
from __future__ import annotations

import json
import subprocess
import sys

from dlcourse.course import ROOT


def bench(*args, cwd=ROOT, timeout=900):
    return subprocess.run([sys.executable, "-m", "dlcourse", "bench", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_bench_one_chapter_fast_mode(tmp_path):
    proc = bench("01", "--fast-only", "--notebooks-only", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "bench.json").read_text())
    (run,) = result["runs"]
    assert run["ok"] and run["mode"] == "fast" and run["notebook"].endswith("01-neuron.ipynb")
    assert 100 < run["peak_rss_mb"] < 1536          # the kernel's own VmHWM: it imports TensorFlow
    assert run["wall_s"] > 0 and run["cpu_s"] > 0
    assert run["headlines"], "the notebook records headline figures with dlcourse.headline"
    md = (tmp_path / "bench.md").read_text()
    assert "| 01-neuron | fast |" in md and "kernel peak RSS" in md
    assert not (tmp_path / "throughput.json").exists()


def test_bench_throughput_quick(tmp_path):
    """The throughput benchmark on chapters 07 and 08's own code: its check (NumPy gradients equal
    GradientTape's) ran, every side was timed in every round, and the per-round ratios agree with
    the epoch times and with their summary."""
    proc = bench("--throughput-only", "--quick", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    res = json.loads((tmp_path / "throughput.json").read_text())
    rounds = res["setup"]["rounds"]
    assert res["matmul"]["gflops_bound"] > 1 and res["machine"]["measured_at"].endswith("UTC")
    for kind in ("mlp", "cnn"):
        r = res[kind]
        assert r["check"]["ok"] and r["check"]["max_abs_grad_diff"] <= 1e-4, r["check"]
        assert "chapter 0" in r["numpy"]["implementation"] and r["numpy"]["blas_threads"] >= 1
        for side in ("numpy", "keras_default", "keras_best"):
            assert len(r[side]["epoch_s"]) == rounds and r[side]["samples_per_s_median"] > 0
            assert 0 < r[side]["fraction_of_matmul"] < 5, (kind, side, r[side])
        for k in ("keras_default", "keras_best"):
            per_round = r["rounds"][f"numpy_over_{k}"]
            # epoch times are kept to the microsecond and ratios to 3 decimals; quick-mode epochs
            # last only milliseconds, so allow 1% for the rounding of both
            expected = [tk / tn for tn, tk in zip(r["numpy"]["epoch_s"], r[k]["epoch_s"])]
            assert all(abs(a - b) <= 0.01 * b + 1e-3 for a, b in zip(per_round, expected)), (per_round, expected)
            spread = res["ratios"][f"{kind}_numpy_over_{k}_by_round"]
            assert spread["rounds"] == rounds and spread["min"] == min(per_round) and spread["max"] == max(per_round)
            assert spread["min"] <= spread["median"] == res["ratios"][f"{kind}_numpy_over_{k}"] <= spread["max"]
    assert res["ratios"]["cnn_keras_best_epoch_over_numpy_epoch"] == res["ratios"]["cnn_numpy_over_keras_best"]
    md = (tmp_path / "throughput.md").read_text()
    assert "## Chapter 07's MLP, batch 32" in md and "## Chapter 08's CNN, batch 128" in md
    assert "round by round" in md and "share of matmul bound" in md
    assert "wrote" in proc.stdout and "throughput.md" in proc.stdout


def test_benchmarks_keep_no_copy_of_a_chapters_model():
    """The benchmark loads chapters 07 and 08's code from their solution notebooks: no file in
    benchmarks/ defines the chapters' functions or classes, and the folder stays small."""
    import ast

    chapter_names = {"forward", "backward", "adam_step", "fit_epoch", "AdamTrainer", "init_params", "CNN",
                     "conv2d_forward", "conv2d_backward", "maxpool_forward", "maxpool_backward", "rmsprop_step", "im2col"}
    lines = 0
    for path in (ROOT / "benchmarks").glob("*.py"):
        src = path.read_text()
        lines += len(src.splitlines())
        defined = {n.name for n in ast.walk(ast.parse(src)) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & chapter_names, f"{path.name} defines {sorted(defined & chapter_names)}"
    assert lines < 600, f"benchmarks/*.py has {lines} lines"


def test_bench_rejects_contradictory_options(tmp_path):
    proc = bench("01", "--throughput-only", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "--throughput-only runs no notebook" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = bench("--notebooks-only", "--throughput-only", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "exclude each other" in proc.stderr
    proc = bench("99", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
