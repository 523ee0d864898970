"""Load a chapter's reference solution from its solution notebook, so that benchmarks time the
course's own code (what the learner builds), not a second copy of it.

    from solution_loader import load_solution
    ns = load_solution("07-mnist-mlp")          # every fn-<name> cell, in notebook order
    ns = load_solution("07-mnist-mlp", extra=["given-mlp"])  # also cells with these nbgrader grade ids
                                                 # or whose first line is `# bench: <tag>`
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


def solution_cells(cid: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Sources of the chapter's graded solution cells (and of the cells named in ``extra``)."""
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        first = cell.source.splitlines()[0].strip() if cell.source else ""
        tag = first[len("# bench:"):].strip() if first.startswith("# bench:") else None
        if (gid.startswith("fn-") and cell.metadata["nbgrader"].get("solution")) or gid in extra or tag in extra:
            out.append(_MARKERS.sub("", cell.source))
    if not out:
        raise RuntimeError(f"no solution cells found in solutions/{cid}/{cid}.ipynb")
    return out


def load_solution(cid: str, extra: list[str] | tuple[str, ...] = (), namespace: dict | None = None) -> dict:
    """Execute the chapter's solution cells in a fresh namespace (with numpy as np) and return it."""
    import numpy as np

    ns = {"np": np, "__name__": f"solution_{cid.replace('-', '_')}"} if namespace is None else namespace
    for src in solution_cells(cid, extra):
        exec(compile(src, f"<{cid} solution>", "exec"), ns)
    return ns
