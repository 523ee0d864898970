"""Grading benchmark (issue: grading a class): time to grade N submissions of a chapter with
1 and with 2 workers, and the time per submission, in fast mode.

    python benchmarks/grading.py --chapter 01 --n 40 --workers 1 2 [--dask] [--json out.json]

Grading runs each submission's test cells in a trusted process beside its sandboxed kernel (both
on the worker, with ``--dask`` too). The submissions are copies of the chapter's solution notebook (each graded in full: the kernel
starts, the notebook runs top to bottom, the tests run), in a throw-away course folder.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dlcourse.course import make_course_copy, resolve_chapter  # noqa: E402
from dlcourse.grading import grade_chapter  # noqa: E402


def run(chapter: str, n: int, workers: int, dask: str | None = None) -> dict:
    os.environ.pop("DLCOURSE_GRADEBOOK", None)
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as tmp:
        root = make_course_copy(Path(tmp), [chapter])
        nb = nbformat.read(ROOT / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)
        for i in range(n):
            dest = root / "submitted" / f"learner{i:03d}" / chapter
            dest.mkdir(parents=True)
            nbformat.write(nb, dest / f"{chapter}.ipynb")
        t0 = time.monotonic()
        results = grade_chapter(root, chapter, workers=workers, dask=dask, log=lambda m: None)
        wall = time.monotonic() - t0
    per = sorted(r["seconds"] for r in results)
    bad = [r for r in results if r["status"] != "graded" or sum(r["scores"].values()) != sum(r["max_scores"].values())]
    return {"chapter": chapter, "submissions": n, "workers": workers, "dask": dask, "wall_s": round(wall, 1),
            "per_submission_median_s": per[len(per) // 2], "throughput_per_min": round(60 * n / wall, 2),
            "not_full_marks": len(bad), "load_before": os.getloadavg()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chapter", default="01")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dask", nargs="?", const="local", default=None,
                    help="grade on Dask (a local cluster, or the scheduler address given)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    chapter = resolve_chapter(args.chapter)
    out = [run(chapter, args.n, w, args.dask) for w in args.workers]
    for r in out:
        print(json.dumps(r))
    if len(out) >= 2:
        print(f"speed-up {out[0]['workers']} -> {out[-1]['workers']} workers: {out[0]['wall_s'] / out[-1]['wall_s']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
