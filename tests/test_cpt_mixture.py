"""CPT mixtures: bridge settings, packing, the isolation checker, and bad input."""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from bridgelab.contracts.shards import TokenCorpus, token_dtype, write_manifest, write_shard
from bridgelab.cpt.bridges import Unit
from bridgelab.cpt.check import check_mixtures
from bridgelab.cpt.inputs import PairSourceConfig, read_mixture_pairs
from bridgelab.cpt.mixture import CptMixtureConfig, build_mixture
from bridgelab.cpt.packing import pack
from bridgelab.data.readers import SourceConfig
from bridgelab.errors import ConfigError, DataError, RunFolderError
from tests.conftest import sample_data_dir

SEQ_LEN = 256
SETTINGS = ("bridge", "nobridge", "codeswitch")


def _tokenizer(out: Path, corpora: list[SourceConfig]) -> Path:
    from bridgelab.data.tokenizer import TokenizerConfig, run

    return run(TokenizerConfig(out_dir=str(out), kind="bpe", vocab_size=1200, corpora=corpora))


@pytest.fixture(scope="module")
def real_mixtures(tmp_path_factory) -> dict[str, Path]:
    """ko mixtures of FLORES + NTREX pairs, kowiki paragraphs and enwiki replay, per setting."""
    root = sample_data_dir()
    tmp = tmp_path_factory.mktemp("cpt_real")
    shared = {"format": "shared", "path": str(root)}
    tok = _tokenizer(
        tmp / "tok",
        [SourceConfig(lang=lang, limit=40, **shared) for lang in ("en", "ko")],
    )
    base = CptMixtureConfig.from_dict(
        {
            "tokenizer": str(tok),
            "lang": "ko",
            "pairs": [
                {"name": "flores200-dev", "limit": 80, **shared},
                {"name": "ntrex128", "limit": 80, **shared},
            ],
            "docs": [{"lang": "ko", "limit": 15, **shared}],
            "replay": [{"lang": "en", "limit": 30, **shared}],
            "replay_fraction": 0.1,
            "order": "random",
            "seq_len": SEQ_LEN,
            "skip_bad": True,
        }
    )
    out = {}
    for setting in SETTINGS:
        cfg = CptMixtureConfig.from_dict(
            {**base.to_dict(), "setting": setting, "out_dir": str(tmp / f"ko-{setting}")}
        )
        out[setting] = build_mixture(cfg)
    return out


def test_settings_hold_same_sentences_and_tokens(real_mixtures):
    report = check_mixtures([real_mixtures[s] for s in SETTINGS])
    assert report["ok"], report
    by_setting = {m["setting"]: m for m in report["mixtures"]}
    pairs = by_setting["bridge"]["pairs"]
    assert pairs > 140  # 160 read, a few skipped (bad script) or too long for a window
    for m in report["mixtures"]:
        assert m["pairs"] == pairs and m["sentences"] == 2 * pairs
        assert m["tail_tokens"] == 0 and m["num_tokens"] % (SEQ_LEN + 1) == 0
        assert m["retokenize_errors"] == 0
    # with bridges every pair shares a window; without (and code-switched) none does
    assert by_setting["bridge"]["bridged_pairs"] == pairs
    assert by_setting["nobridge"]["cooccurring_pairs"] == 0
    assert by_setting["codeswitch"]["cooccurring_pairs"] == 0
    assert len(report["comparisons"]) == 3
    for c in report["comparisons"]:
        assert c["same_tokens"] and c["same_sentences"] and c["same_fillers"]
    # replay is about the configured share of the tokens
    stats = json.loads((real_mixtures["bridge"] / "manifest.json").read_text())["stats"]
    share = stats["replay_tokens"] / by_setting["bridge"]["num_tokens"]
    assert 0.08 < share < 0.2


def test_nobridge_shards_really_separate_halves(real_mixtures):
    """Independently of the checker: decode windows and look for both halves of a pair."""
    corpus = TokenCorpus(real_mixtures["nobridge"])
    seen = 0
    for w in range(corpus.num_windows(SEQ_LEN)):
        pair_ids = [
            d.info["pair_id"] for d in corpus.docs_in_window(w, SEQ_LEN) if "pair_id" in d.info
        ]
        seen += len(pair_ids)
        assert len(pair_ids) == len(set(pair_ids)), f"window {w} holds both halves of a pair"
    assert seen >= 2 * corpus.manifest["stats"]["pairs"]


def _rewrite(src: Path, dst: Path, order: list[int]) -> None:
    """Copy a mixture with its documents in another order (an honest, but bad, packing)."""
    corpus = TokenCorpus(src)
    docs = list(corpus.iter_docs())
    rows = [{"id": d.id, **d.info} for d, _ in docs]
    dtype = token_dtype(corpus.vocab_size)
    dst.mkdir()
    shard = write_shard(dst, 0, [docs[i][1] for i in order], [rows[i] for i in order], dtype)
    m = corpus.manifest
    write_manifest(dst, shards=[shard], vocab_size=m["vocab_size"], eos_id=m["eos_id"],
                   tokenizer_hash=m["tokenizer_hash"], stats=m["stats"], meta=m["meta"])  # fmt: skip


def test_checker_catches_planted_violations(real_mixtures, tmp_path):
    src = real_mixtures["nobridge"]
    docs = TokenCorpus(src).docs
    # move the x half of the first pair right behind its English half
    en = next(i for i, d in enumerate(docs) if d.info.get("half") == "en")
    x = next(
        i
        for i, d in enumerate(docs)
        if d.info.get("pair_id") == docs[en].info["pair_id"] and i != en
    )
    order = [i for i in range(len(docs)) if i != x]
    order.insert(order.index(en) + 1, x)
    _rewrite(src, tmp_path / "planted", order)
    report = check_mixtures([tmp_path / "planted"])
    assert not report["ok"]
    assert report["mixtures"][0]["cooccurring_pairs"] >= 1
    assert report["mixtures"][0]["violations"] >= 1

    # rows that lie: overwrite the tokens of one sentence in the .bin, keep its row
    shutil.copytree(src, tmp_path / "tampered")
    bin_path = tmp_path / "tampered" / "shard_00000.bin"
    tokens = np.fromfile(bin_path, dtype=TokenCorpus(src).dtype)
    doc = docs[en]
    tokens[doc.start] = (int(tokens[doc.start]) + 1) % 256
    tokens.tofile(bin_path)
    report = check_mixtures([tmp_path / "tampered"])
    assert not report["ok"] and report["mixtures"][0]["retokenize_errors"] == 1


def test_finished_mixture_is_kept(real_mixtures):
    path = real_mixtures["bridge"]
    cfg = CptMixtureConfig.load(path / "config.yaml")
    before = (path / "shard_00000.bin").stat().st_mtime_ns
    assert build_mixture(cfg) == path  # same config: nothing to do
    assert (path / "shard_00000.bin").stat().st_mtime_ns == before
    other = CptMixtureConfig.from_dict({**cfg.to_dict(), "seed": 1})
    with pytest.raises(RunFolderError, match="another config"):
        build_mixture(other)
    assert (path / "shard_00000.bin").stat().st_mtime_ns == before


def _unit(n: int, pair_ids: tuple[str, ...] = (), kind: str = "mono") -> Unit:
    return Unit(np.arange(1, n + 1, dtype=np.int64), {"id": f"{kind}{random.random()}"}, pair_ids)


@pytest.mark.parametrize("isolate", [False, True])
def test_pack_keeps_pair_documents_inside_windows(isolate):
    """Halves queued next to each other share windows unless the packer isolates them."""
    rng = random.Random(0)
    window = 33
    pairs = []
    for p in range(200):
        pairs.append(_unit(rng.randint(3, 15), (f"p{p}",), "en"))
        pairs.append(_unit(rng.randint(3, 15), (f"p{p}",), "x"))
    # pair text dominates: fillers are few and only close the windows
    fillers = [_unit(rng.randint(5, 60)) for _ in range(40)]
    placed, stats = pack(pairs, fillers, window, isolate=isolate, what="test")
    total = sum(u.length for u in placed)
    assert total % window == 0 and total // window == stats["windows"]
    assert total == sum(u.length for u in pairs + fillers) - stats["dropped_filler_tokens"]
    assert sum(1 for u in placed if u.pair_ids) == len(pairs)
    # the filler stream is intact and in order, only cut at window ends
    stream = np.concatenate([u.tokens for u in placed if not u.pair_ids])
    assert np.array_equal(stream, np.concatenate([f.tokens for f in fillers])[: stream.size])
    windows: dict[str, list[int]] = {}
    pos = 0
    for u in placed:
        if u.pair_ids:
            assert pos // window == (pos + u.length - 1) // window, (
                "a pair document crosses a window"
            )
            windows.setdefault(u.pair_ids[0], []).append(pos // window)
        pos += u.length
    shared = sum(len(set(w)) < len(w) for w in windows.values())
    assert shared == 0 if isolate else shared > 0


def test_pack_needs_filler_text():
    pairs = [_unit(20, (f"p{i}",)) for i in range(10)]
    with pytest.raises(DataError, match="ran out of monolingual/replay text"):
        pack(pairs, [_unit(3)], 33, isolate=True, what="ko/nobridge")


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def _pair(i: int, en: str, x: str, lang: str = "ko") -> dict:
    return {"id": f"p{i}", "lang_a": "en", "lang_b": lang, "text_a": en, "text_b": x, "source": "t"}


def test_bad_pairs_are_named(tmp_path):
    good = _pair(0, "The river is wide.", "강이 넓다.")
    wrong = _pair(1, "The hill is green.", "The hill is green.")
    path = _jsonl(tmp_path / "pairs.jsonl", [good, wrong])
    src = [PairSourceConfig(path=str(path))]
    with pytest.raises(DataError, match=r"pairs.jsonl \(record 2\).*'p1' text_b is not Hangul"):
        read_mixture_pairs(src, "ko", min_script_fraction=0.5, skip_bad=False)
    pairs, counts = read_mixture_pairs(src, "ko", min_script_fraction=0.5, skip_bad=True)
    assert [p.id for p in pairs] == ["p0"] and counts["pairs_skipped"] == 1

    (tmp_path / "a.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "a.ko").write_text("하나\n둘\n", encoding="utf-8")
    aligned = [
        PairSourceConfig(
            format="aligned", path=str(tmp_path / "a.en"), path_x=str(tmp_path / "a.ko")
        )
    ]
    with pytest.raises(DataError, match="3 lines but .* has 2"):
        read_mixture_pairs(aligned, "ko", min_script_fraction=0.5, skip_bad=False)
    (tmp_path / "a.ko").write_text("하나\n\n셋\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a.ko:2: empty line"):
        read_mixture_pairs(aligned, "ko", min_script_fraction=0.5, skip_bad=False)
    with pytest.raises(ConfigError, match="lang: 'xx'"):
        read_mixture_pairs(src, "xx", min_script_fraction=0.5, skip_bad=False)


def test_separator_must_be_one_token(tmp_path):
    docs = _jsonl(tmp_path / "docs.jsonl", [{"id": "d0", "text": "강이 넓다. " * 30}])
    pairs = _jsonl(tmp_path / "pairs.jsonl", [_pair(0, "The river is wide.", "강이 넓다.")])
    tok = _tokenizer(tmp_path / "tok", [SourceConfig(lang="ko", path=str(docs))])
    cfg = CptMixtureConfig(
        tokenizer=str(tok), out_dir=str(tmp_path / "mix"), separator=" || ",
        pairs=[PairSourceConfig(path=str(pairs))], docs=[SourceConfig(lang="ko", path=str(docs))],
    )  # fmt: skip
    with pytest.raises(ConfigError, match="separator: ' \\|\\| ' is [2-9] tokens"):
        build_mixture(cfg)
    assert not (tmp_path / "mix" / "manifest.json").exists()


# --- the script-fraction default, drop counts and duplicates (issue 15) ---------------------

# A genuine Korean translation that keeps a Latin title: 8 Hangul of 23 letters (0.35), kept at
# the shared default 0.2, dropped by the mixture's former 0.5 under skip_bad.
LATIN_TITLE = ("BTS released Map of the Soul 7.", "BTS의 새 앨범 Map of the Soul 7이 나왔다.")


def test_mixture_and_line_readers_share_one_script_fraction_default():
    import inspect

    from bridgelab.contracts.scripts import DEFAULT_MIN_SCRIPT_FRACTION
    from bridgelab.data.sources import read_line_aligned, read_parallel

    assert DEFAULT_MIN_SCRIPT_FRACTION == 0.2
    assert CptMixtureConfig().min_script_fraction == DEFAULT_MIN_SCRIPT_FRACTION
    for fn in (read_line_aligned, read_parallel):
        default = inspect.signature(fn).parameters["min_script_fraction"].default
        assert default == DEFAULT_MIN_SCRIPT_FRACTION, fn.__name__
    with pytest.raises(ConfigError, match="min_script_fraction: must lie in"):
        CptMixtureConfig.from_dict({"pairs": [{"path": "x.jsonl"}], "min_script_fraction": 2})


def test_latin_names_are_kept_and_drops_are_counted_per_reason(tmp_path, caplog):
    rows = [
        _pair(0, *LATIN_TITLE),
        _pair(1, "The river is wide.", "강이 넓다."),
        _pair(2, "The hill is green.", "The hill is green."),  # untranslated: wrong_script
        _pair(3, "The sky is blue.", "   "),  # empty_side
        {"id": "p4", "lang_a": "en"},  # incomplete record: bad_record
        _pair(5, "The river is wide.", "강이 넓다."),  # exact copy of p1 under another id
        _pair(6, "The sea is deep.", "바다가 깊다."),
    ]
    pairs = _jsonl(tmp_path / "pairs.jsonl", rows)
    docs = _jsonl(
        tmp_path / "docs.jsonl",
        [{"id": f"d{i}", "text": "강이 넓고 바다가 깊다. 하늘이 파랗다. " * 40} for i in range(4)],
    )
    tok = _tokenizer(tmp_path / "tok", [SourceConfig(lang="ko", path=str(docs))])
    cfg = CptMixtureConfig(
        tokenizer=str(tok), out_dir=str(tmp_path / "mix"), seq_len=128, skip_bad=True,
        pairs=[PairSourceConfig(path=str(pairs))], docs=[SourceConfig(lang="ko", path=str(docs))],
    )  # fmt: skip
    caplog.set_level(logging.INFO, logger="bridgelab.cpt.mixture")
    out = build_mixture(cfg)
    meta = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["meta"]
    assert "p0" in meta["pair_ids"]  # the Latin title survives
    assert meta["min_script_fraction"] == 0.2
    assert meta["dropped"] == {"bad_record": 1, "wrong_script": 1, "empty_side": 1, "too_long": 0}
    assert meta["duplicate_pairs"] == 1 and meta["duplicate_examples"] == [["p5", "p1"]]
    assert sorted(meta["pair_ids"]) == ["p0", "p1", "p5", "p6"]  # duplicates are kept
    messages = [r.getMessage() for r in caplog.records]
    assert any("dropped 3 of 7 pairs" in m and "wrong_script 1" in m for m in messages), messages
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1 exact duplicate pairs" in m and "p5 = p1" in m for m in warnings), warnings


def test_line_reader_counts_reasons(tmp_path):
    from bridgelab.contracts.records import ReadStats
    from bridgelab.data.sources import read_line_aligned

    (tmp_path / "a.en").write_text("one\n" + LATIN_TITLE[0] + "\nthree\n", encoding="utf-8")
    (tmp_path / "a.ko").write_text("하나\n" + LATIN_TITLE[1] + "\nthree again\n", encoding="utf-8")
    stats = ReadStats("a")
    pairs = read_line_aligned(
        tmp_path / "a.en", tmp_path / "a.ko", lang_a="en", lang_b="ko", source="a",
        id_prefix="a", script_a="Latin", script_b="Hangul", skip_bad=True, stats=stats,
    )  # fmt: skip
    assert [p.id for p in pairs] == ["a-000000", "a-000001"]  # the Latin title is kept
    assert stats.reasons == {"wrong_script": 1} and stats.skipped == 1


def test_the_tiny_world_loses_no_pair_at_either_fraction(tmp_path):
    """The synthetic world's lines are written in one script: 0.2 (now) and 0.5 (before) both
    keep every pair, so the demo's mixtures hold the same pairs as before the change."""
    from bridgelab.synth.config import SynthConfig
    from bridgelab.synth.output import run as synth

    tiny = Path(__file__).resolve().parents[1] / "configs" / "synth" / "tiny.yaml"
    world = synth(SynthConfig.load(tiny, [f"out_dir={tmp_path / 'w'}"]))
    for lang in ("ko", "zh", "bo", "mn"):
        src = [PairSourceConfig(path=str(world / "parallel" / f"en-{lang}.jsonl"))]
        now, counts = read_mixture_pairs(src, lang, min_script_fraction=0.2, skip_bad=True)
        before, _ = read_mixture_pairs(src, lang, min_script_fraction=0.5, skip_bad=True)
        assert [p.id for p in now] == [p.id for p in before]
        assert counts["pairs_skipped"] == 0 and counts["pairs_read"] == len(now) > 0
