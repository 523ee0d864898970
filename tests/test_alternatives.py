"""Hidden tests accept every correct answer and reject typical wrong ones (tests/alternatives/).

For each chapter, each exercise's test cells (public and hidden) run in a plain namespace, as grading
runs them outside the learner's kernel: ``dlcourse.testing.test_namespace()`` plus the contract names,
defined by the reference solution cells, with one exercise's cell replaced by an alternative correct
answer (it must pass every test cell) or by a typical mistake (it must fail at least one, with a
message). No kernel, no TensorFlow: the test cells may use nothing else.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import warnings

import nbformat
import pytest

from dlcourse.course import ROOT, chapter_ids
from dlcourse.testing import test_namespace as trusted_namespace
from gradecheck import exercises

ALT_DIR = ROOT / "tests" / "alternatives"
SOLUTION = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


def _module(cid: str):
    path = ALT_DIR / f"{cid}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"alternatives_{cid.replace('-', '_')}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_alternatives(cid: str):
    """(ALTERNATIVES, MISTAKES) of a chapter, or None when it has no file yet."""
    mod = _module(cid)
    if mod is None:
        return None
    return getattr(mod, "ALTERNATIVES", {}), getattr(mod, "MISTAKES", {})


def solution_source(cell_source: str) -> str:
    return SOLUTION.sub("", cell_source)


def _chapter(cid):
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    return nb, exercises(nb)


def namespace_with(nb, ex, replace_fn: str, source: str) -> dict:
    """The contract names as the reference defines them, with ``replace_fn``'s cell replaced."""
    ns = trusted_namespace()
    ns["__name__"] = "__main__"
    with contextlib.redirect_stdout(io.StringIO()):
        for fn, info in sorted(ex.items(), key=lambda kv: kv[1]["cell"]):
            code = source if fn == replace_fn else solution_source(nb.cells[info["cell"]].source)
            exec(compile(code, f"<{fn} cell>", "exec"), ns)
    return ns


def run_tests(nb, ex, fn, ns) -> list[tuple[str, BaseException | None]]:
    """Run each test cell of ``fn`` in a copy of ``ns``; [(grade_id, exception or None)]."""
    out = []
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for gid in ex[fn]["tests"]:
        cell_ns = dict(ns)
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("error")  # a warning on stderr costs points under nbgrader
                exec(compile(cells[gid].source, f"<{gid}>", "exec"), cell_ns)
            out.append((gid, None))
        except Exception as exc:  # noqa: BLE001 - every failure is a lost test cell
            out.append((gid, exc))
    return out


CHAPTERS = [cid for cid in chapter_ids() if load_alternatives(cid) is not None]
ALT_CASES, MISTAKE_CASES = [], []
for _cid in CHAPTERS:
    _alts, _mistakes = load_alternatives(_cid)
    for _fn, _srcs in _alts.items():
        ALT_CASES += [(_cid, _fn, i) for i in range(len(_srcs))]
    for _fn, _by_name in _mistakes.items():
        MISTAKE_CASES += [(_cid, _fn, name) for name in _by_name]


def test_every_chapter_has_alternatives():
    missing = [cid for cid in chapter_ids() if load_alternatives(cid) is None]
    assert not missing, f"no tests/alternatives/<chapter>.py for: {missing} (see tests/alternatives/README.md)"


@pytest.mark.parametrize("cid", CHAPTERS)
def test_every_exercise_has_an_alternative_and_mistakes(cid):
    alts, mistakes = load_alternatives(cid)
    _, ex = _chapter(cid)
    assert not set(alts) - set(ex), f"{cid}: alternatives for unknown exercises {sorted(set(alts) - set(ex))}"
    assert not set(mistakes) - set(ex), f"{cid}: mistakes for unknown exercises {sorted(set(mistakes) - set(ex))}"
    no_alt = sorted(fn for fn in ex if not alts.get(fn))
    assert not no_alt, f"{cid}: exercises without an alternative correct answer: {no_alt}"
    few = sorted(fn for fn in ex if len(mistakes.get(fn, {})) < 2)
    assert not few, f"{cid}: exercises with fewer than two typical mistakes: {few}"


def test_the_reference_passes_its_own_tests():
    for cid in CHAPTERS:
        nb, ex = _chapter(cid)
        for fn, info in ex.items():
            src = solution_source(nb.cells[info["cell"]].source)
            failed = [(g, e) for g, e in run_tests(nb, ex, fn, namespace_with(nb, ex, fn, src)) if e]
            assert not failed, f"{cid}: the reference {fn} fails {failed[0][0]} outside the kernel: {failed[0][1]!r}"


@pytest.mark.parametrize("cid, fn, i", ALT_CASES, ids=[f"{c}:{f}:{i}" for c, f, i in ALT_CASES])
def test_an_alternative_correct_answer_gets_full_marks(cid, fn, i):
    nb, ex = _chapter(cid)
    src = load_alternatives(cid)[0][fn][i]
    failed = [(g, e) for g, e in run_tests(nb, ex, fn, namespace_with(nb, ex, fn, src)) if e]
    assert not failed, (f"{cid}: a correct {fn} (alternative {i}) loses {failed[0][0]}: "
                        f"{failed[0][1].__class__.__name__}: {failed[0][1]}")


@pytest.mark.parametrize("cid, fn, name", MISTAKE_CASES, ids=[f"{c}:{f}:{n}" for c, f, n in MISTAKE_CASES])
def test_a_typical_mistake_loses_its_points(cid, fn, name):
    nb, ex = _chapter(cid)
    src = load_alternatives(cid)[1][fn][name]
    results = run_tests(nb, ex, fn, namespace_with(nb, ex, fn, src))
    errors = [e for _, e in results if e is not None]
    assert errors, f"{cid}: the mistake '{name}' in {fn} passes every test cell"
    bad = [e for e in errors if isinstance(e, (NameError, SyntaxError))]
    assert not bad, f"{cid}: the mistake '{name}' in {fn} fails through a broken test ({bad[0]!r}), not a check"


@pytest.mark.parametrize("cid", [c for c in CHAPTERS if hasattr(_module(c), "extra_checks")])
def test_chapter_specific_checks(cid):
    """A chapter's own checks beyond the plain namespace (e.g. 04's hashed autotests in the release)."""
    problems = _module(cid).extra_checks(ROOT)
    assert problems == [], f"{cid}: " + "; ".join(problems)
