"""Whole-word matches: a match must not continue a word on either side.

A suffix array finds token sequences, so the Tibetan answer "ཛ" also matches the first token of
the syllable "ཛུ" (ཛ + the vowel sign ུ), and a Mongolian word the start of a longer one. With
``whole_words`` a match counts only when the character before the string and the one after it
are not letters, marks or digits (Unicode categories L, M, N). Two exceptions, where scripts do
not mark word ends: an edge character in Han, Hiragana or Katakana is never checked (Chinese is
written without spaces), and nor is the right edge of a Hangul string (Korean writes particles
onto the noun: 서울에서).

The neighbouring characters come from the neighbouring token ids through a table of each id's
bytes (byte-level BPE: a token may hold part of a UTF-8 character; when the table cannot tell,
the bytes of the next few tokens are decoded for that match alone).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import regex

NO_SPACES = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
HANGUL = regex.compile(r"\p{Hangul}")
BOUNDARY, WORD, UNKNOWN = 0, 1, 2


def needs_check(text: str) -> tuple[bool, bool]:
    """(check the character before, check the character after) an occurrence of ``text``."""
    left = not NO_SPACES.match(text[0])
    right = not (NO_SPACES.match(text[-1]) or HANGUL.match(text[-1]))
    return left, right


def _word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _first_char(data: bytes) -> str | None:
    for k in range(1, min(4, len(data)) + 1):
        try:
            return data[:k].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def _last_char(data: bytes) -> str | None:
    for k in range(1, min(4, len(data)) + 1):
        try:
            return data[-k:].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def token_bytes(tokenizer: Any) -> list[bytes]:
    """The bytes of every id (b"" for special tokens, which only ever stand between documents)."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    to_byte = {c: b for b, c in bytes_to_unicode().items()}
    special = set(tokenizer.all_special_ids)
    out = []
    for i, tok in enumerate(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))):
        if i in special or tok is None:
            out.append(b"")
        elif all(c in to_byte for c in tok):
            out.append(bytes(to_byte[c] for c in tok))
        else:  # not byte-level (e.g. a metaspace vocabulary): its text, "▁" standing for a space
            out.append(tok.replace("▁", " ").encode("utf-8"))
    return out


class EdgeTable:
    """For every id: is its first (last) character a word character, not one, or unknown."""

    def __init__(self, tokenizer: Any):
        self.bytes = token_bytes(tokenizer)
        self.first = np.empty(len(self.bytes) + 1, dtype=np.uint8)
        self.last = np.empty(len(self.bytes) + 1, dtype=np.uint8)
        for i, data in enumerate(self.bytes):
            self.first[i] = self._classify(_first_char(data), data)
            self.last[i] = self._classify(_last_char(data), data)
        self.first[-1] = self.last[-1] = BOUNDARY  # the sentinel id of "outside the shard"

    @staticmethod
    def _classify(ch: str | None, data: bytes) -> int:
        if not data:
            return BOUNDARY
        if ch is None:
            return UNKNOWN
        return WORD if _word_char(ch) else BOUNDARY

    def _resolve(self, arr: np.ndarray, at: int, before: bool) -> bool:
        """Whether the character just before (after) token position ``at`` continues a word,
        from the bytes of up to four tokens on that side."""
        if before:
            data = b"".join(self.bytes[int(t)] for t in arr[max(at - 4, 0) : at])
            ch = _last_char(data)
        else:
            data = b"".join(self.bytes[int(t)] for t in arr[at : at + 4])
            ch = _first_char(data)
        return ch is not None and _word_char(ch)

    def whole(
        self, arr: np.ndarray, starts: np.ndarray, length: int, left: bool, right: bool
    ) -> np.ndarray:
        """Mask of the matches at ``starts`` (of ``length`` tokens, in shard ``arr``) whose
        checked sides do not continue a word."""
        keep = np.ones(starts.size, dtype=bool)
        sentinel = len(self.bytes)
        sides = ((left, starts - 1, self.last, True), (right, starts + length, self.first, False))
        for check, at, table, before in sides:
            if not check or not starts.size:
                continue
            inside = (at >= 0) & (at < arr.size)
            ids = np.full(starts.size, sentinel, dtype=np.int64)
            ids[inside] = np.asarray(arr[at[inside]], dtype=np.int64)
            ids[ids > sentinel] = sentinel  # an id outside the vocabulary: no word character
            cls = table[ids]
            keep &= cls != WORD
            for j in np.flatnonzero(cls == UNKNOWN):
                pos = int(at[j]) + (1 if before else 0)
                keep[j] &= not self._resolve(arr, pos, before)
        return keep
