"""The README's first command starts JupyterLab serving chapters/ on loopback, set up for learners."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from dlcourse.course import ROOT
from labserver import assert_learner_lab, free_port


def test_course_lab_serves_the_chapters(tmp_path):
    port, token = free_port(), "course-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), HOME=os.environ.get("HOME", str(tmp_path)))
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "course.py"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        listing, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token={token}"
                with urllib.request.urlopen(url, timeout=5) as resp:
                    listing = json.load(resp)
                break
            except OSError:
                time.sleep(1)
        assert listing is not None, "JupyterLab did not answer:\n" + (tmp_path / "lab.log").read_text()[-3000:]
        names = {item["name"] for item in listing["content"]}
        assert "01-neuron" in names and "GLOSSARY.md" in names, names
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as resp:
            assert resp.status == 200 and b"JupyterLab" in resp.read()

        def get(path):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()

        # The same learners' JupyterLab as on Binder (course.py setup runs `dlcourse lab-setup`).
        assert_learner_lab(get)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert proc.poll() is not None
