"""The opt-in English 'home' cultures: English-only facts and probes/en.en.jsonl; and worlds
without them byte-identical to the worlds generated before the option existed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bridgelab.contracts.records import read_probes
from bridgelab.contracts.truth import load_ground_truth
from bridgelab.errors import ConfigError
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import plan, run

REPO = Path(__file__).resolve().parents[1]
# sha256 over the "sha256  ./path" lines (in path order) of every file but DONE, recorded with the
# generator as it was before en_cultures existed (commit 8fdf123). Only the tiny preset is pinned:
# it is a test fixture, while the demo preset is tuned and changes (the demo was checked too).
BEFORE = {
    "tiny": "06adb1b8deaadb4abd55a8e2d69dd196634ad5cc589997a3a63cdfd880c2cbc4",
}


def world_digest(folder: Path) -> str:
    lines = []
    for rel in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()):
        if rel != "DONE":
            digest = hashlib.sha256((folder / rel).read_bytes()).hexdigest()
            lines.append(f"{digest}  ./{rel}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@pytest.mark.parametrize("preset", sorted(BEFORE))
def test_without_english_cultures_the_world_is_byte_identical(preset, tmp_path):
    cfg = SynthConfig.load(REPO / "configs" / "synth" / f"{preset}.yaml", [f"out_dir={tmp_path}"])
    assert cfg.en_cultures == 0
    assert world_digest(run(cfg)) == BEFORE[preset]


@pytest.fixture(scope="module")
def english_world(tmp_path_factory) -> tuple[SynthConfig, Path]:
    out = tmp_path_factory.mktemp("world")
    cfg = SynthConfig.load(
        REPO / "configs" / "synth" / "tiny.yaml",
        [f"out_dir={out}", "en_cultures=2", "en_culture_mentions=3"],
    )
    return cfg, run(cfg)


def test_english_cultures_are_stated_only_in_english(english_world):
    cfg, world = english_world
    rows = [r for r in load_ground_truth(world) if r["lang"] == "en"]
    assert len(rows) == 2 * cfg.facts_per_culture  # no pair-only facts for English cultures
    assert {r["culture"] for r in rows} == {"en-c0", "en-c1"}
    for r in rows:
        assert r["counts"]["en"] == 3 and r["probe_id"] == r["fact_id"]
        assert all(n == 0 for c, n in r["counts"].items() if c != "en")
        assert r["pair_ids"] == []
    english = {d["id"]: d["text"] for d in map(json.loads, (world / "corpora/en.jsonl").open())}
    summary = json.loads((world / "world.json").read_text(encoding="utf-8"))
    subjects = {f["id"]: f["subject"] for f in summary["facts"]}
    for r in rows:  # the ground truth's documents really name the subject
        assert all(subjects[r["fact_id"]] in english[d] for d in r["doc_ids"]["en"])
    assert summary["config"]["en_cultures"] == 2
    assert [c["lang"] for c in summary["cultures"]][-2:] == ["en", "en"]


def test_english_probes_are_written_and_the_target_languages_unchanged(english_world, tmp_path):
    cfg, world = english_world
    items = list(read_probes(world / "probes" / "en.en.jsonl"))
    assert len(items) == 2 * cfg.facts_per_culture
    assert all(it.lang == "en" and it.culture.startswith("en-c") for it in items)
    assert not (world / "probes" / "en.jsonl").exists()
    assert any("probes/en.en.jsonl" in line for line in plan_lines(cfg))
    # target-language corpora, pairs and probes do not depend on the English cultures
    plain = run(SynthConfig.load(REPO / "configs/synth/tiny.yaml", [f"out_dir={tmp_path}"]))
    for rel in ("corpora/ko.jsonl", "parallel/en-bo.jsonl", "probes/mn.mn.jsonl"):
        assert (world / rel).read_bytes() == (plain / rel).read_bytes()
    assert (world / "corpora/en.jsonl").read_bytes() != (plain / "corpora/en.jsonl").read_bytes()


@pytest.mark.parametrize("override", ["en_cultures=-1", "en_culture_mentions=0"])
def test_bad_english_culture_values_name_the_key(override):
    with pytest.raises(ConfigError, match="en_cultures"):
        SynthConfig.load(REPO / "configs/synth/tiny.yaml", [override])


def plan_lines(cfg) -> list[str]:
    """The dry run's text of the synth plan, one stripped line per step."""
    from bridgelab.stage import render_plan

    return [line.strip() for line in render_plan(plan(cfg))]
