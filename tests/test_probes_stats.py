"""Transfer statistics on constructed cases with known answers."""

from __future__ import annotations

from math import comb
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from bridgelab.errors import ConfigError
from bridgelab.probes.curves import forgetting_curves, learning_curves
from bridgelab.probes.transfer import direction, markdown_tables, transfer_table
from bridgelab.utils.stats import adjust, bootstrap_mean_ci, holm, mcnemar_exact, paired_bootstrap


def test_mcnemar_matches_hand_computation():
    # 8 items only the treatment gets right, 2 only the baseline, 30 both, 10 neither
    t = np.array([1] * 8 + [0] * 2 + [1] * 30 + [0] * 10, dtype=float)
    b = np.array([0] * 8 + [1] * 2 + [1] * 30 + [0] * 10, dtype=float)
    res = mcnemar_exact(t, b)
    hand = 2 * sum(comb(10, k) for k in range(3)) / 2**10  # two-sided exact binomial, n=10, k<=2
    assert (res.b, res.c) == (8, 2)
    assert res.p_value == pytest.approx(hand) == pytest.approx(0.109375)
    assert mcnemar_exact(t, t).p_value == 1.0
    # a tie's 1/k credit is not "right" for McNemar
    assert mcnemar_exact(np.array([0.5]), np.array([0.0])).b == 0


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.5]
    # sorted 0.01,0.03,0.04,0.5 -> 4*0.01, 3*0.03, max(0.09, 2*0.04), max(., 1*0.5)
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert adjust(p, "bh") == pytest.approx(false_discovery_control(p, method="bh"))
    # BH by hand: 0.01*4/1=0.04, 0.03*4/2=0.06, 0.04*4/3=0.0533 -> step-up min -> 0.0533, 0.5
    assert adjust(p, "bh") == pytest.approx([0.04, 0.05333333, 0.05333333, 0.5])
    assert adjust(p, "none") == p


def test_bootstrap_intervals():
    values = np.array([1.0] * 60 + [0.0] * 40)
    lo, hi = bootstrap_mean_ci(values, n_boot=2000, seed=0)
    assert lo < 0.6 < hi and hi - lo == pytest.approx(2 * 1.96 * np.sqrt(0.24 / 100), abs=0.03)
    diff, lo, hi = paired_bootstrap(values, values)
    assert diff == lo == hi == 0.0


def rows_for(
    setting, credits, *, culture="ko", qlang="ko", step=10, seed=0, run_lang="ko", scorer="paper"
):
    return [
        {"run": f"{run_lang}-{setting}-s{seed}", "run_lang": run_lang, "setting": setting, "seed": seed,
         "step": step, "culture_lang": culture, "question_lang": qlang, "lang": culture,
         "probe_set": f"synthetic:{culture}.{qlang}", "item_id": f"i{i}", "scorer": scorer,
         "correct": float(c), "perm_correct": float(c), "tie": False, "tie_decided": False,
         "chance": 0.25}
        for i, c in enumerate(credits)
    ]  # fmt: skip


def test_identical_settings_show_no_transfer_and_strong_effect_is_significant():
    rng = np.random.default_rng(0)
    same = rng.integers(0, 2, 80)
    strong_t = np.ones(80)
    strong_b = (np.arange(80) % 4 == 0).astype(float)  # 25% vs 100%
    rows = (
        rows_for("bridge", same, qlang="ko") + rows_for("nobridge", same, qlang="ko")
        + rows_for("bridge", strong_t, qlang="en") + rows_for("nobridge", strong_b, qlang="en")
        + rows_for("random-init", np.zeros(80), qlang="en", run_lang="", step=0)
    )  # fmt: skip
    table = transfer_table(rows, n_boot=500)
    by_dir = {r["direction"]: r for _, r in table.iterrows()}
    assert set(by_dir) == {"en->ko", "ko->en"}
    same_row, strong_row = by_dir["en->ko"], by_dir["ko->en"]
    assert same_row["diff"] == 0 and same_row["p_value"] == 1.0 and not same_row["significant"]
    assert strong_row["diff"] == pytest.approx(0.75) and strong_row["significant"]
    assert (strong_row["mcnemar_b"], strong_row["mcnemar_c"]) == (60, 0)
    assert strong_row["p_adjusted"] == pytest.approx(min(1.0, 2 * 2 * 0.5**60))  # Holm x2
    assert strong_row["ci_low"] > 0.6 and strong_row["null_accuracy"] == 0.0
    md = markdown_tables(table)
    assert "**significant** (+75.0 pts" in md and "insignificant (+0.0 pts" in md


def test_several_seeds_are_paired_by_seed_and_items_resampled():
    base = np.zeros(50)
    rows = []
    for seed in (0, 1, 2):
        treat = (np.arange(50) < 10 + 5 * seed).astype(float)  # 20%, 30%, 40%
        rows += rows_for("bridge", treat, seed=seed) + rows_for("nobridge", base, seed=seed)
    rows += rows_for("bridge", np.ones(50), seed=9)  # a seed without baseline is not paired
    row = transfer_table(rows, n_boot=500).iloc[0]
    assert row["n_seeds"] == 3 and row["n_items"] == 50
    assert row["diff"] == pytest.approx(0.3)
    assert row["seed_sd"] == pytest.approx(0.1)
    assert (row["mcnemar_b"], row["mcnemar_c"]) == (45, 0)


def test_curves_steps_and_forgetting():
    rows = []
    for step, n_right, n_en in ((0, 10, 28), (10, 30, 20)):
        credits = (np.arange(50) < n_right).astype(float)
        rows += rows_for("bridge", credits, step=step) + rows_for("nobridge", credits, step=step)
        en = (np.arange(40) < n_en).astype(float)  # English knowledge decays: 70% -> 50%
        rows += rows_for("bridge", en, culture="en", qlang="en", step=step)
    table = transfer_table(rows, step=None, n_boot=200)
    assert sorted(table["step"]) == [0, 10] and (table["diff"] == 0).all()
    curves = learning_curves(rows, scorer="paper", n_boot=200)
    acc = curves.set_index(["setting", "step"])["accuracy"]
    assert acc[("bridge", 0)] == pytest.approx(0.2) and acc[("bridge", 10)] == pytest.approx(0.6)
    forget = forgetting_curves(rows, scorer="paper", n_boot=200)
    assert forget.sort_values("step")["change"].tolist() == pytest.approx([0.0, -0.2])
    assert direction("ko", "ko") == "en->ko" and direction("ko", "en") == "ko->en"


REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "path", sorted((REPO / "configs" / "probes").glob("*.yaml")), ids=lambda p: p.name
)
def test_probe_configs_load(path):
    from bridgelab.probes.config import ProbeConfig
    from bridgelab.probes.transfer import TransferConfig

    cls = TransferConfig if path.name.startswith("transfer") else ProbeConfig
    assert cls.load(path).out_dir


def test_bad_config_values_name_the_key(tmp_path, capsys):
    from bridgelab.cli import main as cli_main
    from bridgelab.probes.config import ProbeConfig

    with pytest.raises(ConfigError, match="scorers: unknown scorer 'ppl'"):
        ProbeConfig.load(None, ["scorers=[ppl]"])
    with pytest.raises(ConfigError, match=r"probe_sets\[0\]|langs"):
        ProbeConfig.load(None, ["probe_sets=[{kind: paper, path: x}]"])
    rc = cli_main(["transfer", f"results={tmp_path}", f"out_dir={tmp_path / 'o'}"])
    assert rc == 2 and "results.jsonl not found" in capsys.readouterr().err
    rc = cli_main(
        [
            "probe",
            f"out_dir={tmp_path / 'p'}",
            "probe_sets=[{kind: lnewknow, path: /nonexistent.en.jsonl}]",
        ]
    )
    assert rc == 2 and "nonexistent" in capsys.readouterr().err
