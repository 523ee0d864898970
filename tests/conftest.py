import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# nbgrader shells out to `alembic`: this Python's bin/ must be on PATH.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

pytest_plugins = ["nbbudget", "pytester"]


def pytest_collectstart(collector):
    """nbval: never compare stderr or HTML/JS output of pinned cells, only their text."""
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "text/html", "application/javascript",
                                   "application/vnd.jupyter.widget-view+json")


def _retry_kernel_start(attempts: int = 3):
    """nbval: start a notebook's kernel again if it dies before answering (seen once in CI, 24 cells of
    01-neuron errored with 'Kernel died before replying to kernel_info'). jupyter_client picks the
    kernel's TCP ports by binding port 0 and releasing it, so on a busy machine another process can
    take one in between (a known race, e.g. treebeardtech/nbmake#129: 'Address already in use').
    A kernel that dies on every attempt still fails the notebook."""
    import time

    import nbval.kernel as nbval_kernel

    start = nbval_kernel.start_new_kernel

    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as exc:
                if attempt == attempts:
                    raise
                print(f"[conftest] kernel start failed ({exc}); attempt {attempt + 1} of {attempts}",
                      file=sys.__stderr__, flush=True)
                time.sleep(2 * attempt)

    nbval_kernel.start_new_kernel = start_new_kernel


_retry_kernel_start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """nbval: a solution notebook's cell fails when it writes to stderr. A learner sees stderr as a red
    box, the first thing that looks like an error (chapter 08's oneDNN notice was one), and nbgrader
    scores a test cell with stderr output 0. Warnings a chapter wants to show are caught and printed."""
    result = yield
    outputs = getattr(item, "test_outputs", None) or []
    stderr = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr")
    if stderr.strip():
        first = (getattr(getattr(item, "cell", None), "source", "") or "").splitlines()[:1]
        raise AssertionError(f"this cell writes to stderr, which a learner sees as a red error box "
                             f"(cell starting {first[0][:60] if first else ''!r}):\n{stderr[:800]}")
    return result
