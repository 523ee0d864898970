"""The Chinese edition (中文版) in a real browser: JupyterLab opens ``zh/01-neuron/01-neuron.ipynb``
from the lab root ``chapters/`` unmodified, draws the Chinese text and maths, and nbgrader's
**Validate** runs its tests (the same test cells as the English chapter).

Uses the browser and server of ``tests/test_browser.py`` (skipped without Chromium unless
``DLCOURSE_REQUIRE_BROWSER`` is set). Screenshots go to ``.ci-artifacts/screenshots/zh-01-neuron-*.png``.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass

import nbformat
import pytest

from dlcourse.course import ROOT
from test_browser import (Case, Learner, _publish_screenshots, answers_from, browser,  # noqa: F401 - fixture
                          start_lab, stop_lab)

CHAPTER = "01-neuron"


@dataclass
class EditionCase(Case):
    lang: str = "zh"

    @property
    def notebook(self) -> str:
        cid = self.chapter.split("-", 1)[1]
        return f"{self.lang}/{cid}/{cid}.ipynb"


@pytest.mark.skipif(not (ROOT / "chapters" / "zh" / CHAPTER / f"{CHAPTER}.ipynb").is_file(),
                    reason="the Chinese edition of chapter 01 is not released")
def test_the_chinese_edition_opens_and_validates_in_the_browser(browser, tmp_path):  # noqa: F811
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "chapters", course / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.backup-*"))
    release = nbformat.read(course / "chapters" / "zh" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    case = EditionCase(f"zh-{CHAPTER}", course, release, answers_from(solution))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    lab = start_lab(course, tmp_path)
    context = None
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        context.set_default_timeout(60_000)
        page = context.new_page()
        learner = Learner(page, case, shots)
        learner.open_notebook(lab)
        learner.wait_for_kernel()
        page.wait_for_timeout(1500)
        assert not learner.tab_is_dirty(), "the Chinese chapter opens marked as modified"
        heading = learner.cell(0).locator(".jp-RenderedMarkdown h1").inner_text()
        assert "01 · 神经元" in heading, heading
        assert "激活函数" in learner.cell(0).inner_text()
        learner.shot("opened")

        # The first exercise, its test and its folded hints, in Chinese; the maths is typeset.
        first_hint = next(i for i, c in enumerate(release.cells) if "<summary>提示 1</summary>" in c.source)
        learner.show_cell(first_hint)
        learner.cell(first_hint).locator("summary", has_text="提示 1").click()
        page.wait_for_timeout(500)
        assert "点积" in learner.cell(first_hint).inner_text()
        section = next(i for i, c in enumerate(release.cells) if c.source.startswith("## 2."))
        learner.show_cell(section)
        page.wait_for_function(
            "i => document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('.MathJax, mjx-container') !== null",
            arg=section, timeout=60_000, polling=200)
        learner.shot("sigmoid-section-maths")

        # Validate runs the same tests: on the blank release every exercise is not written yet.
        body, pres, _ = learner.validate()
        learner.shot("validate-blank")
        assert "neuron_forward is not written yet" in body, body
        learner.close_dialog()
    finally:
        if context is not None:
            context.close()
        stop_lab(lab)
        copied = _publish_screenshots(shots, case.chapter)
    assert lab.proc.poll() is not None
    assert len(copied) == 3, copied
