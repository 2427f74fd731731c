"""Probe sets: the paper's cloze files, the synthetic world's probes, LNewKnow and any
multiple-choice table (``mc``: CLIcK, KMMLU, BLEnD, ... through a field mapping), as ProbeItems.

Every loader returns a :class:`ProbeSet`: items in the schema of DESIGN.md
(:class:`~bridgelab.contracts.records.ProbeItem`) plus the culture's language and the question's
language. An English set and a native set of the same culture share item ids, which is what
pairs them in the transfer statistics.

Loaders keep the question text exactly as published (blanks of any length, no blank at all):
the linter reports those defects and the scorers apply a documented policy, so nothing is
repaired silently here. The two mappings of other formats to cloze are documented
(docs/probes.md): LNewKnow's open QA, and an ``mc`` question without a blank, which gets
`` ___`` appended (the paper's convention for questions written as questions).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bridgelab.contracts.records import (
    BLANK,
    ProbeItem,
    check_unique_ids,
    read_json,
    read_jsonl_records,
    read_probes,
)
from bridgelab.errors import DataError
from bridgelab.utils.io import iter_lines

PAPER_LANGS = ("bo", "ko", "mn", "zh")
PAPER_CULTURES = {"bo": "Tibetan", "ko": "Korean", "mn": "Mongolian", "zh": "Han Chinese"}
SetKind = Literal["paper", "synthetic", "lnewknow", "mc"]
MC_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
# The linter's and the scorers' blank (bridgelab.probes.lint.BLANK_RE; not imported, since the
# linter pulls in scipy): any run of underscores.
_BLANK_RE = re.compile(r"_+")
log = logging.getLogger(__name__)
# LNewKnow questions are open QA; they become 4-option cloze items (see load_lnewknow).
LNEWKNOW_OPTIONS = 4


@dataclass(frozen=True)
class ProbeSet:
    """Items of one culture asked in one language."""

    name: str  # e.g. "paper:bo.en", unique within a probe run
    culture_lang: str  # the language native to the culture the items ask about
    question_lang: str  # the language the questions are written in
    items: tuple[ProbeItem, ...]
    source: str  # the file the items came from
    # the options' language when it is not the question's (mixed-language items,
    # bridgelab.probes.mixed); "" = the options are in the question's language
    options_lang: str = ""


def _load_json_array(path: Path) -> list[dict]:
    data = read_json(path, what="probe file")
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON array of cloze items")
    return data


def paper_file(folder: str | Path, lang: str, question_lang: str) -> Path:
    return Path(folder) / f"{lang}-culture-cloze_{question_lang}.json"


def load_paper_set(folder: str | Path, lang: str, question_lang: str) -> ProbeSet:
    """One file of the paper's release; item ``i`` gets id ``<lang>-<i:04d>`` in both languages."""
    if lang not in PAPER_LANGS:
        raise DataError(f"paper probes exist for {', '.join(PAPER_LANGS)}, not '{lang}'")
    if question_lang not in ("en", lang):
        raise DataError(
            f"paper probes for '{lang}' are asked in 'en' or '{lang}', not '{question_lang}'"
        )
    path = paper_file(folder, lang, question_lang)
    items = []
    for i, rec in enumerate(_load_json_array(path)):
        where = f"{path}: item index {i}"
        if not isinstance(rec, dict):
            raise DataError(f"{where}: expected an object")
        options = rec.get("options")
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise DataError(f"{where}: 'options' must be a list of strings")
        for key in ("question", "answer"):
            if not isinstance(rec.get(key), str):
                raise DataError(f"{where}: '{key}' must be a string")
        items.append(
            ProbeItem(
                id=f"{lang}-{i:04d}",
                culture=PAPER_CULTURES[lang],
                lang=question_lang,
                question=rec["question"],
                options=tuple(options),
                answer=rec["answer"],
            )
        )
    return ProbeSet(f"paper:{lang}.{question_lang}", lang, question_lang, tuple(items), str(path))


def load_synthetic_set(world: str | Path, lang: str, question_lang: str) -> ProbeSet:
    """``<world>/probes/<lang>.<question_lang>.jsonl`` (ProbeItem JSONL, aligned by id)."""
    path = Path(world) / "probes" / f"{lang}.{question_lang}.jsonl"
    items = tuple(read_probes(path))
    check_unique_ids((it.id for it in items), str(path))
    return ProbeSet(f"synthetic:{lang}.{question_lang}", lang, question_lang, items, str(path))


def _lnewknow_qa(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            messages = json.loads(line)["messages"]
            question = next(m["content"] for m in messages if m["role"] == "user")
            answer = next(m["content"] for m in messages if m["role"] == "assistant")
        except (json.JSONDecodeError, KeyError, TypeError, StopIteration):
            raise DataError(
                f"{where}: expected {{'messages': [..user.., ..assistant..]}} chat JSON"
            ) from None
        pairs.append((question.strip(), answer.strip()))
    return pairs


def load_lnewknow(path: str | Path, *, seed: int = 0) -> ProbeSet:
    """An LNewKnow ``<set>.<split>.<lang>.jsonl`` file as 4-option cloze items.

    Mapping (documented in docs/probes.md): the question becomes ``"Q: <question>\\nA: ___"``;
    the options are the item's answer plus 3 distinct answers of OTHER items of the same file,
    drawn with a generator seeded by ``(seed, item index)``, and the answer's position is drawn
    uniformly with the same generator, so the set has no answer-position bias by construction.
    """
    path = Path(path)
    parts = path.name.split(".")
    if len(parts) < 4:
        raise DataError(f"{path}: expected a name like <set>.<split>.<lang>.jsonl")
    set_name, split, qlang = parts[0], parts[1], parts[2]
    qa = _lnewknow_qa(path)
    answers = sorted({a for _, a in qa})
    if len(answers) < LNEWKNOW_OPTIONS:
        raise DataError(
            f"{path}: needs at least {LNEWKNOW_OPTIONS} distinct answers to build options"
        )
    items = []
    for i, (question, answer) in enumerate(qa):
        digest = hashlib.sha256(f"{seed}:{set_name}:{split}:{i}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        distractors = rng.sample([a for a in answers if a != answer], LNEWKNOW_OPTIONS - 1)
        options = list(distractors)
        options.insert(rng.randrange(LNEWKNOW_OPTIONS), answer)
        items.append(
            ProbeItem(
                id=f"{set_name}.{split}-{i:04d}",
                culture=set_name,
                lang=qlang,
                question=f"Q: {question}\nA: {BLANK}",
                options=tuple(options),
                answer=answer,
            )
        )
    return ProbeSet(f"lnewknow:{set_name}.{split}.{qlang}", qlang, qlang, tuple(items), str(path))


@dataclass(frozen=True)
class McFields:
    """How the rows of a multiple-choice table become cloze items (``ProbeSetConfig.fields``).

    ``options`` is one column holding all options (a list, a JSON list, or a letter -> text
    mapping such as BLEnD's ``{"A": ..., "B": ...}``) or several columns, one option each
    (KMMLU's ``A, B, C, D``). ``answer_is``: ``index`` (``index_base`` is the first option's
    number: KMMLU's answers are 1-4), ``letter`` (A = the first option) or ``text``.
    """

    question: str = "question"
    options: tuple[str, ...] = ("options",)
    answer: str = "answer"
    answer_is: Literal["index", "letter", "text"] = "text"
    index_base: int = 0
    language: str = ""  # column of each row's question language ("" = one language per file)
    id: str = ""  # column of item ids ("" = <name>-<row index:04d>)
    culture: str = ""  # column of each item's culture ("" = the set's culture)
    no_blank: Literal["append", "keep"] = "append"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _mc_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) of a JSONL, JSON-array, CSV/TSV or parquet file; ``where`` names the file
    and line (JSONL, CSV) or the item/row index (JSON array, parquet)."""
    if not path.is_file():
        raise DataError(f"probe file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl_records(path, lambda rec, where: (where, rec))
    elif suffix == ".json":
        data = read_json(path)
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a JSON array of objects")
        for i, rec in enumerate(data):
            if not isinstance(rec, dict):
                raise DataError(f"{path}: item index {i}: expected an object")
            yield f"{path}: item index {i}", rec
    elif suffix in (".csv", ".tsv"):
        # utf-8-sig: spreadsheet exports start with a BOM, which would rename the first column
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            for rec in reader:
                # line_num is the line the record ends on (a quoted cell may span lines)
                yield f"{path}:{reader.line_num}", rec
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for i, rec in enumerate(pq.read_table(path).to_pylist()):
            yield f"{path}: row {i}", rec
    else:
        raise DataError(f"{path}: an mc probe file must be {', '.join(MC_SUFFIXES)}")


def _field(rec: dict[str, Any], column: str, key: str, where: str) -> Any:
    if column not in rec or _missing(rec[column]):
        have = ", ".join(map(str, rec)) or "none"
        raise DataError(f"{where}: missing field '{column}' (fields.{key}; columns: {have})")
    return rec[column]


def _text(value: Any, column: str, key: str, where: str) -> str:
    """A cell as text: strings as they are; numbers (an option "4", a numeric id) as written."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _missing(value):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    raise DataError(
        f"{where}: field '{column}' (fields.{key}) must be text, got {type(value).__name__}"
    )


def _mc_options(rec: dict[str, Any], f: McFields, where: str) -> tuple[list[str], list[str]]:
    """(options, their letters): letters are the mapping's keys, else A, B, C, ..."""
    if len(f.options) > 1:  # one column per option; trailing empty columns mean fewer options
        values = [rec.get(c) for c in f.options]
        missing = [c for c in f.options if c not in rec]
        if missing:
            raise DataError(f"{where}: missing field '{missing[0]}' (fields.options)")
        while values and (_missing(values[-1]) or values[-1] == ""):
            values.pop()
        options = [_text("" if _missing(v) else v, c, "options", where)
                   for v, c in zip(values, f.options)]  # fmt: skip
        return options, [chr(ord("A") + i) for i in range(len(options))]
    column = f.options[0]
    value = _field(rec, column, "options", where)
    if isinstance(value, str):  # CSV cells and some JSON dumps hold the list as JSON text
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise DataError(
                f"{where}: field '{column}' (fields.options) is text but not a JSON list or "
                "mapping; name one column per option instead (fields.options: [A, B, C, D])"
            ) from None
    if isinstance(value, dict):
        letters = sorted(value, key=str)
        return [_text(value[k], column, "options", where) for k in letters], [
            str(k) for k in letters
        ]
    if isinstance(value, (list, tuple)):
        options = [_text(v, column, "options", where) for v in value]
        return options, [chr(ord("A") + i) for i in range(len(options))]
    raise DataError(
        f"{where}: field '{column}' (fields.options) must be a list of options, "
        f"got {type(value).__name__}"
    )


def _mc_answer(value: Any, options: list[str], letters: list[str], f: McFields, where: str) -> str:
    """The answer's text, from an index, a letter or the text itself."""
    if f.answer_is == "text":
        return _text(value, f.answer, "answer", where)
    if f.answer_is == "letter":
        letter = str(value).strip().strip("().").strip()
        match = [i for i, k in enumerate(letters) if k.upper() == letter.upper()]
        if not match:
            raise DataError(
                f"{where}: field '{f.answer}' (fields.answer) = {value!r} is not one of the "
                f"option letters {', '.join(letters)}"
            )
        return options[match[0]]
    try:  # index: an integer, or its digits in a CSV cell
        number = int(value) if not isinstance(value, bool) else None
        if isinstance(value, float) and not value.is_integer():
            number = None
    except (TypeError, ValueError):
        number = None
    index = None if number is None else number - f.index_base
    if index is None or not 0 <= index < len(options):
        last = len(options) - 1 + f.index_base
        raise DataError(
            f"{where}: field '{f.answer}' (fields.answer) = {value!r} is not an option index "
            f"{f.index_base}..{last} (fields.index_base = {f.index_base})"
        )
    return options[index]


def mc_name(path: str | Path) -> str:
    """A multiple-choice set's default name: the file's name up to its first dot."""
    return Path(path).name.split(".")[0] or "mc"


def load_mc_set(
    path: str | Path,
    lang: str,
    question_lang: str,
    *,
    fields: McFields,
    name: str = "",
    culture: str = "",
) -> ProbeSet:
    """A multiple-choice table (JSONL, JSON array, CSV/TSV or parquet) as cloze items.

    ``lang`` is the culture's language, ``question_lang`` the questions'. With
    ``fields.language`` the file's rows in ``question_lang`` are kept, else every row is taken
    to be in ``question_lang``. A question with no blank (any run of
    underscores) gets `` ___`` appended unless ``fields.no_blank`` is ``keep``: the scorers then
    compute what their ``no_blank: append`` policy would, and ``paper_exact``, which scores a
    question without a blank unchanged, can rank the options.
    """
    name = name or mc_name(path)
    file = Path(path)
    culture = culture or PAPER_CULTURES.get(lang, lang)
    items, seen_langs, appended = [], set(), 0
    for i, (where, rec) in enumerate(_mc_rows(file)):
        if f_lang := fields.language:
            row_lang = _text(_field(rec, f_lang, "language", where), f_lang, "language", where)
            seen_langs.add(row_lang)
            if row_lang.strip().lower() != question_lang.lower():
                continue
        question = _text(_field(rec, fields.question, "question", where), fields.question,
                         "question", where)  # fmt: skip
        options, letters = _mc_options(rec, fields, where)
        if not options:
            raise DataError(f"{where}: no options (fields.options = {list(fields.options)})")
        answer = _mc_answer(_field(rec, fields.answer, "answer", where), options, letters,
                            fields, where)  # fmt: skip
        if not _BLANK_RE.search(question) and fields.no_blank == "append":
            question, appended = f"{question.rstrip()} {BLANK}", appended + 1
        item_id = (
            _text(_field(rec, fields.id, "id", where), fields.id, "id", where)
            if fields.id
            else f"{name}-{i:04d}"
        )
        item_culture = (
            _text(_field(rec, fields.culture, "culture", where), fields.culture, "culture", where)
            if fields.culture
            else culture
        )
        items.append(ProbeItem(item_id, item_culture, question_lang, question, tuple(options),
                               answer))  # fmt: skip
    if not items:
        detail = (
            f"no row has {fields.language} = '{question_lang}' (values: "
            f"{', '.join(sorted(seen_langs)) or 'none'})"
            if fields.language
            else "no rows"
        )
        raise DataError(f"{file}: {detail}")
    check_unique_ids((it.id for it in items), str(file))
    if appended:
        log.info("%s: %d of %d questions had no blank; ' ___' appended", file, appended, len(items))
    set_name = f"mc.{name}:{lang}.{question_lang}"
    return ProbeSet(set_name, lang, question_lang, tuple(items), str(file))


def load_probe_set(
    kind: SetKind,
    path: str | Path,
    lang: str = "",
    question_lang: str = "",
    *,
    seed: int = 0,
    fields: McFields | None = None,
    name: str = "",
    culture: str = "",
) -> ProbeSet:
    """Load one probe set. ``kind``: paper (``path`` = folder of the paper's JSON files),
    synthetic (``path`` = world folder), lnewknow (``path`` = one JSONL file) or mc (``path`` =
    one multiple-choice table read through ``fields``; ``name`` and ``culture`` optional)."""
    if kind == "paper":
        return load_paper_set(path, lang, question_lang)
    if kind == "synthetic":
        return load_synthetic_set(path, lang, question_lang)
    if kind == "lnewknow":
        return load_lnewknow(path, seed=seed)
    if kind == "mc":
        return load_mc_set(
            path, lang, question_lang, fields=fields or McFields(), name=name, culture=culture
        )
    raise DataError(f"unknown probe set kind '{kind}' (known: paper, synthetic, lnewknow, mc)")


def check_aligned(native: ProbeSet, english: ProbeSet) -> None:
    """An English and a native set of one culture must hold the same ids in the same order."""
    a = [it.id for it in native.items]
    b = [it.id for it in english.items]
    if a != b:
        missing = sorted(set(a) ^ set(b))[:3]
        raise DataError(
            f"{native.source} and {english.source} are not aligned by id "
            f"({len(a)} vs {len(b)} items; first differing ids: {missing or 'order differs'})"
        )


PROBE_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.xz")
PAPER_FILE_NAME = re.compile(r"(?P<lang>[a-z]+)-culture-cloze_(?P<qlang>[a-z]+)\.json")


def load_probe_file(path: str | Path) -> list[ProbeItem]:
    """ProbeItem JSONL, or one of the paper's ``<lang>-culture-cloze_<qlang>.json`` files
    (read by the probe stage's loader, which gives both languages' items the same ids)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"probes: {path} does not exist")
    if path.name.endswith(PROBE_JSONL_SUFFIXES):
        return list(read_probes(path))
    match = PAPER_FILE_NAME.fullmatch(path.name)
    if match is None:
        raise DataError(
            f"probes: {path} is neither ProbeItem JSONL nor a paper file "
            f"(<lang>-culture-cloze_<question lang>.json)"
        )
    return list(load_probe_set("paper", path.parent, match["lang"], match["qlang"]).items)
