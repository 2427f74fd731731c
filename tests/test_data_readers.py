"""Readers: every input format, records split on "\n" only, bad input named by file and line."""

from __future__ import annotations

import gzip
import json
import lzma

import pytest

from bridgelab.contracts.records import ReadStats
from bridgelab.data.readers import SourceConfig, read_source, resolve_sources
from bridgelab.data.sources import read_line_aligned
from bridgelab.errors import ConfigError, DataError

RECORDS = [
    {"id": "a", "title": "A", "text": "First line\u0085 still the first record"},
    {"id": 7, "title": "B", "text": "Second\u2028record"},
]


def _write_jsonl(path, records, opener=open):
    with opener(path, "wt", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("suffix,opener", [("", open), (".gz", gzip.open), (".xz", lzma.open)])
def test_jsonl_plain_and_compressed_keep_unicode_line_separators(tmp_path, suffix, opener):
    path = _write_jsonl(tmp_path / f"c.jsonl{suffix}", RECORDS, opener)
    docs = list(read_source(SourceConfig(lang="en", path=str(path), id_prefix="x-")))
    assert [d.id for d in docs] == ["x-a", "x-7"]
    assert docs[0].text == RECORDS[0]["text"]  # U+0085 is inside a record, not a boundary
    assert docs[1].text == "Second\u2028record"
    assert {d.lang for d in docs} == {"en"} and docs[0].source == "c"


def test_glob_limit_and_data_root(tmp_path):
    for i in range(3):
        _write_jsonl(
            tmp_path / f"part{i}.jsonl", [{"id": f"{i}-{j}", "text": "t"} for j in range(2)]
        )
    (src,) = resolve_sources([SourceConfig(lang="en", path="part*.jsonl", limit=5)], str(tmp_path))
    ids = [d.id for d in read_source(src)]
    assert ids == ["0-0", "0-1", "1-0", "1-1", "2-0"]


def test_plain_text_one_document_per_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("alpha\n\nbeta\u0085gamma\n", encoding="utf-8")
    docs = list(read_source(SourceConfig(lang="en", path=str(path), format="text")))
    assert [(d.id, d.text) for d in docs] == [("notes-1", "alpha"), ("notes-3", "beta\u0085gamma")]


def test_parquet_and_hf_datasets_local(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"doc": ["p1", "p2"], "body": ["one", "two"]}), tmp_path / "t.parquet")
    cfg = SourceConfig(
        lang="en",
        format="parquet",
        path=str(tmp_path / "t.parquet"),
        id_field="doc",
        text_field="body",
    )
    assert [(d.id, d.text) for d in read_source(cfg)] == [("p1", "one"), ("p2", "two")]

    data = _write_jsonl(tmp_path / "hf.jsonl", RECORDS)
    cfg = SourceConfig(
        lang="en", format="hf", hf_name="json", hf_data_files=[str(data)], streaming=True
    )
    docs = list(read_source(cfg))
    assert [d.id for d in docs] == ["a", "7"] and docs[0].text == RECORDS[0]["text"]


def test_bad_records_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "text": "ok"}\n{"id": "2", "text": \n{"id": "3", "text": 5}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: malformed JSON"):
        list(read_source(SourceConfig(lang="en", path=str(path))))
    stats = ReadStats(str(path))
    docs = list(read_source(SourceConfig(lang="en", path=str(path)), skip_bad=True, stats=stats))
    assert [d.id for d in docs] == ["1"] and stats.skipped == 2
    assert "bad.jsonl:3: key 'text' must be a string, got int" in stats.errors[1]


def test_missing_file_wrong_language_and_bad_config(tmp_path):
    with pytest.raises(DataError, match="file not found: .*nope.jsonl"):
        list(read_source(SourceConfig(lang="en", path=str(tmp_path / "nope.jsonl"))))
    path = _write_jsonl(tmp_path / "ko.jsonl", [{"id": "1", "lang": "ko", "text": "가"}])
    with pytest.raises(DataError, match=r"ko.jsonl:1: document language 'ko'"):
        list(read_source(SourceConfig(lang="en", path=str(path))))
    with pytest.raises(ConfigError, match="hf_name"):
        SourceConfig.from_dict({"lang": "en", "format": "hf"})


def _aligned(tmp_path, en, other):
    (tmp_path / "a.en").write_text("".join(line + "\n" for line in en), encoding="utf-8")
    (tmp_path / "a.ko").write_text("".join(line + "\n" for line in other), encoding="utf-8")
    return tmp_path / "a.en", tmp_path / "a.ko"


def test_line_aligned_pairs_and_errors(tmp_path):
    kw = dict(
        lang_a="en",
        lang_b="ko",
        source="toy",
        id_prefix="toy-ko",
        script_a="Latin",
        script_b="Hangul",
    )
    a, b = _aligned(tmp_path, ["Hello there.", "It is 5 o'clock."], ["안녕하세요.", "5시입니다."])
    pairs = read_line_aligned(a, b, **kw)
    assert [p.id for p in pairs] == ["toy-ko-000000", "toy-ko-000001"]
    assert pairs[1].text_b == "5시입니다." and pairs[0].lang_a == "en"

    a, b = _aligned(tmp_path, ["One.", "Two."], ["하나."])
    with pytest.raises(DataError, match="has 2 lines but .*a.ko has 1"):
        read_line_aligned(a, b, **kw)
    a, b = _aligned(tmp_path, ["One.", "Two."], ["하나.", "  "])
    with pytest.raises(DataError, match=r"a.ko:2: empty line"):
        read_line_aligned(a, b, **kw)
    a, b = _aligned(tmp_path, ["One.", "Two.", "Three."], ["하나.", "This is English.", "셋."])
    with pytest.raises(DataError, match=r"a.ko:2: only 0 of 13 letters are Hangul"):
        read_line_aligned(a, b, **kw)
    stats = ReadStats("x")
    pairs = read_line_aligned(a, b, **kw, skip_bad=True, stats=stats)
    assert [p.id for p in pairs] == ["toy-ko-000000", "toy-ko-000002"] and stats.skipped == 1
