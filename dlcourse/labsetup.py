"""``python -m dlcourse lab-setup``: make this environment's JupyterLab the learners' one.

Run by ``binder/postBuild`` on Binder and by ``python3 course.py setup``/``lab`` in the local
``.venv``, so that both show learners the same JupyterLab: nbgrader's Validate button and
assignment list, none of its instructor tools (formgrader, course list, create assignment: the
course's instructors grade with ``python -m dlcourse grade``), no "get notified about official
Jupyter news?" toast on the first start and no update check, and Markdown files (the glossary)
open rendered, not as source. Everything is written under
``sys.prefix`` (the environment), nothing in the user's home folder or the repository.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SERVER_ON = ("validate_assignment", "assignment_list")
SERVER_OFF = ("formgrader", "course_list")
LAB_OFF = ("formgrader", "course-list", "create-assignment")
NOTIFICATION = "@jupyterlab/apputils-extension:notification"
# Markdown files (the glossary) open rendered from the file browser, as a chapter's link opens them.
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"


def _jupyter(*args: str) -> None:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"`jupyter {' '.join(args)}` failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")


def overrides_path(prefix: str | Path = sys.prefix) -> Path:
    return Path(prefix, "share", "jupyter", "lab", "settings", "overrides.json")


def configure(log=print) -> None:
    for ext in SERVER_ON:
        _jupyter("server", "extension", "enable", "--sys-prefix", f"nbgrader.server_extensions.{ext}")
    for ext in SERVER_OFF:
        _jupyter("server", "extension", "disable", "--sys-prefix", f"nbgrader.server_extensions.{ext}")
    for plugin in LAB_OFF:
        _jupyter("labextension", "disable", "--level=sys_prefix", f"@jupyter/nbgrader:{plugin}")
    # JupyterLab's defaults for this environment, merged with any overrides already there.
    path = overrides_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    overrides = json.loads(path.read_text()) if path.is_file() else {}
    overrides.setdefault(NOTIFICATION, {}).update({"fetchNews": "false", "checkForUpdates": False})
    overrides.setdefault(DOCMANAGER, {}).setdefault("defaultViewers", {})["markdown"] = "Markdown Preview"
    path.write_text(json.dumps(overrides, indent=2) + "\n")
    log(f"JupyterLab set up for learners: nbgrader Validate and assignment list on, its instructor tools off; "
        f"no news toast; Markdown opens rendered ({path})")
