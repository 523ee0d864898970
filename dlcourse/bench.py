"""``python -m dlcourse bench``: run every solution notebook in fast and full mode and measure it.

Per chapter and mode: wall time, CPU time of the kernel, peak resident memory of the kernel
(``VmHWM``: the kernel process itself, not the runner) and the chapter's headline figures
(recorded in the notebook with :func:`dlcourse.report.headline`). Notebooks run with nbclient,
one at a time, so the figures do not disturb each other. Writes ``bench-results/bench.json``
and ``bench-results/bench.md``.

It then runs ``benchmarks/throughput.py`` (NumPy vs Keras training throughput and the matmul
bound) in a subprocess of its own, so that TensorFlow's state and thread pools are not shared
with the notebooks' runner, and writes ``bench-results/throughput.{json,md}``.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from .course import ROOT, chapter_ids
from .report import headlines_of

BUDGET_MB = 1536


def _proc_status(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_notebook(path: Path, *, fast: bool, timeout: int = 1800) -> dict:
    """Execute one notebook in a fresh kernel and measure it."""
    import psutil
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    saved = os.environ.get("DLCOURSE_FAST")
    os.environ["DLCOURSE_FAST"] = "1" if fast else "0"
    stats: dict = {}

    def started(**_):
        pid = client.km.provisioner.process.pid
        stats["pid"] = pid
        stats["t0"] = time.monotonic()

    def finished(**_):  # after every cell: the last reading is the notebook's (VmHWM only grows)
        pid = stats.get("pid")
        stats["wall_s"] = time.monotonic() - stats["t0"]
        stats["peak_rss_mb"] = _proc_status(pid, "VmHWM")
        try:
            t = psutil.Process(pid).cpu_times()
            stats["cpu_s"] = t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            stats["cpu_s"] = None

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            on_notebook_start=started, on_cell_executed=finished)
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1][:300]
    finally:
        if saved is None:
            os.environ.pop("DLCOURSE_FAST", None)
        else:
            os.environ["DLCOURSE_FAST"] = saved
    return {"notebook": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "mode": "fast" if fast else "full", "ok": error is None, "error": error,
            "wall_s": round(stats.get("wall_s", float("nan")), 1),
            "cpu_s": round(stats["cpu_s"], 1) if stats.get("cpu_s") is not None else None,
            "peak_rss_mb": round(stats["peak_rss_mb"]) if stats.get("peak_rss_mb") else None,
            "headlines": headlines_of(nb)}


def machine() -> dict:
    import importlib.metadata as md

    versions = {}
    for pkg in ("numpy", "tensorflow-cpu", "keras", "nbgrader", "scikit-learn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return {"cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None, "versions": versions,
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def to_markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"Measured {m['when']} on {m['cores']} cores ({m['machine']}), Python {m['python']}, "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
             + f"; load average at start {m['load']:.2f}.", "",
             "| chapter | mode | wall (s) | kernel CPU (s) | kernel peak RSS (MB) | headline figures |",
             "|---|---|---:|---:|---:|---|"]
    for r in result["runs"]:
        figs = "; ".join(f"{k} = {v:.4g}" for k, v in r["headlines"].items()).replace("|", "\\|")
        status = "" if r["ok"] else f" **FAILED**: {r['error']}"
        lines.append(f"| {Path(r['notebook']).parent.name} | {r['mode']} | {r['wall_s']} | {r['cpu_s']} | "
                     f"{r['peak_rss_mb']} | {figs}{status} |")
    return "\n".join(lines) + "\n"


def bench(chapters: list[str] | None = None, modes=("fast", "full"), out: Path = ROOT / "bench-results",
          log=print) -> dict:
    chapters = chapters or chapter_ids()
    result = {"machine": machine(), "runs": []}
    for cid in chapters:
        for mode in modes:
            log(f"running {cid} in {mode} mode ...")
            r = run_notebook(ROOT / "solutions" / cid / f"{cid}.ipynb", fast=(mode == "fast"))
            log(f"  {r['wall_s']} s, kernel CPU {r['cpu_s']} s, peak {r['peak_rss_mb']} MB"
                + ("" if r["ok"] else f", FAILED: {r['error']}"))
            result["runs"].append(r)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1))
    (out / "bench.md").write_text(to_markdown(result))
    return result


THROUGHPUT = ROOT / "benchmarks" / "throughput.py"


def throughput(out: Path = ROOT / "bench-results", quick: bool = False, log=print) -> dict | None:
    """Run the NumPy-vs-Keras throughput benchmark; its progress goes to stderr as it runs.
    Returns its result dict, or None if it failed (the exit status is logged)."""
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "throughput.json", out / "throughput.md"
    cmd = [sys.executable, str(THROUGHPUT), "--json", str(js), "--md", str(md)] + (["--quick"] if quick else [])
    log("running the NumPy vs Keras throughput benchmark"
        + (" (quick: a check of the machinery, not figures to quote)" if quick else " (about 5 minutes)") + " ...")
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    if proc.returncode != 0 or not js.exists():
        log(f"  the throughput benchmark failed (exit status {proc.returncode}); its messages are above")
        return None
    return json.loads(js.read_text())
