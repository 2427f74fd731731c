"""Step 0 of every grid run (the model it started from), without loading any model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridgelab.errors import DataError
from bridgelab.probes.config import ProbeConfig
from bridgelab.probes.units import load_sets, load_units, plan_work
from bridgelab.retrieval.density import instance_table


def _ckpt(folder: Path, step: int) -> str:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "bridgelab.json").write_text(json.dumps({"step": step}))
    return str(folder)


def _grid(tmp_path: Path, runs: list[dict]) -> ProbeConfig:
    (tmp_path / "grid").mkdir(exist_ok=True)
    (tmp_path / "grid" / "grid.json").write_text(json.dumps({"runs": runs}))
    return ProbeConfig.from_dict({"out_dir": str(tmp_path / "p"), "grid": str(tmp_path / "grid")})


def _run(name: str, cks: list, **extra) -> dict:
    lang, setting, seed = name.split("-")
    return {"name": name, "lang": lang, "setting": setting, "seed": int(seed[1:]),
            "checkpoints": cks, **extra}  # fmt: skip


def test_every_run_gets_its_init_model_as_step_0(tmp_path):
    init = _ckpt(tmp_path / "pre" / "hf" / "step_000300", 300)
    runs = [
        _run(f"ko-{s}-s0", [[10, _ckpt(tmp_path / s / "10", 10)]], config={"init_from": init})
        for s in ("bridge", "nobridge")
    ]
    units = load_units(_grid(tmp_path, runs))
    assert [(u.run, u.step, u.path) for u in units] == [
        ("ko-bridge-s0", 0, init), ("ko-bridge-s0", 10, str(tmp_path / "bridge" / "10")),
        ("ko-nobridge-s0", 0, init), ("ko-nobridge-s0", 10, str(tmp_path / "nobridge" / "10")),
    ]  # fmt: skip
    # a run that already exported step 0 keeps its own step-0 checkpoint, once
    own = _ckpt(tmp_path / "own0", 0)
    runs = [_run("bo-bridge-s1", [[0, own], [5, init]], config={"init_from": init})]
    assert [(u.step, u.path) for u in load_units(_grid(tmp_path, runs))] == [(0, own), (5, init)]


def test_an_older_grid_json_falls_back_to_grid_yaml(tmp_path):
    _ckpt(tmp_path / "pre" / "hf" / "step_000100", 100)
    last = _ckpt(tmp_path / "pre" / "hf" / "step_000200", 200)
    runs = [_run("ko-bridge-s0", [[10, _ckpt(tmp_path / "r10", 10)]])]
    cfg = _grid(tmp_path, runs)
    with pytest.raises(DataError, match=r"grid\.json: run 0 names no init_from.*grid\.yaml"):
        load_units(cfg)
    (tmp_path / "grid" / "grid.yaml").write_text(f"init_from: {tmp_path / 'pre'}\n")
    assert [(u.step, u.path) for u in load_units(cfg)] == [(0, last), (10, str(tmp_path / "r10"))]


def test_english_set_is_one_set_scored_on_every_run(tmp_path):
    world = tmp_path / "world" / "probes"
    world.mkdir(parents=True)
    item = {"culture": "x", "question": "Q ___.", "options": ["a", "b"], "answer": "a"}
    for name, culture, lang in (("ko.en", "ko-c0", "en"), ("ko.ko", "ko-c0", "ko"),
                                ("en.en", "en-c0", "en")):  # fmt: skip
        row = {**item, "id": f"{culture}-f00", "culture": culture, "lang": lang}
        (world / f"{name}.jsonl").write_text(json.dumps(row) + "\n")
    init = _ckpt(tmp_path / "init", 0)
    runs = [_run("bo-bridge-s0", [[4, _ckpt(tmp_path / "r4", 4)]], config={"init_from": init})]
    cfg = _grid(tmp_path, runs)
    cfg.probe_sets = ProbeConfig.from_dict(
        {
            "probe_sets": [
                {"kind": "synthetic", "path": str(tmp_path / "world"), "langs": ["ko", "en"]}
            ]
        }  # fmt: skip
    ).probe_sets
    sets = load_sets(cfg)
    assert [s.name for s in sets] == ["synthetic:ko.en", "synthetic:ko.ko", "synthetic:en.en"]
    work = plan_work(cfg, load_units(cfg), sets)
    # a bo run is not scored on the ko culture, but on the English culture at steps 0 and 4
    assert sorted((u.step, s.name) for u, s in work) == [
        (0, "synthetic:en.en"),
        (4, "synthetic:en.en"),
    ]


def test_instance_analysis_reads_the_start_from_step_0_and_skips_english_sets():
    def row(item, culture, qlang, step, correct):
        return {"run": "bo-bridge-s0", "setting": "bridge", "step": step, "item_id": item,
                "correct": correct, "question_lang": qlang, "culture_lang": culture}  # fmt: skip

    # i1 is known in English only at step 0 and in Tibetan by the end: en->bo transfer. Step 5
    # would say it was already known in Tibetan, so the result shows which step is "first".
    results = [row("i1", "bo", "en", 0, 1.0), row("i1", "bo", "bo", 0, 0.0),
               row("i1", "bo", "en", 5, 1.0), row("i1", "bo", "bo", 5, 1.0),
               row("i1", "bo", "en", 10, 1.0), row("i1", "bo", "bo", 10, 1.0),
               row("i2", "bo", "en", 0, 1.0), row("i2", "bo", "bo", 0, 0.0),
               row("i2", "bo", "en", 10, 1.0), row("i2", "bo", "bo", 10, 0.0),
               row("e1", "en", "en", 0, 1.0), row("e1", "en", "en", 10, 0.0)]  # fmt: skip
    occ = [{"probe_id": i, "culture": c, "corpus": "en", "occurrences": n}
           for i, c, n in (("i1", "bo-c0", 3), ("i2", "bo-c0", 1), ("e1", "en-c0", 7))]  # fmt: skip
    table = instance_table(occ, results, {"en": "en", "bo": "bo"})
    assert [(r["culture_lang"], r["direction"]) for r in table] == [("bo", "en->bo")]
    assert table[0]["n_items"] == 2 and table[0]["n_transferred"] == 1
    assert table[0]["mean_transferred"] == 3
