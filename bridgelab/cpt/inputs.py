"""What a CPT mixture is built from: English–X parallel pairs and monolingual documents.

Pairs come from ParallelPair JSONL (the synthetic world's ``parallel/en-<lang>.jsonl``), from
two line-aligned files (FLORES, NTREX, Tatoeba, MiLiC) or from the shared-data layout
(``bridgelab.data.sources``). Every pair is checked the same way whatever its origin: English
is ``lang_a``, the other side is the mixture's language, neither side is empty, and each side is
mostly written in its language's script. Monolingual target text and English replay are plain
:class:`~bridgelab.data.readers.SourceConfig` corpora, read by engineer A's readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bridgelab.config import Config, param
from bridgelab.contracts.records import (
    Document,
    ParallelPair,
    ReadStats,
    RecordError,
    check_unique_ids,
    read_pairs,
)
from bridgelab.contracts.scripts import (
    LANG_SCRIPTS,
    MIN_LETTERS_FOR_SCRIPT_CHECK,
    letters_in_script,
    scripts_for,
)
from bridgelab.data.readers import SourceConfig, expand_paths, read_source
from bridgelab.data.sources import read_line_aligned
from bridgelab.errors import ConfigError


@dataclass
class PairSourceConfig(Config):
    """One set of English–X pairs."""

    format: Literal["jsonl", "aligned", "shared"] = param(
        "jsonl",
        help="jsonl: ParallelPair records; aligned: two line-aligned files (path = English, "
        "path_x = the other language); shared: the shared real-data folder (path = its root)",
    )
    path: str = param(
        "", help="JSONL file or glob; the English file (aligned); the data root (shared)"
    )
    path_x: str = param("", help="aligned: the target-language file, line i translating line i")
    name: str = param(
        "",
        help="aligned: source name and id prefix (default: file stem); shared: the parallel set "
        "(flores200-dev, ntrex128, tatoeba, milic-dialogue, milic-segments)",
    )
    limit: int = param(0, help="read at most this many pairs from this source (0 = all)")

    def validate(self) -> None:
        super().validate()
        if not self.path:
            raise ConfigError("path: required")
        if self.format == "aligned" and not self.path_x:
            raise ConfigError("path_x: required when format is 'aligned'")
        if self.format == "shared" and not self.name:
            raise ConfigError("name: the parallel set is required when format is 'shared'")
        if self.limit < 0:
            raise ConfigError("limit: must be >= 0")


BadPair = RecordError  # a pair that is not an English-X translation; .reason: the failed check


def _read_one_source(
    src: PairSourceConfig, lang: str, *, min_fraction: float, skip_bad: bool, stats: ReadStats
) -> list[ParallelPair]:
    if src.format == "jsonl":
        pairs = [
            p
            for path in expand_paths(src.path)
            for p in read_pairs(path, skip_bad=skip_bad, stats=stats)
        ]
    elif src.format == "aligned":
        name = src.name or src.path_x.split("/")[-1].split(".")[0]
        pairs = read_line_aligned(
            src.path, src.path_x, lang_a="en", lang_b=lang, source=name, id_prefix=name,
            skip_bad=skip_bad, stats=stats,
        )  # fmt: skip
    else:
        from bridgelab.data.sources import read_parallel

        pairs = read_parallel(
            src.name, lang, src.path, min_script_fraction=min_fraction, skip_bad=skip_bad,
            stats=stats,
        )  # fmt: skip
    return pairs[: src.limit] if src.limit else pairs


def check_pair(pair: ParallelPair, lang: str, where: str, min_fraction: float) -> None:
    """Raise :class:`BadPair` (a DataError naming ``where``, with the failed check as its
    ``reason``: ``wrong_languages``, ``empty_side``, ``wrong_script``) when a pair is not an
    English–``lang`` translation. The script rule is the line readers' (at least
    ``MIN_LETTERS_FOR_SCRIPT_CHECK`` letters, ``min_fraction`` of them in the script)."""
    if pair.lang_a != "en" or pair.lang_b != lang:
        raise BadPair(
            f"{where}: pair '{pair.id}' is {pair.lang_a}-{pair.lang_b}, expected en-{lang} "
            f"(English is always lang_a)",
            "wrong_languages",
        )
    for side, text, side_lang in (("text_a", pair.text_a, "en"), ("text_b", pair.text_b, lang)):
        if not text.strip():
            raise BadPair(f"{where}: pair '{pair.id}' has an empty {side}", "empty_side")
        in_script = sum(letters_in_script(text, s)[0] for s in scripts_for(side_lang))
        letters = letters_in_script(text, LANG_SCRIPTS[side_lang])[1]
        if letters >= MIN_LETTERS_FOR_SCRIPT_CHECK and in_script / letters < min_fraction:
            raise BadPair(
                f"{where}: pair '{pair.id}' {side} is not {LANG_SCRIPTS[side_lang]} script "
                f"({in_script} of {letters} letters, under min_script_fraction {min_fraction}): "
                f"{text[:60]!r}",
                "wrong_script",
            )


def read_mixture_pairs(
    sources: list[PairSourceConfig],
    lang: str,
    *,
    min_script_fraction: float,
    skip_bad: bool,
) -> tuple[list[ParallelPair], dict[str, Any]]:
    """All pairs of ``sources`` in source order (consecutive pairs stay consecutive), checked.

    Returns the pairs and counts: ``pairs_read``, ``pairs_skipped``, ``skipped_by_reason``
    (``bad_record``, ``wrong_languages``, ``empty_side``, ``wrong_script``), and
    ``duplicate_pairs`` with up to 20 ``duplicate_examples`` ([id, id of its first copy]):
    pairs whose English and X texts both equal an earlier pair's. Duplicates are kept (they
    are genuine data, e.g. a sentence in two corpora) but counted and reported, since each copy
    is trained on. Source order matters for code-switching, which groups consecutive sentences
    of one article into one document.
    """
    if lang not in LANG_SCRIPTS or lang == "en":
        raise ConfigError(f"lang: '{lang}' is not a target language ({', '.join(LANG_SCRIPTS)})")
    out: list[ParallelPair] = []
    read = skipped = 0
    reasons: dict[str, int] = {}
    for src in sources:
        stats = ReadStats(src.path)
        pairs = _read_one_source(
            src, lang, min_fraction=min_script_fraction, skip_bad=skip_bad, stats=stats
        )
        skipped += stats.skipped
        for reason, n in stats.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
        for n, pair in enumerate(pairs, start=1):
            where = f"{src.path} (record {n})"
            if src.format != "jsonl":  # line-aligned ids end in the 0-based line index
                line = int(pair.id.rsplit("-", 1)[1]) + 1
                where = f"{src.path_x}:{line}" if src.path_x else f"{src.name} ({lang}) line {line}"
            try:
                check_pair(pair, lang, where, min_script_fraction)
            except BadPair as exc:
                if not skip_bad:
                    raise
                skipped += 1
                reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
                continue
            out.append(pair)
        read += len(pairs) + stats.skipped  # records seen, those the reader rejected included
    check_unique_ids((p.id for p in out), f"pairs for {lang}")
    first: dict[tuple[str, str], str] = {}
    duplicates: list[list[str]] = []
    for p in out:
        copy_of = first.setdefault((p.text_a, p.text_b), p.id)
        if copy_of != p.id:
            duplicates.append([p.id, copy_of])
    counts: dict[str, Any] = {
        "pairs_read": read, "pairs_skipped": skipped, "skipped_by_reason": reasons,
        "duplicate_pairs": len(duplicates), "duplicate_examples": duplicates[:20],
    }  # fmt: skip
    return out, counts


def read_documents(sources: list[SourceConfig], *, skip_bad: bool) -> list[Document]:
    """Every document of ``sources``, in order, with unique ids."""
    docs = [doc for src in sources for doc in read_source(src, skip_bad=skip_bad)]
    check_unique_ids((d.id for d in docs), "documents " + ", ".join(s.path for s in sources))
    return docs
