"""The calibrated positive control: alignment metrics on constructed spaces, the oracle family
on the tiny study, and the report's calibration section."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from bridgelab.calibrate.alignment import procrustes_p1, sentence_retrieval, swap_test
from bridgelab.calibrate.config import CalibrateConfig
from bridgelab.calibrate.oracle import OracleFamily
from bridgelab.contracts.clone import id_map
from bridgelab.errors import ConfigError


def _space(n: int = 200, d: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_procrustes_sees_a_rotation_that_nearest_neighbours_miss():
    x = _space()
    same = procrustes_p1(x, x.clone())
    assert same["p1"] == same["p1_raw"] == 1.0
    q, _ = torch.linalg.qr(_space(32, 32, seed=1))  # a random orthogonal map
    rotated = procrustes_p1(x, x @ q)
    assert rotated["p1"] == 1.0
    assert rotated["p1_raw"] <= 5 * rotated["chance"]  # nearest neighbour: at chance
    shuffled = procrustes_p1(x, x[torch.randperm(200, generator=torch.Generator().manual_seed(2))])
    assert shuffled["p1"] <= 5 * shuffled["chance"] and shuffled["p1_raw"] <= 5 * shuffled["chance"]
    unrelated = procrustes_p1(x, _space(seed=3))
    assert unrelated["p1"] <= 5 * unrelated["chance"]
    assert len(same["p1_hits"]) == same["n_test"] == 100


def test_procrustes_needs_paired_rows():
    with pytest.raises(Exception, match="need >= 4 paired rows"):
        procrustes_p1(_space(3), _space(3))


@pytest.fixture(scope="module")
def oracle_model(tiny_study: Path):
    from bridgelab.probes.models import load_model, load_tokenizer

    tok = load_tokenizer(tiny_study / "tokenizer")
    ckpt = sorted((tiny_study / "pretrain/hf").iterdir())[-1]
    return load_model(ckpt, device="cpu"), tok


@pytest.mark.slow
def test_swap_and_retrieval_read_the_oracle_as_english(oracle_model):
    model, tok = oracle_model
    pairs = id_map(tok, "Yi")
    family = OracleFamily(model, pairs)
    texts = [f"The farmers sell the {c} boats." for c in ("red", "blue", "green", "white")]
    seqs = [tok.encode(t, add_special_tokens=False) for t in texts]
    try:
        family.set("en_to_clone", 1.0)
        oracle = swap_test(model, seqs, pairs)
        assert oracle["loss_swap"] == pytest.approx(oracle["loss_en"], abs=1e-5)
        assert oracle["score"] == pytest.approx(1.0, abs=1e-4)
        from bridgelab.contracts.clone import clone_text

        sr = sentence_retrieval(model, tok, texts, [clone_text(t, "Yi") for t in texts])
        assert sr["p1_en_to_x"] == sr["p1_x_to_en"] == 1.0
        family.set("en_to_clone", 0.0)
        untrained = swap_test(model, seqs, pairs)
        assert untrained["loss_swap"] > untrained["loss_en"] + 0.1
        assert untrained["score"] < 0.5  # wrong twins and untrained twins: alike
    finally:
        family.restore()
    # restore puts back exactly the pretrained rows
    fresh, _ = oracle_model
    weight = model.get_input_embeddings().weight
    assert torch.equal(weight[family.clone], family.rows[0][2])


def test_the_oracle_transfers_and_the_untrained_end_sits_at_chance(tiny_study: Path):
    cal = tiny_study / "calibrate"
    table = pd.read_csv(cal / "calibration.csv")
    items = pd.read_json(cal / "items.jsonl", lines=True)
    assert len(table) == 2 * 3 * 2  # directions x weights x scorers
    for (direction, scorer), g in table.groupby(["direction", "scorer"]):
        g = g.sort_values("weight")
        oracle, untrained = g.iloc[-1], g.iloc[0]
        # at w = 1 the clone reads exactly as English: same accuracy as the source language
        assert oracle["transfer_accuracy"] == pytest.approx(oracle["source_accuracy"])
        base = items[
            (items.direction == "en_to_clone")
            & (items.weight == 0.0)
            & (items.question_lang == "en")
            & (items.scorer == scorer)
        ]["correct"].mean()  # English accuracy of the unmodified pretrained model
        assert oracle["transfer_accuracy"] >= 0.8 * base
        # the untrained end is within noise of chance: its 95% interval holds chance
        assert untrained["ci_low"] <= untrained["chance"] <= untrained["ci_high"]
        # every number is recounted from the item-level rows
        for _, row in g.iterrows():
            cell = items[
                (items.direction == direction)
                & (items.weight == row["weight"])
                & (items.role == "transfer")
                & (items.scorer == scorer)
            ]
            assert len(cell) == row["items"]
            assert cell["correct"].mean() == pytest.approx(row["transfer_accuracy"])
        assert oracle["swap_score"] == pytest.approx(1.0, abs=1e-4)
        assert oracle["retrieval"] == oracle["procrustes_input"] == 1.0
        assert untrained["procrustes_input"] < 0.5
    summary = json.loads((cal / "summary.json").read_text())
    assert {t["direction"] for t in summary["thresholds"]} == {"en_to_clone", "clone_to_en"}


def test_grid_alignment_covers_every_checkpoint(tiny_study: Path):
    flat = pd.read_csv(tiny_study / "calibrate/alignment.csv")
    grid = json.loads((tiny_study / "cpt/grid.json").read_text())
    runs = grid["runs"] if isinstance(grid, dict) else grid
    expected = {(r["name"], 0) for r in runs} | {
        (r["name"], int(s)) for r in runs for s, _ in r["checkpoints"]
    }
    assert set(zip(flat["name"], flat["step"])) == expected
    assert flat["swap_score"].isna().all()  # word-level languages have no token map
    assert flat["retrieval"].between(0, 1).all()
    tests = pd.read_csv(tiny_study / "calibrate/alignment_tests.csv")
    assert set(tests["lang"]) == {r["lang"] for r in runs}
    assert (tests["p_holm"] >= tests["p"]).all()


def test_the_report_shows_the_calibration(tiny_study: Path):
    report = (tiny_study / "report/report.md").read_text()
    assert "## Calibration: does the instrument see transfer?" in report
    assert "png/calibration.png" in report and (tiny_study / "report/png/calibration.png").is_file()
    headline = json.loads((tiny_study / "report/headline.json").read_text())
    assert len(headline["calibration"]) == 4
    assert "Calibration (en_to_clone, paper)" in report


def test_calibrate_config_is_checked():
    base = {"world": "w", "tokenizer": "t", "checkpoint": "c"}
    with pytest.raises(ConfigError, match="weights: must include 0"):
        CalibrateConfig.from_dict({**base, "weights": [0.5, 1.0]})
    with pytest.raises(ConfigError, match="directions"):
        CalibrateConfig.from_dict({**base, "directions": ["sideways"]})
    with pytest.raises(ConfigError, match="checkpoint: required"):
        CalibrateConfig.from_dict({"world": "w", "tokenizer": "t"})
