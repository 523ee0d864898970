"""``python -m dlcourse bench``: the measuring command runs end to end and records what it says.

The figures themselves are not tested (time depends on the machine's load; memory is tested by
tests/nbbudget.py on every nbval run): these tests check that the command measures a real kernel,
reads the headline figures from the notebook, and that the throughput benchmark's checks
(NumPy gradients == Keras' GradientTape gradients) ran and its tables are complete.
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
    proc = bench("--throughput-only", "--quick", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    res = json.loads((tmp_path / "throughput.json").read_text())
    for kind in ("mlp", "cnn"):
        r = res[kind]
        assert r["check_gradients_vs_keras"]["ok"] and r["check_gradients_vs_keras"]["max_abs_grad_diff"] <= 1e-4
        assert r["check_loss_decreases"]["ok"]
        for key in ("numpy", "keras_default", "keras_best"):
            assert r[key]["samples_per_s_median"] > 0 and 0 < r[key]["fraction_of_matmul"] < 1
        assert r["batch_sweep"] and all(sw["numpy"]["samples_per_s_median"] > 0 for sw in r["batch_sweep"])
    budget = res["mlp"]["step_budget"]
    # Timed separately, so under load the matmuls alone may come out near (or above) the whole
    # forward+backward they are part of; a factor 2 would be a broken measurement, not noise.
    assert 0 < budget["matmul_only_us"] < 2 * budget["forward_backward_us"]
    assert budget["optimizer_us"] > 0 and budget["ceiling_samples_per_s"] > 0
    assert res["matmul_bound_gflops"] > 1
    assert set(res["ratios"]) >= {"mlp_numpy_over_keras_default", "mlp_numpy_fraction_of_matmul",
                                  "cnn_keras_best_epoch_over_numpy_epoch"}
    # the per-round ratios: one per interleaved round, and their spread agrees with them
    for kind, key in (("mlp", "mlp_numpy_over_keras_default_by_round"),
                      ("cnn", "cnn_keras_best_epoch_over_numpy_epoch_by_round")):
        per_round = res[kind]["rounds"]["numpy_over_keras_default" if kind == "mlp" else "numpy_over_keras_best"]
        spread = res["ratios"][key]
        assert len(per_round) == spread["rounds"] == res["setup"]["repeats"]
        assert spread["min"] == min(per_round) > 0 and spread["max"] == max(per_round)
        assert spread["min"] <= spread["median"] <= spread["max"]
    settings = {row["setting"]: row for row in res["tf_settings"]}
    assert len(settings) >= 2 and all(row["mlp"]["samples_per_s_median"] > 0 for row in settings.values())
    course = next(row for name, row in settings.items() if name.startswith("course"))
    assert course["env"]["tf_op_determinism"] and course["env"]["TF_ENABLE_ONEDNN_OPTS"] == "0"
    md = (tmp_path / "throughput.md").read_text()
    assert "| MLP: NumPy GFLOP/s / matmul bound |" in md and "Batch-size sweep" in md
    assert "What each TensorFlow setting costs Keras" in md and "round by round (min / median / max of" in md
    assert "wrote" in proc.stdout and "throughput.md" in proc.stdout


def test_bench_rejects_contradictory_options(tmp_path):
    proc = bench("01", "--throughput-only", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "--throughput-only runs no notebook" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = bench("--notebooks-only", "--throughput-only", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "exclude each other" in proc.stderr
    proc = bench("99", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
