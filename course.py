#!/usr/bin/env python3
"""The course's two commands. Needs only Python 3.11 on the machine; sets itself up on first use.

    python3 course.py lab     open the course: JupyterLab on chapters/
    python3 course.py test    run the whole test suite (fast mode, in parallel)

For learners, without activating anything:

    python3 course.py check 01   run chapter 01's tests on your notebook and say which exercises fail
    python3 course.py reset 01   put a fresh copy of chapter 01 in place (yours is kept as a dated backup)

The Chinese edition (中文版, chapters/zh/): add --zh, e.g. ``python3 course.py check 01 --zh``.

Both first make (or refresh) a virtual environment in .venv/ with the exact versions pinned in
requirements.txt. Extra arguments go to JupyterLab or to pytest, e.g.
``python3 course.py lab --no-browser --port 8890`` or ``python3 course.py test -k grading``.
``python3 course.py test --full`` runs the notebooks in full mode (what a learner runs).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DLCOURSE_VENV", ROOT / ".venv"))
STAMP = VENV / ".dlcourse-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def wanted_stamp() -> str:
    """Changes when the pins, the checkout's place or the JupyterLab set-up change."""
    return hashlib.sha256((ROOT / "requirements.txt").read_bytes() + str(ROOT).encode()
                          + (ROOT / "dlcourse" / "labsetup.py").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the pinned packages, unless it is already up to date."""
    if sys.version_info[:2] != (3, 11):
        say(f"warning: the course is pinned and tested on Python 3.11; this is {sys.version.split()[0]}.")
    if STAMP.is_file() and STAMP.read_text() == wanted_stamp() and PY.exists():
        return
    if os.environ.get("DLCOURSE_NO_SETUP") == "1" and PY.exists():
        return  # use the environment DLCOURSE_VENV names as it is (the course's own tests do)
    if not PY.exists():
        say(f"creating the virtual environment {VENV} ...")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    say("installing the pinned packages from requirements.txt (a few minutes the first time) ...")
    pip = [str(PY), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run(pip + ["-r", str(ROOT / "requirements.txt")], check=True)
    # Make the course's own package importable from every notebook's kernel (like `pip install -e .`).
    purelib = subprocess.run([str(PY), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "dlcourse-course.pth").write_text(str(ROOT) + "\n")
    # JupyterLab as learners get it on Binder too (binder/postBuild runs the same command).
    subprocess.run([str(PY), "-m", "dlcourse", "lab-setup"], check=True, cwd=ROOT,
                   env=dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", "")))
    STAMP.write_text(wanted_stamp())
    say("environment ready.")


def run(args: list[str], extra_env: dict | None = None) -> int:
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")  # nbgrader calls `alembic` from PATH
    env["VIRTUAL_ENV"] = str(VENV)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra_env or {})
    try:
        return subprocess.run(args, cwd=ROOT, env=env).returncode
    except KeyboardInterrupt:
        return 130


def lab(extra: list[str]) -> int:
    say("starting JupyterLab on chapters/ (stop it with Ctrl-C) ...")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        extra = ["--allow-root", *extra]  # containers and CI run as root; JupyterLab refuses it otherwise
    return run([str(PY), "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT / 'chapters'}", *extra])


def test(extra: list[str]) -> int:
    full = "--full" in extra
    extra = [a for a in extra if a != "--full"]
    workers = os.environ.get("DLCOURSE_WORKERS", "auto")
    say(f"running the test suite in {'full' if full else 'fast'} mode with {workers} workers ...")
    # Default targets unless the caller named test files or folders of their own.
    named = [a for a in extra if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]
    targets = [] if named else ["tests", "solutions"]
    cmd = [str(PY), "-m", "pytest", "-n", workers, "--dist", "loadscope", "--nbval-lax",
           "--durations=15", *targets, *extra]
    return run(cmd, {"DLCOURSE_FAST": "0" if full else "1"})


def _chapter_args(extra: list[str]) -> list[str] | None:
    """CHAPTER, optionally with --zh (the Chinese edition, 中文版): `check 01`, `check 01 --zh`, `check zh/01`."""
    rest = [a for a in extra if a != "--zh"]
    if len(rest) != 1:
        return None
    return rest + (["--zh"] if "--zh" in extra else [])


def check(extra: list[str]) -> int:
    args = _chapter_args(extra)
    if args is None:
        print("usage: python3 course.py check CHAPTER [--zh]   (for example: python3 course.py check 01; "
              "中文版: python3 course.py check 01 --zh)")
        return 2
    return run([str(PY), "-m", "dlcourse", "check", *args])


def reset(extra: list[str]) -> int:
    args = _chapter_args(extra)
    if args is None:
        print("usage: python3 course.py reset CHAPTER [--zh]   (for example: python3 course.py reset 01; "
              "中文版: python3 course.py reset 01 --zh)")
        return 2
    return run([str(PY), "-m", "dlcourse", "reset", *args])


def main(argv: list[str]) -> int:
    commands = {"lab": lab, "test": test, "check": check, "reset": reset, "setup": lambda extra: 0}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    ensure_venv()
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
