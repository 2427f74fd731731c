"""Named readers of the shared real data, and the corpus-stage config presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridgelab.contracts.records import ReadStats
from bridgelab.contracts.scripts import script_fraction
from bridgelab.data.prepare import PrepareConfig
from bridgelab.data.sources import MONO, parallel_sets, read_mono, read_parallel
from bridgelab.data.tokenizer import TokenizerConfig
from bridgelab.errors import DataError

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs" / "data").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_data_config_loads(path):
    cls = TokenizerConfig if path.name.startswith("tokenizer") else PrepareConfig
    cfg = cls.load(path)
    assert cfg.out_dir.startswith("runs/")


def test_config_presets_cover_the_brief():
    names = {p.stem for p in CONFIGS}
    assert {"synth_en", "wiki_en", "tokenizer_synth", "tokenizer_qwen"} <= names
    synth = TokenizerConfig.load(CONFIGS[[p.stem for p in CONFIGS].index("tokenizer_synth")])
    assert sorted(c.lang for c in synth.corpora) == ["bo", "en", "ko", "mn", "zh"]


def test_parallel_sets_with_stable_ids(sample_data):
    pairs = read_parallel("flores200-dev", "bo", sample_data)
    assert len(pairs) == 997 and pairs[123].id == "flores200-dev-bo-000123"
    assert (
        pairs[0].lang_a == "en" and pairs[0].lang_b == "bo" and pairs[0].source == "flores200-dev"
    )
    assert script_fraction(pairs[5].text_b, "Tibetan") > 0.9
    assert read_parallel("flores200-dev", "bo", sample_data)[500] == pairs[500]
    mn = read_parallel("milic-dialogue", "mn", sample_data)
    assert len(mn) == 773 and script_fraction(mn[0].text_b, "Mongolian") > 0.9
    assert len(read_parallel("tatoeba", "khk", sample_data)) == 415
    assert set(parallel_sets()["ntrex128"]) == {"bo", "khk", "ko", "zh"}


def test_cyrillic_mongolian_is_not_mn(sample_data):
    with pytest.raises(DataError, match="no traditional-script Mongolian.*'khk'"):
        read_parallel("ntrex128", "mn", sample_data)
    with pytest.raises(DataError, match="has no 'bo' side"):
        read_parallel("tatoeba", "bo", sample_data)
    khk = read_parallel("flores200-dev", "khk", sample_data)
    assert script_fraction(khk[0].text_b, "Cyrillic") > 0.9


def test_untranslated_lines_are_named_or_skipped(sample_data):
    with pytest.raises(
        DataError, match=r"newstest2019-ref.kor.txt.gz:681: only 0 of \d+ letters are Hangul"
    ):
        read_parallel("ntrex128", "ko", sample_data)
    stats = ReadStats("ntrex128")
    pairs = read_parallel("ntrex128", "ko", sample_data, skip_bad=True, stats=stats)
    assert (
        stats.skipped == 2
        and len(pairs) == 1995
        and "ntrex128-ko-000680" not in {p.id for p in pairs}
    )


def test_mono_readers(sample_data):
    bo = next(read_mono("bo", sample_data))
    assert bo.id == "nanhai-written-C-D-DL-A-KY-01" and bo.lang == "bo"
    assert bo.text.startswith("བོད་ཀྱི་མིང་བརྡ་རིག་པའི་སྐོར") and "-" not in bo.text[:200]
    mn = next(read_mono("mn", sample_data))
    assert mn.id.startswith("milic-news-") and script_fraction(mn.text, "Mongolian") > 0.8
    assert set(MONO) == {"en", "ko", "zh", "bo", "mn"}
    with pytest.raises(DataError, match="no shared monolingual corpus for 'fr'"):
        next(read_mono("fr", sample_data))
    with pytest.raises(DataError, match="shared data folder not found"):
        next(read_mono("en", sample_data / "nope"))
