"""Script filter: non-Latin characters go, every Latin letter stays, statistics add up."""

from __future__ import annotations

import itertools

import pytest
import regex

from bridgelab.contracts.records import Document
from bridgelab.contracts.scripts import count_outside
from bridgelab.data.filters import (
    FilterConfig,
    FilterStats,
    filter_documents,
    normalize_tibetan_segmented,
)
from bridgelab.data.sources import read_mono
from bridgelab.errors import ConfigError

LATIN_LETTER = regex.compile(r"\p{Script=Latin}")


def _doc(i, text, lang="en"):
    return Document(f"d{i}", lang, text, "test")


def test_strip_keeps_latin_common_inherited_and_counts():
    text = "Seoul (서울, 首尔) — café, Straße, naïve e\u0301, 1,234 km. Ελλάδα!"
    stats = FilterStats()
    (kept,) = filter_documents([_doc(0, text)], FilterConfig(min_chars=5), stats)
    assert kept.doc.text == "Seoul (, ) — café, Straße, naïve e\u0301, 1,234 km. !"
    assert kept.chars_removed == 2 + 2 + 6 == stats.chars_removed_by_script
    assert stats.chars_in == len(text) and stats.chars_kept == len(kept.doc.text)


def test_short_documents_dropped_with_reason_and_totals_add_up():
    docs = [_doc(0, "A long enough English sentence."), _doc(1, "한국어 문장 x"), _doc(2, "ok")]
    stats, dropped = FilterStats(), []
    cfg = FilterConfig(min_chars=10, write_dropped=True)
    kept = list(filter_documents(docs, cfg, stats, dropped))
    assert [k.doc.id for k in kept] == ["d0"]
    assert [(d.doc.id, d.reason) for d in dropped] == [("d1", "too_short"), ("d2", "too_short")]
    s = stats.to_dict()
    assert s["docs_in"] == s["docs_kept"] + sum(s["docs_dropped"].values()) == 3
    assert s["chars_in"] == s["chars_kept"] + s["chars_removed_by_script"] + s["chars_dropped"]
    assert s["chars_removed_by_script"] == 5  # the Hangul of d1


def test_keep_mode_for_target_corpora():
    docs = [_doc(0, "བོད་ཀྱི་སྐད། Tibetan", "bo"), _doc(1, "Mostly English བོད", "bo")]
    stats = FilterStats()
    cfg = FilterConfig(mode="keep", scripts=["Tibetan"], min_chars=1, min_script_fraction=0.5)
    kept = list(filter_documents(docs, cfg, stats))
    assert [k.doc.text for k in kept] == ["བོད་ཀྱི་སྐད། Tibetan"]  # kept whole, Latin included
    assert stats.dropped == {"wrong_script": 1}


def test_tibetan_segmented_normalisation():
    raw = "བོད ཀྱི མིང་བརྡ རིག་པ-འི སྐོར ནས ཅུང་ཙམ བཤད་པ ། དང་པོ །\nམིང ། 2020 ལོ"
    assert normalize_tibetan_segmented(raw) == (
        "བོད་ཀྱི་མིང་བརྡ་རིག་པའི་སྐོར་ནས་ཅུང་ཙམ་བཤད་པ། དང་པོ།\nམིང་། 2020 ལོ"
    )


def test_bad_filter_config():
    with pytest.raises(ConfigError, match="scripts: 'Klingon' is not a Unicode script"):
        FilterConfig.from_dict({"scripts": ["Klingon"]})
    with pytest.raises(ConfigError, match="min_script_fraction"):
        FilterConfig.from_dict({"min_script_fraction": 1.5})


@pytest.mark.slow
def test_real_english_sample_zero_non_latin_and_every_latin_letter_kept(sample_data):
    docs = list(itertools.islice(read_mono("en", sample_data), 400))  # id 14005 is 385th
    stats = FilterStats()
    kept = {k.doc.id: k for k in filter_documents(docs, FilterConfig(min_chars=0), stats)}
    assert len(kept) == len(docs)
    assert stats.chars_removed_by_script > 0  # the sample does hold Greek, CJK, ... characters
    for doc in docs:
        out = kept[doc.id]
        assert count_outside(out.doc.text, ("Latin",)) == 0
        # every Latin letter (accented ones too) survives, in order
        assert LATIN_LETTER.findall(out.doc.text) == LATIN_LETTER.findall(doc.text)
        assert len(doc.text) - len(out.doc.text) == out.chars_removed == count_outside(doc.text)
    assert sum(k.chars_removed for k in kept.values()) == stats.chars_removed_by_script
    assert any("é" in k.doc.text for k in kept.values())
    assert any("\u0085" in k.doc.text for k in kept.values())  # article 14005, not split
