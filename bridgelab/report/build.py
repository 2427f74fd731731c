"""`bridgelab report`: assemble one folder a researcher can put next to the paper.

The report only reads what the stages wrote (metrics, probe summaries, transfer tables, density
tables, ground-truth validation) and runs no test of its own; its one aggregation, accuracy by
exposure on a synthetic world, is written as CSV like everything else, so every number in it can
be traced to a CSV beside it. Sections whose stage did not run say so instead of disappearing.
"""

from __future__ import annotations

import json
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bridgelab.config import Config, config_hash, param
from bridgelab.contracts.markers import DONE_MARKER, is_done, mark_done
from bridgelab.contracts.provenance import INPUT_FIELDS, check_same_lineage, lineage
from bridgelab.contracts.records import read_json_objects
from bridgelab.contracts.results import read_table
from bridgelab.contracts.settings import NULL_SETTING
from bridgelab.errors import DataError
from bridgelab.report.calibration import headline_calibration, section_calibration
from bridgelab.report.counts import section_exact_counts
from bridgelab.report.dose import section_dose
from bridgelab.report.exposure import exposure_tests
from bridgelab.report.mixed import section_mixed
from bridgelab.report.plots import plot_loss_curves
from bridgelab.stage import Step
from bridgelab.utils.io import atomic_write_json, atomic_write_text


@dataclass
class ReportConfig(Config):
    out_dir: str = param("runs/report", help="report folder (report.md, report.html, csv/, png/)")
    title: str = param("bridgelab study report", help="report title")
    world: str | None = param(None, help="synthetic world folder (ground truth), if any")
    pretrain: str | None = param(None, help="pretraining run folder")
    grid: str | None = param(None, help="CPT grid folder (grid.json)")
    probes: str | None = param(None, help="`bridgelab probe` output folder")
    transfer: str | None = param(None, help="`bridgelab transfer` output folder")
    frequency: str | None = param(None, help="frequency-analysis output folder")
    calibrate: str | None = param(None, help="`bridgelab calibrate` output folder")
    dose: str | None = param(None, help="`bridgelab dose` output folder; unset: no dose section")
    study: str | None = param(None, help="study folder (study.yaml, study.json) for provenance")
    headline_scorer: str = param("paper", help="scorer whose accuracies head the summary tables")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return read_json_objects(path) if path.is_file() else []


def _md_table(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    if frame.empty:
        return "_(empty)_\n"
    return frame.to_markdown(index=False, floatfmt=floatfmt) + "\n"


class ReportWriter:
    """Collects sections, copies the CSV/PNG files they cite into the report folder."""

    def __init__(self, out: Path):
        self.out = out
        self.lines: list[str] = []
        self.headline: dict[str, Any] = {}
        (out / "csv").mkdir(parents=True, exist_ok=True)
        (out / "png").mkdir(parents=True, exist_ok=True)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def attach(self, src: Path, *, name: str | None = None) -> str | None:
        """Copy ``src`` into csv/ or png/ (by suffix); return its relative path for links."""
        if not src.is_file():
            return None
        sub = "png" if src.suffix == ".png" else "csv"
        dest = self.out / sub / (name or src.name)
        shutil.copyfile(src, dest)
        return f"{sub}/{dest.name}"

    def image(self, src: Path, caption: str, *, name: str | None = None) -> None:
        rel = self.attach(src, name=name)
        if rel:
            self.add(f"![{caption}]({rel})", "")

    def missing(self, what: str) -> None:
        self.add(f"_Not available: {what}._", "")

    def open_section(self, heading: str, folder: str | None, needs: str, what: str) -> Path | None:
        """Start a section; return its input folder, or None (noting ``what`` is not available)
        when the folder is unset or lacks the file ``needs``."""
        self.add(heading, "")
        if not folder or not (Path(folder) / needs).is_file():
            self.missing(what)
            return None
        return Path(folder)


def section_settings(w: ReportWriter, cfg: ReportConfig) -> None:
    w.add("## Settings", "")
    study = Path(cfg.study) if cfg.study else None
    if study and (study / "study.yaml").is_file():
        w.attach(study / "study.yaml")
        w.add(
            "The study config is in `csv/study.yaml`; each stage's resolved config is in its "
            "output folder (listed below).",
            "",
        )
    if study and (study / "study.json").is_file():
        status = json.loads((study / "study.json").read_text(encoding="utf-8"))
        rows = [
            {
                "stage": k,
                "status": v.get("status"),
                "seconds": v.get("seconds"),
                "output": v.get("output"),
            }
            for k, v in status.get("stages", {}).items()
        ]
        w.add(_md_table(pd.DataFrame(rows), ".1f"))
        w.headline["study_seconds"] = status.get("seconds")
        copied = []
        for stage, info in status.get("stages", {}).items():
            src = Path(info.get("output") or "") / "config.yaml"
            if info.get("output") and src.is_file():
                (w.out / "configs").mkdir(exist_ok=True)
                shutil.copyfile(src, w.out / "configs" / f"{stage}.yaml")
                copied.append(f"[{stage}](configs/{stage}.yaml)")
        if copied:
            w.add("Resolved config of each stage: " + ", ".join(copied) + ".", "")
    if cfg.world and (Path(cfg.world) / "world.json").is_file():
        world = json.loads((Path(cfg.world) / "world.json").read_text(encoding="utf-8"))
        cultures = world.get("cultures", [])
        w.add(
            f"Synthetic world `{cfg.world}`: {len(cultures)} cultures, "
            f"{len(world.get('facts', []))} facts, seed {world.get('config', {}).get('seed')}.",
            "",
        )
    import torch
    import transformers

    w.add(
        f"Software: Python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}.",
        "",
    )


def section_pretrain(w: ReportWriter, cfg: ReportConfig) -> None:
    run = w.open_section(
        "## Pretraining (English only)", cfg.pretrain, "metrics.jsonl", "pretraining metrics"
    )
    if run is None:
        return
    metrics = _read_jsonl(run / "metrics.jsonl")
    losses = [m for m in metrics if "loss" in m]
    first, last = losses[0], losses[-1]
    w.headline["pretrain_loss"] = {
        "first": first["loss"],
        "last": last["loss"],
        "steps": last["step"],
    }
    w.add(
        f"Loss {first['loss']:.3f} at step {first['step']} → {last['loss']:.3f} at step "
        f"{last['step']} ({last.get('tokens', 0):,} tokens). Run folder: `{run}`.",
        "",
    )
    png = w.out / "png" / "pretrain_loss.png"
    plot_loss_curves({"pretrain": losses}, png, title="Pretraining loss")
    w.add("![pretraining loss](png/pretrain_loss.png)", "")


def section_grid(w: ReportWriter, cfg: ReportConfig) -> None:
    grid = w.open_section("## Continued pretraining grid", cfg.grid, "grid.json", "CPT grid")
    if grid is None:
        return
    runs = json.loads((grid / "grid.json").read_text(encoding="utf-8"))["runs"]
    rows, curves = [], {}
    for r in runs:
        metrics = [m for m in _read_jsonl(Path(r["run_dir"]) / "metrics.jsonl") if "loss" in m]
        rows.append(
            {
                "run": r["name"],
                "lang": r["lang"],
                "setting": r["setting"],
                "seed": r["seed"],
                "status": r["status"],
                "checkpoints": len(r.get("checkpoints", [])),
                "final loss": metrics[-1]["loss"] if metrics else None,
            }
        )
        if metrics:
            curves[r["name"]] = metrics
    frame = pd.DataFrame(rows)
    frame.to_csv(w.out / "csv" / "grid_runs.csv", index=False)
    w.add(_md_table(frame), "[csv](csv/grid_runs.csv)", "")
    if curves:
        plot_loss_curves(curves, w.out / "png" / "cpt_loss.png", title="CPT loss per run")
        w.add("![CPT loss](png/cpt_loss.png)", "")


def section_probes(w: ReportWriter, cfg: ReportConfig) -> None:
    probes = w.open_section(
        "## Probe accuracy (last checkpoint of each run)",
        cfg.probes,
        "summary.csv",
        "probe results",
    )
    if probes is None:
        return
    summary = probes / "summary.csv"
    w.attach(summary, name="probe_summary.csv")
    frame = read_table(summary)  # null_flag "" where unflagged, not NaN ("nan" in every row)
    frame = frame[frame["scorer"] == cfg.headline_scorer]
    last = frame.loc[frame.groupby(["run", "probe_set"])["step"].idxmax()]
    keep = [
        c
        for c in (
            "run",
            "setting",
            "step",
            "probe_set",
            "question_lang",
            "accuracy",
            "ci_low",
            "ci_high",
            "null_accuracy",
            "chance",
            "null_flag",
            "ties",
        )
        if c in last.columns
    ]
    w.add(
        f"Scorer `{cfg.headline_scorer}`; every accuracy sits beside the randomly initialised "
        "model's accuracy on the same items (`null_accuracy`) and chance; `NULL>CHANCE` flags a "
        "scorer or set that a random model beats.",
        "",
    )
    w.add(_md_table(last[keep]), "[all scorers and steps](csv/probe_summary.csv)", "")


def section_transfer(w: ReportWriter, cfg: ReportConfig) -> None:
    tdir = w.open_section(
        "## Transfer: with bridges − without", cfg.transfer, "transfer.md", "transfer estimates"
    )
    if tdir is None:
        return
    for name in ("transfer.csv", "transfer_curves.csv", "curves.csv", "forgetting.csv"):
        w.attach(tdir / name)
    table = read_table(tdir / "transfer.csv")
    if not table.empty:
        w.headline["transfer"] = [
            {
                "culture": r["culture"],
                "direction": r["direction"],
                "treatment": r["treatment"],
                "diff": float(r["diff"]),
                "p_adjusted": float(r["p_adjusted"]),
                "significant": bool(r["significant"]),
            }
            for _, r in table.iterrows()
        ]
    body = (tdir / "transfer.md").read_text(encoding="utf-8").replace("## ", "### ")
    w.add(body, "", "[csv](csv/transfer.csv)", "")
    w.add("### Learning curves", "")
    for png in sorted(tdir.glob("*.png")):
        w.image(png, png.stem.replace("_", " "))


# Which knowledge a probe cell needs, by where the world stated the fact and the question's
# language: only the two "transfer" cells can move with bridges; the others are controls.
ROLES = {
    ("en_only", "native"): "transfer en->X",
    ("native_only", "en"): "transfer X->en",
    ("en_only", "en"): "direct (English)",
    ("native_only", "native"): "direct (native)",
    ("both", "en"): "direct (both)",
    ("both", "native"): "direct (both)",
    ("unseen", "en"): "never stated",
    ("unseen", "native"): "never stated",
}


def _exposure_rows(results: pd.DataFrame, truth: pd.DataFrame, scorer: str) -> pd.DataFrame:
    """The scorer's item rows with their fact's exposure and the question side (en/native)."""
    rows = results[(results["scorer"] == scorer) & results["setting"].notna()]
    rows = rows.merge(truth, left_on="item_id", right_on="fact_id", how="inner")
    return rows.assign(questions=(rows["question_lang"] == "en").map({True: "en", False: "native"}))


def exposure_table(results: pd.DataFrame, truth: pd.DataFrame, scorer: str) -> pd.DataFrame:
    """Accuracy per culture language, question language and exposure: the pretrained model
    (step 0) and each setting at its runs' last step, over items x seeds."""
    rows = _exposure_rows(results, truth, scorer)
    null = rows[rows["setting"] == NULL_SETTING]
    rows = rows[rows["setting"] != NULL_SETTING]
    if rows.empty:
        return pd.DataFrame()
    keys = ["culture_lang", "questions", "exposure"]
    last = rows.groupby("run")["step"].transform("max")
    unique = ["item_id", "question_lang", "seed"]
    table = rows.drop_duplicates(unique).groupby(keys).size().rename("items").reset_index()
    # step 0 is the model CPT started from; runs from scratch (the joint regime) have none
    first = rows[rows["step"] == 0].drop_duplicates(unique)
    step0 = first.groupby(keys)["correct"].mean().rename("step0").reset_index()
    table = table.merge(step0, on=keys, how="left")
    for setting, group in rows[rows["step"] == last].groupby("setting"):
        acc = group.groupby(keys)["correct"].mean().rename(setting)
        table = table.merge(acc.reset_index(), on=keys, how="left")
    if not null.empty:  # the random-init model on the same items: what no knowledge scores
        acc = null.groupby(keys)["correct"].mean().rename(NULL_SETTING)
        table = table.merge(acc.reset_index(), on=keys, how="left")
    table.insert(
        3, "role", [ROLES.get((e, q), "") for e, q in zip(table.exposure, table.questions)]
    )
    return table


def section_exposure(w: ReportWriter, cfg: ReportConfig) -> None:
    w.add("## Accuracy by exposure (synthetic world)", "")
    results = Path(cfg.probes or "") / "results.jsonl"
    truth = Path(cfg.world or "") / "ground_truth.jsonl"
    if not cfg.world or not truth.is_file() or not results.is_file():
        w.missing("probe results on a synthetic world with ground truth")
        return
    gt = pd.DataFrame(_read_jsonl(truth))[["fact_id", "exposure"]]
    frame = pd.DataFrame(_read_jsonl(results))
    table = exposure_table(frame, gt, cfg.headline_scorer)
    table.to_csv(w.out / "csv" / "exposure.csv", index=False)
    rows = _exposure_rows(frame, gt, cfg.headline_scorer)
    tests = exposure_tests(rows[rows["setting"] != NULL_SETTING], ROLES)
    w.add(
        "Where the world stated each probed fact decides what a question needs: an English-only "
        "fact asked natively, or a native-only fact asked in English, can only be answered by "
        "transfer; the other cells are the direct-knowledge controls. `step0` is the pretrained "
        f"model before CPT; the setting columns are each run's last step (scorer "
        f"`{cfg.headline_scorer}`, mean over items and seeds).",
        "",
        _md_table(table),
        "[csv](csv/exposure.csv)",
        "",
    )
    if tests.empty:
        return
    tests.to_csv(w.out / "csv" / "exposure_tests.csv", index=False)
    w.headline["exposure_tests"] = tests[tests["family"] == "transfer"].to_dict(orient="records")
    w.add(
        "Each cell tested on its own, setting against `nobridge` at the runs' last step: exact "
        "McNemar on items x seeds, 95% paired bootstrap interval of the difference, Holm over "
        "the transfer cells and, separately, over the direct cells. Only the transfer cells "
        "measure transfer; a difference in a direct cell means the setting changed how well a "
        "fact was learnt in its own language.",
        "",
        _md_table(tests),
        "[csv](csv/exposure_tests.csv)",
        "",
    )


# the definition of docs/CONTRACTS.md ("Frequency analysis"), stated where the numbers are read
DENSITY_DEFINITION = (
    "**Density** = mean occurrences per probe among the top k retrieved documents (a document "
    "counts when the judge says it states the probe's fact) / the number of documents of the "
    "corpus; each row names its retriever, k, judge and prompt version."
)


def section_frequency(w: ReportWriter, cfg: ReportConfig) -> None:
    fdir = w.open_section(
        "## Frequency analysis: cultural density",
        cfg.frequency,
        "summary.json",
        "frequency analysis",
    )
    if fdir is None:
        return
    w.add(DENSITY_DEFINITION, "")
    for stem, title in (
        ("density", "Density per culture and corpus"),
        ("instances", "Instance level: occurrences of transferred facts vs all"),
        ("validation", "Ground-truth checks (synthetic world)"),
    ):
        if (fdir / f"{stem}.csv").is_file():
            w.attach(fdir / f"{stem}.csv")
            w.add(
                f"### {title}",
                "",
                (fdir / f"{stem}.md").read_text(encoding="utf-8"),
                f"[csv](csv/{stem}.csv)",
                "",
            )
            w.image(fdir / f"{stem}.png", title)
    summary = json.loads((fdir / "summary.json").read_text(encoding="utf-8"))
    if "validation" in summary:
        w.headline["validation"] = summary["validation"]


def headline_lines(headline: dict[str, Any]) -> list[str]:
    """The report's first lines: the numbers a reader looks for, each from a section below."""
    lines = ["## Headline", ""]
    if "pretrain_loss" in headline:
        p = headline["pretrain_loss"]
        lines.append(
            f"- Pretraining loss {p['first']:.3f} → {p['last']:.3f} over {p['steps']} steps."
        )
    for t in headline.get("transfer", []):
        verdict = "significant" if t["significant"] else "not significant"
        lines.append(
            f"- Transfer {t['direction']} (culture {t['culture']}, every item asked in the "
            f"target side's language, as in the paper): {t['diff'] * 100:+.1f} points "
            f"with {t.get('treatment', 'bridge')}, {verdict} (adjusted p = {t['p_adjusted']:.3g})."
        )
    for t in headline.get("exposure_tests", []):
        verdict = "significant" if t["significant"] else "not significant"
        lines.append(
            f"- Transfer cell {t['role'].removeprefix('transfer ')} (culture {t['culture_lang']}, "
            f"{t['exposure']} facts): {t['treatment']} {t['diff'] * 100:+.1f} points against "
            f"nobridge, {verdict} (Holm p = {t['p_holm']:.3g})."
        )
    lines.extend(headline_calibration(headline))
    if headline.get("study_seconds") is not None:
        lines.append(f"- Study wall time: {headline['study_seconds']:.0f} s.")
    return lines if len(lines) > 2 else []


def run(cfg: ReportConfig, *, force: bool = False) -> Path:
    """Write report.md, report.html and the CSV/PNG files they cite."""
    for key in ("pretrain", "grid", "probes", "transfer", "frequency"):
        value = getattr(cfg, key)
        if value and not Path(value).is_dir():
            raise DataError(f"{key}: folder {value} does not exist")
    out = Path(cfg.out_dir)
    digest = config_hash(cfg)
    if is_done(out) and not force:
        done = json.loads((out / DONE_MARKER).read_text(encoding="utf-8") or "{}")
        if done.get("config_hash") == digest and _inputs_older_than(cfg, out / DONE_MARKER):
            return out
    # never pair results of different lineages (a new pretraining run with CPT, probe or
    # transfer numbers computed from the old one): every input must be current
    sources = {k: getattr(cfg, k) for k in INPUT_FIELDS["ReportConfig"]}
    check_same_lineage(sources, what="report")
    inputs = lineage(cfg)
    out.mkdir(parents=True, exist_ok=True)
    cfg.dump(out / "config.yaml")
    w = ReportWriter(out)
    for section in (
        section_settings,
        section_pretrain,
        section_grid,
        section_probes,
        section_transfer,
        section_mixed,
        section_exposure,
        section_calibration,
        section_dose,
        section_frequency,
        section_exact_counts,
    ):
        section(w, cfg)
    head = [f"# {cfg.title}", "", *headline_lines(w.headline), ""]
    text = "\n".join(head + w.lines).rstrip() + "\n"
    atomic_write_text(out / "report.md", text)
    atomic_write_text(out / "report.html", to_html(text, cfg.title))
    atomic_write_json(out / "headline.json", w.headline)
    mark_done(out, {"config_hash": digest, "inputs": inputs})
    return out


def _inputs_older_than(cfg: ReportConfig, marker: Path) -> bool:
    """True when no input folder's DONE marker is newer than the report (else rebuild)."""
    stamp = marker.stat().st_mtime
    for folder in (cfg.pretrain, cfg.grid, cfg.probes, cfg.transfer, cfg.frequency, cfg.calibrate,
                   cfg.dose):  # fmt: skip
        if folder and (Path(folder) / DONE_MARKER).is_file():
            if (Path(folder) / DONE_MARKER).stat().st_mtime > stamp:
                return False
    return True


def to_html(markdown_text: str, title: str) -> str:
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{max-width:100%}</style></head><body>"
        f"{body}</body></html>\n"
    )


def plan(cfg: ReportConfig) -> list[Step]:
    read = [f"{k} {getattr(cfg, k)}" for k in ("pretrain", "grid", "probes", "transfer",
                                              "frequency") if getattr(cfg, k)]  # fmt: skip
    return [Step(f"read {', '.join(read) or 'nothing'}"),
            Step("write report.md and report.html", out=cfg.out_dir)]  # fmt: skip


def summary(out: Path) -> list[str]:
    return [f"report: {out / 'report.md'}"]
