"""`bridgelab dose`: the floor-logistic fit recovers known parameters, thresholds outside the
ladder and separated data are reported (not crashed on), the priority and robust tables count
answers by option index, bad inputs name file, line and key, and the report section renders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from bridgelab.dose.config import DoseConfig
from bridgelab.dose.fit import fit_dose, to_x
from bridgelab.dose.tables import threshold_cell
from bridgelab.errors import DataError

LADDER = np.array([0, 1, 2, 4, 8, 16, 32, 64])
VALUES = ["red", "blue", "green", "white"]


def _simulate(a: float, b: float, *, facts: int = 400, seeds: int = 2, floor: float = 0.25,
              seed: int = 1):  # fmt: skip
    """Facts spread over the ladder; each seed answers a fact it knows (probability
    sigmoid(a + b x)) correctly, else guesses among four options."""
    rng = np.random.default_rng(seed)
    fact = np.repeat(np.arange(facts), seeds)
    counts = LADDER[fact % len(LADDER)]
    p = floor + (1 - floor) * expit(a + b * to_x(counts))
    return counts, (rng.random(len(p)) < p).astype(float), fact


def test_fit_recovers_known_parameters():
    a, b = -3.0, 1.0  # half the facts known at log2(count + 1) = 3, i.e. count 7
    counts, credits, facts = _simulate(a, b)
    fit = fit_dose(counts, credits, facts, floor=0.25, n_boot=300, seed=0)
    assert fit.status == "estimated"
    assert abs(fit.b - b) < 3 * fit.b_se and abs(fit.a - a) < 3 * fit.a_se
    assert fit.threshold_low < 7 < fit.threshold_high
    truth = 0.25 + 0.75 * expit(a + b * to_x(fit.grid))
    covered = (fit.band_low <= truth) & (truth <= fit.band_high)
    assert covered.mean() > 0.9, covered.mean()
    # the parametric band and delta-method interval agree with the bootstrap here
    param = fit_dose(counts, credits, facts, floor=0.25, n_boot=0)
    assert param.threshold == pytest.approx(fit.threshold)
    assert param.threshold_low < 7 < param.threshold_high


def test_threshold_beyond_the_ladder_is_not_reached():
    counts, credits, facts = _simulate(-7.6, 1.0)  # half known at count ~193; ladder ends at 64
    fit = fit_dose(counts, credits, facts, floor=0.25, n_boot=200)
    assert fit.status == "not reached" and fit.threshold > 64
    row = {"min_count": 0, "max_count": 64, "status": fit.status, "threshold": fit.threshold,
           "threshold_low": fit.threshold_low, "threshold_high": fit.threshold_high}  # fmt: skip
    assert threshold_cell(row).startswith("not reached") and ">64" in threshold_cell(row)


def test_separation_and_a_single_level_are_notes_not_crashes():
    facts = np.arange(80)
    counts = LADDER[facts % len(LADDER)]
    credits = (counts >= 8).astype(float)  # nothing known below 8 documents, everything above
    fit = fit_dose(counts, credits, facts, floor=0.0, n_boot=200)
    assert fit.status == "separation" and "between counts 4 and 8" in fit.note
    assert np.isnan(fit.b)  # not identified: no slope is reported
    assert (fit.threshold_low, fit.threshold_high) == (4, 8)
    one = fit_dose(np.full(10, 4), np.ones(10), np.arange(10), floor=0.25)
    assert one.status == "no fit" and "single count level" in one.note


# --- a constructed world: ground truth, aligned probe sets, probe results ---------------------


def _fact(i: int, design: str | None, e: int, n: int, **extra) -> dict:
    row = {"fact_id": f"ko-c0-f{i:03d}", "probe_id": f"ko-c0-f{i:03d}", "culture": "ko-c0",
           "lang": "ko", "subject": f"S{i}", "relation": "colour", "object": "red",
           "exposure": "both", "counts": {"en": e, "ko": n}, "doc_ids": {"en": [], "ko": []},
           "pair_ids": []}  # fmt: skip
    if design:
        row["design"] = design
    row.update(extra)
    return row


def _write_world(root: Path, rows: list[dict]) -> Path:
    world = root / "world"
    (world / "probes").mkdir(parents=True)
    (world / "ground_truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for qlang in ("en", "ko"):
        items = []
        for r in rows:
            # the object at a position that varies, translations in the same order
            k = int(r["fact_id"][-3:]) % 4
            options = VALUES[k:] + VALUES[:k]
            word = (lambda v: v) if qlang == "en" else (lambda v: f"ko_{v}")
            items.append({"id": r["fact_id"], "culture": "ko-c0", "lang": qlang, "question":
                          "It is ___.", "options": [word(o) for o in options],
                          "answer": word("red")})  # fmt: skip
        text = "".join(json.dumps(i) + "\n" for i in items)
        (world / "probes" / f"ko.{qlang}.jsonl").write_text(text)
    return world


def _index(fact: dict, value: str) -> int:
    k = int(fact["fact_id"][-3:]) % 4
    return (VALUES[k:] + VALUES[:k]).index(value)


def _row(fact: dict, qlang: str, setting: str, seed: int, pred: int) -> dict:
    answer = _index(fact, "red")
    return {"run": f"ko-{setting}-s{seed}", "run_lang": "ko", "lang": "ko", "culture_lang": "ko",
            "question_lang": qlang, "setting": setting, "seed": seed, "step": 100,
            "item_id": fact["fact_id"], "scorer": "paper", "scores": [0.0] * 4, "pred": pred,
            "answer_index": answer, "correct": float(pred == answer), "chance": 0.25}  # fmt: skip


def _dose_world(tmp_path: Path) -> tuple[Path, Path]:
    """Dose facts one corpus at a time; bridges carry English knowledge to Korean questions."""
    rng = np.random.default_rng(0)
    facts, rows = [], []
    cells = [(e, 0) for e in LADDER] + [(0, n) for n in LADDER[1:]]
    for i in range(6 * len(cells)):
        e, n = cells[i % len(cells)]
        facts.append(_fact(i, "dose", int(e), int(n)))
    for f in facts:
        e, n = f["counts"]["en"], f["counts"]["ko"]
        for setting in ("bridge", "nobridge"):
            for seed in (0, 1):
                known = {"en": expit(-3 + to_x(e)) + expit(-4 + to_x(n)) * (setting == "bridge"),
                         "ko": expit(-3 + to_x(n)) + expit(-4 + to_x(e)) * (setting == "bridge")}  # fmt: skip
                for qlang in ("en", "ko"):
                    ok = rng.random() < min(1.0, known[qlang])
                    pred = _index(f, "red") if ok else int(rng.integers(4))
                    rows.append(_row(f, qlang, setting, seed, pred))
    world = _write_world(tmp_path, facts)
    results = tmp_path / "probes"
    results.mkdir()
    (results / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return world, results


def test_priority_and_robust_tables_count_answers_by_option(tmp_path):
    from bridgelab.dose import analysis, data

    stmts = {"en": {"red": 4}, "ko": {"blue": 1}}
    prio = _fact(0, "priority", 4, 0, alt_object="blue", statements=stmts)
    robust_fact = _fact(1, "robust", 3, 0, wrong_object="green",
                        statements={"en": {"red": 3, "green": 1}, "ko": {"red": 0, "green": 0}})  # fmt: skip
    world = _write_world(tmp_path, [prio, robust_fact])
    facts = data.load_facts(world)
    options = data.option_values(world, facts)
    assert options[prio["fact_id"]] == {"object": _index(prio, "red"),
                                        "alt_object": _index(prio, "blue")}  # fmt: skip
    # native questions answer the native value twice and another option once; English
    # questions the English value three times
    rows = [_row(prio, "ko", "bridge", s, _index(prio, v))
            for s, v in enumerate(["blue", "blue", "white"])]  # fmt: skip
    rows += [_row(prio, "en", "bridge", s, _index(prio, "red")) for s in range(3)]
    rows += [_row(robust_fact, "en", "bridge", s, _index(robust_fact, v))
             for s, v in enumerate(["red", "red", "green", "red"])]  # fmt: skip
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    merged = data.merge(data.load_results(path, "paper", "all"), facts)
    prio_table = analysis.priority_table(merged, options).set_index("question_lang")
    assert prio_table.loc["ko", ["count_en", "count_native"]].tolist() == [4, 1]
    assert prio_table.loc["ko", "native_value"] == pytest.approx(2 / 3)
    assert prio_table.loc["ko", "other"] == pytest.approx(1 / 3)
    assert prio_table.loc["en", "english_value"] == 1.0
    robust = analysis.robust_table(merged, options)
    r = robust.iloc[0]
    assert (r["true_count"], r["wrong_count"], r["corpora"]) == (3, 1, "en")
    assert (r["true_value"], r["wrong_value"], r["majority"]) == (0.75, 0.25, "true")
    assert analysis.true_wins_from(robust)["true_wins_from_ratio"].tolist() == [3.0]


def test_bad_inputs_name_file_line_and_key(tmp_path):
    from bridgelab.dose import data

    world = _write_world(tmp_path, [_fact(0, "dose", 1, 0), _fact(1, "priority", 2, 0)])
    with pytest.raises(DataError, match=r"ground_truth.jsonl:2: a priority fact needs the key "
                                        r"'alt_object'"):  # fmt: skip
        data.load_facts(world)
    good = _fact(0, "dose", 1, 0)
    row = _row(good, "en", "bridge", 0, 0)
    bad = {k: v for k, v in row.items() if k != "pred"}
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match=r"results.jsonl:2: missing key 'pred'"):
        data.load_results(path, "paper", "last")
    # a native set whose options are not in the English set's order is refused
    world2 = _write_world(tmp_path / "w2", [_fact(0, "robust", 1, 0, wrong_object="blue",
                                            statements={"en": {"red": 1, "blue": 1}})])  # fmt: skip
    native = world2 / "probes" / "ko.ko.jsonl"
    item = json.loads(native.read_text())
    item["options"] = item["options"][1:] + item["options"][:1]
    native.write_text(json.dumps(item) + "\n")
    with pytest.raises(DataError, match=r"ko.ko.jsonl: item 'ko-c0-f000'.*aligned"):
        data.option_values(world2, data.load_facts(world2))


def test_stage_and_report_section(tmp_path):
    from bridgelab.dose.stage import run
    from bridgelab.report.build import ReportConfig, ReportWriter
    from bridgelab.report.dose import section_dose

    world, results = _dose_world(tmp_path)
    cfg = DoseConfig(world=str(world), results=str(results), out_dir=str(tmp_path / "dose"),
                     n_boot=200)  # fmt: skip
    out = run(cfg)
    for name in ("dose.csv", "fit.csv", "fit.md", "dose.png", "transfer_dose.csv",
                 "priority.md", "robust.md", "summary.json", "DONE"):  # fmt: skip
        assert (out / name).is_file(), name
    assert (out / "dose.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    directions = {(t["direction"], t["setting"]): t for t in summary["thresholds"]}
    assert set(d for d, _ in directions) == {"en->en", "ko->ko", "en->ko", "ko->en"}
    # direct knowledge: simulated threshold at count 7, inside the ladder
    direct = directions[("en->en", "bridge")]
    assert (
        direct["status"] == "estimated" and direct["threshold_low"] < 7 < direct["threshold_high"]
    )
    assert directions[("en->ko", "nobridge")]["status"] in ("no increase", "not reached")
    assert summary["transfer_rows"] > 0
    assert run(cfg) == out  # finished with the same config: nothing redone

    w = ReportWriter(tmp_path / "report")
    section_dose(w, ReportConfig())  # no dose folder configured: the report is unchanged
    assert w.lines == []
    section_dose(w, ReportConfig(dose=str(out)))
    text = "\n".join(w.lines)
    assert "## Dose-response" in text and "### Learning thresholds" in text
    assert "| ko | en->en | direct | bridge |" in text and "png/dose.png" in text
    assert "### Transfer against source-corpus count" in text
    assert (tmp_path / "report" / "csv" / "dose_fit.csv").is_file()
    assert [t["direction"] for t in w.headline["dose_thresholds"]].count("en->ko") == 2


def test_dose_is_a_study_stage_after_transfer(tmp_path):
    from bridgelab.study.runner import STAGE_NAMES, StudyConfig, run_study

    assert STAGE_NAMES.index("transfer") < STAGE_NAMES.index("dose") < STAGE_NAMES.index("report")
    world, results = _dose_world(tmp_path)
    overrides = [f"world={world}", f"results={results}", "out_dir=${out_dir}/dose", "n_boot=0"]
    cfg = StudyConfig.from_dict(
        {"out_dir": str(tmp_path / "study"), "stages": {"dose": {"overrides": overrides}}}
    )
    out = run_study(cfg)
    status = json.loads((out / "study.json").read_text())["stages"]
    assert list(status) == ["dose"] and status["dose"]["status"] == "done"
    assert "delta-method" in (out / "dose" / "fit.md").read_text()


def test_crossed_fit_recovers_transfer_and_its_bridge_difference(tmp_path):
    """On a crossed design, b_other (the other corpus's count, own count held fixed) is the
    simulated transfer slope: 0.8 with bridges, 0 without; the paired difference excludes 0."""
    from bridgelab.dose import data
    from bridgelab.dose.crossed import crossed_table

    rng = np.random.default_rng(3)
    ladder = [0, 1, 4, 16]
    facts = [_fact(i, "dose", e, n) for i, (e, n) in
             enumerate([(e, n) for e in ladder for n in ladder] * 12)]  # fmt: skip
    rows = []
    for f in facts:
        e, n = f["counts"]["en"], f["counts"]["ko"]
        for setting, transfer in (("bridge", 0.8), ("nobridge", 0.0)):
            for seed in (0, 1):
                for qlang, own, other in (("en", e, n), ("ko", n, e)):
                    known = expit(-3 + 1.0 * to_x(own) + transfer * to_x(other))
                    ok = rng.random() < 0.25 + 0.75 * known
                    answer = _index(f, "red")
                    pred = answer if ok else (answer + 1) % 4
                    rows.append(_row(f, qlang, setting, seed, pred))
    world = _write_world(tmp_path, facts)
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    merged = data.merge(data.load_results(path, "paper", "last"), data.load_facts(world))
    table = crossed_table(merged, floor="chance", baseline="nobridge", treatments=["bridge"],
                          n_boot=200, level=0.95, seed=0)  # fmt: skip
    fits = table[table["comparison"] == ""].set_index(["question_lang", "setting"])
    for qlang in ("en", "ko"):
        bridge, nobridge = fits.loc[(qlang, "bridge")], fits.loc[(qlang, "nobridge")]
        assert bridge["b_other_low"] < 0.8 < bridge["b_other_high"] and bridge["b_other_low"] > 0
        assert nobridge["b_other_low"] < 0 < nobridge["b_other_high"]
        assert bridge["b_own_low"] < 1.0 < bridge["b_own_high"]
    diff = table[table["comparison"] == "bridge - nobridge"]
    assert len(diff) == 2 and (diff["b_other_low"] > 0).all()
    assert set(table["transfer"]) == {"ko->en", "en->ko"}
