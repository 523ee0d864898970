"""Binder, rehearsed: a fresh virtual environment from exactly the pip pins of binder/environment.yml,
then binder/postBuild run in it the way repo2docker runs it (repository root as working directory,
the environment's bin/ first on PATH), then JupyterLab from that environment on chapters/.

Slow (installing the pins takes minutes): marked ``slow``; deselect it with ``-m "not slow"``.
Runs on a copy of the working tree (tracked and untracked, not ignored files), so it also checks
that postBuild changes no file of the repository.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import pytest
import yaml

from dlcourse.course import ROOT
from labserver import INSTRUCTOR_PLUGINS, LEARNER_PLUGINS, NBGRADER_LAB, assert_learner_lab, start_lab, stop_lab

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-9;]*m")
NO_CONFIG = "No nbgrader_config.py file found"
DEMO = "99-demo"


def binder_pip_pins() -> list[str]:
    """The pip section of binder/environment.yml, exactly."""
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "binder/environment.yml should have one pip: section"
    return [str(p) for p in sections[0]]


def binder_python() -> str:
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    return next(str(d).split("=", 1)[1] for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))


def working_tree_files() -> list[str]:
    """What a clone would hold, plus work not yet committed: tracked and untracked, not ignored."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return sorted({p for p in out.split("\0") if p and (ROOT / p).is_file()})


def snapshot(repo: Path) -> dict[str, str]:
    return {str(p.relative_to(repo)): sha256(p.read_bytes()).hexdigest()
            for p in sorted(repo.rglob("*")) if p.is_file() and not p.is_symlink()}


def git_ignored(paths: list[str]) -> set[str]:
    """Which of these paths the repository's .gitignore ignores (whether or not they exist)."""
    if not paths:
        return set()
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin", "-z"], cwd=ROOT,
                          input="\0".join(paths).encode(), capture_output=True)
    return {p for p in proc.stdout.decode().split("\0") if p}


@dataclass
class BinderEnv:
    venv: Path
    repo: Path
    env: dict
    times: dict
    postbuild_log: str
    before: dict
    after: dict

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], cwd=cwd or self.repo, env=self.env, capture_output=True,
                              text=True, timeout=timeout)


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    if sys.platform == "win32":
        pytest.skip("Binder builds on Linux")
    tmp = tmp_path_factory.mktemp("binder")
    repo, venv = tmp / "repo", tmp / "venv"
    for rel in working_tree_files():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, repo / rel)
    times = {}

    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_REQUIRE", "CONDA"))}
    env.update(PATH=str(venv / "bin") + os.pathsep + os.environ.get("PATH", ""), VIRTUAL_ENV=str(venv),
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("DLCOURSE_FAST", None)
    reqs = tmp / "binder-pins.txt"
    reqs.write_text("\n".join(binder_pip_pins()) + "\n")
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(reqs)],
                          env=env, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, "pip could not install binder/environment.yml's pins:\n" + proc.stdout[-3000:] + proc.stderr[-5000:]
    times["pip_install_s"] = round(time.monotonic() - t0, 1)

    before = snapshot(repo)
    t0 = time.monotonic()
    proc = subprocess.run([str(repo / "binder" / "postBuild")], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=900)
    times["postbuild_s"] = round(time.monotonic() - t0, 1)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"binder/postBuild failed (exit {proc.returncode}):\n{log[-5000:]}"
    after = snapshot(repo)
    print(f"\n[binder] fresh venv + pip install of {len(binder_pip_pins())} pins: {times['pip_install_s']} s; "
          f"postBuild: {times['postbuild_s']} s")
    yield BinderEnv(venv, repo, env, times, log, before, after)


def test_the_environment_is_exactly_the_pins(binder):
    assert binder.run(binder.bin / "python", "-c", "import sys; print(sys.version)").stdout.startswith(binder_python())
    frozen = binder.run(binder.bin / "python", "-m", "pip", "list", "--format=json").stdout
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(frozen)}
    for pin in binder_pip_pins():
        name, version = pin.split("==")
        assert installed.get(name.lower().replace("_", "-")) == version, f"{pin}: installed {installed.get(name.lower())}"
    check = binder.run(binder.bin / "python", "-m", "pip", "check")
    assert check.returncode == 0, "the pins are not a consistent set:\n" + check.stdout + check.stderr
    # postBuild made the course's package importable from anywhere (here: from a kernel's point of view).
    where = binder.run(binder.bin / "python", "-c", "import dlcourse; print(dlcourse.__file__)", cwd=binder.venv)
    assert where.returncode == 0 and Path(where.stdout.strip()).parent == binder.repo / "dlcourse", where.stderr


def test_postbuild_changes_no_file_of_the_repository(binder):
    changed = sorted(p for p in binder.before if binder.after.get(p) != binder.before[p])
    assert not changed, f"postBuild changed or deleted files of the repository: {changed}"
    new = sorted(set(binder.after) - set(binder.before))
    stray = sorted(set(new) - git_ignored(new))
    assert not stray, f"postBuild left files that git would see as new: {stray}"


def test_nbgrader_is_set_up_for_learners(binder):
    out = binder.run(binder.bin / "jupyter", "server", "extension", "list")
    servers = ANSI.sub("", out.stdout + out.stderr)
    state = dict(re.findall(r"^\s*nbgrader\.server_extensions\.(\w+)\s+(enabled|disabled)\s*$", servers, re.M))
    assert state.get("validate_assignment") == "enabled", servers
    assert state.get("assignment_list") == "enabled", servers
    assert state.get("formgrader") == "disabled", servers
    assert state.get("course_list") == "disabled", servers

    out = binder.run(binder.bin / "jupyter", "labextension", "list")
    labs = ANSI.sub("", out.stdout + out.stderr)
    line = next((l for l in labs.splitlines() if l.strip().startswith(NBGRADER_LAB + " ")), "")
    assert "enabled" in line and "OK" in line, labs
    disabled = set(re.findall(r"^\s*(@jupyter/nbgrader:[\w-]+)", labs.split("Disabled extensions:")[-1], re.M)) \
        if "Disabled extensions:" in labs else set()
    for plugin in INSTRUCTOR_PLUGINS:
        assert f"{NBGRADER_LAB}:{plugin}" in disabled, labs
    for plugin in LEARNER_PLUGINS:
        assert f"{NBGRADER_LAB}:{plugin}" not in disabled, labs

    overrides = json.loads((binder.venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def _released_notebook(binder) -> str:
    """The first released chapter notebook (relative to chapters/); the demo chapter, released with this
    environment's nbgrader, when chapters/ holds none yet."""
    chapters = binder.repo / "chapters"
    found = sorted(chapters.glob("[0-9][0-9]-*/[0-9][0-9]-*.ipynb"))
    if found:
        return str(found[0].relative_to(chapters))
    shutil.copytree(ROOT / "tests" / "fixtures" / DEMO, binder.repo / "solutions" / DEMO)
    env = dict(binder.env, DLCOURSE_GRADEBOOK="sqlite:///" + str(binder.venv / "demo-release.db"))
    proc = subprocess.run([str(binder.bin / "nbgrader"), "generate_assignment", DEMO], cwd=binder.repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return f"{DEMO}/{DEMO}.ipynb"


def test_jupyterlab_from_the_binder_environment_serves_the_course(binder, tmp_path):
    notebook = _released_notebook(binder)
    # Like repo2docker: the server's working directory is the repository root.
    lab = start_lab(binder.bin / "python", binder.repo / "chapters", binder.repo, tmp_path, binder.env, 180)
    get = lab.get
    try:
        ready = lab.ready - lab.started
        status, listing = get("/api/contents")
        names = {item["name"] for item in json.loads(listing)["content"]}
        assert notebook.split("/")[0] in names, names

        assert_learner_lab(get)

        _, version = get("/nbgrader_version?version=0.9.6")
        assert json.loads(version)["success"] is True, version

        # The Validate button's request, on the blank release: it runs and reports the stubs.
        t1 = time.monotonic()
        _, result = get("/assignments/validate?" + urllib.parse.urlencode({"path": notebook}), method="POST", data=b"")
        validate_s = time.monotonic() - t1
        result = json.loads(result)
        assert result["success"] is True, result
        failed = result["value"].get("failed", [])
        assert failed and all("NotImplementedError" in f["raw_error"] for f in failed[:1]), result
        assert NO_CONFIG not in lab.log_text(), "Validate did not find the course's nbgrader_config.py"
    finally:
        stop_lab(lab)
    print(f"\n[binder] JupyterLab from the Binder environment answered after {ready:.1f} s; "
          f"Validate of {notebook} (blank release) took {validate_s:.1f} s; {len(failed)} test cells fail as expected")
