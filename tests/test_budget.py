"""The memory budget is enforced: a notebook whose kernel goes past it fails (tests/nbbudget.py)."""
from pathlib import Path

import nbformat

NOTEBOOK = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_code_cell("import numpy as np\nbig = np.ones(300 * 2**20 // 8)  # 300 MB, touched"),
    nbformat.v4.new_code_cell("del big\nprint('done')"),
])


def _run(pytester):
    pytester.syspathinsert(Path(__file__).parent)
    nbformat.write(NOTEBOOK, pytester.path / "hungry.ipynb")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester.runpytest_subprocess("-p", "nbbudget", "--nbval-lax", "hungry.ipynb")


def test_a_notebook_over_budget_fails(pytester, monkeypatch):
    monkeypatch.setenv("DLCOURSE_MEMORY_BUDGET_MB", "200")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*peak resident memory was * MB, over the budget of 200 MB*"])


def test_the_same_notebook_within_budget_passes(pytester, monkeypatch):
    monkeypatch.setenv("DLCOURSE_MEMORY_BUDGET_MB", "1536")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    _run(pytester).assert_outcomes(passed=2)
