"""Autograde a chapter's solution, its blank release and "one exercise wrong" submissions.

Used by tests/test_grading.py, and by hand while writing a chapter:
    python tests/gradecheck.py solutions/01-neuron/01-neuron.ipynb

Conventions it relies on (DESIGN.md's exercise contract): an exercise is a solution cell
with grade_id ``fn-<function>`` that defines ``<function>``, graded by the test cell(s)
whose grade_id is ``test-<function>`` (optionally ``test-<function>-<suffix>``).
"""
from __future__ import annotations

import copy
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dlcourse.course import make_course_copy, nbgrader  # noqa: E402

# Appended to one solution cell: every number the function returns is bent a little.
WRONG_WRAPPER = '''
def _dlcourse_make_wrong(f):
    import functools as _ft
    import numpy as _np
    def bend(v):
        if isinstance(v, (bool, _np.bool_)):
            return not v
        if isinstance(v, _np.ndarray):
            if _np.issubdtype(v.dtype, _np.floating):
                return v * 1.01 + 0.01
            if _np.issubdtype(v.dtype, _np.integer):
                return v + 1
            return v
        if isinstance(v, (float, _np.floating)):
            return v * 1.01 + 0.01
        if isinstance(v, (int, _np.integer)):
            return v + 1
        if isinstance(v, tuple):
            return tuple(bend(x) for x in v)
        if isinstance(v, list):
            return [bend(x) for x in v]
        if isinstance(v, dict):
            return {k: bend(x) for k, x in v.items()}
        return v
    if isinstance(f, type):
        # A class: a subclass whose public methods bend what they return and whose instances start
        # with bent public attributes (e.g. an MLP's params), so every test of the class sees wrong numbers.
        def bent_method(m):
            @_ft.wraps(m)
            def method(self, *args, **kwargs):
                return bend(m(self, *args, **kwargs))
            return method
        namespace = {}
        for attr_name in dir(f):
            attr = getattr(f, attr_name, None)
            if not attr_name.startswith("_") and callable(attr) and not isinstance(attr, type) \
                    and not isinstance(f.__dict__.get(attr_name), (staticmethod, classmethod)):
                namespace[attr_name] = bent_method(attr)
        def __init__(self, *args, **kwargs):
            f.__init__(self, *args, **kwargs)
            for key, value in list(vars(self).items()):
                if not key.startswith("_"):
                    try:
                        setattr(self, key, bend(value))
                    except Exception:
                        pass
        namespace["__init__"] = __init__
        namespace["__qualname__"] = f.__qualname__
        return type(f.__name__, (f,), namespace)
    @_ft.wraps(f)
    def wrong(*args, **kwargs):
        return bend(f(*args, **kwargs))
    return wrong
{name} = _dlcourse_make_wrong({name})
'''


def grade_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(nb) -> dict[str, dict]:
    """{function: {"cell": index, "tests": {grade_id: points}}} from the notebook's nbgrader metadata."""
    out: dict[str, dict] = {}
    for i, cell in enumerate(nb.cells):
        meta = grade_meta(cell)
        gid = meta.get("grade_id", "")
        if meta.get("solution") and gid.startswith("fn-"):
            out[gid[3:]] = {"cell": i, "tests": {}}
    for cell in nb.cells:
        meta = grade_meta(cell)
        gid = meta.get("grade_id", "")
        if meta.get("grade") and gid.startswith("test-"):
            name = gid[5:]
            owner = name if name in out else next((f for f in out if name.startswith(f + "-")), None)
            if owner is None:
                raise ValueError(f"test cell {gid} grades no exercise (no solution cell fn-{name}).")
            out[owner]["tests"][gid] = float(meta["points"])
    return out


def make_wrong(nb, function: str):
    """A copy of ``nb`` where only ``function`` returns slightly wrong numbers."""
    info = exercises(nb)[function]
    bad = copy.deepcopy(nb)
    cell = bad.cells[info["cell"]]
    cell.source = cell.source.rstrip() + "\n" + WRONG_WRAPPER.replace("{name}", function)
    return bad


def autograde(chapter: str, submissions: dict, workdir: Path, *, fast: bool = True,
              timeout: float = 1800) -> dict[str, dict[str, float]]:
    """Autograde ``{student: notebook}`` for one chapter in a throw-away course in ``workdir``.

    Returns ``{student: {grade_id: score}}`` read back from the gradebook.
    """
    from nbgrader.api import Gradebook

    course = make_course_copy(workdir, [chapter])
    db = f"sqlite:///{course / 'gradebook.db'}"
    env = {"DLCOURSE_GRADEBOOK": db, "DLCOURSE_FAST": "1" if fast else "0"}
    proc = nbgrader(["generate_assignment", chapter, "--force"], course, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for student, nb in submissions.items():
        dest = course / "submitted" / student / chapter
        dest.mkdir(parents=True)
        if nb == "release":
            shutil.copy2(course / "chapters" / chapter / f"{chapter}.ipynb", dest / f"{chapter}.ipynb")
        else:
            nbformat.write(nb, dest / f"{chapter}.ipynb")
    proc = nbgrader(["autograde", chapter, "--force"], course, env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(db, "numpy-to-keras") as gb:
        for student in submissions:
            sub = gb.find_submission_notebook(chapter, chapter, student)
            scores[student] = {g.name: float(g.score) for g in sub.grades}
    return scores


def main(path: str) -> int:
    nb_path = Path(path).resolve()
    chapter = nb_path.parent.name
    nb = nbformat.read(nb_path, as_version=4)
    ex = exercises(nb)
    total = sum(p for e in ex.values() for p in e["tests"].values())
    subs = {"solution": nb, "blank": "release"}
    subs.update({f"wrong-{fn}": make_wrong(nb, fn) for fn in ex})
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        scores = autograde(chapter, subs, Path(tmp))
    print(f"{chapter}: {len(ex)} exercises, {total:g} points, graded {len(subs)} submissions in {time.time() - t0:.0f} s")
    ok = True
    for student, got in scores.items():
        if student == "solution":
            expect = total
        elif student == "blank":
            expect = 0.0
        else:
            fn = student[len("wrong-"):]
            expect = total - sum(ex[fn]["tests"].values())
        s = sum(got.values())
        good = abs(s - expect) < 1e-9
        ok &= good
        print(f"  {'OK ' if good else 'BAD'} {student:30s} {s:g}/{total:g} (expected {expect:g}) {got if not good else ''}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
