"""Editions of the course in other languages (中文版: ``zh``), from the one English source.

A chapter's code and test cells exist once, in ``solutions/NN-slug/NN-slug.ipynb``. An edition
differs only in the text a learner reads: the markdown cells (theory, hints, Errata, summary).
Their translation lives next to the chapter, in ``solutions/NN-slug/<lang>.yml``::

    language: zh
    cells:
      c000:                      # the id of the English markdown cell
        en: 1f0c2a9b8d7e6f5a     # sha256 (16 hex) of that cell's English text when it was translated
        text: |                  # the translation
          # 01 · 神经元
          ...
        glossary_ok: [example]   # optional: glossary terms this cell uses in another sense

The release (:func:`dlcourse.course.generate_release`) builds the edition's solution notebook
(:func:`translated_notebook`: the English notebook, markdown cells replaced) and runs it through
the same ``nbgrader generate_assignment`` as the English chapter, into ``chapters/<lang>/NN-slug/``;
so nbgrader's metadata, checksums, stubs and hidden-test stripping are those of the English
release, and one gradebook grades both editions.

No drift: a translation whose ``en`` hash is not the English cell's current hash is *stale*. The
release never ships it (the English text goes in its place, marked as awaiting translation), and
:func:`translation_problems` (used by ``release --check`` and ``tests/test_i18n.py``) names every
stale, missing or orphaned cell. ``python -m dlcourse translations CHAPTER`` lists them with the
current English text; ``--stamp CELL`` records, after the translation was updated, that it
follows the English again.

Terms: :func:`glossary_problems` flags a translated cell whose English uses a term of
``GLOSSARY.md`` without the glossary's Chinese for it (or one of its listed variants).
"""
from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

LANGUAGES = {"zh": "中文"}
EDITION_KEY = "dlcourse_edition"  # notebook metadata: the edition's language ("zh"); absent in English
STALE_NOTE = {"zh": "> （此段英文原文已修改，中文译文尚待更新，暂以英文原文代替。）\n\n"}


def source_hash(text: str) -> str:
    """The hash that ties a translation to the English text it translates."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def translation_path(root: Path, cid: str, lang: str) -> Path:
    return Path(root) / "solutions" / cid / f"{lang}.yml"


def editions(root: Path, cid: str) -> list[str]:
    """The languages a chapter has a translation for (besides English)."""
    return [lang for lang in LANGUAGES if translation_path(root, cid, lang).is_file()]


def translatable(cell) -> bool:
    """A cell whose text is for reading: markdown that nbgrader neither grades nor locks."""
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "markdown" and not (nbg.get("grade") or nbg.get("locked") or nbg.get("solution")
                                                  or nbg.get("task"))


def load_translation(path: Path) -> dict:
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    cells = data.get("cells") or {}
    if not isinstance(cells, dict):
        raise ValueError(f"{path}: `cells` must be a mapping of cell id to translation")
    return data


def save_translation(path: Path, data: dict) -> None:
    """Write a translation file with each text as a YAML block (readable, diffable)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text_block(dumper, value):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text_block)
    head = ("# Translation of this chapter's markdown cells (see dlcourse/i18n.py). Each entry: the English\n"
            "# cell's id, `en` = hash of the English text it translates, `text` = the translation.\n"
            "# After updating a stale translation: python -m dlcourse translations CHAPTER --stamp CELL\n")
    body = yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=1000)
    Path(path).write_text(head + body, encoding="utf-8")


@dataclass
class Problem:
    kind: str       # "stale", "missing", "orphan", "empty", "term"
    cell: str       # the English cell's id
    message: str
    english: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"{self.kind}: cell {self.cell}: {self.message}"


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return (line[:60] + "...") if len(line) > 60 else line


def _solution(root: Path, cid: str):
    return nbformat.read(Path(root) / "solutions" / cid / f"{cid}.ipynb", as_version=4)


def translation_problems(root: Path, cid: str, lang: str, nb=None) -> list[Problem]:
    """Every cell of the edition that does not follow the English now: stale, missing, orphaned, empty."""
    nb = nb if nb is not None else _solution(root, cid)
    path = translation_path(root, cid, lang)
    cells = load_translation(path).get("cells") or {}
    rel = f"solutions/{cid}/{lang}.yml"
    out: list[Problem] = []
    english = {c.get("id"): c for c in nb.cells if translatable(c)}
    for cell_id, cell in english.items():
        entry = cells.get(cell_id)
        where = f"`{_first_line(cell.source)}`"
        if not isinstance(entry, dict):
            out.append(Problem("missing", cell_id, f"{where} has no translation in {rel}", cell.source))
        elif not str(entry.get("text") or "").strip():
            out.append(Problem("empty", cell_id, f"{where}: the translation in {rel} is empty", cell.source))
        elif entry.get("en") != source_hash(cell.source):
            out.append(Problem("stale", cell_id, f"{where}: the English text changed after it was translated; "
                                                 f"update its translation in {rel}", cell.source))
    for cell_id in cells:
        if cell_id not in english:
            out.append(Problem("orphan", str(cell_id), f"{rel} translates a cell that is not a markdown cell of "
                                                       f"the English chapter (deleted, or its id changed)"))
    return out


def translated_notebook(root: Path, cid: str, lang: str):
    """The chapter's solution notebook in ``lang``: the English one with its markdown cells translated.

    Code cells, metadata and cell ids are the English ones. A stale or missing translation is
    replaced by the English text with a note, never shipped. Returns (notebook, problems).
    """
    nb = _solution(root, cid)
    problems = translation_problems(root, cid, lang, nb)
    bad = {p.cell for p in problems}
    cells = load_translation(translation_path(root, cid, lang)).get("cells") or {}
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if not translatable(cell):
            continue
        if cell.get("id") in bad:
            cell.source = STALE_NOTE.get(lang, "") + cell.source
        else:
            cell.source = str(cells[cell.get("id")]["text"]).rstrip("\n")
    out.metadata[EDITION_KEY] = lang
    return out, problems


def edition_of(nb) -> str:
    """``"zh"`` for a notebook of the Chinese edition (its metadata, else mostly Chinese prose), else ``"en"``."""
    lang = nb.get("metadata", {}).get(EDITION_KEY)
    if lang in LANGUAGES:
        return lang
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "zh" if text and cjk > 0.15 * len(text) else "en"


# ---------------------------------------------------------------- glossary
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S)
_TAGS = re.compile(r"<[^>\n]+>")
_LINKS = re.compile(r"\]\([^)]*\)")


def _prose(text: str) -> str:
    """A markdown cell without code, maths, HTML tags and link targets: the words a reader reads."""
    for pat in (_CODE, _MATH, _TAGS, _LINKS):
        text = pat.sub(" ", text)
    return text


QUALIFIERS = {"Keras", "Adam"}  # "compile (Keras)", "bias correction (Adam)": not other names of the term


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


@dataclass
class Term:
    english: list[str]   # the English forms, e.g. ["sigmoid", "logistic function"]
    chinese: list[str]   # accepted Chinese forms, e.g. ["s型函数", "sigmoid函数"] (normalised)
    row: str             # the glossary's 中文 column as written


def glossary_terms(glossary: Path) -> list[Term]:
    """The glossary's rows: English forms (with any parenthesised alternative) and Chinese forms."""
    terms = []
    for line in Path(glossary).read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) < 4 or cols[0] in ("English", "") or set(cols[0]) <= set("-"):
            continue
        en_col, zh_col = cols[0], cols[1]
        english = []
        m = re.match(r"^(.*?)\s*\((.*)\)\s*$", en_col)
        # "sigmoid (logistic function)" names two forms; "compile (Keras)" only qualifies one
        alternative = m and m.group(2).strip() not in QUALIFIERS
        for part in ([m.group(1), m.group(2)] if alternative else [m.group(1)] if m else [en_col]):
            part = part.strip()
            if part and "`" not in part and "$" not in part and "," not in part:
                english.append(part)
        chinese = []
        for part in re.split(r"[（）；;、]|\(|\)", zh_col):
            part = part.replace("原文亦作", "").strip().strip("“”\"'`").strip()
            if part:
                chinese.append(_norm(part))
        # A name the glossary itself keeps in Latin letters ("Sigmoid 函数", "MNIST 手写数字数据集",
        # "随机梯度下降（SGD）") may stay in Latin letters: that is not translating it another way.
        chinese += [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9.]{2,}", zh_col)
                    if w.lower().rstrip("s") in {e.lower().rstrip("s") for e in english}]
        if english and chinese:
            terms.append(Term(english, chinese, zh_col))
    return terms


def _uses(text: str, term: str) -> bool:
    pattern = r"(?<![\w-])" + re.escape(term).replace(r"\ ", r"[\s-]+") + r"(s|es)?(?![\w-])"
    return re.search(pattern, text, re.I) is not None


def glossary_problems(root: Path, cid: str, lang: str = "zh", nb=None) -> list[Problem]:
    """Translated cells whose English uses a glossary term but whose translation has none of its
    glossary forms (a term translated another way). A cell may list terms it uses in another
    sense (``glossary_ok``)."""
    nb = nb if nb is not None else _solution(root, cid)
    terms = glossary_terms(Path(root) / "solutions" / "GLOSSARY.md")
    cells = load_translation(translation_path(root, cid, lang)).get("cells") or {}
    out = []
    for cell in nb.cells:
        entry = cells.get(cell.get("id"))
        if not translatable(cell) or not isinstance(entry, dict):
            continue
        en = _prose(cell.source)
        zh = _norm(str(entry.get("text") or ""))
        allowed = {str(t).lower() for t in entry.get("glossary_ok") or []}
        for term in terms:
            used = [e for e in term.english if _uses(en, e)]
            # "mini-batch" is its own term: "batch" inside it is not a use of "batch"
            if not used or any(e.lower() in allowed for e in term.english):
                continue
            if not any(form in zh or (form.isascii() and form.rstrip("s") in zh) for form in term.chinese):
                out.append(Problem("term", str(cell.get("id")),
                                   f"the English says `{used[0]}`; the glossary's 中文 is {term.row}, which the "
                                   f"translation does not use (or list `{used[0]}` in this cell's glossary_ok "
                                   f"if it is meant in another sense)"))
    return out
