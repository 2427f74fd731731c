"""Collect the regime screens (configs/study/regimes/*.yaml) into the tables of
docs/experiments/transfer_regimes.md: transfer per direction and alignment per setting.

    python scripts/regime_table.py runs/regimes/sequential runs/regimes/joint ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def transfer_rows(folder: Path) -> list[dict]:
    table = pd.read_csv(folder / "transfer/transfer.csv")
    rows = []
    for _, r in table.iterrows():
        rows.append(
            {
                "regime": folder.name,
                "direction": r["direction"],
                "treatment": r["treatment"],
                "step": int(r["step"]),
                "items": int(r["n_items"]),
                "seeds": int(r["n_seeds"]),
                "treated": round(r["acc_treatment"], 3),
                "nobridge": round(r["acc_baseline"], 3),
                "diff (pts)": round(100 * r["diff"], 1),
                "95% CI": f"{100 * r['ci_low']:+.1f} .. {100 * r['ci_high']:+.1f}",
                "p (Holm)": round(r["p_adjusted"], 3),
                "null": round(r["null_accuracy"], 3),
            }
        )
    return rows


def alignment_rows(folder: Path) -> list[dict]:
    flat = pd.read_csv(folder / "calibrate/alignment.csv")
    last = flat.loc[flat.groupby(["setting", "seed"])["step"].idxmax()]
    tests = folder / "calibrate/alignment_tests.csv"
    p = {}
    if tests.is_file() and tests.stat().st_size > 1:
        t = pd.read_csv(tests)
        p = {(r["treatment"], r["metric"]): r["p_holm"] for _, r in t.iterrows()}
    rows = []
    for setting, g in last.groupby("setting"):
        rows.append(
            {
                "regime": folder.name,
                "setting": setting,
                "step": int(g["step"].max()),
                "seeds": len(g),
                "retrieval P@1": round(g["retrieval"].mean(), 3),
                "Procrustes P@1": round(g["procrustes_input"].mean(), 3),
                "swap score": round(g["swap_score"].mean(), 3),
                "p retrieval vs nobridge (Holm)": p.get((setting, "retrieval"), ""),
                "p Procrustes vs nobridge (Holm)": p.get((setting, "procrustes_input"), ""),
            }
        )
    return rows


def cell_rows(folder: Path) -> list[dict]:
    """The primary outcome: each exposure cell, setting vs nobridge (report/csv)."""
    table = pd.read_csv(folder / "report/csv/exposure_tests.csv")
    return [
        {
            "regime": folder.name,
            "cell": r["role"],
            "treatment": r["treatment"],
            "pairs": int(r["pairs"]),
            "treated": round(r["treated"], 3),
            "nobridge": round(r["nobridge"], 3),
            "diff (pts)": round(100 * r["diff"], 1),
            "95% CI": f"{100 * r['ci_low']:+.1f} .. {100 * r['ci_high']:+.1f}",
            "p (Holm)": round(r["p_holm"], 4),
        }
        for _, r in table.iterrows()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    transfer = [r for f in args.folders for r in transfer_rows(f)]
    align = [r for f in args.folders for r in alignment_rows(f)]
    cells = [r for f in args.folders for r in cell_rows(f)]
    print(pd.DataFrame(cells).to_markdown(index=False))
    print()
    print(pd.DataFrame(transfer).to_markdown(index=False))
    print()
    print(pd.DataFrame(align).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
