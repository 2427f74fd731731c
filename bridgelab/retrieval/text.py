"""Script-aware tokens for BM25, statements built from probes, and passages cut from documents.

BM25 needs terms, and "split on spaces" only yields terms for scripts that put spaces between
words. The rules, by script (classified with ``regex``'s Unicode Script property):

- **Han, Hangul, Kana**: overlapping character bigrams over each run (a run of one character
  gives the unigram), as Lucene's CJK analyzer does. Chinese has no spaces at all; Korean has
  spaces but glues particles onto words (서울에서 = 서울 + 에서), and bigrams match the stem
  without a dictionary.
- **Tibetan**: syllables. Tibetan marks syllable ends with the tsheg (U+0F0B) and clause ends
  with the shad (U+0F0D..), not words with spaces; a syllable is the unit a reader sees, and
  segmented corpora (Nanhai puts spaces between words and drops the tsheg there) give the same
  syllables.
- **Mongolian** (traditional script) and **Latin**: whitespace words, after normalising away
  what varies between encoders of the same word: free variation selectors (U+180B..U+180D,
  U+180F) and ZW(N)J are dropped, and the narrow no-break space (U+202F) and the Mongolian
  vowel separator (U+180E) that attach suffixes become plain spaces, since real text writes the
  same suffix sometimes with NNBSP and sometimes with a space. Latin is case-folded.
"""

from __future__ import annotations

import unicodedata

import regex

from bridgelab.contracts.records import ProbeItem

# bump when the term rules change: saved BM25 indexes record it and are rebuilt on a mismatch
TERMS_VERSION = 1
BLANK_RE = regex.compile(r"_{2,}")
_DROP = dict.fromkeys(map(ord, "\u180b\u180c\u180d\u180f\u200c\u200d\ufeff"), None)
_TO_SPACE = dict.fromkeys(map(ord, "\u202f\u180e\u00a0"), " ")
_TOKEN_RE = regex.compile(
    r"(?P<cjk>[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}]+)"
    r"|(?P<tib>[\p{Script=Tibetan}--[\u0f0b-\u0f14]]+)"
    r"|(?P<word>[\p{L}\p{N}\p{M}]+)",
    regex.V1,
)


def normalize(text: str) -> str:
    """NFC, Mongolian variation selectors dropped, suffix joiners made spaces, case folded."""
    text = unicodedata.normalize("NFC", text).translate(_DROP).translate(_TO_SPACE)
    return text.casefold()


def tokenize(text: str, *, cjk_bigrams: bool = True) -> list[str]:
    """Terms of ``text`` for BM25 (see the module docstring for the per-script rules).

    ``cjk_bigrams=False`` gives Han/Hangul/Kana runs as single characters instead (for exact
    matching, where a one-character answer must still be found)."""
    terms: list[str] = []
    for m in _TOKEN_RE.finditer(normalize(text)):
        run = m.group()
        if m.lastgroup == "cjk" and not cjk_bigrams:
            terms.extend(run)
        elif m.lastgroup == "cjk":
            terms.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        else:
            terms.append(run)
    return terms


def fill_blank(question: str, answer: str) -> str:
    """The probe's statement: its question with the answer in the blank (``___`` or longer)."""
    if BLANK_RE.search(question):
        return BLANK_RE.sub(lambda _: answer, question, count=1)
    return f"{question} {answer}"


def statement(item: ProbeItem) -> str:
    return fill_blank(item.question, item.answer)


def split_passages(text: str, max_chars: int) -> list[str]:
    """Cut ``text`` into passages of at most ``max_chars``, at line or space boundaries.

    Long articles are indexed by passage (an embedding of a 100k-character article says little
    about any one fact) and a document is retrieved through its best passage.
    """
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    passages: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + max_chars, len(text))
        if end < len(text):
            cut = text.rfind("\n", start + max_chars // 2, end)
            if cut < 0:
                cut = text.rfind(" ", start + max_chars // 2, end)
            end = cut if cut > start else end
        piece = text[start:end].strip()
        if piece:
            passages.append(piece)
        start = end
    return passages


def contains(haystack: str, needle: str) -> bool:
    """Whether the terms of ``needle`` occur contiguously among the terms of ``haystack``.

    Matching whole terms, not characters: "red" is not in "reduced", and a Tibetan answer of
    two syllables is not found inside other words' syllables.
    """
    terms = tokenize(needle, cjk_bigrams=False)
    within = tokenize(haystack, cjk_bigrams=False)
    return bool(terms) and f" {' '.join(terms)} " in f" {' '.join(within)} "
