"""The whole study end to end on the tiny world, and the report against the stages' outputs."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from bridgelab.config import Config
from bridgelab.errors import ConfigError
from bridgelab.study.runner import StudyConfig, resolve_stage, run_study, selected_stages

REPO = Path(__file__).resolve().parents[1]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_stage_ran_and_the_report_exists(tiny_study: Path):
    status = json.loads((tiny_study / "study.json").read_text())["stages"]
    assert list(status) == [
        "synth", "tokenizer", "prepare", "pretrain", "grid", "calibrate", "probe", "transfer",
        "frequency", "report"
    ]  # fmt: skip
    assert all(s["status"] == "done" for s in status.values())
    report = tiny_study / "report"
    for name in ("report.md", "report.html", "headline.json", "png/pretrain_loss.png",
                 "png/cpt_loss.png", "csv/transfer.csv", "csv/density.csv", "csv/grid_runs.csv"):  # fmt: skip
        assert (report / name).is_file(), name
    for png in (report / "png").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def test_report_numbers_are_the_stages_numbers(tiny_study: Path):
    report = tiny_study / "report"
    headline = json.loads((report / "headline.json").read_text())
    metrics = [
        json.loads(x) for x in (tiny_study / "pretrain/metrics.jsonl").read_text().splitlines()
    ]
    losses = [m for m in metrics if "loss" in m]
    assert headline["pretrain_loss"]["last"] == losses[-1]["loss"]
    assert headline["pretrain_loss"]["steps"] == losses[-1]["step"]

    # the direction table is the transfer stage's, number for number
    transfer = _read_csv(tiny_study / "transfer/transfer.csv")
    assert _read_csv(report / "csv/transfer.csv") == transfer
    assert len(headline["transfer"]) == len(transfer) == 4  # 2 languages x 2 directions
    for row, head in zip(transfer, headline["transfer"]):
        assert float(row["diff"]) == pytest.approx(head["diff"])
        assert (row["significant"] == "True") == head["significant"]

    # every CPT run with its final loss as its own metrics say
    grid = json.loads((tiny_study / "cpt/grid.json").read_text())["runs"]
    rows = {r["run"]: r for r in _read_csv(report / "csv/grid_runs.csv")}
    assert set(rows) == {r["name"] for r in grid}
    for run in grid:
        run_metrics = [
            json.loads(x) for x in (Path(run["run_dir"]) / "metrics.jsonl").read_text().splitlines()
        ]
        assert float(rows[run["name"]]["final loss"]) == pytest.approx(run_metrics[-1]["loss"])

    # the density table is embedded as the frequency stage wrote it
    md = (report / "report.md").read_text()
    assert (tiny_study / "frequency/density.md").read_text().strip() in md
    assert _read_csv(report / "csv/density.csv") == _read_csv(tiny_study / "frequency/density.csv")
    assert "<table>" in (report / "report.html").read_text()


def test_exposure_table_recounts_the_probe_results(tiny_study: Path):
    """csv/exposure.csv against a count made here from results.jsonl and the ground truth."""
    exposure = {
        r["fact_id"]: r["exposure"]
        for r in map(json.loads, (tiny_study / "world/ground_truth.jsonl").read_text().splitlines())
    }
    rows = [
        r
        for r in map(json.loads, (tiny_study / "probes/results.jsonl").read_text().splitlines())
        if r["scorer"] == "paper"
        and r.get("setting")
        and r["item_id"] in exposure
        and r["setting"] != "random-init"
    ]
    nulls = [
        r
        for r in map(json.loads, (tiny_study / "probes/results.jsonl").read_text().splitlines())
        if r["scorer"] == "paper" and r.get("setting") == "random-init" and r["item_id"] in exposure
    ]
    last = {}
    for r in rows:
        last[r["run"]] = max(last.get(r["run"], 0), r["step"])
    table = _read_csv(tiny_study / "report/csv/exposure.csv")
    assert table and {t["role"] for t in table} >= {"transfer en->X", "transfer X->en"}
    for t in table:

        def cell(r, t=t):
            q = "en" if r["question_lang"] == "en" else "native"
            return (r["culture_lang"], q, exposure[r["item_id"]]) == (
                t["culture_lang"],
                t["questions"],
                t["exposure"],
            )

        for setting in ("bridge", "nobridge"):
            got = [
                r["correct"]
                for r in rows
                if cell(r) and r["setting"] == setting and r["step"] == last[r["run"]]
            ]
            assert float(t[setting]) == pytest.approx(sum(got) / len(got))
        step0 = {(r["item_id"], r["question_lang"], r["seed"]): r["correct"]
                 for r in rows if cell(r) and r["step"] == 0}  # fmt: skip
        null = [r["correct"] for r in nulls if cell(r)]
        assert float(t["random-init"]) == pytest.approx(sum(null) / len(null))
        assert int(t["items"]) == len(step0)
        assert float(t["step0"]) == pytest.approx(sum(step0.values()) / len(step0))


def test_rerun_skips_finished_stages(tiny_study: Path):
    marker = tiny_study / "pretrain/metrics.jsonl"
    before = marker.stat().st_mtime_ns
    status_before = json.loads((tiny_study / "study.json").read_text())
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        run_study(StudyConfig.load(REPO / "configs/study/tiny.yaml", [f"out_dir={tiny_study}"]))
    finally:
        os.chdir(cwd)
    assert marker.stat().st_mtime_ns == before
    # nothing was redone, so study.json still describes the run that did the work
    assert json.loads((tiny_study / "study.json").read_text()) == status_before
    assert status_before["seconds"] == pytest.approx(
        sum(s["seconds"] for s in status_before["stages"].values()), abs=0.2
    )


def test_every_study_config_resolves_each_stage():
    for path in sorted((REPO / "configs/study").glob("*.yaml")):
        cfg = StudyConfig.load(path)
        for spec in selected_stages(cfg):
            assert isinstance(resolve_stage(cfg, spec), Config), (path, spec.name)


def test_bad_study_configs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  pretrian: {}\n")
    with pytest.raises(ConfigError, match="stages.pretrian: unknown stage"):
        StudyConfig.load(bad)
    bad.write_text("stages:\n  report: {overrides: ['out_dir=${nowhere}/r']}\n")
    cfg = StudyConfig.load(bad)
    with pytest.raises(ConfigError, match="unknown placeholder"):
        resolve_stage(cfg, selected_stages(cfg)[0])
    bad.write_text("stages:\n  report: {overrides: ['colour=blue']}\n")
    cfg = StudyConfig.load(bad)
    with pytest.raises(ConfigError, match="stage 'report'.*unknown key 'colour'"):
        resolve_stage(cfg, selected_stages(cfg)[0])
