"""The class report's parts that need no grading run: answers compared up to names and whitespace,
failure messages read from autograded notebooks, and a page that opens offline."""
import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from dlcourse.classreport import build_report, failure_messages, normalise_code, similar_pairs


def test_same_up_to_names_and_whitespace():
    a = "def relu(z):\n    # the max\n    return np.maximum(0, z)\n"
    b = "def relu(x):\n    return  np.maximum(0,\n x)  # mine\n"
    assert normalise_code(a) == normalise_code(b)
    assert normalise_code(a) != normalise_code("def relu(z):\n    return np.maximum(z, 0)\n")
    assert normalise_code(a) != normalise_code("def relu(z):\n    return np.fmax(0, z)\n")  # attribute names count


def test_pairs_skip_unanswered_cells_and_count_what_only_two_share():
    blank = {"fn-f": "def f(x):\n    raise NotImplementedError()\n", "fn-g": "def g(x):\n    raise NotImplementedError()\n",
             "fn-h": "def h(x):\n    raise NotImplementedError()\n"}
    answers = {
        "ann": {"fn-f": "def f(x):\n    return x + 1\n", "fn-g": "def g(y):\n    return y * 2\n", "fn-h": blank["fn-h"]},
        "ben": {"fn-f": "def f(t):  # copy\n    return t + 1\n", "fn-g": "def g(x):\n  return x*2\n", "fn-h": blank["fn-h"]},
        "cat": {"fn-f": "def f(x):\n    return x + 1\n", "fn-g": "def g(x):\n    return 2 * x\n", "fn-h": blank["fn-h"]},
    }
    pairs = similar_pairs(answers, blank)
    assert [(p["a"], p["b"]) for p in pairs] == [("ann", "ben")]  # the blank fn-h never counts
    assert pairs[0]["same"] == ["fn-f", "fn-g"] and pairs[0]["only_these_two"] == ["fn-g"]


def test_report_page():
    nb = new_notebook(cells=[new_code_cell("def f(x):\n    return x\n"), new_code_cell("assert f(1) == 2")])
    nb.cells[0].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "fn-f"}
    nb.cells[1].metadata["nbgrader"] = {"solution": False, "grade": True, "grade_id": "test-f", "points": 1}
    nb.cells[1].outputs = [new_output("error", ename="AssertionError", evalue="f(1) should be 2", traceback=[])]
    assert failure_messages(nb) == {"test-f": "AssertionError: f(1) should be 2"}
    page = build_report(__import__("pathlib").Path("/nonexistent"), "01-neuron", {"ann": {"test-f": 0.0}, "ben": {"test-f": 1.0}},
                        {"test-f": 1.0}, {"ben": {"status": "graded", "flags": ["test-f: an answer that is not plain data"]}},
                        ["test-f"])
    assert "data:image/png;base64," in page and "<script" not in page and "http" not in page
    assert "an answer that is not plain data" in page and "50%" in page
    nbformat.validate(nb)
