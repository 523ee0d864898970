"""A "Check my chapter" button in the notebook: the course's check, one line per exercise, in JupyterLab.

nbgrader's Validate dialog lists every failed test cell with its source, and the line that says what
is wrong comes after it, below the fold. The button runs ``python -m dlcourse check`` (the same as
``python3 course.py check NN``) on the notebook **as saved**, in a separate process and a fresh
kernel, and shows its summary under the button, first line first::

    1 of 6 exercises need work:
      - MLP: CheckFailed: dW of layer 1 (mean loss: (P - Y) / N; ...) got -0.937, expected -0.312
    Passed: one_hot, stratified_split, ...

The check reads the file, not this kernel, so unsaved edits are not in it: the button says when the
file was saved and warns when cells ran after that (save with Ctrl+S, then check again).
Nothing happens until the button is pressed, so grading and nbval, which never press it, run no check.
"""
from __future__ import annotations

import html
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .course import ROOT

LABEL = "Check my chapter"


def notebook_path() -> Path | None:
    """The notebook this kernel belongs to: Jupyter Server names it in ``JPY_SESSION_NAME`` (a path
    from the server's root); the kernel runs in the notebook's folder."""
    name = os.environ.get("JPY_SESSION_NAME", "")
    if name.endswith(".ipynb"):
        path = Path.cwd() / Path(name).name
        if path.is_file():
            return path
    found = sorted(Path.cwd().glob("[0-9][0-9]-*.ipynb"))
    found = [p for p in found if ".backup-" not in p.name]
    return found[0] if len(found) == 1 else None


def summary_lines(output: str) -> list[str]:
    """The check's summary: everything it printed after its "Checking ..." line."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("Checking ")]


def render(lines: list[str], note: str = "") -> str:
    if not lines:
        return f"<pre>{html.escape(note)}</pre>"
    first, rest = lines[0], lines[1:]
    body = "\n".join(html.escape(line) for line in rest)
    extra = f"\n\n{html.escape(note)}" if note else ""
    return (f'<pre class="dlcourse-check" style="white-space: pre-wrap; margin: 4px 0">'
            f"<b>{html.escape(first)}</b>\n{body}{extra}</pre>")


def run_check(path: Path, timeout: int = 900) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "dlcourse", "check", str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    lines = summary_lines(proc.stdout)
    if proc.returncode not in (0, 1) or not lines:
        lines += summary_lines(proc.stderr)[-5:] or [f"the check stopped (exit status {proc.returncode})"]
    return lines


def check_button(path: str | Path | None = None) -> None:
    """Show the button and, under it, the place where its summary appears. Returns None, so that a
    cell ending in ``check_button()`` shows the button once, not a second time as the cell's value."""
    import ipywidgets as widgets
    from IPython import get_ipython
    from IPython.display import display

    button = widgets.Button(description=LABEL, icon="check", button_style="primary",
                            tooltip="Runs this chapter's tests on the notebook as saved (save first: Ctrl+S)",
                            layout=widgets.Layout(width="auto"))
    result = widgets.HTML(value="")
    box = widgets.VBox([button, result])
    last_run = [time.time()]
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", lambda *_: last_run.__setitem__(0, time.time()))

    def work():
        try:
            check(Path(path) if path else notebook_path())
        finally:
            button.disabled = False

    def check(nb):
        if nb is None or not nb.is_file():
            result.value = render(["Could not tell which notebook this is."],
                                  "From a terminal in the course folder: python3 course.py check NN")
            return
        saved = nb.stat().st_mtime
        stale = last_run[0] > saved + 1
        result.value = render([f"Checking {nb.name} as saved at {time.strftime('%H:%M:%S', time.localtime(saved))} "
                               "... (a minute or two: it runs the whole notebook in a fresh kernel)"])
        try:
            lines = run_check(nb)
        except subprocess.TimeoutExpired:
            lines = ["The check took too long: is there an endless loop in one of your cells?"]
        note = ("You ran cells after the notebook was last saved: this checked the saved file. Save (Ctrl+S) "
                "and check again to include your latest changes.") if stale else ""
        result.value = render(lines, note)

    def on_click(_):
        button.disabled = True
        threading.Thread(target=work, daemon=True).start()

    button.on_click(on_click)
    display(box)
