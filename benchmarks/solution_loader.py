"""Load what a chapter's solution notebook defines, so that benchmarks time the course's own code
(what the learner builds), not a second copy of it.

    from solution_loader import load_definitions
    ns = load_definitions("07-mnist-mlp")    # every import, function and class of the notebook

From every code cell (solution markers removed) only the top-level ``import``, ``def`` and
``class`` statements run: graded and given code alike, and no training, plotting or test code.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)
_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def definitions(cid: str) -> str:
    """The notebook's imports, functions and classes, in notebook order, as one module's source."""
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                        for line in _MARKERS.sub("", cell.source).splitlines())
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        lines = src.splitlines()
        for node in tree.body:
            if isinstance(node, _KEEP):   # from its first decorator, if any, to its last line
                start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
                parts.append("\n".join(lines[start - 1:node.end_lineno]))
    if not parts:
        raise RuntimeError(f"solutions/{cid}/{cid}.ipynb defines nothing")
    return "\n\n".join(p for p in parts if p)


def load_definitions(cid: str) -> dict:
    """Execute :func:`definitions` in a fresh namespace (with numpy as np) and return it."""
    import numpy as np

    ns = {"np": np, "__name__": f"solution_{cid.replace('-', '_')}"}
    exec(compile(definitions(cid), f"<solutions/{cid}>", "exec"), ns)
    return ns
