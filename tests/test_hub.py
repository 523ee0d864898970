"""A class on JupyterHub, end to end, with nbgrader's own exchange (issue 29).

The test builds the class on this machine and runs the loop as people do it:

- **Real parts, started here.** JupyterHub (pinned in requirements.txt) started with
  ``deploy/one-server/jupyterhub_config.py`` itself (environment variables point it at the test's
  folders), configurable-http-proxy from npm (pinned in ``deploy/proxy/``, installed by ``.ci/run``),
  PAM login for Unix users the test creates (two learners in the class's group, one instructor), each
  learner's JupyterLab run as that learner's Unix user by JupyterHub's LocalProcessSpawner, nbgrader's
  exchange in a folder made as nbgrader's docs say (mode 0777) with ``deploy/nbgrader_config.py``
  as the system-wide nbgrader config, and PostgreSQL as the gradebook (tests/pgserver.py).
- **The loop.** The instructor releases chapter 01 (``nbgrader release_assignment``); each learner's
  server lists and fetches it, the learner writes answers through the server's Contents API, presses
  Validate (nbgrader's validate handler) and submits (nbgrader's assignment-list handler): ``ada``
  submits the blank chapter first and then right answers, ``bob`` gets one exercise wrong. The
  instructor collects (``nbgrader collect``), grades with ``python -m dlcourse grade 01`` (as root,
  so with the sandbox; PostgreSQL gradebook; the class report next to grades.csv) and releases
  feedback (``nbgrader release_feedback``); each learner's server fetches it.
- **What it asserts.** The scores (ada full marks from her *second* submission, bob loses exactly
  the wrong exercise's points); the feedback a learner fetched names the failing exercise and holds
  no hidden test; a learner cannot list the exchange's inbound or feedback folders, nor read another
  learner's home or the instructor's course folder, and another learner's token is refused by a
  learner's server; resubmitting replaced the earlier submission.

Learners act only through the hub's and their servers' REST APIs. The instructor's four nbgrader
commands run as the instructor's Unix user with ``runuser`` (what a terminal in the instructor's
JupyterLab runs), and ``grade`` as root (``sudo``, for the sandbox). Then headless Chromium logs in
as ada, opens nbgrader's Assignments tab and takes a screenshot with her feedback fetched
(``.ci-artifacts/screenshots/hub-assignments.png``); the class report is copied to ``.ci-artifacts/``.

Needs root on Linux (users, setuid spawner), ``useradd``/``runuser``, the proxy and PostgreSQL:
skipped with the reason elsewhere, failed instead when ``DLCOURSE_REQUIRE_HUB=1`` (CI, ``.ci/run``).
Where the checkout sits in a folder other users cannot enter (a clone under /root), the test gives
those folders o+x (enter, not list) while it runs and restores their modes; where only the base Python
does (pyenv under /root), learners' servers run a copy of the interpreter on the same environment
(``learner_view_of_venv``). ``tests/test_lms.py`` grades a class handed in through an LMS instead.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from dlcourse.course import ROOT, make_course_copy, nbgrader
from gradecheck import exercises, make_wrong
from labserver import free_port

CHAPTER = "01-neuron"
COURSE_ID = "numpy-to-keras"
DEPLOY = ROOT / "deploy"
HUB_CONFIG = DEPLOY / "one-server" / "jupyterhub_config.py"
NBGRADER_SYSTEM_CONFIG = DEPLOY / "nbgrader_config.py"
PROXY = Path(os.environ.get("DLCOURSE_HUB_PROXY", DEPLOY / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"))
REQUIRED = os.environ.get("DLCOURSE_REQUIRE_HUB", "").strip() not in ("", "0")
ARTIFACTS = ROOT / ".ci-artifacts"
VENV = Path(sys.prefix)
CHROMIUM = Path(os.environ.get("DLCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing(reason: str):
    if REQUIRED:
        pytest.fail(f"DLCOURSE_REQUIRE_HUB=1 but {reason}")
    pytest.skip(f"{reason} (set DLCOURSE_REQUIRE_HUB=1 to make this a failure; .ci/run does)")


def strip_solution_markers(src: str) -> str:
    return "\n".join(line for line in src.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line) + "\n"


def hidden_test_lines(solution) -> list[str]:
    """Distinctive lines of the chapter's hidden tests (none may reach a learner)."""
    out = []
    for cell in solution.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) > 25:
                out.append(line.strip())
    return out


# ------------------------------------------------------------------------------------------- the machine
class Machine:
    """Unix users, the exchange and the folders of one class; everything removed by ``close``."""

    def __init__(self):
        tag = secrets.token_hex(2)
        self.group = f"dlc-class-{tag}"
        self.ada, self.bob, self.teacher = f"ada-{tag}", f"bob-{tag}", f"teach-{tag}"
        self.password = {u: secrets.token_urlsafe(12) for u in (self.ada, self.bob, self.teacher)}
        self.base = Path(tempfile.mkdtemp(prefix="dlcourse-hub-"))
        os.chmod(self.base, 0o755)
        self.homes = self.base / "home"
        self.exchange = self.base / "exchange"
        self.jupyter_config = self.base / "etc-jupyter"
        self.state = self.base / "hub"
        self.users: list[str] = []
        self.group_made = False
        self.venv, self.venv_env = VENV, {}
        self.opened: dict[Path, int] = {}

    def setup(self):
        self.homes.mkdir(mode=0o755)
        # nbgrader's docs: the exchange exists and everyone may write it (release_assignment makes the rest).
        self.exchange.mkdir()
        os.chmod(self.exchange, 0o777)
        self.jupyter_config.mkdir(mode=0o755)
        shutil.copy2(NBGRADER_SYSTEM_CONFIG, self.jupyter_config / "nbgrader_config.py")
        os.chmod(self.jupyter_config / "nbgrader_config.py", 0o644)
        self.state.mkdir(mode=0o700)
        # Learners' servers run the course's environment and import dlcourse from the checkout. Where the
        # checkout sits in a folder others cannot enter (a clone under /root), those folders get o+x (enter,
        # not list) while the test runs, and their modes are restored by close().
        for folder in blocking_folders([VENV / "lib", ROOT / "dlcourse"]):
            self.opened[folder] = folder.stat().st_mode & 0o7777
            os.chmod(folder, self.opened[folder] | 0o001)
        self.venv, self.venv_env = learner_view_of_venv(self.base / "env")
        subprocess.run(["groupadd", self.group], check=True, capture_output=True)
        self.group_made = True
        for user in (self.ada, self.bob, self.teacher):
            extra = ["-G", self.group] if user != self.teacher else []
            subprocess.run(["useradd", "-m", "-d", str(self.homes / user), "-s", "/bin/bash", *extra, user],
                           check=True, capture_output=True)
            self.users.append(user)
            os.chmod(self.homes / user, 0o700)  # a learner's work is theirs alone
            subprocess.run(["chpasswd"], input=f"{user}:{self.password[user]}\n", text=True, check=True,
                           capture_output=True)

    def home(self, user: str) -> Path:
        return self.homes / user

    def uid(self, user: str) -> int:
        import pwd

        return pwd.getpwnam(user).pw_uid

    def run_as(self, user: str, argv: list[str], cwd: Path | None = None, env: dict | None = None,
               timeout: float = 600, input: str | None = None) -> subprocess.CompletedProcess:
        base_env = {"PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home(user)),
                    "JUPYTER_CONFIG_PATH": str(self.jupyter_config), "DLCOURSE_EXCHANGE": str(self.exchange),
                    "TF_CPP_MIN_LOG_LEVEL": "3", "LANG": "C.UTF-8",
                    **self.venv_env}
        base_env.update(env or {})
        return subprocess.run([shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--", *argv], cwd=cwd or self.home(user), env=base_env,
                              capture_output=True, text=True, timeout=timeout, input=input)

    def kill_leftovers(self):
        """Processes of the test's users that outlived the hub (the hub stops their servers itself)."""
        import psutil

        uids = {self.uid(u) for u in self.users}
        for proc in psutil.process_iter(["uids"]):
            try:
                if proc.info["uids"] and proc.info["uids"].real in uids:
                    proc.kill()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass

    def close(self):
        try:
            if self.users:
                self.kill_leftovers()
        finally:
            for folder, mode in self.opened.items():
                os.chmod(folder, mode)
            for user in self.users:
                subprocess.run(["userdel", user], capture_output=True)
            if self.group_made:
                subprocess.run(["groupdel", self.group], capture_output=True)
            shutil.rmtree(self.base, ignore_errors=True)


def reachable_by_others(path: Path) -> bool:
    """Can a user with no special rights reach ``path`` (every folder above it searchable by others)?"""
    path = Path(path).resolve()
    for p in [*reversed(path.parents), path]:
        mode = p.stat().st_mode
        if p.is_dir() and not mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


def learner_view_of_venv(dest: Path) -> tuple[Path, dict]:
    """The course's environment as learners' processes can run it; (prefix, extra environment).

    On a class server the environment lives where everyone can read it (deploy/README.md: /opt). Here
    the environment's own folder is readable, but its base Python may be in a folder other users cannot
    enter (pyenv under /root, as on the CI machine). Then the test gives learners a view of the same
    environment: a copy of the base interpreter (its binary, libpython and standard library, no
    site-packages) and a virtual environment on it whose site-packages, share/ and etc/ are the course
    environment's own (symbolic links), with its scripts' first lines pointing at that interpreter.
    The packages, extensions and settings are the course environment's, byte for byte."""
    base = Path(sys.base_prefix).resolve()
    if reachable_by_others(Path(sys.executable).resolve()):
        return VENV, {}
    ver = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    py = dest / "python"
    (py / "bin").mkdir(parents=True)
    shutil.copy2(Path(sys.executable).resolve(), py / "bin" / ver)
    (py / "lib").mkdir()
    for lib in (base / "lib").glob("libpython*.so*"):
        shutil.copy2(lib, py / "lib" / lib.name, follow_symlinks=True)
    shutil.copytree(base / "lib" / ver, py / "lib" / ver, symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "test", "__pycache__", "idlelib", "tkinter"))
    (py / "lib" / ver / "site-packages").mkdir()
    env = {"LD_LIBRARY_PATH": str(py / "lib")}
    venv = dest / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib").mkdir()
    (venv / "pyvenv.cfg").write_text(f"home = {py / 'bin'}\ninclude-system-site-packages = false\n"
                                     f"version = {sys.version.split()[0]}\n")
    (venv / "lib" / ver).mkdir()
    (venv / "lib" / ver / "site-packages").symlink_to(Path(VENV / "lib" / ver / "site-packages").resolve())
    for sub in ("share", "etc"):
        if (VENV / sub).exists():
            (venv / sub).symlink_to((VENV / sub).resolve())
    (venv / "bin" / "python").symlink_to(py / "bin" / ver)
    (venv / "bin" / "python3").symlink_to(py / "bin" / ver)
    for script in (VENV / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            head = script.read_bytes()[:200]
            if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
                body = script.read_bytes().split(b"\n", 1)[1]
                target = venv / "bin" / script.name
                target.write_bytes(b"#!" + str(venv / "bin" / "python").encode() + b"\n" + body)
                target.chmod(0o755)
    for p in [dest, *dest.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o055 if p.is_dir() else p.stat().st_mode | 0o044)
    check = subprocess.run([str(venv / "bin" / "python"), "-c", "import jupyterhub, nbgrader, dlcourse, sys; print(sys.prefix)"],
                           env=dict(os.environ, **env), capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == str(venv), check.stderr[-2000:]
    return venv, env


def _can_build_a_class() -> str | None:
    if sys.platform != "linux":
        return "a class hub needs Linux (Unix users, PAM, a setuid spawner)"
    if os.geteuid() != 0:
        return "the hub test must run as root (it creates Unix users; JupyterHub spawns servers as them)"
    for tool in ("useradd", "userdel", "groupadd", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    if not (PROXY.is_file() and os.access(PROXY, os.X_OK)):
        return (f"configurable-http-proxy is not at {PROXY} (install it with `npm ci --prefix deploy/proxy`, "
                f"as .ci/run does)")
    if not (VENV / "bin" / "jupyterhub").is_file():
        return "JupyterHub is not installed in this environment (requirements.txt pins it)"
    return None


def blocking_folders(paths: list[Path]) -> list[Path]:
    """Folders above ``paths`` that other users cannot enter (no o+x)."""
    out = []
    for path in paths:
        for p in reversed(Path(path).resolve().parents):
            if not p.stat().st_mode & 0o001 and p not in out:
                out.append(p)
    return out


@pytest.fixture(scope="module")
def machine():
    reason = _can_build_a_class()
    if reason:
        _missing(reason)
    m = Machine()
    try:
        m.setup()
        yield m
    finally:
        m.close()


@pytest.fixture(scope="module")
def gradebook(machine):
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg (3) is not installed (requirements.txt)")
    from pgserver import NoServer, postgres_server

    try:
        server = postgres_server(port=54331)
        url = server.__enter__()
    except NoServer as exc:
        _missing(str(exc))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


# ------------------------------------------------------------------------------------------- the hub
class Hub:
    def __init__(self, machine: Machine):
        import requests

        self.m = machine
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        self.session = requests.Session()
        self.log = machine.base / "hub.log"
        config = machine.state / "jupyterhub_config.py"
        # The deploy file itself, plus what only a test needs: a service token to drive the hub's REST API.
        config.write_text(
            f"load_subconfig({str(HUB_CONFIG)!r})\n"
            f"c.JupyterHub.services = [{{'name': 'course-test', 'api_token': {self.token!r}}}]\n"
            "c.JupyterHub.load_roles = [{'name': 'course-test', 'services': ['course-test'], 'scopes': "
            "['admin:users', 'admin:servers', 'tokens', 'list:users', 'read:users', 'access:servers']}]\n"
            # Only where the base Python had to be copied (learner_view_of_venv): its libpython.
            f"c.Spawner.environment = dict(c.Spawner.environment, **{machine.venv_env!r})\n")
        self.env = dict(os.environ)
        self.env.update({
            "DLCOURSE_HUB_VENV": str(machine.venv), "DLCOURSE_HUB_STATE": str(machine.state),
            "DLCOURSE_HUB_JUPYTER_CONFIG": str(machine.jupyter_config), "DLCOURSE_HUB_PROXY": str(PROXY),
            "DLCOURSE_EXCHANGE": str(machine.exchange),
            "DLCOURSE_HUB_IP": "127.0.0.1", "DLCOURSE_HUB_PORT": str(self.port),
            "DLCOURSE_HUB_API_PORT": str(free_port()), "DLCOURSE_HUB_PROXY_API_PORT": str(free_port()),
            "DLCOURSE_HUB_GROUP": machine.group, "DLCOURSE_HUB_ADMINS": machine.teacher,
            "PATH": f"{VENV / 'bin'}:{os.environ.get('PATH', '')}",
        })
        self.env.pop("DLCOURSE_FAST", None)  # learners run the chapters as they are
        self.proc = None
        self.config = config

    def start(self, timeout: float = 120):
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen([str(VENV / "bin" / "jupyterhub"), "-f", str(self.config)],
                                         cwd=self.m.state, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("JupyterHub stopped:\n" + self.log_tail())
            try:
                if self.session.get(self.url + "/hub/api/", timeout=5).status_code == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("JupyterHub did not answer:\n" + self.log_tail())

    def log_tail(self, n: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)

    # hub API, as the test's admin service
    def api(self, method: str, path: str, **kw):
        r = self.session.request(method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {self.token}"},
                                 timeout=60, **kw)
        assert r.status_code < 400, f"{method} {path}: {r.status_code} {r.text[:500]}\n{self.log_tail(2000)}"
        return r.json() if r.content else None

    def wait_for_server(self, user: str, timeout: float = 180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.api("GET", f"/users/{user}")
            if info.get("servers", {}).get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start:\n{self.log_tail()}")


class Learner:
    """A learner's hands on their own server's REST API (with a token of theirs from the hub)."""

    def __init__(self, hub: Hub, name: str):
        self.hub, self.name = hub, name
        self.token = hub.api("POST", f"/users/{name}/tokens", json={"note": "course test"})["token"]
        self.base = f"{hub.url}/user/{name}"

    def request(self, method: str, path: str, token: str | None = None, timeout: float = 900, **kw):
        return self.hub.session.request(method, self.base + path, timeout=timeout, allow_redirects=False,
                                        headers={"Authorization": f"token {token or self.token}"}, **kw)

    def call(self, method: str, path: str, **kw):
        r = self.request(method, path, **kw)
        assert r.status_code == 200, f"{self.name} {method} {path}: {r.status_code} {r.text[:800]}"
        return r.json()

    def action(self, action: str) -> dict:
        """One of nbgrader's Assignments-tab actions: fetch, submit, fetch_feedback."""
        out = self.call("POST", f"/assignments/{action}", json={"course_id": COURSE_ID, "assignment_id": CHAPTER})
        assert out.get("success"), f"{self.name} {action}: {str(out.get('value'))[-1500:]}"
        return out

    def assignments(self) -> list[dict]:
        out = self.call("GET", f"/assignments?course_id={COURSE_ID}")
        assert out.get("success"), out
        return out["value"]

    def notebook(self) -> nbformat.NotebookNode:
        model = self.call("GET", f"/api/contents/{CHAPTER}/{CHAPTER}.ipynb?content=1")
        return nbformat.from_dict(model["content"])

    def save(self, nb) -> None:
        r = self.request("PUT", f"/api/contents/{CHAPTER}/{CHAPTER}.ipynb",
                         json={"type": "notebook", "format": "json", "content": nb})
        assert r.status_code in (200, 201), r.text[:500]

    def validate(self) -> dict:
        out = self.call("POST", "/assignments/validate", json={"path": f"{CHAPTER}/{CHAPTER}.ipynb"})
        assert out.get("success"), f"{self.name} validate: {str(out.get('value'))[-1500:]}"
        return out["value"]


def answered(nb, solution, wrong: str | None = None):
    """The release notebook with every exercise answered from the solution (``wrong``: that one made wrong)."""
    answers = {c.metadata["nbgrader"]["grade_id"]: strip_solution_markers(c.source) for c in solution.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("fn-")}
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid in answers:
            cell.source = answers[gid]
    return make_wrong(nb, wrong) if wrong else nb


# ------------------------------------------------------------------------------------------- the loop
def test_a_class_on_jupyterhub(machine, gradebook):
    t0 = time.monotonic()
    timings: dict[str, float] = {}

    def mark(step):
        timings[step] = round(time.monotonic() - t0, 1)

    m = machine
    solution = nbformat.read(ROOT / "solutions" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    ex = exercises(solution)
    wrong = next(iter(ex))
    points = {gid: p for e in ex.values() for gid, p in e["tests"].items()}

    # The instructor's course folder, in their home: the course config, the chapter's source and release.
    course = m.home(m.teacher) / "course"
    make_course_copy(course, [CHAPTER])
    shutil.copytree(ROOT / "chapters" / CHAPTER, course / "chapters" / CHAPTER)
    subprocess.run(["chown", "-R", f"{m.teacher}:", str(course)], check=True)
    teacher_env = {"DLCOURSE_GRADEBOOK": gradebook}

    def instructor(*args):
        proc = m.run_as(m.teacher, [str(m.venv / "bin" / "python"), "-m", "nbgrader", *args], cwd=course, env=teacher_env)
        assert proc.returncode == 0, f"nbgrader {' '.join(args)}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
        return proc.stdout + proc.stderr

    hub = Hub(m)
    try:
        hub.start()
        mark("hub up")
        # 1. The instructor releases the chapter to the class.
        instructor("release_assignment", CHAPTER)
        outbound = m.exchange / COURSE_ID / "outbound" / CHAPTER / f"{CHAPTER}.ipynb"
        assert outbound.is_file()
        assert "BEGIN HIDDEN TESTS" not in outbound.read_text() and "### BEGIN SOLUTION" not in outbound.read_text()

        # 2. Learners: their servers (as their own Unix users), the Assignments list, fetch.
        hub.api("POST", "/users", json={"usernames": [m.ada, m.bob]})
        for user in (m.ada, m.bob):  # both start at once, as a class arriving does
            hub.api("POST", f"/users/{user}/server")
        for user in (m.ada, m.bob):
            hub.wait_for_server(user)
        mark("servers up")
        ada, bob = Learner(hub, m.ada), Learner(hub, m.bob)
        for learner in (ada, bob):
            released = [a for a in learner.assignments() if a["assignment_id"] == CHAPTER]
            assert released and released[0]["status"] == "released", learner.assignments()
            learner.action("fetch")
            fetched = m.home(learner.name) / CHAPTER / f"{CHAPTER}.ipynb"
            assert fetched.is_file() and fetched.stat().st_uid == m.uid(learner.name)
        # ada hands in the untouched chapter first; her second submission must be the one that counts.
        ada.action("submit")
        time.sleep(1.1)
        ada.save(answered(ada.notebook(), solution))
        bob.save(answered(bob.notebook(), solution, wrong=wrong))
        mark("answers written")
        # Validate, as the toolbar button does (nbgrader's validate handler, in the learner's server).
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            v_ada, v_bob = pool.map(lambda learner: learner.validate(), (ada, bob))
        mark("validated")
        assert v_ada == {}, v_ada  # nbgrader's validator: {} when every test passes
        failed_sources = [f["source"] for f in v_bob.get("failed", [])]
        assert failed_sources and all(wrong in s for s in failed_sources), v_bob
        ada.action("submit")
        bob.action("submit")
        mark("submitted")

        # 3. The instructor collects, grades (as root: sandbox) into PostgreSQL, releases feedback.
        inbound = m.exchange / COURSE_ID / "inbound"
        assert len([p for p in inbound.iterdir() if p.name.startswith(m.ada + "+")]) == 2
        instructor("collect", CHAPTER)
        collected = course / "submitted" / m.ada / CHAPTER / f"{CHAPTER}.ipynb"
        assert collected.is_file()
        latest = max((p for p in inbound.iterdir() if p.name.startswith(m.ada + "+")), key=lambda p: p.name)
        assert collected.read_bytes() == (latest / f"{CHAPTER}.ipynb").read_bytes(), "collect did not take the last"
        assert "raise NotImplementedError" not in "".join(
            c.source for c in nbformat.read(collected, as_version=4).cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")), "ada's blank submission was collected"
        grade = subprocess.run([sys.executable, "-m", "dlcourse", "grade", "01", "--course", str(course),
                                "--workers", "2"], env=dict(os.environ, DLCOURSE_GRADEBOOK=gradebook, DLCOURSE_FAST="1"),
                               capture_output=True, text=True, timeout=900)
        assert grade.returncode == 0, grade.stdout[-3000:] + grade.stderr[-3000:]
        assert "sandbox: on" in grade.stdout, grade.stdout
        mark("graded")
        with open(course / "grades.csv") as fh:
            import csv

            rows = {r["student"]: r for r in csv.DictReader(fh)}
        assert set(rows) == {m.ada, m.bob}
        assert {g: float(rows[m.ada][g]) for g in points} == points, rows[m.ada]
        assert {g: float(rows[m.bob][g]) for g in points} == {
            g: (0.0 if g in ex[wrong]["tests"] else p) for g, p in points.items()}, rows[m.bob]
        report = course / "class-report.html"
        assert report.is_file()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy2(report, ARTIFACTS / "class-report-hub.html")
        text = report.read_text()
        assert "data:image/png;base64," in text and "http://" not in text and "https://" not in text
        assert f"{m.ada} &amp; {m.bob}" in text  # their answers are the same but for the wrong one
        # The course folder's files stay the instructor's, though grade ran as root.
        assert (course / "grades.csv").stat().st_uid == m.uid(m.teacher)
        assert (course / "feedback" / m.bob / CHAPTER).stat().st_uid == m.uid(m.teacher)
        instructor("release_feedback", CHAPTER)

        # 4. Learners fetch their feedback in the Assignments tab.
        hidden = hidden_test_lines(solution)
        assert hidden, "the chapter has no hidden test to look for"
        for learner in (ada, bob):
            learner.action("fetch_feedback")
            subs = [s for a in learner.assignments() if a.get("status") == "submitted" for s in a["submissions"]]
            assert len(subs) == (2 if learner is ada else 1), subs
            with_feedback = [s for s in subs if any(nb.get("has_local_feedback") for nb in s["notebooks"])]
            # Feedback exists for the submission that was graded: the last one.
            assert [s["timestamp"] for s in with_feedback] == [max(s["timestamp"] for s in subs)], subs
            path = with_feedback[0]["notebooks"][0]["local_feedback_path"]
            rel = os.path.relpath(path, m.home(learner.name)) if os.path.isabs(path) else path
            model = learner.call("GET", f"/api/contents/{rel}?content=1&format=text&type=file")
            page = model["content"]
            assert "BEGIN HIDDEN TESTS" not in page
            leaked = [line for line in hidden if line in page or _html_text(line) in page]
            assert not leaked, f"{learner.name}'s feedback shows hidden tests: {leaked[:3]}"
            if learner is bob:
                assert f"Test of <code>{wrong}</code>" in page or f"Test of `{wrong}`" in page or wrong in page
        mark("feedback fetched")

        # Who can read what: bob, as his own Unix user, against ada's work and the instructor's files.
        probe = {
            "exchange inbound (list)": ("list", inbound),
            "exchange feedback (list)": ("list", m.exchange / COURSE_ID / "feedback"),
            "ada's home (list)": ("list", m.home(m.ada)),
            "ada's notebook": ("read", m.home(m.ada) / CHAPTER / f"{CHAPTER}.ipynb"),
            "ada's submission cache": ("list", m.home(m.ada) / ".local" / "share" / "jupyter" / "nbgrader_cache"),
            "instructor's course (list)": ("list", course),
            "instructor's solutions": ("read", course / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"),
            "instructor's grades": ("read", course / "grades.csv"),
            "collected submission of ada": ("read", collected),
        }
        controls = {"bob's own notebook": ("read", m.home(m.bob) / CHAPTER / f"{CHAPTER}.ipynb"),
                    "the release (list)": ("list", m.exchange / COURSE_ID / "outbound" / CHAPTER)}
        script = ("import json, os, sys\nout = {}\nfor k, (op, p) in json.loads(sys.stdin.read()).items():\n"
                  "    try:\n        os.listdir(p) if op == 'list' else open(p, 'rb').read(1)\n        out[k] = 'allowed'\n"
                  "    except PermissionError:\n        out[k] = 'denied'\n    except OSError as e:\n"
                  "        out[k] = type(e).__name__\nprint(json.dumps(out))\n")
        asked = {k: (op, str(p)) for k, (op, p) in {**probe, **controls}.items()}
        proc = m.run_as(m.bob, [str(m.venv / "bin" / "python"), "-c", script], input=json.dumps(asked))
        seen = json.loads(proc.stdout)
        assert all(seen[k] == "denied" for k in probe), seen
        assert all(seen[k] == "allowed" for k in controls), seen
        # ... and through the hub: bob's token on ada's server is refused.
        r = ada.request("GET", f"/api/contents/{CHAPTER}", token=bob.token)
        assert r.status_code in (403, 404), (r.status_code, r.text[:300])

        # The learner's Assignments tab with feedback fetched, in a real browser.
        shot = screenshot_assignments(hub, m.ada, m.password[m.ada])
        mark("browser")
    except BaseException:
        print(hub.log_tail(), file=sys.stderr)
        print(f"hub end to end, seconds since the start: {timings}", file=sys.stderr)
        raise
    finally:
        hub.stop()
    mark("hub stopped")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hub-e2e.json").write_text(json.dumps({"seconds_since_start": timings, "screenshot": shot}, indent=1))
    print(f"hub end to end: {timings}")


def _html_text(line: str) -> str:
    import html

    return html.escape(line, quote=False)


def screenshot_assignments(hub: Hub, user: str, password: str) -> str | None:
    """Log in through the hub's form, open nbgrader's Assignments tab, save a screenshot. Returns its path."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("DLCOURSE_REQUIRE_BROWSER"):
            raise
        return None
    if not CHROMIUM.is_file():
        if os.environ.get("DLCOURSE_REQUIRE_BROWSER"):
            raise AssertionError(f"no Chromium at {CHROMIUM}")
        return None
    out = ARTIFACTS / "screenshots" / "hub-assignments.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{hub.url}/hub/login", timeout=60_000)
            page.fill("input#username_input", user)
            page.fill("input#password_input", password)
            page.click("input#login_submit")
            page.wait_for_url(re.compile(rf".*/user/{re.escape(user)}/lab.*"), timeout=120_000)
            page.wait_for_selector(".jp-LabShell", timeout=120_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
            page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
            page.wait_for_selector("text=Submitted assignments", timeout=60_000)
            page.wait_for_selector("text=view feedback", timeout=60_000)
            page.screenshot(path=str(out))
        finally:
            browser.close()
    return str(out.relative_to(ROOT))


# ------------------------------------------------------------------------------------------- deploy/ in step
def _exec_config(path: Path, env: dict) -> dict:
    """Run a JupyterHub or nbgrader config file with a recording ``c`` (no hub, no nbgrader): its settings."""
    from traitlets.config import Config

    c = Config()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        exec(compile(path.read_text(), str(path), "exec"), {"get_config": lambda: c, "__file__": str(path)})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return c


def test_deploy_files_agree():
    """deploy/kubernetes (never run here) says what deploy/one-server and deploy/nbgrader_config.py (run by
    test_a_class_on_jupyterhub) say: the same nbgrader config text, exchange path, server command and URL;
    its image is built from requirements.txt by course.py; its chart ships the JupyterHub version pinned."""
    import yaml

    values = yaml.safe_load((DEPLOY / "kubernetes" / "values.yaml").read_text())
    single = values["singleuser"]
    nbconf = NBGRADER_SYSTEM_CONFIG.read_text()
    files = {f["mountPath"]: f for f in single["extraFiles"].values()}
    assert files["/etc/jupyter/nbgrader_config.py"]["stringData"] == nbconf, \
        "deploy/kubernetes/values.yaml's nbgrader config differs from deploy/nbgrader_config.py"
    exchange = _exec_config(NBGRADER_SYSTEM_CONFIG, {}).Exchange.root
    assert exchange == "/srv/nbgrader/exchange"
    mounts = {m["mountPath"]: m["name"] for m in single["storage"]["extraVolumeMounts"]}
    assert exchange in mounts, mounts
    assert single["extraEnv"]["DLCOURSE_EXCHANGE"] == exchange
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    assert "persistentVolumeClaim" in volumes[mounts[exchange]]

    hub = _exec_config(HUB_CONFIG, {})
    assert Path(hub.Spawner.cmd[0]).name == single["cmd"] == "jupyterhub-singleuser"
    assert hub.Spawner.default_url == single["defaultUrl"]
    assert hub.Spawner.environment["DLCOURSE_EXCHANGE"] == exchange
    assert hub.Spawner.environment["JUPYTER_CONFIG_PATH"] == str(Path(next(iter(files))).parent)
    assert hub.JupyterHub.spawner_class == "localprocess" and hub.JupyterHub.authenticator_class == "pam"
    assert sorted(hub.Authenticator.admin_users) == sorted(values["hub"]["config"]["Authenticator"]["admin_users"])

    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    chart = re.search(r"^# chart: (\S+) \(ships JupyterHub (\S+),", (DEPLOY / "kubernetes" / "values.yaml").read_text(), re.M)
    assert chart and chart.group(2) == pins["jupyterhub"], "the chart's JupyterHub must be the one pinned"
    docker = (DEPLOY / "kubernetes" / "Dockerfile").read_text()
    assert "COPY course.py requirements.txt" in docker and "python3 course.py setup" in docker
    assert "solutions" not in re.findall(r"^COPY .*$", docker, re.M).__str__(), "the image must not hold solutions/"
    proxy = json.loads((DEPLOY / "proxy" / "package.json").read_text())["dependencies"]["configurable-http-proxy"]
    lock = json.loads((DEPLOY / "proxy" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == proxy
