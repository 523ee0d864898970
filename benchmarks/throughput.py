"""NumPy vs Keras training throughput, on chapters 07 and 08's own code (models.py).

For each model (chapter 07's MLP at batch 32, chapter 08's CNN at batch 128), on the first N MNIST
training images (float32 in [0, 1], reshuffled every epoch on both sides):
  1. a check, asserted: one NumPy step's loss and gradients equal Keras' ``tf.GradientTape`` ones
     from the same weights and batch (float32, max abs difference <= 1e-4);
  2. Keras' best ``steps_per_execution`` (1, 16, 64, 256: one epoch each after a warm-up epoch);
  3. R interleaved rounds of one epoch each: NumPy, Keras' default ``fit``, Keras at its best
     (timing.py). Each ratio is taken within a round, reported as min / median / max over rounds;
  4. the share of the machine's matmul rate (best float32 2048x2048 ``A @ B``, start and end of
     the run) each side reaches, counting training FLOPs the usual way (models.flops_per_sample).
Keras runs with TensorFlow's CPU defaults (oneDNN on, op determinism off: its fastest), not with
the notebooks' repeatable settings (``dlcourse.setup``'s default).

    python benchmarks/throughput.py [--n 12800] [--rounds 5] [--json out.json] [--md out.md] [--quick]
    python -m dlcourse bench --throughput-only [--quick]     (the same, results in bench-results/)

--quick (a check of the machinery, for tests): N = 1024, 2 rounds, steps_per_execution 1 and 64.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import dlcourse  # noqa: E402
from timing import KerasEpochs, interleaved, matmul_gflops, spread  # noqa: E402

SIDES = ("numpy", "keras_default", "keras_best")


def machine() -> dict:
    from threadpoolctl import threadpool_info

    return {"cores": os.cpu_count(), "measured_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_start": [round(v, 2) for v in os.getloadavg()], "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "blas": [f"{d.get('internal_api')} {d.get('version')} ({d.get('architecture')}, {d.get('num_threads')} threads)"
                     for d in threadpool_info() if d.get("user_api") == "blas"]}


def rate(times: list[float], n: int) -> dict:
    rates = [n / t for t in times]
    return {"samples_per_s_median": round(statistics.median(rates)), "samples_per_s_min": round(min(rates)),
            "samples_per_s_max": round(max(rates)), "epoch_s": [round(t, 6) for t in times]}


def blas_threads(epoch, log) -> int:
    """1 BLAS thread or one per core, whichever runs an epoch faster (more threads must win by 10%).
    On these small matrices OpenBLAS' threads gain little, and when another process holds a core
    they cost a lot: measured under load, 25,000 samples/s with 1 thread against 1,500 with 2."""
    t = {}
    for th in sorted({1, os.cpu_count() or 1}):
        with threadpool_limits(limits=th, user_api="blas"):
            t0 = time.perf_counter()
            epoch()
            t[th] = time.perf_counter() - t0
    choice = min(t, key=lambda th: t[th] * (1.1 if th != 1 else 1.0))
    log(f"  numpy: BLAS threads {', '.join(f'{th}: {v:.2f} s' for th, v in t.items())} an epoch; using {choice}")
    return choice


def measure(kind: str, x, y, rounds: int, spe_grid, log) -> dict:
    import models

    B, n = models.BATCH[kind], len(x)
    X = x.reshape((n,) + models.SHAPE[kind])                       # a view: no copy
    check = models.check_against_keras(kind, X[:B], y[:B])
    assert check["ok"], f"{kind}: the NumPy model and its Keras twin disagree: {check}"
    log(f"{kind}: gradients equal GradientTape's to {check['max_abs_grad_diff']:.1e}")
    w0 = models.NumpyModel(kind).weights()
    grid = []
    for spe in spe_grid:
        runner = KerasEpochs(models.keras_model(kind, w0, spe), X, y, B)
        runner.epoch()                                              # traces the graph
        grid.append({"steps_per_execution": spe, "samples_per_s": round(n / runner.epoch())})
        log(f"  keras steps_per_execution={spe}: {grid[-1]['samples_per_s']} samples/s")
    best = max(grid, key=lambda g: g["samples_per_s"])["steps_per_execution"]
    numpy_model = models.NumpyModel(kind)
    threads = blas_threads(lambda: numpy_model.epoch(X, y), log)
    default = KerasEpochs(models.keras_model(kind, w0), X, y, B)
    fastest = KerasEpochs(models.keras_model(kind, w0, best), X, y, B)
    def numpy_epoch():
        with threadpool_limits(limits=threads, user_api="blas"):
            numpy_model.epoch(X, y)

    times = interleaved({"numpy": numpy_epoch, "keras_default": default.epoch,
                         "keras_best": fastest.epoch}, rounds)
    out = {"batch": B, "arch": models.ARCH[kind], "implementation": models.CODE[kind], "check": check,
           "flops_per_sample": models.flops_per_sample(kind), "keras_grid": grid,
           "numpy": {**rate(times["numpy"], n), "implementation": models.CODE[kind], "blas_threads": threads},
           "keras_default": {**rate(times["keras_default"], n), "config": "compile() defaults (steps_per_execution=1)"},
           "keras_best": {**rate(times["keras_best"], n), "config": f"steps_per_execution={best}"},
           # > 1: NumPy is faster. Keras' epoch time over NumPy's, within each round
           "rounds": {f"numpy_over_{k}": [round(tk / tn, 3) for tn, tk in zip(times["numpy"], times[k])]
                      for k in ("keras_default", "keras_best")}}
    for side in SIDES:
        log(f"  {side}: {out[side]['samples_per_s_median']} samples/s (median of {rounds} rounds)")
    return out


def run(n: int, rounds: int, spe_grid=(1, 16, 64, 256), matmul_n: int = 2048, log=print) -> dict:
    dlcourse.setup(0, keras=True, deterministic=False)   # TensorFlow's fast CPU defaults
    import keras
    import tensorflow as tf

    result = {"machine": {**machine(), "tensorflow": tf.__version__, "keras": keras.__version__},
              "setup": {"n_samples": n, "rounds": rounds, "repeats": rounds, "dtype": "float32",
                        "tensorflow_settings": "TensorFlow's CPU defaults: oneDNN on, op determinism off"}}
    matmul = [matmul_gflops(matmul_n)]
    log(f"matmul {matmul_n}^2 float32: {matmul[0]} GFLOP/s")
    x8, y8 = dlcourse.load_mnist("train")
    x = np.divide(x8[:n], 255, dtype=np.float32)
    y = y8[:n].astype(np.int32)
    for kind in ("mlp", "cnn"):
        result[kind] = measure(kind, x, y, rounds, spe_grid, log)
    matmul.append(matmul_gflops(matmul_n))
    result["matmul"] = {"n": matmul_n, "gflops_samples": matmul, "gflops_bound": max(matmul)}
    ratios = {}
    for kind in ("mlp", "cnn"):
        r = result[kind]
        for side in SIDES:
            r[side]["fraction_of_matmul"] = round(
                r[side]["samples_per_s_median"] * r["flops_per_sample"] / 1e9 / max(matmul), 4)
        for k in ("keras_default", "keras_best"):
            by_round = spread(r["rounds"][f"numpy_over_{k}"])
            ratios[f"{kind}_numpy_over_{k}"] = by_round["median"]
            ratios[f"{kind}_numpy_over_{k}_by_round"] = by_round
    # the names chapter 08's quote cell has read since the first runs (Keras' epoch time / NumPy's)
    ratios["cnn_keras_best_epoch_over_numpy_epoch"] = ratios["cnn_numpy_over_keras_best"]
    ratios["cnn_keras_best_epoch_over_numpy_epoch_by_round"] = ratios["cnn_numpy_over_keras_best_by_round"]
    result["ratios"] = ratios
    return result


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def to_markdown(res: dict) -> str:
    m, s = res["machine"], res["setup"]
    out = [f"# NumPy vs Keras: training throughput ({m['measured_at']})", "",
           f"{m['cores']} cores, load average {m['load_average_start']} at the start; NumPy {m['numpy']} "
           f"({'; '.join(m['blas'])}), TensorFlow {m['tensorflow']}, Keras {m['keras']} "
           f"({s['tensorflow_settings']}). The first {s['n_samples']:,} MNIST training images, float32; "
           f"{s['rounds']} interleaved rounds of one epoch per side. Matmul bound: "
           f"{res['matmul']['gflops_bound']} GFLOP/s (samples {res['matmul']['gflops_samples']}).", ""]
    for kind, title in (("mlp", "Chapter 07's MLP"), ("cnn", "Chapter 08's CNN")):
        r = res[kind]
        rows = [[side.replace("_", " "), r[side].get("config", f"{r['implementation']}, {r['numpy'].get('blas_threads')} BLAS thread(s)"),
                 f"{r[side]['samples_per_s_min']:,} / {r[side]['samples_per_s_median']:,} / {r[side]['samples_per_s_max']:,}",
                 f"{r[side]['samples_per_s_median'] * r['flops_per_sample'] / 1e9:.1f}",
                 f"{100 * r[side]['fraction_of_matmul']:.1f}%"] for side in SIDES]
        out += [f"## {title}, batch {r['batch']}", "", r["arch"] + ".", "",
                table(["side", "what", "samples/s (min / median / max)", "GFLOP/s", "share of matmul bound"], rows), ""]
        for k in ("keras_default", "keras_best"):
            sp = res["ratios"][f"{kind}_numpy_over_{k}_by_round"]
            out.append(f"- Keras {k.split('_')[1]} epoch time / NumPy epoch time, round by round: "
                       f"{', '.join(f'{v:.2f}' for v in r['rounds'][f'numpy_over_{k}'])} "
                       f"(min / median / max {sp['min']:.2f} / {sp['median']:.2f} / {sp['max']:.2f}; > 1: NumPy faster)")
        c = r["check"]
        out += [f"- check: NumPy gradients = GradientTape's to {c['max_abs_grad_diff']:.1e} (tolerance {c['tol']}); "
                f"Keras' steps_per_execution grid: "
                + ", ".join(f"{g['steps_per_execution']}: {g['samples_per_s']:,}" for g in r["keras_grid"]), ""]
    return "\n".join(out)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, help="training images (default 12800; 1024 with --quick)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 5; 2 with --quick)")
    ap.add_argument("--quick", action="store_true", help="a check of the machinery, not figures to quote")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--md", help="write the Markdown report here")
    args = ap.parse_args(argv)
    n, rounds = args.n or (1024 if args.quick else 12800), args.rounds or (2 if args.quick else 5)
    if n < 256 or rounds < 1:
        ap.error("need --n >= 256 and --rounds >= 1")
    result = run(n, rounds, spe_grid=(1, 64) if args.quick else (1, 16, 64, 256),
                 matmul_n=1024 if args.quick else 2048, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    md = to_markdown(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    if args.md:
        Path(args.md).write_text(md + "\n")
    print(md)
    return result


if __name__ == "__main__":
    main()
