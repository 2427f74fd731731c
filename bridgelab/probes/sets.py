"""Probe sets: the paper's cloze files, the synthetic world's probes and LNewKnow, as ProbeItems.

Every loader returns a :class:`ProbeSet`: items in the schema of DESIGN.md
(:class:`~bridgelab.data.records.ProbeItem`) plus the culture's language and the question's
language. An English set and a native set of the same culture share item ids, which is what
pairs them in the transfer statistics.

Loaders keep the question text exactly as published (blanks of any length, no blank at all):
the linter reports those defects and the scorers apply a documented policy, so nothing is
repaired silently here.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bridgelab.data.records import BLANK, ProbeItem, check_unique_ids, read_probes
from bridgelab.errors import DataError
from bridgelab.utils.io import iter_lines

PAPER_LANGS = ("bo", "ko", "mn", "zh")
PAPER_CULTURES = {"bo": "Tibetan", "ko": "Korean", "mn": "Mongolian", "zh": "Han Chinese"}
SetKind = Literal["paper", "synthetic", "lnewknow"]
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


def _load_json_array(path: Path) -> list[dict]:
    if not path.is_file():
        raise DataError(f"probe file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None
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


def load_probe_set(
    kind: SetKind, path: str | Path, lang: str = "", question_lang: str = "", *, seed: int = 0
) -> ProbeSet:
    """Load one probe set. ``kind``: paper (``path`` = folder of the paper's JSON files),
    synthetic (``path`` = world folder) or lnewknow (``path`` = one JSONL file)."""
    if kind == "paper":
        return load_paper_set(path, lang, question_lang)
    if kind == "synthetic":
        return load_synthetic_set(path, lang, question_lang)
    if kind == "lnewknow":
        return load_lnewknow(path, seed=seed)
    raise DataError(f"unknown probe set kind '{kind}' (known: paper, synthetic, lnewknow)")


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
