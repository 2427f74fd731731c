"""Script filters and normalisation applied to documents before tokenization.

The paper's English corpus keeps only Latin script: every character whose Unicode Script is
not Latin, Common or Inherited is removed (``é``, ``ß``, digits and punctuation stay), and a
document left too short is dropped. Target corpora use the other mode: a document is kept
whole when enough of its letters are in the language's script. Every decision is counted in
:class:`FilterStats`, whose totals go into the shard manifest; per-document removals go into
the shard index rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import regex

from bridgelab.config import Config, param
from bridgelab.contracts.records import Document
from bridgelab.contracts.scripts import letters_in_script, strip_outside
from bridgelab.errors import ConfigError

_SHAD = "།"
_TSHEG = "་"
_TIBETAN_LETTER = regex.compile(r"\p{Script=Tibetan}")


@dataclass
class FilterConfig(Config):
    """What happens to each document between reading and tokenization."""

    mode: Literal["strip", "keep", "none"] = param(
        "strip",
        help="strip: remove characters outside `scripts`; keep: drop documents whose letters "
        "are less than `min_script_fraction` in `scripts`; none: no script filter",
    )
    scripts: list[str] = param(
        ["Latin"], help="Unicode scripts allowed (Common/Inherited always are)"
    )
    min_chars: int = param(200, help="drop documents shorter than this after filtering (stripped)")
    min_script_fraction: float = param(
        0.5, help="keep mode: share of letters that must be in `scripts`"
    )
    normalize: Literal["none", "tibetan_segmented"] = param(
        "none", help="tibetan_segmented: rejoin the word-segmented Nanhai text (SOURCES.md)"
    )
    write_dropped: bool = param(
        False, help="write dropped documents with the reason to dropped.jsonl"
    )

    def validate(self) -> None:
        super().validate()
        if self.mode != "none" and not self.scripts:
            raise ConfigError("scripts: at least one script is needed unless mode is 'none'")
        if self.min_chars < 0:
            raise ConfigError("min_chars: must be >= 0")
        if not 0.0 <= self.min_script_fraction <= 1.0:
            raise ConfigError("min_script_fraction: must lie in [0, 1]")
        for script in self.scripts:
            try:
                regex.compile(f"\\p{{Script={script}}}")
            except regex.error:
                raise ConfigError(f"scripts: '{script}' is not a Unicode script name") from None


@dataclass
class FilterStats:
    """Totals of one filtering pass. They add up: ``docs_in == docs_kept + sum(dropped)`` and
    ``chars_in == chars_kept + chars_removed_by_script + chars_dropped``."""

    docs_in: int = 0
    docs_kept: int = 0
    chars_in: int = 0
    chars_kept: int = 0
    chars_removed_by_script: int = 0  # removed inside kept documents and dropped ones alike
    chars_dropped: int = 0  # what was left of the dropped documents
    dropped: Counter = field(default_factory=Counter)  # reason -> documents

    def to_dict(self) -> dict[str, Any]:
        return {
            "docs_in": self.docs_in,
            "docs_kept": self.docs_kept,
            "docs_dropped": dict(sorted(self.dropped.items())),
            "chars_in": self.chars_in,
            "chars_kept": self.chars_kept,
            "chars_removed_by_script": self.chars_removed_by_script,
            "chars_dropped": self.chars_dropped,
        }


@dataclass(frozen=True)
class FilteredDocument:
    doc: Document
    chars_removed: int  # characters removed by the script filter


@dataclass(frozen=True)
class DroppedDocument:
    doc: Document
    reason: str


def normalize_tibetan_segmented(text: str) -> str:
    """Approximate normal Tibetan spelling of the word-segmented Nanhai text.

    SOURCES.md: delete ``-`` (split-off affixes), join words with the tsheg ``་``, and put no
    tsheg before the shad ``།``. Orthography keeps the tsheg after a final ``ང`` before a
    shad (``ང་།``), so that exception is applied too. Non-Tibetan tokens (digits, Latin)
    keep their spaces. Lines are processed separately so "\\n" stays where it was.
    """
    out_lines = []
    for line in text.split("\n"):
        words = line.replace("-", "").split()
        out: list[str] = []
        for word in words:
            if not out:
                out.append(word)
            elif word.startswith(_SHAD) or word.startswith("༎"):
                prev = out[-1]
                out[-1] = prev + (_TSHEG if prev.endswith("ང") else "") + word
            elif out[-1].endswith(_SHAD) or not (
                _TIBETAN_LETTER.search(out[-1][-1]) and _TIBETAN_LETTER.search(word[0])
            ):
                out.append(" " + word)
            else:
                out[-1] = out[-1] + (word if out[-1].endswith(_TSHEG) else _TSHEG + word)
        out_lines.append("".join(out))
    return "\n".join(out_lines)


def filter_documents(
    docs: Iterable[Document],
    cfg: FilterConfig,
    stats: FilterStats,
    dropped: list[DroppedDocument] | None = None,
) -> Iterator[FilteredDocument]:
    """Apply normalisation and the script filter; yield kept documents, count everything."""
    scripts = tuple(cfg.scripts)
    for doc in docs:
        stats.docs_in += 1
        text = doc.text
        if cfg.normalize == "tibetan_segmented":
            text = normalize_tibetan_segmented(text)
        stats.chars_in += len(text)
        removed = 0
        reason = None
        if cfg.mode == "strip":
            text, removed = strip_outside(text, scripts)
            stats.chars_removed_by_script += removed
        elif cfg.mode == "keep":
            in_script = sum(letters_in_script(text, s)[0] for s in scripts)
            letters = letters_in_script(text, scripts[0])[1]
            if not letters or in_script / letters < cfg.min_script_fraction:
                reason = "wrong_script"
        if reason is None and len(text.strip()) < cfg.min_chars:
            reason = "too_short"
        if reason is not None:
            stats.dropped[reason] += 1
            stats.chars_dropped += len(text)
            if dropped is not None and cfg.write_dropped:
                dropped.append(DroppedDocument(doc, reason))
            continue
        stats.docs_kept += 1
        stats.chars_kept += len(text)
        kept = doc if text == doc.text else Document(doc.id, doc.lang, text, doc.source)
        yield FilteredDocument(kept, removed)
