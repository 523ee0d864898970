"""The learner's feedback page (nbgrader's ``generate_feedback``), readable offline.

- :class:`MathToMathML` turns the LaTeX in markdown cells (``$...$`` and ``$$...$$``) into MathML,
  which browsers draw without any script: nbgrader's page otherwise loads MathJax from a CDN and,
  offline, shows raw LaTeX. A formula the converter cannot read stays as LaTeX in ``<code>``.
- :class:`NameTestCells` records which exercise each test cell grades, for the course's feedback
  template (``dlcourse/templates/dlcourse-feedback``), which shows "Test of `sigmoid`" where
  nbgrader's shows "Test cell", and the learner's edition (English or 中文, :func:`dlcourse.i18n.edition_of`),
  in which the template writes its own labels ("Score" / "得分", ...).

``FEEDBACK_CONFIG`` is what a course folder's ``nbgrader_config.py`` adds to use both.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "dlcourse-feedback"

# Code (fenced or inline) is left alone; then $$display$$ before $inline$ (not \$, not $ followed by a space).
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\$)")


def _mathml(tex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    try:
        out = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any formula the converter cannot read stays readable as LaTeX
        return f"<code>{html.escape(tex.strip())}</code>"
    return out


def markdown_to_mathml(text: str) -> str:
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code
        part = _DISPLAY.sub(lambda m: "\n\n" + _mathml(m.group(1), True) + "\n\n", parts[i])
        parts[i] = _INLINE.sub(lambda m: _mathml(m.group(1), False), part)
    return "".join(parts)


class MathToMathML(NbGraderPreprocessor):
    """Feedback step: LaTeX in markdown cells becomes MathML (no MathJax needed, works offline)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = markdown_to_mathml(cell.source)
        return cell, resources


class NameTestCells(NbGraderPreprocessor):
    """Feedback step: record the exercise each test cell grades (``test-<exercise>[-suffix]``)."""

    def preprocess(self, nb, resources):
        exercises = [c.metadata["nbgrader"]["grade_id"][3:] for c in nb.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("fn-")]
        from .i18n import edition_of

        lang = edition_of(nb)  # the feedback page's own labels follow the learner's edition
        nb.metadata["dlcourse_lang"] = lang
        for cell in nb.cells:
            cell.metadata["dlcourse_lang"] = lang
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            if gid.startswith("test-"):
                name = gid[5:]
                owner = max((e for e in exercises if name == e or name.startswith(e + "-")), key=len, default=name)
                cell.metadata["dlcourse_exercise"] = owner
        return nb, resources


def template_config(c) -> None:
    """Point nbgrader's feedback exporter at the course's template (and nbgrader's own, which it extends)."""
    import nbgrader

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c.HTMLExporter.template_name = TEMPLATE_NAME
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(formgrader / "templates")]
    # nbgrader's GenerateFeedback sets this itself; repeated so that the template renders outside it too
    c.HTMLExporter.extra_template_paths = [str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
