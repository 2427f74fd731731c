"""Script-aware BM25 terms, statements from probes, passages."""

from __future__ import annotations

from bridgelab.contracts.records import ProbeItem
from bridgelab.retrieval.text import contains, fill_blank, split_passages, statement, tokenize


def test_han_and_hangul_become_bigrams():
    assert tokenize("北京大学") == ["北京", "京大", "大学"]
    assert tokenize("中") == ["中"]
    # Korean particles stay glued to words; bigrams still share the stem with the bare noun
    assert "서울" in tokenize("서울에서") and "서울" in tokenize("서울")
    assert tokenize("Hello, World!") == ["hello", "world"]


def test_tibetan_splits_into_syllables_at_tsheg_and_shad():
    natural = "བོད་ཀྱི་ལོ་རྒྱུས།"
    assert tokenize(natural) == ["བོད", "ཀྱི", "ལོ", "རྒྱུས"]
    # Nanhai-style segmentation (spaces between words, affixes split with '-') gives syllables too
    assert tokenize("རིག་པ-འི གནས") == ["རིག", "པ", "འི", "གནས"]


def test_mongolian_suffix_joiners_and_variation_selectors_are_normalised():
    word, suffix = "ᠮᠣᠩᠭᠣᠯ", "ᠤᠨ"
    with_nnbsp = f"{word}\u202f{suffix}"
    with_space = f"{word} {suffix}"
    assert tokenize(with_nnbsp) == tokenize(with_space) == [word, suffix]
    # a free variation selector after a letter does not make another term
    assert tokenize("ᠪᠢᠴᠢᠭ\u180b") == tokenize("ᠪᠢᠴᠢᠭ") == ["ᠪᠢᠴᠢᠭ"]
    assert contains(f"xx {with_nnbsp} yy", with_space)


def test_fill_blank_and_statement():
    assert fill_blank("The capital is ___.", "Seoul") == "The capital is Seoul."
    assert (
        fill_blank("Todo Bichig means _____.", "clear script") == "Todo Bichig means clear script."
    )
    assert fill_blank("No blank here", "x") == "No blank here x"
    item = ProbeItem("p1", "ko", "en", "Kimchi is made of ___.", ("cabbage", "rice"), "cabbage")
    assert statement(item) == "Kimchi is made of cabbage."


def test_split_passages_cuts_at_boundaries_and_loses_no_words():
    text = "\n".join(f"line {i} " + "word " * 30 for i in range(20))
    passages = split_passages(text, 400)
    assert all(len(p) <= 400 for p in passages)
    assert len(passages) > 5
    assert " ".join(passages).split() == text.split()
    assert split_passages("short", 400) == ["short"]
    assert split_passages("   ", 400) == []


def test_contains_matches_whole_terms_and_single_han_characters():
    assert contains("The robe is dyed red.", "red") and not contains("It was reduced.", "red")
    assert contains("他住在北京大学", "京") and contains("他住在北京大学", "北京大学")
    assert not contains("他住在北京", "北大")
    # a two-syllable Tibetan answer is not found inside a longer syllable sequence
    assert contains("ཚུ་ཚོ་ན་དི་མ།", "ན་དི") and not contains("ཚུ་ཚོ་ནན་དི་མ།", "ན་དི")
