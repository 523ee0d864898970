"""End to end, as a learner meets the course: JupyterLab in a real browser, an answer typed into an
exercise cell, Run All, and nbgrader's **Validate** button.

The server runs on a throw-away copy of the student release, laid out like the repository (the
course's ``nbgrader_config.py`` at the top, the release in ``chapters/``) and started like
``python3 course.py lab`` starts it: lab root ``chapters/``, working directory the course folder.
That matters: nbgrader's validate server extension reads ``nbgrader_config.py`` from the server's
working directory (and Jupyter's config path), never from the lab root.

Cases: the demo chapter of ``tests/fixtures`` (always), and ``chapters/01-neuron`` once it is released.
The browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright. Without it the test
is skipped, unless ``DLCOURSE_REQUIRE_BROWSER`` is set (CI sets it): then it fails.

Screenshots go to the test's tmp folder and to ``.ci-artifacts/screenshots/``; the first-run
figures (server start to the first Keras cell finished) to ``.ci-artifacts/first-run.json``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import labserver
from dlcourse.course import ROOT, nbgrader
from labserver import Lab, stop_lab

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # the browser fixture skips (or, in CI, fails) with the reason
    sync_playwright, PlaywrightTimeout = None, TimeoutError

CHROMIUM = Path(os.environ.get("DLCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRE_BROWSER = os.environ.get("DLCOURSE_REQUIRE_BROWSER", "").strip() not in ("", "0")
ARTIFACTS = ROOT / ".ci-artifacts"
DEMO = "99-demo"
FIRST_CHAPTER = "01-neuron"
NO_CONFIG = "No nbgrader_config.py file found"
SUCCESS = "Success! Your notebook passes all the tests."

# Generous limits: the machine has 2 cores, and Validate runs the whole notebook in a new kernel.
SERVER_TIMEOUT_S = 120
RUN_ALL_TIMEOUT_S = 600
VALIDATE_TIMEOUT_S = 900


# --------------------------------------------------------------------------------------------
# What the learner does, per chapter: answer the first exercise right, then wrong, then all.
# --------------------------------------------------------------------------------------------

def strip_solution_markers(src: str) -> str:
    return "\n".join(line for line in src.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line) + "\n"


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@dataclass
class Case:
    chapter: str
    course: Path                     # a course folder: nbgrader_config.py + chapters/<chapter>/
    release: nbformat.NotebookNode   # the student release, as the learner opens it
    answers: dict[str, str]          # grade_id of every exercise -> a right answer (from solutions/)
    first: str = ""                  # the first exercise's grade_id (fn-...)

    def __post_init__(self):
        self.first = next(g for g in self.exercise_ids)

    @property
    def notebook(self) -> str:
        return f"{self.chapter}/{self.chapter}.ipynb"

    @property
    def exercise_ids(self) -> list[str]:
        return [g for g in (grade_id(c) for c in self.release.cells) if g and g.startswith("fn-")]

    def index_of(self, gid: str) -> int:
        return next(i for i, c in enumerate(self.release.cells) if grade_id(c) == gid)

    def test_source(self, gid: str) -> str:
        """The public test cell of exercise ``fn-NAME`` (``test-NAME``), as the release shows it."""
        tid = "test-" + gid[len("fn-"):]
        return next(c.source.strip() for c in self.release.cells if grade_id(c) == tid)

    def wrong_answer(self, gid: str) -> str:
        """The right answer, then the function rebound to be off by one: every value is wrong."""
        name = gid[len("fn-"):]
        return (self.answers[gid].rstrip() + "\n\n\n"
                f"_right_{name} = {name}\n\n\n"
                f"def {name}(*args, **kwargs):  # a wrong answer: off by one\n"
                f"    return _right_{name}(*args, **kwargs) + 1.0\n")

    @property
    def first_keras_cell(self) -> int:
        """Index of the first code cell that uses Keras; the first code cell if none does (the demo)."""
        code = [i for i, c in enumerate(self.release.cells) if c.cell_type == "code"]
        return next((i for i in code if "keras" in self.release.cells[i].source), code[0])


def answers_from(solution: nbformat.NotebookNode) -> dict[str, str]:
    return {grade_id(c): strip_solution_markers(c.source) for c in solution.cells
            if (grade_id(c) or "").startswith("fn-")}


def demo_case(tmp: Path) -> Case:
    """The demo chapter released exactly as tests/test_cli.py's `demo` fixture does it."""
    build = tmp / "build"
    build.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", build)
    shutil.copytree(ROOT / "tests" / "fixtures" / DEMO, build / "solutions" / DEMO)
    proc = nbgrader(["generate_assignment", DEMO], build)
    assert proc.returncode == 0, proc.stderr
    course = tmp / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(build / "chapters", course / "chapters")
    solution = nbformat.read(build / "solutions" / DEMO / f"{DEMO}.ipynb", as_version=4)
    release = nbformat.read(course / "chapters" / DEMO / f"{DEMO}.ipynb", as_version=4)
    return Case(DEMO, course, release, answers_from(solution))


def chapter_case(tmp: Path, chapter: str) -> Case:
    """A throw-away copy of the committed release (all of chapters/) and the course config."""
    course = tmp / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "chapters", course / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    solution = nbformat.read(ROOT / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)
    release = nbformat.read(course / "chapters" / chapter / f"{chapter}.ipynb", as_version=4)
    return Case(chapter, course, release, answers_from(solution))


def _released(chapter: str) -> bool:
    return ((ROOT / "chapters" / chapter / f"{chapter}.ipynb").is_file()
            and (ROOT / "solutions" / chapter / f"{chapter}.ipynb").is_file())


CASES = [
    pytest.param(DEMO, id=DEMO),
    pytest.param(FIRST_CHAPTER, id=FIRST_CHAPTER, marks=pytest.mark.skipif(
        not _released(FIRST_CHAPTER), reason=f"chapters/{FIRST_CHAPTER} is not released yet")),
]


# --------------------------------------------------------------------------------------------
# The browser and the server
# --------------------------------------------------------------------------------------------

def _no_browser(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason}, and DLCOURSE_REQUIRE_BROWSER is set (CI must test in a real browser).")
    pytest.skip(f"{reason} (install it with `apt-get install -y chromium`; "
                "set DLCOURSE_REQUIRE_BROWSER=1 to make this a failure)")


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium under Playwright; closed at the end whatever happens."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _no_browser(f"no Chromium at {CHROMIUM}")
    if sync_playwright is None:
        _no_browser("the playwright package is not installed")
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


def start_lab(course: Path, tmp: Path) -> Lab:
    """JupyterLab as `python3 course.py lab` starts it: root chapters/, cwd the course folder."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # as course.py
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.pop("DLCOURSE_FAST", None)  # a learner runs the notebooks in full mode
    return labserver.start_lab(sys.executable, course / "chapters", course, tmp, env, SERVER_TIMEOUT_S)


# --------------------------------------------------------------------------------------------
# The learner's hands
# --------------------------------------------------------------------------------------------

class Learner:
    def __init__(self, page, case: Case, shots: Path):
        self.page, self.case, self.shots = page, case, shots
        self.news_toast_seen = False
        self.n_shot = 0
        # JupyterLab's first start asks "get notified about official Jupyter news?" in a toast.
        self.toast_no = page.locator(".Toastify").get_by_role("button", name="No", exact=True)

    def dismiss_news(self):
        """Answer the news toast's question with No, if it is showing (called before each step;
        a Playwright locator handler clicking inside the toast re-triggers itself, so not that)."""
        if self.toast_no.count() and self.toast_no.first.is_visible():
            self.news_toast_seen = True
            self.toast_no.first.click()
            self.toast_no.first.wait_for(state="detached", timeout=10_000)

    def shot(self, name: str) -> Path:
        self.dismiss_news()
        self.n_shot += 1
        path = self.shots / f"{self.case.chapter}-{self.n_shot:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def cells(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def cell(self, index: int):
        return self.cells().nth(index)

    def open_notebook(self, lab: Lab):
        self.page.goto(f"{lab.url}/lab/tree/{self.case.notebook}?token={lab.token}")
        self.page.wait_for_function(
            "n => document.querySelectorAll('.jp-Notebook .jp-Cell').length === n",
            arg=len(self.case.release.cells), timeout=120_000, polling=100)

    def replace_cell_text(self, index: int, text: str):
        """Click into the cell's CodeMirror editor, select all, and insert the new text as typed input
        (no clipboard; inserted as one input event, so the editor does not auto-indent or auto-close)."""
        self.dismiss_news()
        editor = self.cell(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")  # back to command mode
        shown = editor.inner_text()
        assert _normalise(shown) == _normalise(text), f"the editor shows:\n{shown}\ninstead of:\n{text}"

    def wait_for_kernel(self):
        """Until the status bar says the notebook's kernel is idle ("Python 3 (ipykernel) | Idle")."""
        self.page.wait_for_function(
            """() => /\\|\\s*Idle/.test((document.querySelector('#jp-main-statusbar') || {}).textContent || '')""",
            timeout=RUN_ALL_TIMEOUT_S * 1000, polling=50)

    def run_all(self, timed_cell: int | None = None) -> dict:
        """Run > Run All Cells; wait until every queued cell is done and the kernel is idle.
        Returns the times (monotonic) when timed_cell finished and when the kernel went idle."""
        code_cells = [i for i, c in enumerate(self.case.release.cells) if c.cell_type == "code"]
        before = self.page.evaluate(
            """() => Math.max(0, ...[...document.querySelectorAll(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')].map(
                    p => Number((/\\[(\\d+)\\]/.exec(p.textContent) || [0, 0])[1])))""")
        started_js = """(before) => [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')].some(p => {
                const m = /\\[(\\d+|\\*)\\]/.exec(p.textContent);
                return m !== null && (m[1] === '*' || Number(m[1]) > before);
            })"""
        times = {}
        for attempt in range(1, 6):
            # A click can still be lost (menu shown before the notebook is the current widget, or the
            # kernel not yet connected); a learner clicks again. The attempts are recorded.
            self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
            item = self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]')
            item.wait_for(state="visible")
            times.setdefault("clicked", time.monotonic())
            if "lm-mod-disabled" in (item.get_attribute("class") or ""):
                self.page.keyboard.press("Escape")
            else:
                item.click()
                try:
                    self.page.wait_for_function(started_js, arg=before, timeout=5_000, polling=50)
                    break
                except PlaywrightTimeout:
                    pass
            self.page.wait_for_timeout(1000)
        else:
            raise AssertionError("Run > Run All Cells started nothing, five times")
        times["attempts"] = attempt
        self.dismiss_news()  # after the click: the toast (bottom right) never covers the menu
        first = code_cells[0]
        done_js = """([idx, before]) => {
            const cells = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
            const m = /\\[(\\d+)\\]/.exec(cells[idx].querySelector('.jp-InputPrompt').textContent);
            return m !== null && Number(m[1]) > before;
        }"""
        if timed_cell is not None:
            self.page.wait_for_function(done_js, arg=[timed_cell, before], timeout=RUN_ALL_TIMEOUT_S * 1000, polling=50)
            times["timed_cell_done"] = time.monotonic()
        self.page.wait_for_function(done_js, arg=[first, before], timeout=RUN_ALL_TIMEOUT_S * 1000, polling=100)
        self.page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const busy = [...panel.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
                const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                return !busy && ind !== null && ind.dataset.status === 'idle';
            }""", timeout=RUN_ALL_TIMEOUT_S * 1000, polling=200)
        times["idle"] = time.monotonic()
        return times

    def validate(self) -> tuple[str, list[str], float]:
        """Press nbgrader's Validate button; return the result dialog's text, its <pre> blocks and
        the seconds the learner waited for it."""
        button = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-item",
                                   has_text=re.compile(r"^Validat")).locator("jp-button")
        self.dismiss_news()
        button.click()
        t0 = time.monotonic()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(state="visible", timeout=VALIDATE_TIMEOUT_S * 1000)
        waited = time.monotonic() - t0
        title = dialog.locator(".jp-Dialog-header").inner_text().strip()
        body = dialog.locator(".jp-Dialog-body").inner_text()
        pres = [p.strip() for p in dialog.locator(".jp-Dialog-body pre").all_inner_texts()]
        assert title == "Validation Results", f"Validate said {title!r}:\n{body}"
        return body, pres, waited

    def show_in_dialog(self, text: str):
        """Scroll the result dialog so that the end of the <pre> holding ``text`` is in view."""
        self.page.locator(".jp-Dialog-body pre", has_text=text).first.evaluate(
            "pre => { pre.scrollTop = pre.scrollHeight; pre.scrollIntoView({block: 'end'}); }")

    def tab_is_dirty(self) -> bool:
        """Does the notebook's tab show unsaved changes (JupyterLab's jp-mod-dirty)?"""
        return self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() > 0

    def show_cell(self, index: int):
        self.cell(index).evaluate("cell => cell.scrollIntoView({block: 'center'})")

    def close_dialog(self):
        self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached", timeout=30_000)


def _normalise(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\u00a0", " ").splitlines() if line.strip()]


def _failed(pres: list[str]) -> dict[str, str]:
    """{source: error} of the cells nbgrader's result dialog lists as failed: each is shown as a
    <pre> with the cell's source, then a <pre> with its error (the traceback)."""
    return dict(zip(pres[0::2], pres[1::2]))


def _record_first_run(chapter: str, figures: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "first-run.json"
    try:
        data = json.loads(path.read_text())
        assert isinstance(data.get("chapters"), dict)
    except (OSError, ValueError, AssertionError):
        data = {"chapters": {}}
    data["description"] = ("Seconds a first-time learner waits: from starting JupyterLab (server process "
                           "start) until the chapter's first Keras cell has finished after Run All "
                           "(the demo chapter: its first code cell). Measured by tests/test_browser.py.")
    data["chapters"][chapter] = figures
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _publish_screenshots(shots: Path, chapter: str) -> list[Path]:
    out = ARTIFACTS / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{chapter}-*.png"):
        old.unlink()
    copied = []
    for png in sorted(shots.glob(f"{chapter}-*.png")):
        copied.append(Path(shutil.copy2(png, out / png.name)))
    return copied


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------

def test_validate_finds_the_course_config_in_the_servers_working_directory(tmp_path, monkeypatch):
    """The Validate button's server extension loads nbgrader_config.py from the server's cwd (and
    Jupyter's config path), not from the lab root: course.py lab runs from the course folder."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.server_extensions.validate_assignment.handlers import ValidateAssignmentHandler

    course = tmp_path / "course"
    (course / "chapters").mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    monkeypatch.chdir(course)
    config = ValidateAssignmentHandler.load_config(None)
    assert config.IgnorePattern.enabled is True and config.CourseDirectory.release_directory == "chapters"
    if not any(Path(p, "nbgrader_config.py").exists() for p in jupyter_config_path()):
        monkeypatch.chdir(course / "chapters")  # the lab root: not where nbgrader looks
        assert "IgnorePattern" not in ValidateAssignmentHandler.load_config(None)


@pytest.mark.parametrize("chapter", CASES)
def test_learner_answers_runs_all_and_validates_in_the_browser(chapter, browser, tmp_path):
    case = demo_case(tmp_path) if chapter == DEMO else chapter_case(tmp_path, chapter)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    first = case.first
    first_test = case.test_source(first)
    others = [g for g in case.exercise_ids if g != first]
    figures: dict = {}

    figures["loadavg_1min_before"] = round(os.getloadavg()[0], 2)  # the figures mean little on a busy machine
    lab = start_lab(case.course, tmp_path)
    context = None
    try:
        figures["server_ready_s"] = round(lab.ready - lab.started, 2)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        page = context.new_page()
        learner = Learner(page, case, shots)

        # 1. Open the chapter and Run All at once, as a first-time learner does; time the first Keras cell.
        learner.open_notebook(lab)
        figures["notebook_shown_s"] = round(time.monotonic() - lab.started, 2)
        # JupyterLab silently skips the cells of a Run All pressed before the notebook's kernel is
        # connected (tried: the first click is lost). So, like a learner who sees "Starting" in the
        # status bar, wait for "Idle" first.
        learner.wait_for_kernel()
        figures["kernel_idle_s"] = round(time.monotonic() - lab.started, 2)
        # An untouched chapter opens unmodified: closing it must not ask to save (the release carries
        # the kernel's full metadata, which JupyterLab would otherwise rewrite and mark as a change).
        page.wait_for_timeout(1500)
        assert not learner.tab_is_dirty(), "a freshly opened chapter is marked modified"
        learner.shot("opened-unmodified")
        keras_cell = case.first_keras_cell
        times = learner.run_all(timed_cell=keras_cell)
        figures["first_keras_cell_done_s"] = round(times["timed_cell_done"] - lab.started, 2)
        figures["run_all_clicked_s"] = round(times["clicked"] - lab.started, 2)
        figures["run_all_attempts"] = times["attempts"]
        figures["first_keras_cell_after_run_all_s"] = round(times["timed_cell_done"] - times["clicked"], 2)
        figures["run_all_until_idle_s"] = round(times["idle"] - times["clicked"], 2)
        lines = case.release.cells[keras_cell].source.splitlines()
        figures["first_keras_cell"] = {"index": keras_cell,
                                       "line": next((l for l in lines if re.match(r"\s*(import|from) keras", l)),
                                                    next((l for l in lines if "keras" in l), lines[0])).strip()}
        # The blank release stops at the first exercise's test cell, with NotImplementedError.
        first_test_cell = learner.cell(case.index_of("test-" + first[len("fn-"):]))
        blank_out = first_test_cell.locator(".jp-OutputArea").text_content()
        assert "NotImplementedError" in blank_out
        if chapter != DEMO:  # the stub names the exercise the learner has to write
            assert f"{first[len('fn-'):]} is not written yet" in blank_out, blank_out
        learner.show_cell(case.index_of("test-" + first[len("fn-"):]))
        learner.shot("run-all-blank")

        # 2. A right answer to the first exercise: Run All, Validate.
        learner.replace_cell_text(case.index_of(first), case.answers[first])
        learner.run_all()
        right_out = first_test_cell.locator(".jp-OutputArea").text_content()
        assert "Error" not in right_out
        if chapter != DEMO:  # a passing test says so
            assert re.search(rf"{first[len('fn-'):]}: all \d+ public checks passed", right_out), right_out
            learner.show_cell(case.index_of("test-" + first[len("fn-"):]))
            learner.shot("right-answer-pass-line")
        body, pres, waited = learner.validate()
        figures["validate_dialog_s"] = round(waited, 2)
        learner.shot("validate-right-answer")
        failed = _failed(pres)
        assert first_test not in failed, f"the answered exercise's test cell is listed as failing:\n{body}"
        assert SUCCESS not in body if others else SUCCESS in body
        if others:
            # The unanswered exercises still fail, each with its stub's NotImplementedError.
            assert "The following cell failed:" in body and "NotImplementedError" in body, body
            assert "NotImplementedError" in failed.get(case.test_source(others[0]), ""), body
            assert first_test not in body, body
        assert NO_CONFIG not in lab.log_text(), "Validate ran without the course's nbgrader_config.py"
        learner.close_dialog()

        # 3. A wrong answer: the dialog lists that exercise's test with the helper's message.
        learner.replace_cell_text(case.index_of(first), case.wrong_answer(first))
        learner.run_all()
        body, pres, _ = learner.validate()
        learner.show_in_dialog("CheckFailed:")  # the helper's message is the traceback's last line
        learner.shot("validate-wrong-answer")
        failed = _failed(pres)
        assert first_test in failed, body
        # The one useful line comes first: no traceback into course code, in the dialog or the notebook.
        error_lines = [line for line in failed[first_test].strip().splitlines() if line.strip()]
        assert error_lines[0].startswith("CheckFailed: "), failed[first_test]
        assert "dlcourse/testing.py" not in body and "_fail(" not in body, body
        wrong_out = first_test_cell.locator(".jp-OutputArea").text_content()
        assert "CheckFailed" in wrong_out and "dlcourse/testing.py" not in wrong_out, wrong_out
        message = " ".join(line.strip() for line in error_lines)
        # assert_array's "... is wrong at k of n entries ...", or assert_scalar's "... is 1.5, expected 0.5 ..."
        assert re.match(r"CheckFailed: .+ (is wrong at \d+ of \d+ entries|is \S+, expected)", message), failed[first_test]
        if chapter == DEMO:
            assert message.startswith("CheckFailed: f(x) is wrong at 3 of 3 entries; worst at index (0,): "
                                      "got 3, expected 2"), message
        figures["wrong_answer_message"] = message
        learner.close_dialog()

        # 4. Every exercise answered right: the learner sees nbgrader's success message.
        for gid in case.exercise_ids:
            learner.replace_cell_text(case.index_of(gid), case.answers[gid])
        learner.run_all()
        body, pres, waited_all = learner.validate()
        figures["validate_all_right_dialog_s"] = round(waited_all, 2)
        learner.shot("validate-all-right")
        assert SUCCESS in body and not pres, body
        learner.close_dialog()

        figures["news_toast_shown_and_dismissed"] = learner.news_toast_seen
    finally:
        if context is not None:
            context.close()
        stop_lab(lab)
        copied = _publish_screenshots(shots, case.chapter)
    assert lab.proc.poll() is not None

    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    figures["cpu_count"] = os.cpu_count()
    figures["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
    _record_first_run(case.chapter, figures)
    print(f"\n[first run] {case.chapter}: server answers after {figures['server_ready_s']} s, notebook shown after "
          f"{figures['notebook_shown_s']} s, first Keras cell ({figures['first_keras_cell']['line']!r}) done "
          f"{figures['first_keras_cell_done_s']} s after the server started "
          f"({figures['first_keras_cell_after_run_all_s']} s after Run All); Validate answered in "
          f"{figures['validate_dialog_s']} s. Screenshots: {', '.join(p.name for p in copied)}")


# --------------------------------------------------------------------------------------------
# Chapter 05 (a class among the exercises): the one-line stub error, and "Check my chapter"
# --------------------------------------------------------------------------------------------

CHECK_CHAPTER = "05-iris-mlp"


@pytest.mark.skipif(not _released(CHECK_CHAPTER), reason=f"chapters/{CHECK_CHAPTER} is not released yet")
def test_check_my_chapter_names_the_failing_exercise_first(browser, tmp_path):
    """Run All on the untouched chapter stops at a one-line message, not a traceback; then with two
    exercises right, one wrong and the rest unanswered, the learner saves, presses "Check my chapter"
    and the summary's first line is on screen without scrolling, followed by the wrong exercise's name."""
    case = chapter_case(tmp_path, CHECK_CHAPTER)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    ids = case.exercise_ids
    right, wrong = ids[:2], ids[2]
    lab = start_lab(case.course, tmp_path)
    context = None
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        page = context.new_page()
        learner = Learner(page, case, shots)
        learner.open_notebook(lab)
        learner.wait_for_kernel()

        # 1. Run All on the untouched chapter: the first test cell says, in one line, what to write.
        learner.run_all()
        first_test = case.index_of("test-" + ids[0][len("fn-"):])
        learner.show_cell(first_test)
        text = (learner.cell(first_test).locator(".jp-Cell-outputArea").text_content() or "").strip()
        name = ids[0][len("fn-"):]
        assert text.startswith(f"NotImplementedError: {name} is not written yet"), text
        assert len([line for line in text.splitlines() if line.strip()]) == 1, f"not one line:\n{text}"
        assert "Traceback" not in text and "Cell In[" not in text, text
        learner.show_cell(first_test)
        learner.shot("untouched-run-all-one-line")

        # 2. Two right, one wrong, the rest blank; save; press the button.
        for gid in right:
            learner.replace_cell_text(case.index_of(gid), case.answers[gid])
        learner.replace_cell_text(case.index_of(wrong), case.wrong_answer(wrong))
        page.keyboard.press("ControlOrMeta+s")
        page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                               timeout=30_000)
        button_cell = next(i for i, c in enumerate(case.release.cells)
                           if c.cell_type == "code" and "check_button()" in c.source)
        learner.show_cell(button_cell)
        learner.cell(button_cell).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")                     # run the cell: the button appears
        button = learner.cell(button_cell).get_by_role("button", name="Check my chapter")
        button.wait_for(state="visible", timeout=120_000)
        button.click()
        summary = learner.cell(button_cell).locator("pre.dlcourse-check")
        page.wait_for_function(
            """(i) => { const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[i];
                        const p = c && c.querySelector('pre.dlcourse-check');
                        return p !== null && !p.textContent.startsWith('Checking '); }""",
            arg=button_cell, timeout=VALIDATE_TIMEOUT_S * 1000, polling=500)
        lines = [line for line in summary.inner_text().splitlines() if line.strip()]
        n = len(ids) - len(right)
        assert lines[0] == f"{n} of {len(ids)} exercises need work:", lines
        assert lines[1].strip().startswith(f"- {wrong[len('fn-'):]}: "), lines
        assert any(line.startswith("Passed: ") and all(g[len("fn-"):] in line for g in right) for line in lines), lines
        box = summary.bounding_box()              # where it appeared: the learner did not scroll
        assert box is not None and 0 <= box["y"] and box["y"] + 40 <= page.viewport_size["height"], box
        learner.shot("check-my-chapter-summary")
    finally:
        if context is not None:
            context.close()
        stop_lab(lab)
        _publish_screenshots(shots, case.chapter)


SLIDER_CHAPTER = "10-optimizers"


@pytest.mark.skipif(not _released(SLIDER_CHAPTER), reason=f"chapters/{SLIDER_CHAPTER} is not released yet")
def test_the_momentum_sliders_first_figure_is_drawn(browser, tmp_path):
    """Chapter 10's sliders: after Run All (every exercise answered), the first render is one complete
    figure (the blank first render weighed 1,622 bytes), with no stray text line, and a slider redraws it."""
    case = chapter_case(tmp_path, SLIDER_CHAPTER)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    lab = start_lab(case.course, tmp_path)
    context = None
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        page = context.new_page()
        learner = Learner(page, case, shots)
        learner.open_notebook(lab)
        learner.wait_for_kernel()
        for gid in case.exercise_ids:
            learner.replace_cell_text(case.index_of(gid), case.answers[gid])
        learner.run_all()
        index = next(i for i, c in enumerate(case.release.cells) if c.get("id") == "momentum-slider")
        learner.show_cell(index)
        image = learner.cell(index).locator(".momentum-slider-output img")
        image.wait_for(state="visible", timeout=120_000)
        assert image.count() == 1, f"{image.count()} figures in the slider's output"
        first = image.get_attribute("src") or ""
        assert first.startswith("data:image/png;base64,") and len(first) > 10_000, \
            f"the first render is blank or missing ({len(first)} characters of PNG data)"
        natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural[0] > 300 and natural[1] > 150, natural
        text = learner.cell(index).locator(".jp-Cell-outputArea").text_content() or ""
        assert "<Figure" not in text and "None)" not in text, text
        learner.shot("momentum-slider-first-render")
        slider = learner.cell(index).locator(".momentum-slider .widget-slider").first
        slider.locator(".noUi-handle, .ui-slider-handle, [role=slider]").first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            """([i, before]) => { const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[i];
                                 const img = c && c.querySelector('.momentum-slider-output img');
                                 return img !== null && img.src.length > 10000 && img.src !== before; }""",
            arg=[index, first], timeout=60_000, polling=200)
        assert learner.cell(index).locator(".momentum-slider-output img").count() == 1
        learner.shot("momentum-slider-after-a-step")
    finally:
        if context is not None:
            context.close()
        stop_lab(lab)
        _publish_screenshots(shots, case.chapter)
