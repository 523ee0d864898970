"""A JupyterLab server for the end-to-end tests (tests/test_browser.py, tests/test_binder.py):
started as a first-time learner meets it (no saved settings or workspace, private runtime files),
on loopback with a random port and token, in its own process group so it can be stopped whole."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    log: Path
    proc: subprocess.Popen
    started: float   # time.monotonic() just before the server process was started
    ready: float     # ... when it first answered

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, method: str = "GET", data: bytes | None = None, timeout: float = 600):
        """(status, body) of a request with the server's token; HTTP errors raise urllib's HTTPError."""
        req = urllib.request.Request(self.url + path, method=method, data=data,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()


def start_lab(python: Path | str, root_dir: Path, cwd: Path, tmp: Path, env: dict, timeout: float) -> Lab:
    """``python -m jupyterlab`` serving ``root_dir`` from working directory ``cwd`` (where nbgrader's
    Validate looks for nbgrader_config.py); returns once the server answers /api/status."""
    port, token = free_port(), secrets.token_urlsafe(24)
    env = dict(env)
    for var, sub in (("JUPYTERLAB_SETTINGS_DIR", "user-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("JUPYTER_RUNTIME_DIR", "runtime")):
        env[var] = str(tmp / sub)
    cmd = [str(python), "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log = tmp / "lab.log"
    started = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, log, proc, started, 0.0)
    while True:
        try:
            lab.get("/api/status", timeout=5)
            lab.ready = time.monotonic()
            return lab
        except OSError:
            if proc.poll() is not None or time.monotonic() > started + timeout:
                stop_lab(lab)
                raise AssertionError("JupyterLab did not start:\n" + lab.log_text()[-4000:])
            time.sleep(0.1)


def stop_lab(lab: Lab) -> None:
    if lab.proc.poll() is None:
        try:
            os.killpg(lab.proc.pid, signal.SIGTERM)
            lab.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.proc.pid, signal.SIGKILL)
            lab.proc.wait(timeout=30)
        except ProcessLookupError:
            pass


NBGRADER_LAB = "@jupyter/nbgrader"
LEARNER_PLUGINS = ("validate-assignment", "assignment-list")
INSTRUCTOR_PLUGINS = ("formgrader", "course-list", "create-assignment")


def assert_learner_lab(get) -> None:
    """The served JupyterLab is the learners' one (dlcourse/labsetup.py): nbgrader's learner plugins
    on, its instructor plugins and the formgrader off, no news toast. ``get(path)`` -> (status, body)."""
    import json
    import re
    import urllib.error

    status, page = get("/lab")
    assert status == 200 and "JupyterLab" in page
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    disabled = set(config.get("disabledExtensions", []))
    assert {f"{NBGRADER_LAB}:{p}" for p in INSTRUCTOR_PLUGINS} <= disabled, disabled
    assert not {f"{NBGRADER_LAB}:{p}" for p in LEARNER_PLUGINS} & disabled, disabled

    _, settings = get("/lab/api/settings/@jupyterlab/apputils-extension:notification")
    # overrides.json replaces the schema's defaults: "Never" fetch news, so no news toast.
    notification = json.loads(settings)
    assert notification["schema"]["properties"]["fetchNews"]["default"] == "false", settings
    assert "fetchNews" not in notification["settings"], settings
    # The glossary opens rendered from the file browser (JupyterLab's default viewer for Markdown).
    _, settings = get("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = json.loads(settings)["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Markdown Preview", settings[:2000]

    try:
        get("/formgrader")
        raise AssertionError("the formgrader (an instructor tool) answers")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404, exc
