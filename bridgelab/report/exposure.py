"""Paired tests of a setting against ``nobridge`` in each exposure cell of a synthetic world.

The transfer stage tests a whole question language (the paper's design: every cultural item,
known directly or not). On a synthetic world the ground truth splits those items into cells,
and only two cells can be answered by transfer alone: English-only facts asked natively and
native-only facts asked in English. A setting can also change how well a fact is learnt in its
own language (the direct cells), which the whole-language test mixes in; here each cell is
tested on its own, item by item (exact McNemar at each run's last step, pairs = item x seed),
with Holm's correction over the transfer cells and, separately, over the direct cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bridgelab.contracts.settings import BASELINE
from bridgelab.utils.stats import holm, mcnemar_exact, paired_bootstrap


def exposure_tests(rows: pd.DataFrame, roles: dict[tuple[str, str], str]) -> pd.DataFrame:
    """``rows``: item-level probe rows merged with the ground truth's ``exposure`` and labelled
    with ``questions`` (en/native), without the null model. One row per culture x cell x
    treatment."""
    if rows.empty or BASELINE not in set(rows["setting"]):
        return pd.DataFrame()
    last = rows[rows["step"] == rows.groupby("run")["step"].transform("max")]
    keys = ["culture_lang", "questions", "exposure"]
    pair = ["item_id", "question_lang", "seed"]
    out = []
    for cell, group in last.groupby(keys):
        role = roles.get((cell[2], cell[1]), "")
        base = group[group["setting"] == BASELINE].set_index(pair)["correct"]
        for treatment in sorted(set(group["setting"]) - {BASELINE}):
            treated = group[group["setting"] == treatment].set_index(pair)["correct"]
            both = base.index.intersection(treated.index)
            if not len(both):
                continue
            t, b = treated.loc[both].to_numpy(), base.loc[both].to_numpy()
            diff, lo, hi = paired_bootstrap(t, b)
            test = mcnemar_exact(t, b)
            out.append(
                {
                    **dict(zip(keys, cell)),
                    "role": role,
                    "family": "transfer" if role.startswith("transfer") else "direct",
                    "treatment": treatment,
                    "pairs": len(both),
                    "treated": float(np.mean(t)),
                    BASELINE: float(np.mean(b)),
                    "diff": diff,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p": test.p_value,
                }
            )
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table["p_holm"] = np.nan
    for _, idx in table.groupby("family").groups.items():
        table.loc[idx, "p_holm"] = holm(table.loc[idx, "p"].tolist())
    table["significant"] = table["p_holm"] < 0.05
    return table.sort_values(["family", "culture_lang", "questions"], ascending=[False, True, True])
