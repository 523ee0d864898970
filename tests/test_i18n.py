"""The Chinese edition (中文版): one source, no drift, the glossary's terms, and one gradebook.

- Every translated cell follows the English cell it translates (``solutions/NN/zh.yml``: cell id
  and hash of the English text); an English edit makes the test fail and name the cell, and the
  test passes again once the translation follows (shown on a temporary copy).
- A glossary term translated another way is flagged.
- ``chapters/zh/NN/`` is the English release with only the reading text changed: same cells, ids,
  nbgrader metadata and checksums, code and test cells byte for byte.
- A class that mixes both editions is graded by the same ``grade_chapter``: the Chinese solution
  gets full marks, the Chinese blank release 0, a Chinese submission with wrong exercises loses
  exactly their points; one grades.csv row per learner, the same maximum; each learner's feedback
  page labels in their language.
"""
import csv
import shutil
import subprocess
import sys

import nbformat
import pytest

from dlcourse import i18n
from dlcourse.course import ROOT, chapter_ids, make_course_copy
from dlcourse.grading import grade_chapter
from gradecheck import exercises
from test_grading import wrong_functions, wrong_submission

TRANSLATED = [(cid, lang) for cid in chapter_ids() for lang in i18n.editions(ROOT, cid)]
IDS = [f"{cid}:{lang}" for cid, lang in TRANSLATED]


def test_chapters_01_and_02_have_a_chinese_edition():
    assert ("01-neuron", "zh") in TRANSLATED and ("02-gradient-descent", "zh") in TRANSLATED, TRANSLATED


@pytest.mark.parametrize("cid, lang", TRANSLATED, ids=IDS)
def test_every_translated_cell_follows_the_english(cid, lang):
    problems = i18n.translation_problems(ROOT, cid, lang)
    assert not problems, (f"{cid} ({lang}): translations that do not follow the English now "
                          f"(`python -m dlcourse translations {cid[:2]}` shows the English):\n"
                          + "\n".join(f"  {p}" for p in problems))


@pytest.mark.parametrize("cid, lang", TRANSLATED, ids=IDS)
def test_glossary_terms_are_translated_as_the_glossary_says(cid, lang):
    problems = i18n.glossary_problems(ROOT, cid, lang)
    assert not problems, f"{cid} ({lang}):\n" + "\n".join(f"  {p}" for p in problems)


# ---------------------------------------------------------------- drift, on a temporary copy
@pytest.fixture
def course_copy(tmp_path):
    """A course folder with chapter 01, its translation and the glossary."""
    cid = "01-neuron"
    shutil.copytree(ROOT / "solutions" / cid, tmp_path / "solutions" / cid)
    shutil.copy2(ROOT / "solutions" / "GLOSSARY.md", tmp_path / "solutions" / "GLOSSARY.md")
    return tmp_path, cid


def _edit_english(root, cid, cell_id, change):
    path = root / "solutions" / cid / f"{cid}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    cell.source = change(cell.source)
    nbformat.write(nb, path)
    return nb


def test_an_english_edit_makes_its_translation_stale_and_named(course_copy):
    root, cid = course_copy
    assert i18n.translation_problems(root, cid, "zh") == []
    _edit_english(root, cid, "c002", lambda s: s.replace("bias = 0.1", "bias = 0.2").replace("$b = 0.1$", "$b = 0.2$"))
    problems = i18n.translation_problems(root, cid, "zh")
    assert [(p.kind, p.cell) for p in problems] == [("stale", "c002")], problems
    assert "c002" in str(problems[0]) and "What a neuron computes" in str(problems[0])
    # The release never ships the stale text: the English takes its place, with a note.
    nb, _ = i18n.translated_notebook(root, cid, "zh")
    cell = next(c for c in nb.cells if c.get("id") == "c002")
    assert "$b = 0.2$" in cell.source and "尚待更新" in cell.source and "神经元算的是什么" not in cell.source
    # ... and the other cells are still in Chinese.
    assert "神经元" in next(c for c in nb.cells if c.get("id") == "c000").source

    # The translator follows the English: the test passes again.
    path = i18n.translation_path(root, cid, "zh")
    data = i18n.load_translation(path)
    entry = data["cells"]["c002"]
    entry["text"] = entry["text"].replace("$b = 0.1$", "$b = 0.2$")
    english = next(c for c in nbformat.read(root / "solutions" / cid / f"{cid}.ipynb", as_version=4).cells
                   if c.get("id") == "c002")
    entry["en"] = i18n.source_hash(english.source)
    i18n.save_translation(path, data)
    assert i18n.translation_problems(root, cid, "zh") == []
    nb, _ = i18n.translated_notebook(root, cid, "zh")
    assert "$b = 0.2$" in next(c for c in nb.cells if c.get("id") == "c002").source


def test_new_and_deleted_english_cells_are_named(course_copy):
    root, cid = course_copy
    path = root / "solutions" / cid / f"{cid}.ipynb"
    nb = nbformat.read(path, as_version=4)
    new = nbformat.v4.new_markdown_cell("A new paragraph.")
    new["id"] = "newcell1"
    nb.cells.insert(3, new)
    nb.cells = [c for c in nb.cells if c.get("id") != "c027"]
    nbformat.write(nb, path)
    found = {(p.kind, p.cell) for p in i18n.translation_problems(root, cid, "zh")}
    assert found == {("missing", "newcell1"), ("orphan", "c027")}, found


def test_the_cli_lists_stale_cells_and_stamps_them(course_copy, monkeypatch):
    """`python -m dlcourse translations 01` names the stale cell with its English; --stamp clears it."""
    from dlcourse import cli

    root, cid = course_copy
    monkeypatch.setattr(cli, "ROOT", root)
    monkeypatch.setattr("dlcourse.course.ROOT", root)
    _edit_english(root, cid, "c027", lambda s: s + " (Edited.)")
    assert cli.main(["translations", "01"]) == 1
    assert cli.main(["translations", "01", "--stamp", "c027"]) == 0
    assert cli.main(["translations", "01"]) == 0


def test_a_term_translated_another_way_is_flagged(course_copy):
    root, cid = course_copy
    assert i18n.glossary_problems(root, cid, "zh") == []
    path = i18n.translation_path(root, cid, "zh")
    data = i18n.load_translation(path)
    # "weight" is 权重 in the glossary; 权值 is another (common) way to say it.
    data["cells"]["c002"]["text"] = data["cells"]["c002"]["text"].replace("权重", "权值")
    # "learning rate" does not occur in c002; "activation function" does: 激励函数 is another way.
    data["cells"]["c000"]["text"] = data["cells"]["c000"]["text"].replace("激活函数", "激励函数")
    i18n.save_translation(path, data)
    found = {(p.cell, str(p).split("`")[1]) for p in i18n.glossary_problems(root, cid, "zh")}
    assert found == {("c002", "weight"), ("c000", "activation function")}, found


def test_glossary_parsing():
    terms = {t.english[0]: t for t in i18n.glossary_terms(ROOT / "solutions" / "GLOSSARY.md")}
    assert terms["sigmoid"].english == ["sigmoid", "logistic function"]
    assert "s型函数" in terms["sigmoid"].chinese and "sigmoid" in terms["sigmoid"].chinese
    assert terms["compile"].english == ["compile"]  # "(Keras)" qualifies, it is not another name
    assert "一热编码" in terms["one-hot encoding"].chinese
    assert len(terms) > 100


# ---------------------------------------------------------------- the release
@pytest.mark.parametrize("cid, lang", TRANSLATED, ids=IDS)
def test_the_edition_is_the_english_release_with_translated_text(cid, lang):
    en_dir, ed_dir = ROOT / "chapters" / cid, ROOT / "chapters" / lang / cid
    assert sorted(p.name for p in ed_dir.iterdir()) == sorted(p.name for p in en_dir.iterdir() if ".backup-" not in p.name)
    en = nbformat.read(en_dir / f"{cid}.ipynb", as_version=4)
    ed = nbformat.read(ed_dir / f"{cid}.ipynb", as_version=4)
    assert ed.metadata == {**en.metadata, i18n.EDITION_KEY: lang}
    assert len(ed.cells) == len(en.cells)
    texts = i18n.load_translation(i18n.translation_path(ROOT, cid, lang))["cells"]
    for a, b in zip(en.cells, ed.cells):
        # Same cell, same nbgrader metadata (grade ids, points, checksums): one gradebook for both.
        assert (a.get("id"), a.cell_type, a.metadata) == (b.get("id"), b.cell_type, b.metadata), a.get("id")
        if i18n.translatable(a):
            assert b.source == texts[a.id]["text"].rstrip("\n"), a.id
        else:
            assert a.source == b.source, f"{cid} ({lang}): cell {a.get('id')} differs from the English"
    assert "GLOSSARY.md" in ed.cells[0].source
    for link in ("../../GLOSSARY.md",):
        if link in ed.cells[0].source:
            assert (ed_dir / link).resolve().is_file()


@pytest.mark.parametrize("cid, lang", TRANSLATED, ids=IDS)
def test_the_translation_keeps_maths_and_code_names(cid, lang):
    """Formulas and inline code of each cell are the English ones (a translation rewords, it does not recompute)."""
    import re

    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    texts = i18n.load_translation(i18n.translation_path(ROOT, cid, lang))["cells"]
    display = re.compile(r"\$\$.*?\$\$", re.S)
    code = re.compile(r"`[^`\n]+`")
    for cell in nb.cells:
        if not i18n.translatable(cell):
            continue
        zh = texts[cell.id]["text"]
        for formula in display.findall(cell.source):
            assert formula in zh, f"{cid} cell {cell.id}: display formula changed or missing: {formula[:80]}"
        missing = {c for c in code.findall(cell.source) if c not in zh}
        assert not missing, f"{cid} cell {cell.id}: code names missing from the translation: {sorted(missing)}"
        en_numbers = re.findall(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?", display.sub("", code.sub("", cell.source)))
        zh_plain = code.sub("", zh)
        lost = sorted({n for n in en_numbers if n not in zh_plain})
        assert not lost, f"{cid} cell {cell.id}: numbers of the English missing from the translation: {lost}"


# ---------------------------------------------------------------- one class, both editions
_graded: dict = {}


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory):
    def grade(cid):
        if cid not in _graded:
            root = make_course_copy(tmp_path_factory.mktemp(f"mixed-{cid}"), [cid])
            en = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
            zh, problems = i18n.translated_notebook(ROOT, cid, "zh")
            assert not problems
            subs = {"en-solution": en, "zh-solution": zh, "zh-wrong-odd": wrong_submission(zh, "wrong-odd"),
                    "zh-blank": nbformat.read(ROOT / "chapters" / "zh" / cid / f"{cid}.ipynb", as_version=4)}
            for student, nb in subs.items():
                dest = root / "submitted" / student / cid
                dest.mkdir(parents=True)
                nbformat.write(nb, dest / f"{cid}.ipynb")
            results = grade_chapter(root, cid, workers=2, timeout=300, csv_path=root / "grades.csv",
                                    log=lambda m: None)
            _graded[cid] = (root, {r["student"]: r for r in results})
        return _graded[cid]
    return grade


@pytest.mark.parametrize("cid", [c for c, lang in TRANSLATED if lang == "zh"])
def test_a_class_mixing_both_editions_is_graded_alike(cid, mixed_class, monkeypatch):
    monkeypatch.delenv("DLCOURSE_GRADEBOOK", raising=False)
    root, res = mixed_class(cid)
    nb = nbformat.read(ROOT / "solutions" / cid / f"{cid}.ipynb", as_version=4)
    ex = exercises(nb)
    points = {gid: p for e in ex.values() for gid, p in e["tests"].items()}
    wrong = {gid for fn in wrong_functions(nb, "wrong-odd") for gid in ex[fn]["tests"]}
    expected = {"en-solution": dict(points), "zh-solution": dict(points),
                "zh-blank": {g: 0.0 for g in points},
                "zh-wrong-odd": {g: (0.0 if g in wrong else p) for g, p in points.items()}}
    for student, want in expected.items():
        r = res[student]
        assert r["status"] == "graded" and not r["flags"] and r["message"] == "", (student, r)
        assert r["scores"] == want, f"{cid} {student}: got {r['scores']}, expected {want}"
        assert r["max_scores"] == {g: float(p) for g, p in points.items()}, (student, r["max_scores"])
    with open(root / "grades.csv") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert sorted(rows) == sorted(expected)
    assert {row["max_score"] for row in rows.values()} == {f"{sum(points.values()):g}"}
    assert float(rows["zh-solution"]["score"]) == sum(points.values()) and float(rows["zh-blank"]["score"]) == 0
    # Feedback: the page's own labels in the learner's language; no hidden test in either.
    for student, word, other in (("zh-solution", "得分", "Score:"), ("en-solution", "Score:", "得分")):
        page = (root / "feedback" / student / cid / f"{cid}.html").read_text(encoding="utf-8")
        assert word in page and other not in page, f"{student}: feedback labels"
        assert "BEGIN HIDDEN TESTS" not in page
    zh_page = (root / "feedback" / "zh-solution" / cid / f"{cid}.html").read_text(encoding="utf-8")
    assert "测试：" in zh_page and "神经元" in zh_page


# ---------------------------------------------------------------- the learner's commands
@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the course's .venv")
def test_check_and_reset_of_the_chinese_edition_from_a_clean_clone(tmp_path):
    """`python3 course.py check 01 --zh` and `reset 01 --zh`, as the README's 中文 section gives them."""
    from test_cli import _unactivated_env

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=120)
    env = _unactivated_env(tmp_path)
    python3 = shutil.which("python3", path=env["PATH"]) or sys.executable

    def course(*args):
        return subprocess.run([python3, "course.py", *args], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=900)

    proc = course("check", "01", "--zh")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "chapters/zh/01-neuron/01-neuron.ipynb" in out and "7 个练习中有 7 个还需要修改" in out, out
    assert "neuron_forward is not written yet" in out and "Traceback" not in out, out

    nb = clone / "chapters" / "zh" / "01-neuron" / "01-neuron.ipynb"
    fresh = nb.read_bytes()
    nb.write_text('{"cells": [')
    proc = course("reset", "zh/01")
    assert proc.returncode == 0 and "已恢复" in proc.stdout, proc.stdout + proc.stderr
    assert nb.read_bytes() == fresh
    assert len(list(nb.parent.glob("01-neuron.backup-*.ipynb"))) == 1
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                          text=True).stdout.strip() == ""
    proc = course("check", "03", "--zh")
    assert proc.returncode == 2 and "no 中文 (zh) edition yet" in proc.stderr, proc.stdout + proc.stderr


@pytest.mark.parametrize("cid, lang", TRANSLATED, ids=IDS)
def test_translated_hints_never_hand_over_the_solution(cid, lang):
    """test_teaching.py's rule for hints, on the edition's hints (a translation must not add code)."""
    from test_teaching import hint_give_aways

    nb, _ = i18n.translated_notebook(ROOT, cid, lang)
    assert hint_give_aways(nb) == []
    hints = [c.source for c in nb.cells if c.cell_type == "markdown" and "<details>" in c.source]
    assert hints and all("<summary>提示 " in h for h in hints), "hints are headed 提示 1 / 提示 2"


def test_release_check_reports_a_stale_translation(course_copy):
    """`python -m dlcourse release --check` lists translation_report's lines and exits 1 on any."""
    from dlcourse.course import translation_report

    root, cid = course_copy
    assert translation_report(root) == []
    _edit_english(root, cid, "c046", lambda s: s.replace("What you learned", "What you have learned"))
    report = translation_report(root)
    assert len(report) == 1 and "01-neuron (zh): stale: cell c046" in report[0], report
