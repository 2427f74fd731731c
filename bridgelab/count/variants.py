"""The token sequences under which a string can occur in a tokenized corpus.

Byte-level BPE is context-dependent: the same characters get different tokens depending on what
stands next to them. Qwen's pre-tokenizer (and every GPT-style one) glues a leading space to a
word (" wood" is one token, "wood" another), glues one non-letter to the letters after it (a
Tibetan tsheg "་" before a syllable's first consonant, a quote before a word), and lets merges
run across a whole run of letters (Chinese without spaces, a Korean stem with its particle).

So a string is searched as every token sequence it takes in a set of typical contexts
(each of :data:`LEFT` and of :data:`RIGHT`, with a plain or tsheg context on the other side): the string is encoded with a context on each side, and the
tokens that cover it are kept. When a token there also covers context characters (the space in
" wood", the tsheg in "་ཟ"), that sequence matches only occurrences with that neighbour, which is
why there are several contexts; every match of every sequence is a true occurrence of the string.
Two sequences can match the same occurrence (["Zon", "upa"] inside [" ", "Zon", "upa"]), so
matches are identified by the position of the token holding the string's LAST character
(:attr:`Variant.last`): one occurrence, one such token, whatever sequence found it.

What this cannot count: an occurrence whose first or last character shares a token with a
neighbour that no context here supplies (e.g. a Chinese word merged with the character before
it by a tokenizer that does not isolate Han characters). :func:`token_variants` reports
contexts where the string's ends fall inside a token that spills into a letter (``spills``),
so a run can say which queries are not exactly countable with that tokenizer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

# Left contexts: start of document, after a space / newline / sentence end, after a Tibetan
# tsheg that follows a consonant (the tsheg then joins the next syllable's pre-token) and after
# one that follows a vowel sign (then it does not), after Chinese / Tibetan / Mongolian clause
# punctuation.
LEFT = ("", " ", "\n", ". ", "a ", "ཀ་", "ཀི་", "。", "，", "། ", "᠂ ", '"', "(")
# Right contexts: end of document, a space, sentence punctuation, a tsheg + syllable, Chinese
# and Mongolian punctuation.
RIGHT = ("", " ", ".", ",", "་ཀ", "།", "。", "，", "᠃", '"', ")")


@dataclass(frozen=True)
class Variant:
    """One token sequence of a string; ``last`` is the index, within ``ids``, of the token
    holding the string's last character (matches are deduplicated on that token)."""

    ids: tuple[int, ...]
    last: int


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "M")


def token_variants(tokenizer: Any, text: str) -> tuple[list[Variant], list[str]]:
    """(the distinct token sequences of ``text`` over the contexts, contexts that spill).

    ``tokenizer`` is a Hugging Face fast tokenizer (offsets come from its Rust backend). A
    context "spills" when a token covering the string's first or last character also covers a
    LETTER of the context: then the occurrence is glued to a neighbouring word and this
    sequence finds it only next to that very word, i.e. such occurrences are not countable.
    Spilling sequences are left out (they would count the string only inside one compound).
    """
    if not text:
        return [], []
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    found: dict[tuple[int, ...], Variant] = {}
    spills: list[str] = []
    # a context acts on the string's first pre-token (left) or its last (right), so every left
    # context with a few right ones, and every right context with a few left ones, suffice;
    # the tsheg pairs stay crossed, as a one-syllable Tibetan string is first and last at once
    contexts = list(
        dict.fromkeys(
            [(left, right) for left in LEFT for right in ("", " ", "་ཀ")]
            + [(left, right) for left in ("", " ", "ཀ་", "ཀི་") for right in RIGHT]
        )
    )
    # one batch call for the ~80 contexts
    encodings = backend.encode_batch([a + text + b for a, b in contexts], add_special_tokens=False)
    for (left, right), enc in zip(contexts, encodings):
        full = left + text + right
        lo, hi = len(left), len(left) + len(text)
        covering = [i for i, (a, b) in enumerate(enc.offsets) if a < hi and b > lo]
        if not covering:
            continue
        first, last = covering[0], covering[-1]
        a, b = enc.offsets[first][0], enc.offsets[last][1]
        if any(_is_letter(ch) for ch in full[a:lo] + full[hi:b]):
            spills.append(f"{left!r}+{right!r}")
            continue
        ids = tuple(enc.ids[first : last + 1])
        found.setdefault(ids, Variant(ids, last - first))
    return sorted(found.values(), key=lambda v: v.ids), spills
