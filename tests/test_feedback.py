"""The learner's feedback page: maths as MathML (offline, no CDN), test cells named by exercise."""
import re

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from dlcourse.course import ROOT
from dlcourse.feedback import MathToMathML, NameTestCells, markdown_to_mathml, template_config


def test_latex_becomes_mathml_and_code_is_left_alone():
    out = markdown_to_mathml("Inline $z = w x + b$, `cost = $5` in code, and\n\n$$\\sigma(z) = \\frac{1}{1 + e^{-z}}$$\n")
    assert out.count("<math") == 2 and 'display="block"' in out and 'display="inline"' in out
    assert "`cost = $5`" in out and "\\frac" not in out
    assert markdown_to_mathml("no maths, a price of 5$ only") == "no maths, a price of 5$ only"


def test_feedback_page_of_a_chapter_works_offline_and_names_exercises():
    nb = nbformat.read(ROOT / "solutions" / "01-neuron" / "01-neuron.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader["score"] = 0.0
    nb, _ = NameTestCells().preprocess(nb, {})
    nb, _ = MathToMathML().preprocess(nb, {})
    c = Config()
    template_config(c)
    body, _ = HTMLExporter(config=c).from_notebook_node(
        nb, resources={"nbgrader": {"notebook": "01-neuron", "score": 0, "max_score": 9, "late_penalty": 0}})
    assert "Test of <code>sigmoid</code>" in body and "Test of <code>softmax</code>" in body
    assert ">Test cell<" not in body
    assert not re.search(r"<script[^>]+mathjax", body, re.I), "the page still loads MathJax"
    assert "cdnjs" not in body.lower() and "mathjax.org" not in body.lower()
    assert body.count("<math") > 50
    text = re.sub(r"<[^>]+>", " ", body)
    assert not re.search(r"\$[^$\s][^$]*\\frac", text), "raw LaTeX left in the page"
