"""Where the course lives on disk, and running nbgrader on it."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .i18n import LANGUAGES, editions, translated_notebook

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_RE = re.compile(r"^\d\d-[a-z0-9-]+$")
GLOSSARY = "GLOSSARY.md"
COURSE_ID = "numpy-to-keras"  # as in nbgrader_config.py


class CourseError(RuntimeError):
    """Something about the course folder or a command's input is wrong; the message says what to do."""


def chapter_ids(root: Path = ROOT) -> list[str]:
    """The chapters in ``solutions/``: folder names like ``01-neuron``, sorted."""
    src = root / "solutions"
    return sorted(p.name for p in src.iterdir() if p.is_dir() and CHAPTER_RE.match(p.name)) if src.is_dir() else []


def resolve_chapter(name: str, root: Path = ROOT) -> str:
    """Accept ``01``, ``1``, ``01-neuron`` or ``neuron`` and return the chapter id."""
    ids = chapter_ids(root)
    key = name.strip().strip("/").split("/")[-1]
    for cid in ids:
        num, slug = cid.split("-", 1)
        if key in (cid, num, slug) or (key.isdigit() and int(key) == int(num)):
            return cid
    raise CourseError(f"no chapter called {name!r}; the chapters are: {', '.join(ids) or '(none)'}.")


def tool_env(extra: dict | None = None) -> dict:
    """Environment for nbgrader's subprocesses: this Python's bin/ first on PATH (nbgrader calls `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if extra:
        env.update(extra)
    return env


def nbgrader(args: list[str], cwd: Path, *, env: dict | None = None, timeout: float | None = None,
             capture: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course folder ``cwd``."""
    cmd = [os.path.abspath(sys.executable), "-m", "nbgrader", *args]
    return subprocess.run(cmd, cwd=cwd, env=tool_env(env), timeout=timeout, text=True,
                          capture_output=capture)


def make_course_copy(dest: Path, chapters: list[str], root: Path = ROOT) -> Path:
    """A minimal course folder in ``dest``: the nbgrader config and the chosen solution chapters."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    for cid in chapters:
        # Translations (zh.yml, ...) are the release's input, not part of the chapter's folder.
        shutil.copytree(root / "solutions" / cid, dest / "solutions" / cid,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__",
                                                      *(f"{lang}.yml" for lang in LANGUAGES)))
    return dest


def generate_release(out: Path, root: Path = ROOT, only: list[str] | None = None) -> Path:
    """Generate the student release of every chapter into ``out`` (a fresh folder) and return it.

    With ``only``, regenerate just those chapters' folders inside ``out`` and leave the rest alone.
    A chapter with a translation (``solutions/NN-x/zh.yml``) is also released in that language,
    into ``out/zh/NN-x/`` (see :mod:`dlcourse.i18n`).
    """
    if only:
        for cid in only:
            with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
                fresh = _generate(Path(tmp) / "chapters", root, [cid])
                for rel in [cid] + [f"{lang}/{cid}" for lang in editions(root, cid)]:
                    dest, new = out / rel, out / f"{rel}.new"
                    new = new.with_name("." + new.name)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.rmtree(new, ignore_errors=True)
                    shutil.copytree(fresh / rel, new)
                    shutil.rmtree(dest, ignore_errors=True)
                    os.replace(new, dest)
        return out
    ids = chapter_ids(root)
    if not ids:
        raise CourseError(f"no chapters found in {root / 'solutions'}.")
    return _generate(out, root, ids)


def _generate(out: Path, root: Path, ids: list[str]) -> Path:
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        course = make_course_copy(Path(tmp), ids, root)
        env = {"DLCOURSE_GRADEBOOK": "sqlite:///" + str(course / "release.db")}
        for cid in ids:
            proc = nbgrader(["generate_assignment", cid, "--force", "--log-level=WARN"], course, env=env)
            if proc.returncode != 0:
                raise CourseError(f"nbgrader could not generate the release of {cid}:\n{proc.stdout}{proc.stderr}")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(course / "chapters", out)
    glossary = root / "solutions" / GLOSSARY
    if glossary.is_file():
        shutil.copy2(glossary, out / GLOSSARY)
    for cid in ids:
        for lang in editions(root, cid):
            _generate_edition(out / lang / cid, root, cid, lang)
    return out


def _generate_edition(dest: Path, root: Path, cid: str, lang: str) -> Path:
    """The release of a chapter in another language: the translated solution notebook, through the
    same ``nbgrader generate_assignment`` as the English one (same metadata, checksums, stubs)."""
    nb, _problems = translated_notebook(root, cid, lang)  # stale cells ship in English, never stale
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        course = make_course_copy(Path(tmp), [cid], root)
        nbformat.write(nb, course / "solutions" / cid / f"{cid}.ipynb")
        env = {"DLCOURSE_GRADEBOOK": "sqlite:///" + str(course / "release.db")}
        proc = nbgrader(["generate_assignment", cid, "--force", "--log-level=WARN"], course, env=env)
        if proc.returncode != 0:
            raise CourseError(f"nbgrader could not generate the {lang} release of {cid}:\n{proc.stdout}{proc.stderr}")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(course / "chapters" / cid, dest)
    return dest


def translation_report(root: Path = ROOT) -> list[str]:
    """Every translated cell that does not follow the English now, or breaks the glossary."""
    from .i18n import glossary_problems, translation_problems

    out = []
    for cid in chapter_ids(root):
        for lang in editions(root, cid):
            out += [f"{cid} ({lang}): {p}" for p in translation_problems(root, cid, lang)]
            out += [f"{cid} ({lang}): {p}" for p in glossary_problems(root, cid, lang)]
    return out


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and ".backup-" not in p.name}


def release_differences(root: Path = ROOT) -> list[str]:
    """Files where ``chapters/`` differs from a fresh release of ``solutions/`` (empty list: in step)."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-check-") as tmp:
        fresh = _tree(generate_release(Path(tmp) / "chapters", root))
    current = _tree(root / "chapters") if (root / "chapters").is_dir() else {}
    diffs = [f"missing in chapters/: {name}" for name in fresh if name not in current]
    diffs += [f"not generated from solutions/: chapters/{name}" for name in current if name not in fresh]
    diffs += [f"differs from a fresh release: chapters/{name}" for name in fresh
              if name in current and fresh[name] != current[name]]
    return sorted(diffs)
