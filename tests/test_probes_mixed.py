"""Mixed-language probe items (arXiv 2406.16135): built from aligned sets, kept apart from the
matched items in every table, scored end to end on a tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from bridgelab.contracts.probe_sets import load_paper_set, load_synthetic_set
from bridgelab.contracts.results import summarize
from bridgelab.errors import ConfigError, DataError
from bridgelab.probes.config import ProbeConfig, ProbeSetConfig
from bridgelab.probes.mixed import mixed_set, mixed_sets
from bridgelab.probes.transfer import transfer_table
from bridgelab.probes.units import load_sets

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from bridgelab.synth.config import SynthConfig
    from bridgelab.synth.output import run

    out = tmp_path_factory.mktemp("mixed") / "world"
    return run(
        SynthConfig.load(REPO / "configs/synth/tiny.yaml", [f"out_dir={out}", "en_cultures=1"])
    )


def test_synthetic_mixed_items(world):
    native, english = load_synthetic_set(world, "ko", "ko"), load_synthetic_set(world, "ko", "en")
    ko_q, en_q = mixed_sets(native, english)
    assert (ko_q.name, ko_q.question_lang, ko_q.options_lang) == ("synthetic:ko.ko+opt-en", "ko",
                                                                  "en")  # fmt: skip
    assert (en_q.name, en_q.question_lang, en_q.options_lang) == ("synthetic:ko.en+opt-ko", "en",
                                                                  "ko")  # fmt: skip
    assert len(ko_q.items) == len(native.items) == 8
    for n, e, m, r in zip(native.items, english.items, ko_q.items, en_q.items):
        assert (m.id, r.id) == (n.id + "+opt-en", n.id + "+opt-ko")  # never a plain item's id
        assert (m.question, m.options, m.answer, m.lang) == (n.question, e.options, e.answer, "ko")
        assert (r.question, r.options, r.answer, r.lang) == (e.question, n.options, n.answer, "en")
        # the world writes both languages' options in the same order: one answer index
        assert m.answer_index == r.answer_index == n.answer_index == e.answer_index is not None


def _paper_files(folder: Path, native: list, english: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for q, items in (("bo", native), ("en", english)):
        (folder / f"bo-culture-cloze_{q}.json").write_text(json.dumps(items, ensure_ascii=False))
    return folder


NATIVE = [
    {"question": "བོད་ཀྱི་རྒྱལ་ས་ནི་___ཡིན།", "options": ["ལྷ་ས", "གཞིས་ཀ་རྩེ", "ཆབ་མདོ"], "answer": "ལྷ་ས"},
    {"question": "____ནི་བོད་ཀྱི་ཟས་ཡིན།", "options": ["རྩམ་པ", "ཚལ", "ཤ"], "answer": "རྩམ་པ"},
]  # fmt: skip
ENGLISH = [
    {"question": "The capital of Tibet is ___.", "options": ["Lhasa", "Shigatse", "Chamdo"], "answer": "Lhasa"},
    {"question": "____ is a Tibetan food.", "options": ["tsampa", "vegetables", "meat"], "answer": "tsampa"},
]  # fmt: skip


def test_paper_format_pair(tmp_path):
    folder = _paper_files(tmp_path / "paper", NATIVE, ENGLISH)
    native, english = load_paper_set(folder, "bo", "bo"), load_paper_set(folder, "bo", "en")
    ko_q, en_q = mixed_sets(native, english)
    assert [it.id for it in ko_q.items] == ["bo-0000+opt-en", "bo-0001+opt-en"]
    # the native question with an English option in its blank, the English answer
    assert ko_q.items[1].question == NATIVE[1]["question"]
    assert ko_q.items[1].options == ("tsampa", "vegetables", "meat")
    assert ko_q.items[1].answer == "tsampa" and ko_q.items[1].answer_index == 0
    assert (
        en_q.items[0].question == "The capital of Tibet is ___." and en_q.items[0].answer == "ལྷ་ས"
    )
    assert "questions" in ko_q.source and str(folder / "bo-culture-cloze_en.json") in ko_q.source


def test_misaligned_pair_names_file_and_id(tmp_path):
    short = _paper_files(tmp_path / "short", NATIVE[:1], ENGLISH)
    native, english = load_paper_set(short, "bo", "bo"), load_paper_set(short, "bo", "en")
    with pytest.raises(DataError, match=r"bo-culture-cloze_en\.json: item bo-0001 has no aligned"):
        mixed_set(native, english)
    with pytest.raises(DataError, match=r"bo-culture-cloze_en\.json: item bo-0001 has no aligned"):
        mixed_set(english, native)
    three = [dict(ENGLISH[0]), ENGLISH[1]]
    three[0]["options"] = ["Lhasa", "Shigatse"]
    counts = _paper_files(tmp_path / "counts", NATIVE, three)
    native, english = load_paper_set(counts, "bo", "bo"), load_paper_set(counts, "bo", "en")
    with pytest.raises(
        DataError, match=r"cloze_bo\.json: item bo-0000 has 3 options but .*cloze_en"
    ):
        mixed_set(native, english)
    # through the probe config as well: the loader refuses before anything is scored
    cfg = ProbeConfig.from_dict({"probe_sets": [{"kind": "paper", "path": str(short),
                                                 "langs": ["bo"], "mixed": True}]})  # fmt: skip
    with pytest.raises(DataError, match="bo-0001 has no aligned"):
        load_sets(cfg)


def test_config_option_is_off_by_default_and_invisible(world):
    plain = {"probe_sets": [{"kind": "synthetic", "path": str(world), "langs": ["ko", "en"]}]}
    cfg = ProbeConfig.from_dict(plain)
    # an existing probe folder's config hash and config.yaml do not change
    assert "mixed" not in cfg.to_dict()["probe_sets"][0]
    plain_names = ["synthetic:ko.en", "synthetic:ko.ko", "synthetic:en.en"]
    assert [s.name for s in load_sets(cfg)] == plain_names
    plain["probe_sets"][0]["mixed"] = True
    cfg = ProbeConfig.from_dict(plain)
    assert cfg.to_dict()["probe_sets"][0]["mixed"] is True
    names = [s.name for s in load_sets(cfg)]  # the English culture has nothing to mix
    assert names == ["synthetic:ko.en", "synthetic:ko.ko", "synthetic:ko.ko+opt-en",
                     "synthetic:ko.en+opt-ko", "synthetic:en.en"]  # fmt: skip
    with pytest.raises(ConfigError, match="mixed"):
        ProbeSetConfig.from_dict({"kind": "synthetic", "path": "w", "langs": ["ko"],
                                  "question_langs": ["native"], "mixed": True})  # fmt: skip
    for preset in sorted((REPO / "configs/probes").glob("*.yaml")):
        data = yaml.safe_load(preset.read_text(encoding="utf-8"))
        for entry in data.get("probe_sets", []):
            if entry.get("mixed"):
                ProbeSetConfig.from_dict(entry)  # every preset that mixes is valid


def _row(setting, item, q, correct, options=None, seed=0):
    row = {"run": f"ko-{setting}", "run_lang": "ko", "setting": setting, "seed": seed, "step": 10,
           "probe_set": f"synthetic:ko.{q}" + (f"+opt-{options}" if options else ""),
           "culture_lang": "ko", "question_lang": q, "scorer": "paper",
           "item_id": item + (f"+opt-{options}" if options else ""), "correct": correct,
           "perm_correct": correct, "tie": False, "tie_decided": False, "chance": 0.25}  # fmt: skip
    return {**row, "options_lang": options} if options else row


def test_tables_keep_mixed_rows_apart():
    rows = []
    for setting, matched, mixed in (("bridge", [1, 1, 1, 0], [1, 0, 0, 0]),
                                    ("nobridge", [1, 0, 0, 0], [0, 0, 0, 0])):  # fmt: skip
        for i, (a, b) in enumerate(zip(matched, mixed)):
            rows += [_row(setting, f"f{i}", "ko", a), _row(setting, f"f{i}", "ko", b, "en")]
    plain = [r for r in rows if "options_lang" not in r]
    assert "options_lang" not in summarize(plain).columns  # absent: the old table exactly
    table = summarize(rows, n_boot=200).set_index(["setting", "options_lang"])
    assert table.loc[("bridge", "ko"), "accuracy"] == 0.75  # matched: options in Korean
    assert table.loc[("bridge", "en"), "accuracy"] == 0.25  # mixed: same questions, English options
    assert set(table["question_lang"]) == {"ko"}
    matched = transfer_table(rows, n_boot=200)
    pd.testing.assert_frame_equal(matched, transfer_table(plain, n_boot=200))
    mixed = transfer_table(rows, n_boot=200, mixed=True).iloc[0]
    assert (mixed["direction"], mixed["options_lang"], mixed["n_items"]) == ("en->ko", "en", 4)
    assert (mixed["acc_treatment"], mixed["acc_baseline"], mixed["diff"]) == (0.25, 0.0, 0.25)
    assert (mixed["mcnemar_b"], mixed["mcnemar_c"], mixed["p_value"]) == (1, 0, 1.0)
    assert matched.iloc[0]["diff"] == 0.5 and "options_lang" not in matched.columns


def test_scored_end_to_end(world, tmp_path):
    """`bridgelab probe` with mixed: true on a tiny random model, then transfer and the report."""
    from bridgelab.contracts.records import read_probes
    from bridgelab.probes import evaluate, transfer
    from bridgelab.probes.models import load_model, load_tokenizer
    from bridgelab.report.build import ReportConfig, ReportWriter, exposure_table
    from bridgelab.report.mixed import section_mixed
    from bridgelab.testing import save_tiny_qwen2, train_byte_bpe

    texts = [f"{it.question} {' '.join(it.options)}" for q in ("en", "ko")
             for it in read_probes(world / "probes" / f"ko.{q}.jsonl")]  # fmt: skip
    tok = train_byte_bpe(texts, 300)
    cks = [{"path": str(save_tiny_qwen2(tmp_path / s, tok, seed=n + 1)), "run": f"ko-{s}",
            "lang": "ko", "setting": s, "seed": 0, "step": 10}
           for n, s in enumerate(("bridge", "nobridge"))]  # fmt: skip
    data = {"out_dir": str(tmp_path / "probes"), "device": "cpu", "scorers": ["paper"],
            "checkpoints": cks, "probe_sets": [{"kind": "synthetic", "path": str(world),
                                                "langs": ["ko"], "mixed": True}]}  # fmt: skip
    out = evaluate.run(ProbeConfig.from_dict(data))
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    # 3 models (2 runs + random-init) x 4 sets (ko.en, ko.ko and the two mixed) x 8 items
    assert len(rows) == 3 * 4 * 8
    mixed = [r for r in rows if "options_lang" in r]
    assert len(mixed) == 3 * 2 * 8
    assert {(r["question_lang"], r["options_lang"]) for r in mixed} == {("ko", "en"), ("en", "ko")}
    assert all(r["item_id"].endswith("+opt-" + r["options_lang"]) for r in mixed)

    # the paper scorer's sentence is the Korean question with an English option in the blank
    model, tok = load_model(cks[0]["path"], device="cpu"), load_tokenizer(cks[0]["path"])
    english = {it.id: it for it in read_probes(world / "probes" / "ko.en.jsonl")}
    for r in [r for r in mixed if r["setting"] == "bridge" and r["question_lang"] == "ko"]:
        item = next(it for it in read_probes(world / "probes" / "ko.ko.jsonl")
                    if r["item_id"] == it.id + "+opt-en")  # fmt: skip
        losses = []
        for option in english[item.id].options:
            ids = torch.tensor(
                [[tok.eos_token_id] + tok.encode(item.question.replace("___", option))]
            )
            with torch.no_grad():
                losses.append(float(model(ids, labels=ids).loss))
        assert r["pred"] == int(np.argmin(losses))
        assert r["answer_index"] == english[item.id].answer_index
        assert r["correct"] == float(r["pred"] == r["answer_index"])

    summary = pd.read_csv(out / "summary.csv")
    assert {"options_lang"} <= set(summary.columns) and len(summary) == 3 * 4
    for _, s in summary.iterrows():  # each line is exactly its own rows' mean
        own = [
            r["correct"] for r in rows if r["probe_set"] == s["probe_set"] and r["run"] == s["run"]
        ]
        assert s["accuracy"] == pytest.approx(np.mean(own)) and s["n"] == 8

    tcfg = transfer.TransferConfig(results=str(out), out_dir=str(tmp_path / "transfer"), n_boot=200)
    tdir = transfer.run(tcfg)
    table = pd.read_csv(tdir / "transfer_mixed.csv")
    directions = sorted(zip(table["direction"], table["options_lang"]))
    assert directions == [("en->ko", "en"), ("ko->en", "ko")]
    for _, t in table.iterrows():
        q = "ko" if t["direction"] == "en->ko" else "en"
        acc = {s: np.mean([r["correct"] for r in mixed if r["setting"] == s and r["question_lang"] == q])
               for s in ("bridge", "nobridge")}  # fmt: skip
        assert t["diff"] == pytest.approx(acc["bridge"] - acc["nobridge"])
    assert "transfer_mixed.csv" in (tdir / "transfer.md").read_text()
    assert len(pd.read_csv(tdir / "transfer.csv")) == 2  # the matched directions only

    writer = ReportWriter(tmp_path / "report")
    section_mixed(writer, ReportConfig(probes=str(out), transfer=str(tdir)))
    report = pd.read_csv(tmp_path / "report" / "csv" / "mixed.csv")
    assert list(report["kind"]) == ["matched", "mixed", "matched", "mixed"]
    assert list(report["options_lang"]) == ["en", "ko", "ko", "en"]
    assert report["bridge - nobridge"].notna().all() and (report["items"] == 8).all()
    assert "Mixed-language probes" in "\n".join(writer.lines)
    # nothing at all without mixed rows
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "results.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows if "options_lang" not in r)
    )
    empty = ReportWriter(tmp_path / "report2")
    section_mixed(empty, ReportConfig(probes=str(plain)))
    assert empty.lines == []
    # the exposure table joins on the world's fact ids: mixed rows cannot enter it
    truth = pd.DataFrame(
        [json.loads(x) for x in (world / "ground_truth.jsonl").read_text().splitlines()]
    )
    frame = pd.DataFrame(rows)
    pd.testing.assert_frame_equal(
        exposure_table(frame, truth[["fact_id", "exposure"]], "paper"),
        exposure_table(
            frame[frame["options_lang"].isna()], truth[["fact_id", "exposure"]], "paper"
        ),
    )


def test_the_paper_release_mixes(sample_data, caplog):
    """Every culture of the release pairs item by item; only mn-0069 differs in answer position
    (its English answer is not among its options)."""
    folder = sample_data / "probes" / "cross_lingual_culture"
    sizes = {}
    for lang in ("bo", "ko", "mn", "zh"):
        native, english = load_paper_set(folder, lang, lang), load_paper_set(folder, lang, "en")
        x_q, en_q = mixed_sets(native, english)
        sizes[lang] = len(x_q.items)
        assert len(en_q.items) == len(native.items) and x_q.options_lang == "en"
    assert sizes == {"bo": 268, "ko": 598, "mn": 276, "zh": 328}
    assert "mn-0069" in caplog.text and "answer position differs for 1 items" in caplog.text
