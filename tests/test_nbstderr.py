"""A notebook cell that writes to stderr fails under nbval (tests/conftest.py): a learner sees it as a red box."""
from pathlib import Path

import nbformat

NOTEBOOK = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_code_cell("print('to stdout')"),
    nbformat.v4.new_code_cell("import sys\nprint('a notice', file=sys.stderr)"),
    nbformat.v4.new_code_cell("import warnings\nwith warnings.catch_warnings(record=True) as w:\n"
                              "    warnings.simplefilter('always')\n    warnings.warn('shown, not raised')\n"
                              "print(w[0].message)"),
])


def test_a_cell_that_writes_to_stderr_fails_and_the_others_pass(pytester, monkeypatch):
    conftest = Path(__file__).with_name("conftest.py")
    pytester.makeconftest(conftest.read_text())
    pytester.syspathinsert(Path(__file__).parent)
    nbformat.write(NOTEBOOK, pytester.path / "noisy.ipynb")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    result = pytester.runpytest_subprocess("--nbval-lax", "noisy.ipynb")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*this cell writes to stderr*", "*a notice*"])
