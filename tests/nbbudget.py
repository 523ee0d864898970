"""pytest plugin: fail a notebook whose kernel goes past the memory budget (nbval runs only).

After the last cell of each notebook, the kernel's peak resident memory (``VmHWM`` in
``/proc/<pid>/status``: the kernel process's own high-water mark, exact, no sampling) is compared
with ``DLCOURSE_MEMORY_BUDGET_MB`` (default 1536 MB, the course's budget: Binder gives 2 GB). Over
budget, that last cell's test fails with the figure. Every notebook's peak is also written to
``.ci-artifacts/memory/<notebook>.json``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

BUDGET_MB = float(os.environ.get("DLCOURSE_MEMORY_BUDGET_MB", "1536"))
_last: dict[str, str] = {}


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size of process ``pid`` in MB (Linux), or None if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _kernel_pid(item) -> int | None:
    kernel = getattr(item.parent, "kernel", None)
    prov = getattr(getattr(kernel, "km", None), "provisioner", None)
    return getattr(getattr(prov, "process", None), "pid", None)


def pytest_collection_modifyitems(session, config, items):
    for it in items:
        if it.parent is not None and type(it).__name__ == "IPyNbCell":
            _last[it.parent.nodeid] = it.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or _last.get(getattr(item.parent, "nodeid", None)) != item.nodeid:
        return
    pid = _kernel_pid(item)
    peak = peak_rss_mb(pid) if pid else None
    if peak is None:
        return
    out = Path(item.config.rootpath) / ".ci-artifacts" / "memory" / (item.parent.nodeid.replace("/", "_") + ".json")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"notebook": item.parent.nodeid, "peak_rss_mb": round(peak, 1),
                                   "fast": os.environ.get("DLCOURSE_FAST", "")}))
    except OSError:
        pass
    if report.passed and peak > BUDGET_MB:
        report.outcome = "failed"
        report.longrepr = (f"{item.parent.nodeid}: the kernel's peak resident memory was {peak:.0f} MB, "
                           f"over the budget of {BUDGET_MB:.0f} MB (DLCOURSE_MEMORY_BUDGET_MB). Use float32/uint8, "
                           f"do not keep copies of MNIST, free large arrays (del) before training.")
