"""Unicode scripts of the study's languages, and script checks built on the `regex` module.

Python's ``unicodedata`` has no Script property; ``regex`` implements UTS #24 (``\\p{Script=..}``),
so the classification is the Unicode Consortium's, not a hand-written range table.
"""

from __future__ import annotations

from functools import cache

import regex

# Script of each study language. Common (digits, punctuation, spaces) and Inherited
# (combining marks) are allowed alongside every script.
LANG_SCRIPTS: dict[str, str] = {
    "en": "Latin",
    "ko": "Hangul",
    "zh": "Han",
    "bo": "Tibetan",
    "mn": "Mongolian",
}
NEUTRAL_SCRIPTS = ("Common", "Inherited")

# A side of a parallel pair (a line of a line-aligned file, a half of a CPT mixture's pair) is
# kept when at least this share of its letters (characters neither Common nor Inherited, so
# digits and punctuation do not count) is in its language's script. 0.2 and not 0.5: genuine
# translations keep Latin names, titles and units ("BTS", "COVID-19 백신", "Apple Watch") and
# were dropped at 0.5; a side left untranslated or in the wrong script scores near 0 and is
# still caught. The one default of the line readers and the CPT mixture (docs/cpt.md).
DEFAULT_MIN_SCRIPT_FRACTION = 0.2
# Below this many letters a side is not judged: a few letters ("150ml" among Mongolian answer
# options, "OK") are no evidence of a wrong script.
MIN_LETTERS_FOR_SCRIPT_CHECK = 3
STUDY_LANGS = tuple(LANG_SCRIPTS)
TARGET_LANGS = ("ko", "zh", "bo", "mn")


@cache
def outside_scripts_pattern(scripts: tuple[str, ...]) -> regex.Pattern:
    """A pattern matching one character whose Script is none of ``scripts`` (nor Common/Inherited)."""
    allowed = "".join(f"\\p{{Script={s}}}" for s in (*scripts, *NEUTRAL_SCRIPTS))
    return regex.compile(f"[^{allowed}]")


@cache
def script_pattern(script: str) -> regex.Pattern:
    return regex.compile(f"\\p{{Script={script}}}")


def scripts_for(lang: str) -> tuple[str, ...]:
    """Scripts a language's text may use (Korean may contain Hanja, so ko allows Han too)."""
    if lang not in LANG_SCRIPTS:
        raise KeyError(f"unknown language code '{lang}' (known: {', '.join(LANG_SCRIPTS)})")
    if lang == "ko":
        return ("Hangul", "Han")
    return (LANG_SCRIPTS[lang],)


def strip_outside(text: str, scripts: tuple[str, ...] = ("Latin",)) -> tuple[str, int]:
    """Remove every character outside ``scripts`` (Common and Inherited are kept).

    Returns the cleaned text and the number of characters removed. Runs of spaces left behind
    by a removed word are not collapsed: removal is the only change, so counts add up exactly.
    """
    pattern = outside_scripts_pattern(tuple(scripts))
    cleaned, n = pattern.subn("", text)
    return cleaned, n


def count_outside(text: str, scripts: tuple[str, ...] = ("Latin",)) -> int:
    return len(outside_scripts_pattern(tuple(scripts)).findall(text))


def script_fraction(text: str, script: str) -> float:
    """Share of the non-neutral characters of ``text`` that are in ``script`` (0 when none)."""
    neutral = outside_scripts_pattern(()).pattern  # matches non-neutral characters
    letters = regex.findall(neutral, text)
    if not letters:
        return 0.0
    return len(script_pattern(script).findall(text)) / len(letters)


def letters_in_script(text: str, script: str) -> tuple[int, int]:
    """(characters of ``text`` in ``script``, characters that are neither Common nor Inherited).

    Callers decide what share is enough; a text with no such characters (digits only) gives
    (0, 0) and is not evidence of a wrong script.
    """
    letters = len(outside_scripts_pattern(()).findall(text))
    return len(script_pattern(script).findall(text)), letters
