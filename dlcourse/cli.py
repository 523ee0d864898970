"""Command line of the course: ``python -m dlcourse COMMAND``.

  release [--check] [CH..] regenerate chapters/ (and chapters/zh/) from solutions/ (or only check it is
                           in step, and that every translation follows the English)
  check CHAPTER|NOTEBOOK   learner self-check: run a notebook's tests, say which fail and why (--zh: 中文版)
  reset CHAPTER            learner: fresh copy of a chapter in chapters/, theirs kept as a dated backup (--zh)
  translations CHAPTER     translator: cells whose translation is stale or missing; --stamp CELL when updated
  grade CHAPTER            instructor: autograde submitted/, write feedback, grades.csv and the class report
  bench [CHAPTER ...]      run the solution notebooks in fast and full mode (time, memory, figures),
                           then NumPy vs Keras training throughput and the matmul bound
  lab-setup                this environment's JupyterLab as learners get it (nbgrader learner tools only)
  pins                     rewrite environment.yml and binder/environment.yml from requirements.txt
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

from .course import (ROOT, CourseError, chapter_ids, generate_release, release_differences, resolve_chapter,
                     translation_report)
from .i18n import LANGUAGES


def cmd_release(args) -> int:
    if args.check:
        diffs = release_differences()
        stale = translation_report()
        if diffs:
            print("chapters/ is not what nbgrader generates from solutions/ now:")
            print("\n".join("  " + d for d in diffs))
            print("Run `python -m dlcourse release` and commit chapters/.")
        if stale:
            print("Translations that do not follow the English chapter now (the release ships the English text "
                  "in their place):")
            print("\n".join("  " + d for d in stale))
            print("Update them in solutions/NN-slug/<lang>.yml (`python -m dlcourse translations NN` shows the "
                  "English), then `python -m dlcourse translations NN --stamp CELL` and `python -m dlcourse release NN`.")
        if diffs or stale:
            return 1
        print(f"chapters/ is in step with solutions/ ({len(chapter_ids())} chapters; "
              f"translations follow the English).")
        return 0
    if args.chapters:
        only = [resolve_chapter(c) for c in args.chapters]
        generate_release(ROOT / "chapters", only=only)
        print(f"Wrote the student release of {', '.join(only)} to {ROOT / 'chapters'}.")
        return 0
    out = generate_release(ROOT / "chapters")
    print(f"Wrote the student release of {len(chapter_ids())} chapters to {out}.")
    return 0


def _edition(target: str, lang: str | None) -> tuple[str, str | None]:
    """``zh/01`` or ``01 --zh``: the chapter and the edition's language (None: English)."""
    head, _, rest = target.strip().strip("/").partition("/")
    if head in LANGUAGES and rest:
        return rest, head
    return target, lang


def _release_rel(cid: str, lang: str | None) -> str:
    if lang:
        from .i18n import editions

        if lang not in editions(ROOT, cid):
            have = [c for c in chapter_ids() if lang in editions(ROOT, c)]
            raise CourseError(f"{cid} has no {LANGUAGES[lang]} ({lang}) edition yet; the chapters that have one: "
                              f"{', '.join(have) or '(none)'}.")
    return f"chapters/{lang}/{cid}/{cid}.ipynb" if lang else f"chapters/{cid}/{cid}.ipynb"


def _notebook_path(target: str, lang: str | None = None) -> Path:
    path = Path(target)
    if path.suffix == ".ipynb":
        if not path.is_file():
            raise CourseError(f"notebook {path} does not exist.")
        return path
    target, lang = _edition(target, lang)
    cid = resolve_chapter(target)
    path = ROOT / _release_rel(cid, lang)
    if not path.is_file():
        raise CourseError(f"{path} is missing: run `python -m dlcourse release` to regenerate chapters/.")
    return path


def validate_notebook(path: Path) -> dict:
    """Run a notebook's tests with nbgrader's validator; returns nbgrader's results dict."""
    import logging

    import nbformat
    from nbgrader.validator import Validator
    from traitlets.config import Config

    try:
        nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the learner's file
        cid = path.stem
        raise CourseError(f"{path} is not a readable notebook ({exc.__class__.__name__}), so JupyterLab cannot open "
                          f"it either. Put a fresh copy in its place with `python3 course.py reset {cid}` (your "
                          f"file is kept next to it as a dated backup), then copy your answers back.") from None
    cfg = Config()
    cfg.Execute.timeout = int(os.environ.get("DLCOURSE_CELL_TIMEOUT", "300"))
    cfg.Validator.ignore_checksums = False
    # The kernel logs a warning about TCP without encryption on stderr: not the learner's business.
    cfg.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
    # jupyter_client warns on stderr about kernels on TCP without encryption: not the learner's business.
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    with _kernel_stderr_kept_apart():
        return Validator(config=cfg).validate(str(path))


@contextlib.contextmanager
def _kernel_stderr_kept_apart():
    """Give the kernel that runs the learner's notebook a stderr of its own (a temporary file).

    The kernel inherits this process's file descriptor 2, so whatever it logs reaches the learner's
    terminal: at shutdown, ipykernel 7.4 can still log "Uncaught exception in ZMQStream callback ...
    ZMQError: Socket operation on non-socket" when a reply races the closing of its sockets (the
    race ipykernel's PR 1518 fixed for IOPub only). That is the kernel's business, not the learner's:
    what the notebook's cells print reaches the check through Jupyter's messages, not through
    descriptor 2. Nothing is lost: a kernel that dies is reported by the validator itself."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield
        return
    with tempfile.TemporaryFile() as kernel_log:
        os.dup2(kernel_log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _last_line(raw_error: str) -> str:
    """The error's message: its last ``Name: message`` line, with the lines it was wrapped onto."""
    error = re.sub(r"\x1b\[[0-9;]*m", "", raw_error).strip()
    lines = [line for line in error.splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    starts = [i for i, line in enumerate(lines) if re.match(r"^[A-Za-z_][\w.]*: ", line)]
    i = starts[-1] if starts else len(lines) - 1
    return " ".join(line.strip() for line in lines[i:])


def exercise_of(grade_id: str, exercises: list[str]) -> str:
    """The exercise a test cell grades: ``test-sigmoid_derivative`` -> ``sigmoid_derivative``."""
    name = grade_id[len("test-"):] if grade_id.startswith("test-") else grade_id
    return max((e for e in exercises if name == e or name.startswith(e + "-")), key=len, default=name)


# What `check` says, in the learner's edition (the test messages themselves are one source, in English).
CHECK_TEXT = {
    "en": {
        "checking": "Checking {path} (this runs the whole notebook, a minute or two) ...",
        "changed": "Some test cells were changed or deleted. Put them back as they were (copy them from a fresh "
                   "copy: `python3 course.py reset {reset}` keeps yours as a backup) and check again.",
        "all": "All tests passed: {names}. (Hidden tests run when the chapter is graded.)",
        "failing": "{n} of {m} exercises need work:",
        "other": "  - a cell that is not a test (starting `{first}`) stopped with: {msg}",
        "passed": "Passed: {names}.",
    },
    "zh": {
        "checking": "正在检查 {path}（会从头到尾运行整个笔记本，需要一两分钟）……",
        "changed": "有测试单元格被改动或删除了。请把它们恢复原样（可以从一份新副本里复制："
                   "`python3 course.py reset {reset}` 会把你的笔记本留作备份），然后再检查一次。",
        "all": "全部测试通过：{names}。（隐藏测试在评分时运行。）",
        "failing": "{m} 个练习中有 {n} 个还需要修改（测试信息为英文，术语见 GLOSSARY.md）：",
        "other": "  - 一个非测试单元格（开头是 `{first}`）运行出错：{msg}",
        "passed": "已通过：{names}。",
    },
}


def cmd_check(args) -> int:
    from .i18n import edition_of

    path = _notebook_path(args.target, "zh" if getattr(args, "zh", False) else None)
    try:
        lang = edition_of(nbformat.read(str(path), as_version=4))
    except Exception:  # noqa: BLE001 - an unreadable file is reported by validate_notebook below
        lang = "en"
    say = CHECK_TEXT.get(lang, CHECK_TEXT["en"])
    reset = f"zh/{path.stem}" if lang == "zh" else path.stem
    print(say["checking"].format(path=path), flush=True)
    results = validate_notebook(path)
    if results.get("type_changed") or results.get("changed"):
        print(say["changed"].format(reset=reset))
        return 1
    nb = nbformat.read(str(path), as_version=4)
    grade_id = {c.source.strip(): c.metadata.get("nbgrader", {}).get("grade_id", "")
                for c in nb.cells if c.cell_type == "code"}
    exercises = [c.metadata["nbgrader"]["grade_id"][3:] for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("fn-")]
    failed = results.get("failed", [])
    failing: dict[str, str] = {}
    other = []
    for item in failed:
        gid = grade_id.get(item["source"], "")
        if gid.startswith("test-"):
            failing.setdefault(exercise_of(gid, exercises), _last_line(item.get("raw_error", "")))
        else:
            first = item["source"].splitlines()[0] if item["source"] else "(empty cell)"
            other.append((first, _last_line(item.get("raw_error", ""))))
    done = [e for e in exercises if e not in failing]
    sep = "、" if lang == "zh" else ", "
    if not failing and not other:
        print(say["all"].format(names=sep.join(exercises) or "every test cell"))
        return 0
    if failing:
        print(say["failing"].format(n=len(failing), m=len(exercises)))
        for ex, msg in failing.items():
            print(f"  - {ex}: {msg[:400]}")
    for first, msg in other:
        print(say["other"].format(first=first[:60], msg=msg[:300]))
    if done:
        print(say["passed"].format(names=sep.join(done)))
    return 1


def cmd_reset(args) -> int:
    """Learner: keep their chapter notebook as a dated backup and put a fresh release copy in its place."""
    import datetime
    import shutil
    import subprocess
    import tempfile

    target, lang = _edition(args.chapter, "zh" if getattr(args, "zh", False) else None)
    cid = resolve_chapter(target)
    rel = _release_rel(cid, lang)
    path = ROOT / rel
    fresh = None
    try:  # the committed release (fast); else generate it again from solutions/
        proc = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{rel}"], capture_output=True, timeout=60)
        if proc.returncode == 0 and proc.stdout:
            fresh = proc.stdout
    except (OSError, subprocess.SubprocessError):
        pass
    if fresh is None:
        with tempfile.TemporaryDirectory() as tmp:
            out = generate_release(Path(tmp) / "chapters", ROOT, only=[cid])
            fresh = (out.parent / rel).read_bytes()
    zh = lang == "zh"
    if path.is_file() and path.read_bytes() == fresh:
        print(f"{rel} is already a fresh copy: nothing to do." + (f"\n{rel} 已经是一份新副本，无需重置。" if zh else ""))
        return 0
    if path.is_file():
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{cid}.backup-{stamp}.ipynb")
        shutil.copy2(path, backup)
        print(f"Your notebook is kept as {backup.relative_to(ROOT)} (open it in JupyterLab to copy answers back)."
              + (f"\n你的笔记本已另存为 {backup.relative_to(ROOT)}（可在 JupyterLab 中打开，把答案复制回来）。" if zh else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(".tmp")
    tmp_path.write_bytes(fresh)
    os.replace(tmp_path, path)
    print(f"{rel} is a fresh copy of the chapter again." + (f"\n{rel} 已恢复为本章的新副本。" if zh else ""))
    return 0


def cmd_translations(args) -> int:
    """Translator: list a chapter's stale, missing and orphaned translated cells; --stamp marks cells done."""
    from .i18n import glossary_problems, load_translation, save_translation, source_hash, translatable, translation_path
    import nbformat as _nbf

    cid = resolve_chapter(args.chapter)
    path = translation_path(ROOT, cid, args.lang)
    if not path.is_file():
        raise CourseError(f"{cid} has no {args.lang} translation ({path.relative_to(ROOT)} does not exist).")
    nb = _nbf.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    if args.stamp:
        data = load_translation(path)
        english = {c.get("id"): c for c in nb.cells if translatable(c)}
        for cell_id in args.stamp:
            if cell_id not in english or cell_id not in (data.get("cells") or {}):
                raise CourseError(f"cell {cell_id!r} is not a translated markdown cell of {cid}.")
            data["cells"][cell_id]["en"] = source_hash(english[cell_id].source)
        save_translation(path, data)
        print(f"{path.relative_to(ROOT)}: {', '.join(args.stamp)} now follow the English. "
              f"Run `python -m dlcourse release {cid[:2]}` to regenerate the release.")
        return 0
    from .i18n import translation_problems

    problems = translation_problems(ROOT, cid, args.lang, nb) + glossary_problems(ROOT, cid, args.lang, nb)
    if not problems:
        print(f"{path.relative_to(ROOT)}: every cell follows the English and the glossary.")
        return 0
    for p in problems:
        print(f"- {p}")
        if p.english:
            print("    English now:\n" + "\n".join("      " + ln for ln in p.english.splitlines()))
    return 1


def cmd_grade(args) -> int:
    from .classreport import report_path
    from .grading import grade_chapter

    root = Path(args.course).resolve() if args.course else ROOT
    if not (root / "nbgrader_config.py").is_file() or not (root / "solutions").is_dir():
        raise CourseError(f"{root} is not a course folder (it needs nbgrader_config.py and solutions/).")
    cid = resolve_chapter(args.chapter, root)
    if args.workers is not None and args.workers < 1:
        raise CourseError(f"--workers must be at least 1, got {args.workers}.")
    csv_path = Path(args.csv) if Path(args.csv).is_absolute() or not args.course else root / args.csv
    results = grade_chapter(root, cid, submitted=Path(args.submitted) if args.submitted else None,
                            workers=args.workers, dask=args.dask, fast=not args.full, timeout=args.timeout,
                            memory_mb=args.memory_mb, force=args.force, csv_path=csv_path,
                            sandboxed=False if args.no_sandbox else None)
    errors = [r for r in results if r.get("status") != "graded"]
    flagged = [r for r in results if r.get("flags")]
    print(f"{len(results)} submission(s): {len(results) - len(errors)} graded, {len(errors)} with errors, "
          f"{len(flagged)} flagged. Grades: {csv_path}; class report: {report_path(csv_path)}; "
          f"feedback: {root / 'feedback'}.")
    for r in errors:
        print(f"  ERROR {r['student']}: {r.get('message')}")
    for r in flagged:
        print(f"  FLAGGED {r['student']}: {'; '.join(r['flags'])}")
    return 0


def cmd_bench(args) -> int:
    from .bench import BUDGET_MB, bench, throughput

    if args.notebooks_only and args.throughput_only:
        raise CourseError("--notebooks-only and --throughput-only exclude each other: give at most one")
    if args.throughput_only and args.chapters:
        raise CourseError("--throughput-only runs no notebook: drop the chapter names, or drop --throughput-only")
    failed = 0
    out = Path(args.out)
    if not args.throughput_only:
        chapters = [resolve_chapter(c) for c in args.chapters] or None
        modes = ("fast",) if args.fast_only else ("fast", "full")
        result = bench(chapters, modes, out)
        print(f"wrote {out / 'bench.md'} and bench.json")
        bad = [r for r in result["runs"]
               if not r["ok"] or (r["mode"] == "fast" and (r["peak_rss_mb"] or 0) > BUDGET_MB)]
        for r in bad:
            print(f"  {r['notebook']} ({r['mode']}): "
                  + (r["error"] or f"peak {r['peak_rss_mb']} MB > {BUDGET_MB} MB"))
        failed += len(bad)
    if not args.notebooks_only:
        res = throughput(out, quick=args.quick)
        if res is None:
            failed += 1
        else:
            ra = res["ratios"]
            print(f"wrote {out / 'throughput.md'} and throughput.json. Keras' epoch time / NumPy's, median of "
                  f"{res['setup']['rounds']} rounds (> 1: NumPy faster): MLP against Keras' default fit "
                  f"{ra['mlp_numpy_over_keras_default']}x, CNN against Keras at its best {ra['cnn_numpy_over_keras_best']}x; "
                  f"NumPy MLP at {100 * res['mlp']['numpy']['fraction_of_matmul']:.1f}% of the matmul rate "
                  f"({res['matmul']['gflops_bound']} GFLOP/s)")
    return 1 if failed else 0


def cmd_pin_outputs(args) -> int:
    """Run a solution notebook and store the outputs of its ``# NBVAL_CHECK_OUTPUT`` cells only."""
    from nbclient import NotebookClient

    if args.notebook.endswith(".ipynb"):
        path = _notebook_path(args.notebook)
    else:
        cid = resolve_chapter(args.notebook)
        path = ROOT / "solutions" / cid / f"{cid}.ipynb"
    nb = nbformat.read(path, as_version=4)
    marked = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source]
    if not marked:
        raise CourseError(f"{path} has no cell marked # NBVAL_CHECK_OUTPUT: nothing to pin.")
    run = copy.deepcopy(nb)
    os.environ.setdefault("DLCOURSE_FAST", "1")
    NotebookClient(run, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            keep = i in marked
            cell.outputs = [o for o in run.cells[i].outputs if o.get("output_type") != "display_data"] if keep else []
            cell.execution_count = run.cells[i].execution_count if keep else None
    nbformat.write(nb, path)
    print(f"pinned the outputs of {len(marked)} cell(s) in {path}")
    return 0


def cmd_pins(args) -> int:
    from .pins import write_environment_files

    for name in write_environment_files():
        print(f"wrote {name}")
    return 0


def cmd_lab_setup(args) -> int:
    from .labsetup import configure

    try:
        configure()
    except RuntimeError as exc:
        raise CourseError(str(exc)) from None
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="regenerate chapters/ from solutions/")
    p.add_argument("--check", action="store_true", help="only check chapters/ is in step; exit 1 if not")
    p.add_argument("chapters", nargs="*", help="regenerate only these chapters (default: all)")
    p.set_defaults(func=cmd_release)
    p = sub.add_parser("check", help="run a chapter's tests on your notebook (self-check)")
    p.add_argument("target", help="chapter (01, 01-neuron, zh/01) or path to a notebook")
    p.add_argument("--zh", action="store_true", help="the Chinese edition (chapters/zh/...), 中文版")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("reset", help="put a fresh copy of a chapter in chapters/ (yours is kept as a dated backup)")
    p.add_argument("chapter", help="chapter (01, 01-neuron, zh/01)")
    p.add_argument("--zh", action="store_true", help="the Chinese edition (chapters/zh/...), 中文版")
    p.set_defaults(func=cmd_reset)
    p = sub.add_parser("translations", help="translations of a chapter: which cells do not follow the English")
    p.add_argument("chapter", help="chapter (01, 01-neuron)")
    p.add_argument("--lang", default="zh", choices=sorted(LANGUAGES))
    p.add_argument("--stamp", nargs="+", metavar="CELL", help="record that these cells' translations follow the "
                                                               "English now (after updating them)")
    p.set_defaults(func=cmd_translations)
    p = sub.add_parser("grade", help="autograde a chapter's submissions, write feedback and grades.csv")
    p.add_argument("chapter")
    p.add_argument("--submitted", help="folder of submissions, <student>/<chapter>/<chapter>.ipynb (default submitted/)")
    p.add_argument("--course", help="the course folder to grade in (default: the one this package is in); "
                                    "nbgrader's layout: solutions/, submitted/, and feedback/ written there")
    p.add_argument("--csv", default="grades.csv", help="where to write the grades (default grades.csv, in the course "
                                                       "folder with --course); the class report goes next to it")
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: number of cores)")
    p.add_argument("--dask", nargs="?", const="local", default=None, metavar="SCHEDULER",
                   help="run the notebooks on Dask: a local cluster, or the scheduler at this address")
    p.add_argument("--timeout", type=int, default=int(os.environ.get("DLCOURSE_CELL_TIMEOUT", "300")),
                   help="seconds per cell (default 300)")
    p.add_argument("--memory-mb", type=int, default=4096, help="address-space limit per kernel (default 4096)")
    p.add_argument("--force", action="store_true", help="grade again even submissions that did not change")
    p.add_argument("--no-sandbox", action="store_true", help="run kernels as this user, without the sandbox")
    p.add_argument("--full", action="store_true", help="grade in full mode (default: fast mode)")
    p.set_defaults(func=cmd_grade)
    p = sub.add_parser("bench", help="solution notebooks in fast and full mode (time, memory), then NumPy vs "
                                     "Keras throughput")
    p.add_argument("chapters", nargs="*", help="chapters to run (default: all)")
    p.add_argument("--fast-only", action="store_true", help="notebooks in fast mode only")
    p.add_argument("--notebooks-only", action="store_true", help="skip the NumPy vs Keras throughput benchmark")
    p.add_argument("--throughput-only", action="store_true", help="only the NumPy vs Keras throughput benchmark")
    p.add_argument("--quick", action="store_true",
                   help="throughput benchmark on 1024 samples: checks the machinery, figures not to quote")
    p.add_argument("--out", default=str(ROOT / "bench-results"), help="folder for bench.json and bench.md")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("pin-outputs", help="store the outputs of a solution notebook's NBVAL_CHECK_OUTPUT cells")
    p.add_argument("notebook", help="chapter (01, 01-neuron) or path to a solution notebook")
    p.set_defaults(func=cmd_pin_outputs)
    p = sub.add_parser("lab-setup", help="this environment's JupyterLab as learners get it (Binder and .venv)")
    p.set_defaults(func=cmd_lab_setup)
    p = sub.add_parser("pins", help="rewrite the conda environment files from requirements.txt")
    p.set_defaults(func=cmd_pins)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
