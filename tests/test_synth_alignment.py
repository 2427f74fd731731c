"""The embedding-alignment diagnostic: its numbers on constructed vectors, and a real checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bridgelab.calibrate.alignment import alignment, embedding_report, structure
from bridgelab.errors import BridgelabError
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import run
from bridgelab.testing import save_tiny_qwen2, train_byte_bpe

TINY = Path(__file__).resolve().parents[1] / "configs" / "synth" / "tiny.yaml"


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, dim=-1)


def test_alignment_ranks_translations_and_is_not_fooled_by_a_hub():
    gen = torch.Generator().manual_seed(0)
    en = _unit(torch.randn(200, 64, generator=gen))
    same = alignment(en, en)
    assert same["top1"] == 1.0 and same["mean_rank"] == 1.0 and same["cos_translation"] > 0.99
    shuffled = alignment(en, en.flip(0))  # every native word sits on another's translation
    assert shuffled["top1"] == 0.0 and shuffled["mean_rank"] > 1
    unrelated = alignment(en, _unit(torch.randn(200, 64, generator=gen)))
    assert abs(unrelated["mean_rank"] - unrelated["mean_rank_chance"]) < 15
    # one English vector nearest to every native word: top-1 is exactly chance by construction,
    # the mean rank shows there is no alignment at all
    hub = alignment(en, en[7].expand(200, 64).clone())
    assert hub["top1"] == pytest.approx(1 / 200)
    assert abs(hub["mean_rank"] - hub["mean_rank_chance"]) < 30


def test_structure_separates_value_sets():
    gen = torch.Generator().manual_seed(1)
    centres = torch.randn(3, 32, generator=gen) * 3
    vectors = _unit(centres.repeat_interleave(5, 0) + torch.randn(15, 32, generator=gen))
    labels = [k for k in "abc" for _ in range(5)]
    s = structure(vectors, labels)
    assert s["cos_same_set"] > 0.7 and s["cos_other_set"] < 0.3


def test_report_on_a_tiny_world_and_checkpoint(tmp_path):
    world = run(SynthConfig.load(TINY, [f"out_dir={tmp_path / 'world'}"]))
    texts = [json.loads(x)["text"] for f in (world / "corpora").glob("*.jsonl") for x in f.open()]
    tok = train_byte_bpe(texts, vocab_size=600)
    tok.save_pretrained(tmp_path / "tok")
    ckpt = save_tiny_qwen2(tmp_path / "model", tok)
    rows = {r["what"]: r for r in embedding_report(world, ckpt, tmp_path / "tok", "ko")}
    summary = json.loads((world / "world.json").read_text(encoding="utf-8"))
    assert rows["words"]["n"] == len(summary["lexicons"]["ko"])
    subjects = {f["subject"] for f in summary["facts"] if f["culture"].startswith("ko-")}
    assert rows["names"]["n"] == len(subjects)
    for row in (rows["words"], rows["names"]):
        assert 1 <= row["mean_rank"] <= row["n"] and 0 <= row["top1"] <= 1
    assert {"value-set structure (en)", "value-set structure (ko)"} <= set(rows)
    with pytest.raises(BridgelabError, match="world.json: no language 'xx'"):
        embedding_report(world, ckpt, tmp_path / "tok", "xx")
