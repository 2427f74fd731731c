"""Token-level clones of English: the exact positive control of the calibration.

A *clone* writes English in another script with a fixed character bijection ``phi``: each ASCII
letter (case kept), digit and punctuation mark becomes one character of the target script (or,
for digits and punctuation where the script has none, its full-width form); spaces and the
cloze blank stay as they are. A clone is only a *token-level* clone if its tokenizer cuts it
exactly where it cuts the English: that is what :func:`mirror_bpe` guarantees. It extends a
byte-level BPE with

1. *assembly* merges that join each clone character's UTF-8 bytes into one symbol, ranked
   before every other merge, and
2. the *mirror* of every English merge ``(a, b)`` -> ``(phi(a), phi(b))``, ranked right after
   its original,

and gives the clone of every English token its own id. The pre-tokenizer's classes are kept
(letters map to letters, digits to digits, punctuation to punctuation), so a clone text is split
into the clones of the English pre-tokens and BPE then applies the mirrored merges in the same
order: ``encode(phi(text)) == [id_map[i] for i in encode(text)]``, equal length, token by token.
:func:`verify_mirror` checks exactly that on real texts, and the tokenizer stage refuses to save a
tokenizer for which it fails.

Tokens made only of whitespace (and the special tokens) are shared by English and its clone: the
clone keeps English spaces. Everything else has a twin. Why not one code point per English token
type: that needs the English tokenizer before the world's clone text can be written; a character
bijection keeps the world independent of the tokenizer, and the mirrored merges make the token
map exact anyway.
"""

from __future__ import annotations

import string
from functools import cache
from typing import Any

import regex

from bridgelab.errors import ConfigError, DataError

BLANK = "___"  # the cloze blank (bridgelab.contracts.records.BLANK) is never cloned

# Script -> (first code point of 52 consecutive letters, ten digit characters).
# Letters come from blocks no study language writes with (CJK Extension A for Han: the
# synthetic Chinese uses the URO block U+4E00..), so a clone's characters never merge with
# another language's bytes. Hangzhou numerals are Han digits (\p{N}); other scripts without
# digits use the full-width ones.
_FULLWIDTH_DIGITS = "".join(chr(0xFF10 + i) for i in range(10))
CLONE_SCRIPTS: dict[str, tuple[int, str]] = {
    "Han": (0x3400, "\u3007" + "".join(chr(0x3021 + i) for i in range(9))),
    "Hangul": (0xD4A0, _FULLWIDTH_DIGITS),
    "Mongolian": (0x1820, "".join(chr(0x1810 + i) for i in range(10))),
    "Yi": (0xA000, _FULLWIDTH_DIGITS),
}
# Languages whose synthetic text can be a clone (bo: Tibetan has too few letters for 52).
CLONE_LANG_SCRIPTS = {"zh": "Han", "ko": "Hangul", "mn": "Mongolian"}
_LETTERS = string.ascii_lowercase + string.ascii_uppercase
_PUNCT = "".join(c for c in map(chr, range(0x21, 0x7F)) if not c.isalnum() and c != "_")


def check_script(script: str, key: str = "clone_script") -> str:
    if script not in CLONE_SCRIPTS:
        known = sorted(CLONE_SCRIPTS)
        raise ConfigError(f"{key}: no clone alphabet for script {script!r} (known: {known})")
    return script


@cache
def char_map(script: str) -> dict[str, str]:
    """``phi``: English character -> clone character (letters, digits, punctuation but ``_``)."""
    first, digits = CLONE_SCRIPTS[check_script(script)]
    table = {c: chr(first + i) for i, c in enumerate(_LETTERS)}
    table.update(zip(string.digits, digits))
    table.update({c: chr(ord(c) + 0xFEE0) for c in _PUNCT})  # full-width forms
    return table


@cache
def inverse_map(script: str) -> dict[str, str]:
    return {v: k for k, v in char_map(script).items()}


def clone_text(text: str, script: str) -> str:
    """``phi(text)``; characters outside ``phi``'s domain (spaces, ``_``) are kept."""
    table = char_map(script)
    return "".join(table.get(c, c) for c in text)


def unclone_text(text: str, script: str) -> str:
    inverse = inverse_map(script)
    return "".join(inverse.get(c, c) for c in text)


def has_clone_chars(text: str, script: str) -> bool:
    inverse = inverse_map(script)
    return any(c in inverse for c in text)


def clone_pattern(script: str) -> regex.Pattern:
    """A pattern matching any clone character of ``script`` (for checking ``isolate``)."""
    return regex.compile("[" + "".join(regex.escape(c) for c in inverse_map(script)) + "]")


@cache
def _byte_chars() -> tuple[dict[int, str], dict[str, int]]:
    """GPT-2's byte <-> printable-character table, as tokenizers' ByteLevel uses it."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    to_char = bytes_to_unicode()
    return to_char, {c: b for b, c in to_char.items()}


def _to_bytelevel(text: str) -> str:
    to_char, _ = _byte_chars()
    return "".join(to_char[b] for b in text.encode("utf-8"))


def _from_bytelevel(token: str) -> str | None:
    """The text of a byte-level token, or None when it is not whole UTF-8 characters."""
    _, to_byte = _byte_chars()
    try:
        return bytes(to_byte[c] for c in token).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None


def mirror_token(token: str, script: str) -> str | None:
    """The clone twin of a byte-level token: itself when it is whitespace only, None when it
    holds a character outside ``phi``'s domain (another script, a partial UTF-8 sequence)."""
    text = _from_bytelevel(token)
    if text is None or not text:
        return None
    if text.isspace():
        return token
    table = char_map(script)
    if any(c not in table and not c.isspace() for c in text):
        return None
    return _to_bytelevel(clone_text(text, script))


def _merge_pair(merge: Any) -> tuple[str, str]:
    if isinstance(merge, str):
        a, b = merge.split(" ", 1)
        return a, b
    return merge[0], merge[1]


def mirror_bpe(tokenizer_json: dict[str, Any], script: str) -> int:
    """Extend a byte-level BPE (``tokenizer.json`` as a dict, in place) with the clone of
    every English token of ``script``; returns how many clone tokens were added."""
    model = tokenizer_json["model"]
    if model.get("type") != "BPE":
        raise DataError(f"a clone needs a BPE tokenizer, not {model.get('type')}")
    vocab: dict[str, int] = model["vocab"]
    merges = [_merge_pair(m) for m in model["merges"]]
    next_id = max([*vocab.values(), *(t["id"] for t in tokenizer_json.get("added_tokens", []))])
    next_id += 1
    before = len(vocab)

    def add(token: str) -> None:
        nonlocal next_id
        if token not in vocab:
            vocab[token] = next_id
            next_id += 1

    # 1. every clone character becomes one symbol before any other merge can apply
    assembly: list[tuple[str, str]] = []
    for ch in inverse_map(script):
        pieces = [_to_bytelevel(ch)[i] for i in range(len(ch.encode("utf-8")))]
        symbol = pieces[0]
        for piece in pieces[1:]:
            assembly.append((symbol, piece))
            symbol += piece
            add(symbol)
    seen = set(assembly)
    assembly = list(dict.fromkeys(assembly))
    # 2. each English merge followed by its mirror (same relative order on clone pre-tokens)
    out = list(assembly)
    for a, b in merges:
        if (a, b) in seen:
            continue  # already an assembly merge, ranked first
        out.append((a, b))
        ma, mb = mirror_token(a, script), mirror_token(b, script)
        if ma is None or mb is None or (ma == a and mb == b):
            continue
        if mirror_token(a + b, script) is None:
            continue
        if (ma, mb) not in seen:
            seen.add((ma, mb))
            out.append((ma, mb))
            add(ma + mb)
    # twins of tokens that no merge makes (single bytes): their clone is an assembled character
    for token in list(vocab):
        twin = mirror_token(token, script)
        if twin is not None and twin != token:
            add(twin)
    model["merges"] = [[a, b] for a, b in out]
    return len(vocab) - before


def id_map(tokenizer: Any, script: str) -> dict[int, int]:
    """English token id -> its clone's id, for every English token that has a twin of its own
    (whitespace-only and special tokens, shared by both, are left out)."""
    vocab = tokenizer.get_vocab()
    pairs: dict[int, int] = {}
    for token, tid in vocab.items():
        twin = mirror_token(token, script)
        if twin is not None and twin != token and twin in vocab:
            pairs[tid] = vocab[twin]
    return pairs


def verify_mirror(tokenizer: Any, texts: list[str], script: str, *, where: str) -> int:
    """Raise DataError unless every English text and its clone tokenize token by token alike;
    ``texts`` may be English or clone text (clone text is checked against its English).
    Returns the number of tokens checked."""
    pairs = id_map(tokenizer, script)
    checked = 0
    for n, text in enumerate(texts):
        english = unclone_text(text, script) if has_clone_chars(text, script) else text
        en_ids = tokenizer.encode(english, add_special_tokens=False)
        cl_ids = tokenizer.encode(clone_text(english, script), add_special_tokens=False)
        want = [pairs.get(i, i) for i in en_ids]
        if cl_ids != want:
            at = next((k for k, (x, y) in enumerate(zip(cl_ids, want)) if x != y), len(want))
            raise DataError(
                f"{where}: text {n} does not tokenize as the clone of its English (lengths "
                f"{len(cl_ids)} vs {len(en_ids)}, first difference at token {at}: "
                f"{english[:80]!r}); is the clone written with the same script ({script})?"
            )
        checked += len(en_ids)
    return checked
