"""`bridgelab synth`: configs, the run folder, resuming, refusing, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridgelab.cli import main as cli_main
from bridgelab.contracts.truth import load_ground_truth
from bridgelab.errors import ConfigError, DataError, RunFolderError
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import plan, run
from bridgelab.synth.world import generate

REPO = Path(__file__).resolve().parents[1]
PRESETS = sorted((REPO / "configs" / "synth").glob("*.yaml"))
TINY = REPO / "configs" / "synth" / "tiny.yaml"


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_every_preset_loads_and_plans(path):
    cfg = SynthConfig.load(path)
    lines = plan_lines(cfg)
    assert any("corpora/en.jsonl" in line for line in lines)
    # one probe line per target language, plus one for the English cultures when there are any
    assert sum("probes/" in line for line in lines) == len(cfg.languages) + (cfg.en_cultures > 0)


def test_presets_exist():
    assert {p.stem for p in PRESETS} >= {"tiny", "demo", "large"}


def test_plan_matches_the_generated_world():
    cfg = SynthConfig.load(TINY)
    world = generate(cfg)
    for lang in cfg.languages:
        line = next(x for x in plan_lines(cfg) if x.startswith(f"corpora/{lang}.jsonl"))
        assert f"{cfg.languages[lang].pairs} pairs" in line
        assert f"{len(world.probes[(lang, 'en')])} items each" in line


def test_run_skips_a_finished_world_refuses_another_and_force_moves_it_aside(tmp_path):
    out = tmp_path / "w"
    cfg = SynthConfig.load(TINY, [f"out_dir={out}"])
    assert run(cfg) == out and (out / "DONE").is_file()
    before = (out / "corpora" / "en.jsonl").stat().st_mtime_ns
    run(cfg)  # same config: nothing is rewritten
    assert (out / "corpora" / "en.jsonl").stat().st_mtime_ns == before
    other = SynthConfig.load(TINY, [f"out_dir={out}", "seed=7"])
    with pytest.raises(RunFolderError, match="another config"):
        run(other)
    assert json.loads((out / "DONE").read_text())["config_hash"] != ""
    run(other, force=True)
    assert (tmp_path / "w.old-1" / "DONE").is_file()
    old = (tmp_path / "w.old-1" / "corpora" / "en.jsonl").read_bytes()
    assert old != (out / "corpora" / "en.jsonl").read_bytes()


def test_an_unfinished_world_is_replaced_but_foreign_files_are_not_touched(tmp_path):
    out = tmp_path / "w"
    (out / "corpora").mkdir(parents=True)
    (out / "corpora" / "en.jsonl").write_text("half a file", encoding="utf-8")
    run(SynthConfig.load(TINY, [f"out_dir={out}"]))
    assert (out / "corpora" / "en.jsonl").read_text(encoding="utf-8").startswith('{"id": "en-')
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RunFolderError, match="notes.txt"):
        run(SynthConfig.load(TINY, [f"out_dir={busy}"]))
    assert (busy / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_load_ground_truth_names_the_file_and_line(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_ground_truth(tmp_path)
    good = {
        "fact_id": "x",
        "probe_id": None,
        "culture": "ko-c0",
        "lang": "ko",
        "subject": "A",
        "relation": "r",
        "object": "o",
        "counts": {"en": 0},
        "doc_ids": {"en": []},
    }
    path = tmp_path / "ground_truth.jsonl"
    path.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ground_truth.jsonl:2: malformed JSON"):
        load_ground_truth(tmp_path)
    bad = {k: v for k, v in good.items() if k != "counts"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r":2: missing key 'counts'"):
        load_ground_truth(tmp_path)
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert load_ground_truth(tmp_path) == [good]


@pytest.mark.parametrize(
    "override, key",
    [
        ("languages.xx.cultures=1", "languages.xx"),
        ("languages.ko.pairs=-1", "languages.ko.pairs"),
        ("filler_sentences=[5, 2]", "filler_sentences"),
        ("exposure.both=-0.5", "exposure.both"),
        ("pair_mix.subjects=0.9", "pair_mix.bridge_facts"),
        ("facts_per_doc=0", "facts_per_doc"),
        ("langs=[ko]", "langs"),
    ],
)
def test_bad_config_values_name_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        SynthConfig.load(TINY, [override])
    # the key is named in the message itself, not only in the echoed override
    assert key in str(info.value).split("): ", 1)[-1]


def test_cli_dry_run_writes_nothing_and_errors_are_one_line(tmp_path, capsys):
    out = tmp_path / "w"
    assert cli_main(["synth", "-c", str(TINY), f"out_dir={out}", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "# plan" in printed and "parallel/en-mn.jsonl: 60 pairs" in printed
    assert not out.exists()
    assert cli_main(["synth", "-c", str(TINY), f"out_dir={out}"]) == 0
    assert (out / "DONE").is_file()
    assert cli_main(["synth", "-c", str(TINY), f"out_dir={out}", "seed=3"]) == 2
    assert "bridgelab synth: error:" in capsys.readouterr().err
    assert cli_main(["synth", "-c", str(tmp_path / "missing.yaml")]) == 2


def plan_lines(cfg) -> list[str]:
    """The dry run's text of the synth plan, one stripped line per step."""
    from bridgelab.stage import render_plan

    return [line.strip() for line in render_plan(plan(cfg))]
