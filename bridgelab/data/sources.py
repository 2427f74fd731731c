"""Named readers for the shared real data (``../shared/data``, see its SOURCES.md).

``read_mono(lang, root)`` yields the monolingual samples as Documents with stable ids
(``<corpus>-<record id>``); ``read_parallel(name, lang, root)`` returns English-X pairs with
ids ``<name>-<lang>-<line index>`` (e.g. ``flores200-dev-bo-000123``).

Mongolian: the study's ``mn`` is the traditional script. FLORES-200, NTREX-128 and Tatoeba
translate into Cyrillic Halh Mongolian, so those sets are offered under the code ``khk``
and refused for ``mn`` with an explanation; only MiLiC is traditional-script ``mn``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bridgelab.contracts.records import Document, ParallelPair, ReadStats, read_jsonl_records
from bridgelab.contracts.scripts import (
    DEFAULT_MIN_SCRIPT_FRACTION,
    MIN_LETTERS_FOR_SCRIPT_CHECK,
    letters_in_script,
)
from bridgelab.data.filters import normalize_tibetan_segmented
from bridgelab.errors import DataError
from bridgelab.utils.io import iter_lines


@dataclass(frozen=True)
class MonoFile:
    path: str  # relative to the shared data root
    corpus: str  # id prefix and Document.source
    tibetan_segmented: bool = False  # Nanhai text needs normalize_tibetan_segmented


MONO: dict[str, list[MonoFile]] = {
    "en": [MonoFile("wiki_en/enwiki_2015_wikiextractor_sample.jsonl.xz", "enwiki")],
    "ko": [MonoFile("mono/kowiki_2020_wikiextractor_sample.jsonl.xz", "kowiki")],
    "zh": [MonoFile("mono/zhwiki_wikiextractor_sample.zh-Hans.jsonl.xz", "zhwiki")],
    "bo": [
        MonoFile("mono/bo_nanhai_written.jsonl.xz", "nanhai-written", tibetan_segmented=True),
        MonoFile("mono/bo_nanhai_speech.jsonl.xz", "nanhai-speech", tibetan_segmented=True),
    ],
    "mn": [
        MonoFile("mono/mn_mong_milic_mgyxw_news.jsonl.xz", "milic-news"),
        MonoFile("mono/mn_mong_milic_topic_passages.jsonl.xz", "milic-topic"),
    ],
}


@dataclass(frozen=True)
class ParallelFiles:
    en: str
    other: str
    script: str  # Unicode script of the non-English side


_TATOEBA = "parallel/tatoeba/eng-{p}.tatoeba-test-v2021-08-07.{s}.gz"
PARALLEL: dict[str, dict[str, ParallelFiles]] = {
    "flores200-dev": {
        lang: ParallelFiles("parallel/flores200/dev/eng_Latn.dev.gz", f"parallel/flores200/dev/{code}.dev.gz", script)
        for lang, code, script in (
            ("ko", "kor_Hang", "Hangul"),
            ("zh", "zho_Hans", "Han"),
            ("bo", "bod_Tibt", "Tibetan"),
            ("khk", "khk_Cyrl", "Cyrillic"),
        )
    },
    "ntrex128": {
        lang: ParallelFiles("parallel/ntrex128/newstest2019-src.eng.txt.gz", f"parallel/ntrex128/newstest2019-ref.{code}.txt.gz", script)
        for lang, code, script in (
            ("ko", "kor", "Hangul"),
            ("zh", "zho_Hans", "Han"),
            ("bo", "bod", "Tibetan"),
            ("khk", "mon", "Cyrillic"),
        )
    },
    "tatoeba": {
        lang: ParallelFiles(_TATOEBA.format(p=pair, s="eng"), _TATOEBA.format(p=pair, s=code), script)
        for lang, pair, code, script in (
            ("ko", "kor_Hang", "kor_Hang", "Hangul"),
            ("zh", "cmn_Hans", "cmn_Hans", "Han"),
            ("khk", "mon", "mon", "Cyrillic"),
        )
    },
    "milic-dialogue": {
        "mn": ParallelFiles("parallel/milic_mn_mong/dialogue.eng_Latn.gz", "parallel/milic_mn_mong/dialogue.mon_Mong.gz", "Mongolian"),
    },
    "milic-segments": {
        "mn": ParallelFiles("parallel/milic_mn_mong/segments.eng_Latn.gz", "parallel/milic_mn_mong/segments.mon_Mong.gz", "Mongolian"),
    },
}  # fmt: skip


def read_line_aligned(
    path_a: str | Path,
    path_b: str | Path,
    *,
    lang_a: str,
    lang_b: str,
    source: str,
    id_prefix: str,
    script_a: str | None = None,
    script_b: str | None = None,
    min_script_fraction: float = DEFAULT_MIN_SCRIPT_FRACTION,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
) -> list[ParallelPair]:
    """Pairs from two line-aligned files (line i of one translates line i of the other).

    Ids are ``<id_prefix>-<line index, 6 digits>`` (0-based), stable across runs. Different
    line counts are always an error; an empty side or a side whose letters are mostly not in
    its declared script is an error naming file and line, or is skipped and counted with
    ``skip_bad`` (``stats.reasons``: ``empty_side``, ``wrong_script``). The default fraction
    (:data:`~bridgelab.contracts.scripts.DEFAULT_MIN_SCRIPT_FRACTION`, 0.2) accepts real lines that
    keep English names and rejects a side in the wrong script or left untranslated.
    """
    stats = stats if stats is not None else ReadStats(f"{path_a} + {path_b}")
    lines_a = [line for _, line in iter_lines(path_a)]
    lines_b = [line for _, line in iter_lines(path_b)]
    # a trailing newline leaves no extra line with iter_lines, so counts compare directly
    if len(lines_a) != len(lines_b):
        raise DataError(
            f"{path_a} has {len(lines_a)} lines but {path_b} has {len(lines_b)}: not line-aligned"
        )
    pairs = []
    for i, (text_a, text_b) in enumerate(zip(lines_a, lines_b)):
        reason = "empty_side"
        try:
            for path, text, script in ((path_a, text_a, script_a), (path_b, text_b, script_b)):
                where = f"{path}:{i + 1}"
                if not text.strip():
                    raise DataError(f"{where}: empty line (the other side is not empty)")
                if script:
                    in_script, letters = letters_in_script(text, script)
                    # a few letters ("150ml" among Mongolian answer options) are no evidence
                    if (
                        letters >= MIN_LETTERS_FOR_SCRIPT_CHECK
                        and in_script / letters < min_script_fraction
                    ):
                        reason = "wrong_script"
                        raise DataError(
                            f"{where}: only {in_script} of {letters} letters are {script} script"
                        )
        except DataError as exc:
            if not skip_bad:
                raise
            stats.skip(exc, reason)
            continue
        stats.read += 1
        pairs.append(ParallelPair(f"{id_prefix}-{i:06d}", lang_a, lang_b, text_a, text_b, source))
    return pairs


def _root(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"shared data folder not found: {root}")
    return root


def read_mono(
    lang: str, root: str | Path, *, skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[Document]:
    """The shared monolingual sample of ``lang`` as Documents (Tibetan normalised)."""
    if lang not in MONO:
        raise DataError(f"no shared monolingual corpus for '{lang}' (have: {', '.join(MONO)})")
    root = _root(root)
    for entry in MONO[lang]:

        def parse(rec: dict, where: str, entry: MonoFile = entry) -> Document:
            raw_id, text = rec.get("id"), rec.get("text")
            if not isinstance(raw_id, (str, int)) or raw_id == "":
                raise DataError(f"{where}: key 'id' must be a non-empty string or integer")
            if not isinstance(text, str):
                raise DataError(f"{where}: key 'text' must be a string")
            if entry.tibetan_segmented:
                text = normalize_tibetan_segmented(text)
            return Document(f"{entry.corpus}-{raw_id}", lang, text, entry.corpus)

        yield from read_jsonl_records(root / entry.path, parse, skip_bad=skip_bad, stats=stats)


def read_parallel(
    name: str,
    lang: str,
    root: str | Path,
    *,
    min_script_fraction: float = DEFAULT_MIN_SCRIPT_FRACTION,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
) -> list[ParallelPair]:
    """English-``lang`` pairs of the named parallel set (English is always ``lang_a``)."""
    if name not in PARALLEL:
        raise DataError(f"unknown parallel set '{name}' (have: {', '.join(PARALLEL)})")
    langs = PARALLEL[name]
    if lang == "mn" and "khk" in langs:
        raise DataError(
            f"{name} has no traditional-script Mongolian: its Mongolian side is Cyrillic Halh "
            f"Mongolian. Ask for lang 'khk' to read it, or use milic-dialogue/milic-segments for 'mn'"
        )
    if lang not in langs:
        raise DataError(f"parallel set '{name}' has no '{lang}' side (have: {', '.join(langs)})")
    files = langs[lang]
    root = _root(root)
    return read_line_aligned(
        root / files.en,
        root / files.other,
        lang_a="en",
        lang_b=lang,
        source=name,
        id_prefix=f"{name}-{lang}",
        script_a="Latin",
        script_b=files.script,
        min_script_fraction=min_script_fraction,
        skip_bad=skip_bad,
        stats=stats,
    )


def parallel_sets() -> dict[str, list[str]]:
    """Parallel set name -> the languages it offers."""
    return {name: sorted(langs) for name, langs in PARALLEL.items()}
