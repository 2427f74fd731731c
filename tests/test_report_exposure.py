"""Per-cell paired tests of a setting against nobridge on a synthetic world's exposure cells."""

from __future__ import annotations

import pandas as pd
import pytest

from bridgelab.report.build import ROLES
from bridgelab.report.exposure import exposure_tests


def _rows(cells: dict[tuple[str, str], tuple[list[float], list[float]]]) -> pd.DataFrame:
    rows = []
    for (questions, exposure), (bridge, nobridge) in cells.items():
        for setting, credits in (("bridge", bridge), ("nobridge", nobridge)):
            for i, c in enumerate(credits):
                rows.append(
                    {
                        "run": f"zh-{setting}-s0",
                        "setting": setting,
                        "step": 200,
                        "seed": 0,
                        "item_id": f"{exposure}-{i}",
                        "question_lang": "en" if questions == "en" else "zh",
                        "culture_lang": "zh",
                        "questions": questions,
                        "exposure": exposure,
                        "correct": c,
                    }  # fmt: skip
                )
                # an earlier checkpoint that must be ignored (only the last step is tested)
                rows.append({**rows[-1], "step": 100, "correct": 1.0 - c})
    return pd.DataFrame(rows)


def test_each_cell_is_tested_on_its_own_with_holm_per_family():
    n = 30
    table = exposure_tests(
        _rows(
            {
                ("native", "en_only"): ([1.0] * n, [0.0] * n),  # transfer en->X: bridges win
                ("en", "native_only"): ([0.0] * n, [0.0] * n),  # transfer X->en: nothing
                ("en", "en_only"): ([1.0] * n, [1.0] * (n - 3) + [0.0] * 3),  # direct
            }
        ),
        ROLES,
    )
    by_role = table.set_index("role")
    win = by_role.loc["transfer en->X"]
    assert win["diff"] == 1.0 and win["pairs"] == n and win["significant"]
    assert win["p_holm"] == pytest.approx(min(1.0, 2 * win["p"]))  # two transfer cells
    assert (
        by_role.loc["transfer X->en", "p"] == 1.0
        and not by_role.loc["transfer X->en", "significant"]
    )
    direct = by_role.loc["direct (English)"]
    assert direct["family"] == "direct" and direct["p_holm"] == direct["p"]  # its own family
    assert direct["diff"] == pytest.approx(0.1)


def test_no_baseline_no_tests():
    rows = _rows({("native", "en_only"): ([1.0], [0.0])})
    assert exposure_tests(rows[rows["setting"] != "nobridge"], ROLES).empty


def test_the_tiny_study_report_has_the_cell_tests(tiny_study):
    tests = pd.read_csv(tiny_study / "report/csv/exposure_tests.csv")
    assert set(tests["family"]) <= {"transfer", "direct"}
    assert (tests["p_holm"] >= tests["p"] - 1e-12).all()
    assert (tests["treatment"] == "bridge").all()
