"""Grading a class: nbgrader's autograde, one submission at a time in a sandbox, many at once.

The instructor's command is ``python -m dlcourse grade CHAPTER`` (see :func:`grade_chapter`).
Each submission is graded by :func:`grade_one` in its own throw-away nbgrader course folder:
nbgrader's own autograde and feedback steps, with :class:`SafeExecute` as the execute step (test
cells run in a trusted process, :mod:`dlcourse.trusted`, never in the learner's kernel) and the
kernel started by :mod:`dlcourse.sandbox`. Workers never touch the instructor's
gradebook: they return scores, and the coordinating process alone writes them, one submission
per transaction, so parallel workers cannot lock or corrupt it. A journal of what was graded
(with each submission's sha256) makes a re-run skip what is done and resume after a crash.
"""
from __future__ import annotations

import asyncio
import copy
import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import tempfile
import time
import warnings
from pathlib import Path
from queue import Empty

import nbformat
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from . import sandbox
from .course import COURSE_ID, CourseError, make_course_copy, nbgrader
from .classreport import report_path
from .kernelside import MIME as REPLY_MIME

# nbgrader's Gradebook shells out to `alembic`, which lives next to this Python.
if str(Path(sys.executable).parent) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

RESULT_KEYS = ("student", "chapter", "status", "message", "scores", "max_scores", "flags", "sha256", "seconds")


# ---------------------------------------------------------------- preprocessors
class TrustedProcess:
    """The trusted test runner (``python -m dlcourse.trusted``) of one submission, over two pipes."""

    def __init__(self, log_path: str | None = None):
        import queue

        self.log_path = log_path
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        self.proc = subprocess.Popen([sys.executable, "-m", "dlcourse.trusted"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, env=env,
                                     cwd=tempfile.gettempdir(), start_new_session=True)
        self.lines: "queue.Queue[bytes | None]" = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self.get(60)
        if not ready or ready.get("op") != "ready":
            raise RuntimeError("the trusted test runner (python -m dlcourse.trusted) did not start" + self.stderr_tail())

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, msg: dict) -> None:
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def get(self, timeout: float):
        """The next message, None after ``timeout`` seconds; raises if the process died."""
        try:
            line = self.lines.get(timeout=max(0.01, timeout))
        except Empty:
            return None
        if line is None:
            raise RuntimeError("the trusted test runner (python -m dlcourse.trusted) stopped" + self.stderr_tail())
        return json.loads(line)

    def stderr_tail(self) -> str:
        if not self.log_path:
            return ""
        try:
            tail = Path(self.log_path).read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            return ""
        return (": " + " | ".join(tail))[:600] if tail else ""

    def close(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except Exception:  # noqa: BLE001
            pass
        if self._log is not subprocess.DEVNULL:
            self._log.close()


def is_test_cell(cell) -> bool:
    """A graded test cell: it runs in the trusted process, not in the learner's kernel."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def contract_names(nb) -> list[str]:
    """The chapter's contract: ``<name>`` of each solution cell whose grade id is ``fn-<name>``."""
    out = []
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if utils.is_solution(cell) and gid.startswith("fn-") and gid[3:].isidentifier():
            out.append(gid[3:])
    return out


class SafeExecute(Execute):
    """nbgrader's Execute, made to survive the submission it runs, with test cells run outside it.

    - Test cells (graded, not solution) are never sent to the learner's kernel: their source runs in
      a trusted process (:mod:`dlcourse.trusted`), whose proxies for the contract names reach the
      learner's objects through one ``execute_request`` per operation, relayed by this class within
      the cell's time limit. The trusted run's stdout, stderr and error become the cell's outputs.
    - A cell that kills the kernel (``os._exit``, a segfault, running out of memory, ignoring an
      interrupt after its time limit) is replaced by ``raise RuntimeError(...)`` and the notebook
      is run again from the top: only that cell, and what depends on it, scores 0.
    - A cell past its time limit is interrupted; if it ignores the interrupt for ``interrupt_grace``
      seconds, the kernel is killed and the rule above applies.
    - Output beyond ``output_limit`` bytes per cell is dropped (a flood cannot fill the grader's memory).
    - After each run every process the kernel left behind is killed.
    """

    max_restarts = Integer(4, help="kernel deaths tolerated per notebook").tag(config=True)
    interrupt_grace = Integer(10, help="seconds a timed-out cell gets to stop after the interrupt").tag(config=True)
    output_limit = Integer(2_000_000, help="bytes of output kept per cell").tag(config=True)
    sandbox_uid = Integer(-1, help="uid the sandboxed kernel runs as (-1: none)").tag(config=True)
    reply_limit = Integer(64 * 2**20, help="bytes of one answer of the learner's kernel to a proxy").tag(config=True)
    trusted_log = Unicode("", help="file for the trusted test runner's stderr").tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_cell_execute = self._track_cell
        self._cell_index = None
        self._why = None
        self._out_bytes: dict[int, int] = {}
        self._trusted: TrustedProcess | None = None
        self._contract: list[str] = []
        self._flags: list[str] = []

    def _track_cell(self, cell, cell_index, **kwargs):
        self._cell_index = cell_index

    def preprocess(self, nb, resources=None, km=None):
        original = copy.deepcopy(nb)
        self._contract = contract_names(nb)
        killers: dict[int, str] = {}
        out = None
        for _attempt in range(self.max_restarts + 1):
            work = copy.deepcopy(original)
            for idx, why in killers.items():
                work.cells[idx].source = f"raise RuntimeError({why!r})"
            self._cell_index, self._why, self._out_bytes, self._flags = None, None, {}, []
            try:
                out, resources = super().preprocess(work, resources, km)
                break
            except DeadKernelError:
                idx = self._cell_index
                if idx is None or idx in killers:
                    raise
                why = self._why or "stopped the kernel (it exited, crashed or ran out of memory)"
                killers[idx] = f"grading: this cell {why}; it scores 0 and the notebook was run again without it"
                self.log.warning("cell %s %s; running the notebook again without it", idx, why)
            finally:
                self._cleanup_processes()
                if self._trusted is not None:
                    self._trusted.close()
                    self._trusted = None
        else:
            raise DeadKernelError(f"the kernel died {self.max_restarts + 1} times; giving up on this notebook")
        for idx in killers:
            out.cells[idx].source = original.cells[idx].source
        out.metadata["dlcourse"] = {"flags": list(self._flags)}
        return out, resources

    # ------------------------------------------------------------ test cells, in the trusted process
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if not is_test_cell(cell) or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        self._cell_index = cell_index
        timeout = self._get_timeout(cell) or 300
        deadline = time.monotonic() + timeout
        if self._trusted is None:
            self._trusted = TrustedProcess(self.trusted_log or None)
        tp = self._trusted
        gid = cell.metadata["nbgrader"]["grade_id"]
        tp.send({"op": "cell", "source": cell.source, "gid": gid, "contract": self._contract})
        outputs = None
        while outputs is None:
            msg = tp.get(deadline + 5 - time.monotonic())
            if msg is None:  # the test's own code ran past the limit (no learner call was pending)
                tp.close()
                self._trusted = None
                note = f"this test cell ran longer than the {timeout} s limit and was stopped"
                outputs = [{"output_type": "error", "ename": "CellTimeoutError", "evalue": note,
                            "traceback": [f"CellTimeoutError: {note}"]}]
            elif msg.get("op") == "kernel":
                tp.send(await self._kernel_request(msg["code"], deadline, timeout))
            elif msg.get("op") == "done":
                outputs = msg.get("outputs", [])
                for flag in msg.get("flags", []):
                    line = f"{gid}: {flag}"
                    if line not in self._flags:
                        self._flags.append(line)
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        cell["execution_count"] = execution_count
        return cell

    execute_cell = run_sync(async_execute_cell)  # nbclient binds the sync name to its own function

    async def _kernel_request(self, code: str, deadline: float, timeout: int) -> dict:
        """Run one proxy request in the learner's kernel; its answer, relayed as untrusted text."""
        msg_id = await ensure_async(self.kc.execute(code, silent=True, store_history=False,
                                                    allow_stdin=False, stop_on_error=False))
        data, streams, kept, too_large = None, [], 0, False
        interrupted = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not interrupted:
                self.log.error("a test cell's call into the learner's code ran past the %s s limit: interrupting", timeout)
                await ensure_async(self.km.interrupt_kernel())
                interrupted, deadline = True, time.monotonic() + self.interrupt_grace
                continue
            if remaining <= 0:
                self._why = f"ran longer than the {timeout} s limit and ignored the interrupt (in a test's call)"
                self._kill_kernel()
                await asyncio.sleep(0.5)
                raise DeadKernelError("killed after ignoring the interrupt")
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=min(1.0, remaining)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    self._why = "stopped the kernel (it exited, crashed or ran out of memory) during a test's call"
                    raise DeadKernelError("the kernel died during a test's call") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg.get("msg_type"), msg.get("content", {})
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "stream" and kept < self.output_limit:
                text = str(content.get("text", ""))[: self.output_limit - kept]
                kept += len(text)
                streams.append([content.get("name", "stdout"), text])
            elif kind in ("display_data", "execute_result") and REPLY_MIME in content.get("data", {}):
                raw = content["data"][REPLY_MIME]
                if not isinstance(raw, str) or len(raw) > self.reply_limit:
                    data, too_large = None, True
                else:
                    data, too_large = raw, False
        try:  # the shell reply of this request, so that it does not linger
            await ensure_async(self.kc.shell_channel.get_msg(timeout=1))
        except Empty:
            pass
        if interrupted:
            return {"status": "timeout", "streams": streams,
                    "message": f"the learner's code did not answer within the cell's {timeout} s limit and was interrupted"}
        if too_large:
            return {"status": "toolarge", "streams": streams,
                    "message": f"an answer larger than {self.reply_limit} bytes"}
        return {"status": "ok" if data is not None else "noreply", "data": data, "streams": streams}

    def _kill_kernel(self):
        pid = self._kernel_pid()
        if self.sandbox_uid >= 0:
            sandbox.kill_uid(self.sandbox_uid)
        elif pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass

    def _kernel_pid(self):
        prov = getattr(getattr(self, "km", None), "provisioner", None)
        proc = getattr(prov, "process", None)
        return getattr(proc, "pid", None)

    def _cleanup_processes(self):
        if self.sandbox_uid >= 0:
            sandbox.kill_uid(self.sandbox_uid)

    async def _async_handle_timeout(self, timeout, cell=None):
        self.log.error("cell ran past its %s s limit: interrupting", timeout)
        await ensure_async(self.km.interrupt_kernel())
        deadline = time.monotonic() + self.interrupt_grace
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=max(0.1, deadline - time.monotonic())))
            except Empty:
                break
            if msg.get("msg_type") == "execute_reply":
                note = f"this cell ran longer than the {timeout} s limit and was interrupted"
                return {"content": {"status": "error", "ename": "CellTimeoutError", "evalue": note,
                                    "traceback": [f"CellTimeoutError: {note}"]}}
        self._why = f"ran longer than the {timeout} s limit and ignored the interrupt"
        self._kill_kernel()
        await asyncio.sleep(0.5)
        raise DeadKernelError("killed after ignoring the interrupt")

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        used = self._out_bytes.get(cell_index, 0)
        self._out_bytes[cell_index] = used + size
        text = content.get("text", "")
        if used + size > self.output_limit and "DLCOURSE-" not in text:
            if used <= self.output_limit:
                outs.append(new_output("stream", name="stderr",
                                       text=f"[grading: output beyond {self.output_limit} bytes was dropped]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


class CleanFeedback(NbGraderPreprocessor):
    """Feedback step: no hidden test may reach the learner, not even in a traceback.

    Hidden-test regions are cut from test cells' source, and the error output of a test cell that
    has hidden tests keeps only its last line (the assertion's message, which says what is wrong).
    """

    begin = "### BEGIN HIDDEN TESTS"
    end = "### END HIDDEN TESTS"

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        lines, hidden = [], False
        for line in cell.source.splitlines():
            if self.begin in line:
                hidden = True
            elif self.end in line:
                hidden = False
            elif not hidden:
                lines.append(line)
        cell.source = "\n".join(lines)
        for out in cell.get("outputs", []):  # tracebacks of test cells show test code: keep the message only
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources


# ---------------------------------------------------------------- one submission
GRADING_CONFIG = """
# --- added by dlcourse.grading for one sandboxed submission ---
from nbgrader.preprocessors import (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
    CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades, AssignLatePenalties, GetGrades)
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from dlcourse.grading import SafeExecute, CleanFeedback
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                      CheckCellMetadata]
c.Autograde.autograde_preprocessors = [SafeExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
from dlcourse.feedback import MathToMathML, NameTestCells, template_config
c.GenerateFeedback.preprocessors = [GetGrades, CleanFeedback, NameTestCells, MathToMathML, CSSHTMLHeaderPreprocessor]
template_config(c)  # the course's feedback page: exercises named, maths as MathML (works offline)
c.SafeExecute.kernel_name = "dlcourse-grader"
c.SafeExecute.timeout = {timeout}
c.SafeExecute.sandbox_uid = {uid}
c.SafeExecute.allow_errors = True
c.SafeExecute.trusted_log = {trusted_log!r}
"""


def sha256_of(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _result(job, status, message="", scores=None, max_scores=None, flags=(), seconds=0.0, fault=None, cause=None):
    out = {"student": job["student"], "chapter": job["chapter"], "status": status, "message": message,
           "scores": scores or {}, "max_scores": max_scores or {}, "flags": list(flags),
           "sha256": job.get("sha256", ""), "seconds": round(seconds, 1)}
    if fault:
        out.update(fault=fault, cause=cause or "")
    return out


# What failed, and what the instructor can do, for grading failures that are not the submission's fault.
# (pattern in the logs, cause, what failed, what to do)
DIAGNOSES = [
    ("giving up on this notebook", None, "the submission killed its kernel again and again", ""),
    ("No such file or directory", "kernel-start",
     "the sandboxed kernel could not start: a file it needs is not visible inside the sandbox",
     "the sandbox shows only the operating system's folders, this Python environment and the course's "
     "dlcourse/ and datasets/ folders; keep the environment and the course on real paths of this machine "
     "(or try --no-sandbox to check that the rest works)"),
    ("Kernel died before replying", "kernel-start", "the sandboxed kernel died while starting",
     "check the kernel's error in the log; a too small --memory-mb, or a broken environment "
     "(`python -m dlcourse check` in the same environment) are the usual causes; try --no-sandbox to compare"),
    ("Kernel didn't respond", "kernel-start", "the sandboxed kernel did not answer while starting",
     "the machine may be overloaded: try fewer --workers, or check the kernel's error in the log"),
    ("trusted test runner", "trusted", "the trusted test runner (python -m dlcourse.trusted) failed",
     "its error is in the log; check that this environment can import numpy and dlcourse"),
]


def _failure(job, scratch: Path, log_text: str, exc: BaseException | None, seconds: float) -> dict:
    """A submission that could not be graded: keep every log in one file and say what to do."""
    import traceback

    logs = Path(job.get("log_dir") or Path(job["course_root"]) / "grading" / "logs")
    path = logs / f"{job['chapter']}-{job['student']}.log"
    parts = [f"grading {job['student']} / {job['chapter']} at {time.strftime('%Y-%m-%d %H:%M:%S')}"]
    if exc is not None:
        parts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    if log_text:
        parts.append("nbgrader's log:\n" + log_text)
    for name in ("kernel.log", "trusted.log"):
        f = scratch / name
        if f.is_file() and f.stat().st_size:
            with open(f, "rb") as fh:
                fh.seek(max(0, f.stat().st_size - 20000))
                parts.append(f"{name} (the {'kernel launcher' if name == 'kernel.log' else 'trusted runner'}'s stderr):\n"
                             + fh.read().decode(errors="replace"))
    text = "\n\n".join(parts)
    try:
        logs.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        where = f" Details: {path}"
    except OSError:
        where = ""
    last = [ln.strip() for ln in (log_text or (f"{type(exc).__name__}: {exc}" if exc else "")).splitlines() if ln.strip()]
    detail = last[-1][:200] if last else "no message"
    for pattern, cause, what, todo in DIAGNOSES:
        if pattern in text:
            if cause is None:
                return _result(job, "error", f"{what} ({detail}).{where}", seconds=seconds, fault="submission")
            return _result(job, "error", f"grading failed, not because of the submission: {what} ({detail}). "
                                         f"What to do: {todo}.{where}", seconds=seconds, fault="grader", cause=cause)
    return _result(job, "error", f"grading failed, not because of the submission: nbgrader could not grade it "
                                 f"({detail}). What to do: read the log, fix the cause and run the same command "
                                 f"again (failed submissions are retried).{where}",
                   seconds=seconds, fault="grader", cause=detail[:80])


def _prepare_submission(job, dest: Path) -> tuple[str | None, list[str]]:
    """Copy the learner's folder into ``dest``; returns (error, notes)."""
    src = Path(job["submission"])
    chapter = job["chapter"]
    want = f"{chapter}.ipynb"
    notes: list[str] = []
    dest.mkdir(parents=True)
    notebooks = sorted(p for p in src.glob("*.ipynb")) if src.is_dir() else []
    if not notebooks:
        return f"no notebook in {src} (expected {want})", notes
    if not (src / want).is_file():
        if len(notebooks) > 1:
            return f"{len(notebooks)} notebooks in {src} and none is named {want}: rename the one to grade", notes
        notes.append(f"graded {notebooks[0].name} as {want} (the file was renamed)")
    for p in src.iterdir():
        if p.is_file() and p.stat().st_size <= 50 * 2**20 and p.suffix != ".ipynb":
            shutil.copy2(p, dest / p.name)
    chosen = src / want if (src / want).is_file() else notebooks[0]
    try:
        nb = nbformat.read(chosen, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any unreadable submission is reported, not raised
        return f"{chosen.name} is not a valid notebook ({exc.__class__.__name__}: {str(exc)[:120]})", notes
    notes += repair_metadata(nb, nbformat.read(Path(job["source"]), as_version=4))
    nbformat.write(nb, dest / want)
    return None, notes


# Keys nbgrader's generate_assignment adds to each graded cell of the release: the learner's copy
# has them, the chapter's source (solutions/) does not, and neither difference is a change.
RELEASE_KEYS = frozenset({"checksum", "cell_type"})


def _chapter_keys(meta) -> dict:
    return {k: v for k, v in dict(meta).items() if k not in RELEASE_KEYS}


def repair_metadata(nb, source) -> list[str]:
    """Make the learner's nbgrader cell metadata what the chapter says it is; return notes.

    A cell whose grade id the chapter knows gets the chapter's metadata back (points, grade flag,
    lock); a second cell with the same grade id, or a cell with an unknown grade id, becomes an
    ordinary cell (its code still runs, it is not graded). nbgrader then restores the locked
    cells' source and re-adds any test cell that was deleted (``add_missing_cells``).
    """
    known = {c["metadata"]["nbgrader"]["grade_id"]: c for c in source.cells
             if "nbgrader" in c.get("metadata", {}) and "grade_id" in c["metadata"]["nbgrader"]}
    seen, notes = set(), []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if gid in known and gid not in seen and known[gid].cell_type == cell.cell_type:
            seen.add(gid)
            if _chapter_keys(meta) != _chapter_keys(known[gid]["metadata"]["nbgrader"]):
                notes.append(f"cell {gid}: its grading metadata was changed and has been restored")
            cell["metadata"]["nbgrader"] = copy.deepcopy(known[gid]["metadata"]["nbgrader"])
        else:
            why = "a second copy" if gid in seen else "not a cell of this chapter"
            notes.append(f"cell {gid!r}: {why}, graded as an ordinary cell")
            del cell["metadata"]["nbgrader"]
    missing = sorted(g for g, c in known.items() if g not in seen and c["metadata"]["nbgrader"].get("grade"))
    if missing:
        notes.append("test cell(s) deleted and put back: " + ", ".join(missing))
    return notes


def _nbgrader_in_process(course: Path, chapter: str, student: str, env: dict) -> tuple[bool, str, bool]:
    """``nbgrader autograde`` then ``generate_feedback`` for one student, through nbgrader's Python API.

    In the worker process rather than as two new processes: nbgrader takes about 4 s to import,
    twice per submission on the command line. Returns (graded, last log lines, feedback written).
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import GenerateFeedback
    from nbgrader.utils import capture_log
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    import warnings

    from sqlalchemy.exc import SAWarning

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        # nbgrader's own autograde replaces the submission in its scratch gradebook, which
        # SQLAlchemy reports as SAWarnings: noise for the instructor, not a problem.
        warnings.filterwarnings("ignore", category=SAWarning)
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        res = api.autograde(chapter, student, force=True, create=True)
        text = "\n".join(x for x in (res.get("log"), res.get("error")) if x)
        if not res.get("success"):
            return False, text, False
        # Not api.generate_feedback: it forces HTMLExporter.template_name = 'feedback' (nbgrader's own
        # page), which would drop the course's template (exercise names, maths without MathJax).
        coursedir = api.coursedir
        saved_ids = coursedir.assignment_id, coursedir.student_id
        coursedir.assignment_id, coursedir.student_id = chapter, student
        try:
            app = GenerateFeedback(coursedir=coursedir, parent=api)
            app.force = True
            fb = capture_log(app)
        finally:
            coursedir.assignment_id, coursedir.student_id = saved_ids
        return True, text, bool(fb.get("success"))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def grade_one(job: dict) -> dict:
    """Grade one learner's submission of one chapter. Runs in a worker; never raises.

    job: {"student", "chapter", "submission" (folder), "template_db" (sqlite file made by
    generate_assignment), "course_root", "out_autograded", "out_feedback", "fast", "timeout",
    "memory_mb", "sandbox", "sha256"}
    """
    t0 = time.monotonic()
    student, chapter = job["student"], job["chapter"]
    scratch = Path(tempfile.mkdtemp(prefix="dlcourse-grade-"))
    uid, uid_lock = sandbox.claim_uid() if job.get("sandbox") else (-1, None)
    try:
        course = make_course_copy(scratch / "course", [chapter], Path(job["course_root"]))
        shutil.copy2(job["template_db"], course / "gradebook.db")
        timeout = int(job.get("timeout", 300))
        with open(course / "nbgrader_config.py", "a") as fh:
            fh.write(GRADING_CONFIG.format(timeout=timeout, uid=uid, trusted_log=str(scratch / "trusted.log")))
        error, notes = _prepare_submission(job, course / "submitted" / student / chapter)
        if error:
            return _result(job, "error", error, seconds=time.monotonic() - t0)
        sandbox.install_kernelspec(scratch / "jupyter", uid=uid if uid >= 0 else None,
                                   memory_mb=int(job.get("memory_mb", 4096)),
                                   hide=[job["course_root"], str(scratch)], log=str(scratch / "kernel.log"))
        env = {"JUPYTER_PATH": str(scratch / "jupyter"),
               "DLCOURSE_GRADEBOOK": f"sqlite:///{course / 'gradebook.db'}",
               "DLCOURSE_FAST": "1" if job.get("fast", True) else "0", "DLCOURSE_COURSE_DIR": str(course),
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        ok, log_text, fb_ok = _nbgrader_in_process(course, chapter, student, env)
        graded_nb = course / "autograded" / student / chapter / f"{chapter}.ipynb"
        if not ok or not graded_nb.is_file():
            return _failure(job, scratch, log_text, None, time.monotonic() - t0)
        from nbgrader.api import Gradebook

        with Gradebook(env["DLCOURSE_GRADEBOOK"], COURSE_ID) as gb:
            sub = gb.find_submission_notebook(chapter, chapter, student)
            scores = {g.name: float(g.score) for g in sub.grades}
            max_scores = {g.name: float(g.max_score) for g in sub.grades}
        flags = nbformat.read(graded_nb, as_version=4).metadata.get("dlcourse", {}).get("flags", [])
        for src, dest in ((course / "autograded" / student / chapter, job.get("out_autograded")),
                          (course / "feedback" / student / chapter, job.get("out_feedback"))):
            if dest and src.is_dir():
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(src, dest)
        message = "; ".join(notes + ([] if fb_ok else ["feedback could not be generated"]))
        return _result(job, "graded", message, scores, max_scores, flags, time.monotonic() - t0)
    except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the class
        return _failure(job, scratch, "", exc, time.monotonic() - t0)
    finally:
        if uid >= 0:
            sandbox.kill_uid(uid)
            uid_lock.close()
        shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------- the class
def _atomic_json(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def template_gradebook(root: Path, chapter: str, dest: Path) -> Path:
    """A small SQLite gradebook that knows the chapter (nbgrader's generate_assignment, in process)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course = make_course_copy(dest / "template", [chapter], root)
    db = dest / "template.db"
    saved = os.environ.get("DLCOURSE_GRADEBOOK")
    os.environ["DLCOURSE_GRADEBOOK"] = f"sqlite:///{db}"
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        res = api.generate_assignment(chapter, force=True)
    finally:
        if saved is None:
            os.environ.pop("DLCOURSE_GRADEBOOK", None)
        else:
            os.environ["DLCOURSE_GRADEBOOK"] = saved
    if not res.get("success"):
        raise CourseError(f"nbgrader could not generate {chapter}: {(res.get('error') or res.get('log') or '')[-500:]}")
    return db


def ensure_assignment(root: Path, chapter: str, db_url: str, tmp: Path, template: Path | None = None) -> None:
    """Make sure the instructor's gradebook knows the chapter (its grade cells and points).

    A SQLite gradebook that does not exist yet starts as a copy of the chapter's template.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if template is not None and db_url.startswith("sqlite:///"):
        path = Path(db_url[len("sqlite:///"):])
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(template, path)
            return

    with Gradebook(db_url, COURSE_ID) as gb:
        try:
            gb.find_assignment(chapter)
            return
        except MissingEntry:
            pass
    course = make_course_copy(tmp / "ensure", [chapter], root)
    proc = nbgrader(["generate_assignment", chapter, "--force"], course, env={"DLCOURSE_GRADEBOOK": db_url})
    if proc.returncode != 0:
        raise CourseError(f"nbgrader could not add {chapter} to the gradebook: {proc.stderr[-500:]}")


def record(db_url: str, result: dict) -> None:
    """Write one graded submission into the gradebook, replacing an earlier grading of it."""
    from sqlalchemy.exc import SAWarning

    student, chapter = result["student"], result["chapter"]
    with warnings.catch_warnings():
        # nbgrader's gradebook relationships make SQLAlchemy warn on a re-created submission: noise
        # for the instructor (the grades written are checked by tests/test_hostile.py).
        warnings.simplefilter("ignore", SAWarning)
        _record(db_url, result, student, chapter)


def _record(db_url: str, result: dict, student: str, chapter: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    # Two sessions: removing and re-creating a submission in one SQLAlchemy session trips
    # nbgrader's relationships (SAWarning, stale objects). If the run stops in between, the
    # journal still lacks this submission, so the next run grades it again.
    with Gradebook(db_url, COURSE_ID) as gb:
        gb.update_or_create_student(student)
        try:
            gb.remove_submission(chapter, student)
        except MissingEntry:
            pass
    with Gradebook(db_url, COURSE_ID) as gb:
        gb.update_or_create_submission(chapter, student)
        nb = gb.find_submission_notebook(chapter, chapter, student)
        for grade in nb.grades:
            grade.auto_score = float(result["scores"].get(grade.name, 0.0))
            grade.needs_manual_grade = False
        nb.flagged = bool(result["flags"]) or result["status"] != "graded"
        gb.db.commit()


def _executor(workers: int, dask: str | None):
    if dask is None:
        import concurrent.futures as cf
        import multiprocessing as mp

        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver"))
        return pool, cf.as_completed, pool.shutdown
    from distributed import Client, LocalCluster, as_completed

    if dask == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def close(**_):
            client.close()
            cluster.close()
    else:
        client = Client(dask)

        def close(**_):
            client.close()
    return client, as_completed, close


STOP_AFTER = 3  # a run stops when its first this many submissions fail in the same way, not by their fault


def grade_chapter(root: Path, chapter: str, *, submitted: Path | None = None, workers: int | None = None,
                  dask: str | None = None, fast: bool = True, timeout: int = 300, memory_mb: int = 4096,
                  force: bool = False, csv_path: Path | None = None, sandboxed: bool | None = None,
                  log=print) -> list[dict]:
    """Autograde every submission of ``chapter`` in ``submitted/`` and return one result per learner."""
    from nbgrader.api import Gradebook

    root = Path(root).resolve()
    submitted = Path(submitted or root / "submitted").resolve()
    if not submitted.is_dir():
        raise CourseError(f"no submissions folder {submitted}: put submissions in "
                          f"{submitted}/<student>/{chapter}/{chapter}.ipynb (nbgrader's layout).")
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir() and (p / chapter).exists())
    if not students:
        raise CourseError(f"no submission of {chapter} in {submitted} (expected <student>/{chapter}/{chapter}.ipynb).")
    sandboxed = sandbox.can_sandbox() if sandboxed is None else sandboxed
    workers = workers or os.cpu_count() or 1
    db_url = os.environ.get("DLCOURSE_GRADEBOOK", f"sqlite:///{root / 'gradebook.db'}")
    state_dir = root / "grading"
    state_dir.mkdir(mode=0o700, exist_ok=True)
    journal_path = state_dir / f"{chapter}.json"
    journal = json.loads(journal_path.read_text()) if journal_path.is_file() else {}
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-class-") as tmp:
        tmp = Path(tmp)
        template = template_gradebook(root, chapter, tmp)
        ensure_assignment(root, chapter, db_url, tmp, template)
        with Gradebook(db_url, COURSE_ID) as gb:
            in_book = {s.student.id for s in gb.find_assignment(chapter).submissions}
        jobs = []
        for student in students:
            folder = submitted / student / chapter
            digest = sha256_of(folder)
            old = journal.get(student, {})
            # An unchanged submission is skipped, unless its grading ended in an error last time:
            # that may have been the machine's fault (a kernel that could not start), so try again.
            if not force and old.get("sha256") == digest and student in in_book and old.get("status") != "error":
                log(f"  {student}: unchanged since it was graded ({old.get('status')}), skipped")
                results.append({**old, "student": student, "chapter": chapter, "skipped": True})
                continue
            if not force and old.get("sha256") == digest and old.get("status") == "error":
                log(f"  {student}: its last grading ended in an error ({old.get('message', '')[:80]}), trying again")
            jobs.append({"student": student, "chapter": chapter, "submission": str(folder), "sha256": digest,
                         "template_db": str(template), "course_root": str(root), "fast": fast,
                         "timeout": timeout, "memory_mb": memory_mb, "sandbox": sandboxed,
                         "source": str(root / "solutions" / chapter / f"{chapter}.ipynb"),
                         "log_dir": str(state_dir / "logs"),
                         "out_autograded": str(root / "autograded" / student / chapter),
                         "out_feedback": str(root / "feedback" / student / chapter)})
        log(f"grading {len(jobs)} submission(s) of {chapter} with {workers} worker(s)"
            f"{' on Dask ' + dask if dask else ''}; sandbox: {'on' if sandboxed else 'OFF (not root on Linux)'}")
        if jobs:
            pool, as_completed, close = _executor(workers, dask)
            first: list[dict] = []
            try:
                futures = {pool.submit(grade_one, job): job for job in jobs}
                for i, fut in enumerate(as_completed(list(futures)), 1):
                    try:
                        res = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker costs only its submission
                        res = _result(futures[fut], "error", f"the grading worker failed: {exc.__class__.__name__}: {exc}",
                                      fault="grader", cause="worker")
                    record(db_url, res)  # the only writer of the gradebook
                    journal[res["student"]] = {k: res[k] for k in RESULT_KEYS if k != "student"}
                    _atomic_json(journal_path, journal)
                    results.append(res)
                    total = sum(res["scores"].values())
                    top = sum(res["max_scores"].values())
                    extra = (" FLAGGED: " + "; ".join(res["flags"])) if res["flags"] else ""
                    extra += (" (" + res["message"] + ")") if res["message"] else ""
                    log(f"  [{i}/{len(jobs)}] {res['student']}: {res['status']} {total:g}/{top:g} "
                        f"in {res['seconds']:.0f} s{extra}")
                    first.append(res)
                    if len(jobs) > STOP_AFTER and len(first) == STOP_AFTER and all(
                            r.get("fault") == "grader" and r.get("cause") == first[0].get("cause") for r in first):
                        for f in futures:
                            f.cancel()
                        raise CourseError(
                            f"stopped: the first {STOP_AFTER} submissions all failed in the same way, so the others "
                            f"would too ({len(jobs) - STOP_AFTER} not graded; the next run grades them). "
                            + first[0]["message"])
            finally:
                if dask is None:
                    close(wait=True, cancel_futures=True)
                else:
                    close()
    if csv_path:
        order = notebook_order(root / "solutions" / chapter / f"{chapter}.ipynb")
        write_csv(csv_path, db_url, chapter, journal, order=order)
        from .classreport import write_class_report

        try:  # the report is for reading: a failure to draw it must not fail the grading run
            write_class_report(report_path(csv_path), root, chapter, db_url, journal, order, COURSE_ID)
        except Exception as exc:  # noqa: BLE001
            log(f"warning: the class report could not be written ({exc.__class__.__name__}: {exc})")
    give_to_course_owner(root, [root / "autograded", root / "feedback", state_dir]
                         + ([Path(csv_path), report_path(Path(csv_path))] if csv_path else []))
    return results


def give_to_course_owner(root: Path, paths: list[Path]) -> None:
    """Grading runs as root for the sandbox (``sudo python -m dlcourse grade``, as on a class hub), but what
    it writes into an instructor's course folder stays the instructor's: chown to the folder's owner."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    st = os.stat(root)
    if st.st_uid == 0:
        return
    for top in paths:
        if not top.exists() or root.resolve() not in top.resolve().parents:
            continue
        found = [str(top)]
        if top.is_dir() and not top.is_symlink():
            for folder, dirs, files in os.walk(top, followlinks=False):  # never through a symbolic link
                found += [os.path.join(folder, n) for n in dirs + files]
        for p in found:
            try:
                os.chown(p, st.st_uid, st.st_gid, follow_symlinks=False)
            except OSError:
                pass


def notebook_order(source: Path) -> list[str]:
    """The grade ids of a chapter's graded cells, in the order of its notebook."""
    try:
        nb = nbformat.read(source, as_version=4)
    except (OSError, ValueError):
        return []
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def write_csv(path: Path, db_url: str, chapter: str, journal: dict, order: list[str] | None = None) -> None:
    """One row per learner: total, maximum, each test cell's score (in notebook order), status and flags."""
    from nbgrader.api import Gradebook

    rank = {gid: i for i, gid in enumerate(order or [])}
    with Gradebook(db_url, COURSE_ID) as gb:
        assignment = gb.find_assignment(chapter)
        cells = sorted((c.name for nb in assignment.notebooks for c in nb.grade_cells),
                       key=lambda name: (rank.get(name, len(rank)), name))
        rows = []
        for sub in assignment.submissions:
            nb = sub.notebooks[0]
            by_name = {g.name: g.score for g in nb.grades}
            info = journal.get(sub.student.id, {})
            rows.append([sub.student.id, chapter, f"{sub.score:g}", f"{sub.max_score:g}"]
                        + [f"{by_name.get(c, 0):g}" for c in cells]
                        + [info.get("status", "graded"), " | ".join(info.get("flags", [])), info.get("message", "")])
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "chapter", "score", "max_score", *cells, "status", "flags", "message"])
        w.writerows(sorted(rows))
    os.replace(tmp, path)
