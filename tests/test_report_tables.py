"""The report's tables and plots read as they should: no "nan" flags, density defined, shaded
bands labelled as confidence intervals, and curves that coincide both visible."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bridgelab.contracts.results import NULL_FLAG, read_table, summarize
from bridgelab.contracts.settings import NULL_SETTING
from bridgelab.probes import curves
from bridgelab.report.build import (
    DENSITY_DEFINITION,
    ReportConfig,
    ReportWriter,
    section_frequency,
    section_probes,
)


def _rows(setting: str, run: str, credits: list[float]) -> list[dict]:
    return [
        {"run": run, "run_lang": "ko", "setting": setting, "seed": 0, "step": 10,
         "probe_set": "synthetic:ko.ko", "culture_lang": "ko", "question_lang": "ko",
         "scorer": "paper", "item_id": f"i{i}", "correct": c, "perm_correct": c, "tie": False,
         "tie_decided": False, "chance": 0.25}
        for i, c in enumerate(credits)
    ]  # fmt: skip


def test_null_flag_is_empty_not_nan_in_the_report(tmp_path):
    rows = _rows("bridge", "ko-bridge-s0", [1.0, 0.0] * 20)
    rows += _rows(NULL_SETTING, NULL_SETTING, [0.0, 0.0, 0.0, 1.0] * 10)  # at chance: no flag
    probes = tmp_path / "probes"
    probes.mkdir()
    summarize(rows).to_csv(probes / "summary.csv", index=False)
    assert pd.read_csv(probes / "summary.csv")["null_flag"].isna().all()  # what pandas reads
    assert (read_table(probes / "summary.csv")["null_flag"] == "").all()
    w = ReportWriter(tmp_path / "report")
    section_probes(w, ReportConfig(probes=str(probes)))
    table = [line for line in w.lines if line.startswith("|")]
    assert table and not any("nan" in line for line in table), table
    # a flagged set keeps its flag
    flagged = _rows(NULL_SETTING, NULL_SETTING, [1.0] * 40)
    summarize(rows[:40] + flagged).to_csv(probes / "summary.csv", index=False)
    assert set(read_table(probes / "summary.csv")["null_flag"]) == {NULL_FLAG}


def test_the_frequency_section_defines_density(tmp_path):
    freq = tmp_path / "frequency"
    freq.mkdir()
    (freq / "summary.json").write_text(json.dumps({"density": []}), "utf-8")
    w = ReportWriter(tmp_path / "report")
    section_frequency(w, ReportConfig(frequency=str(freq)))
    text = "\n".join(w.lines)
    assert DENSITY_DEFINITION in text
    assert "mean occurrences per probe among the top k" in text and "number of documents" in text


@pytest.fixture
def captured(monkeypatch) -> list:
    """The figures the plot functions save (instead of closing them unseen)."""
    figs: list = []
    monkeypatch.setattr(curves, "_save", lambda plt, fig, path: figs.append(fig) or path)
    return figs


def _legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_bands_are_labelled_and_equal_transfer_curves_stay_visible(captured, tmp_path):
    steps = [0, 50, 100]
    table = pd.DataFrame(
        [{"culture": "bo", "direction": d, "treatment": "bridge", "step": s, "diff": 0.0,
          "ci_low": -0.05, "ci_high": 0.05} for d in ("en->bo", "bo->en") for s in steps]
    )  # fmt: skip
    curves.plot_transfer(table, tmp_path)
    (ax,) = captured[0].axes
    assert any("95% bootstrap CI" in t for t in _legend_texts(ax))
    assert "95% bootstrap CI" in ax.get_ylabel()
    a, b = (
        line
        for line in ax.get_lines()
        if line.get_label() in ("en->bo (bridge)", "bo->en (bridge)")
    )  # noqa: E501
    assert np.array_equal(a.get_ydata(), b.get_ydata())  # the same values...
    assert (a.get_marker(), a.get_linestyle()) != (b.get_marker(), b.get_linestyle())
    assert not np.array_equal(a.get_xdata(), b.get_xdata())  # ...drawn apart


def test_the_null_model_at_chance_stays_visible(captured, tmp_path):
    rows = []
    for setting in ("bridge", "nobridge", NULL_SETTING):
        for s in (0, 50):
            rows.append({"culture_lang": "ko", "question_lang": "ko", "setting": setting,
                         "step": s, "accuracy": 0.25 if setting == NULL_SETTING else 0.5,
                         "ci_low": 0.2, "ci_high": 0.6, "chance": 0.25})  # fmt: skip
    curves.plot_learning_curves(pd.DataFrame(rows), tmp_path, scorer="paper")
    (ax,) = captured[0].axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    null, chance = lines["random-init model"], lines["chance"]
    assert null.get_ydata()[0] == chance.get_ydata()[0]  # coincide...
    assert null.get_linestyle() != chance.get_linestyle()
    assert null.get_linewidth() > chance.get_linewidth() and chance.get_zorder() > null.get_zorder()
    bridge, nobridge = lines["bridge"], lines["nobridge"]
    assert bridge.get_marker() != nobridge.get_marker()
    assert not np.array_equal(bridge.get_xdata(), nobridge.get_xdata())
    assert any("95% bootstrap CI" in t for t in _legend_texts(ax))
    assert "95% bootstrap CI" in ax.get_ylabel()


def test_forgetting_plot_labels_its_bands(captured, tmp_path):
    curve = pd.DataFrame(
        [{"probe_set": "synthetic:en.en", "run_lang": "ko", "setting": s, "step": st,
          "accuracy": 0.8, "ci_low": 0.7, "ci_high": 0.9} for s in ("bridge", "nobridge")
         for st in (0, 50)]
    )  # fmt: skip
    curves.plot_forgetting(curve, tmp_path)
    (ax,) = captured[0].axes
    assert any("95% bootstrap CI" in t for t in _legend_texts(ax))
    assert Path(tmp_path).is_dir()
