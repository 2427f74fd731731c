"""`bridgelab calibrate`: prove that the probes see transfer when it is there.

Output folder::

    config.yaml            the resolved CalibrateConfig
    members/<dir>_w<w>.json  one finished oracle member: item scores and alignment (resumable)
    grid/<run>_s<step>.json  alignment of one CPT checkpoint (when ``grid`` is set)
    items.jsonl            item-level rows of every member and the null model
    calibration.csv        per direction x weight x scorer: transfer and source accuracy, CI,
                           McNemar p against the untrained end (Holm), alignment metrics
    alignment.csv          per CPT run x step: the alignment metrics (when ``grid`` is set)
    calibration.png/.md, alignment.png, summary.json, DONE
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from bridgelab.calibrate.config import CalibrateConfig
from bridgelab.config import config_hash
from bridgelab.contracts.markers import done_with_config, mark_done
from bridgelab.contracts.provenance import lineage
from bridgelab.errors import DataError
from bridgelab.stage import Step, steps
from bridgelab.utils.io import atomic_write_json

log = logging.getLogger(__name__)


def _checkpoint(path: str) -> Path:
    from bridgelab.contracts.runs import resolve_init

    init = resolve_init(path)
    if init is None:
        raise DataError("checkpoint: the oracle family needs a pretrained model, not 'scratch'")
    return init


def _clone_script(tokenizer_dir: str) -> str:
    from bridgelab.contracts.tokenizer import tokenizer_info

    script = tokenizer_info(tokenizer_dir).get("clone_script")
    if not script:
        raise DataError(
            f"{tokenizer_dir}: the tokenizer holds no token-level clone; build it with "
            "`clone_script` (e.g. clone_script=Yi) so the calibration has an exact oracle"
        )
    return script


def plan(cfg: CalibrateConfig) -> list[Step]:
    members = len(cfg.directions) * len(cfg.weights)
    lines = [
        f"oracle family of {cfg.checkpoint}: {members} members "
        f"({', '.join(cfg.directions)} x weights {cfg.weights})",
        f"score English and clone probes of {cfg.world} with {', '.join(cfg.scorers)}"
        + (" and a null model" if cfg.null_model else ""),
        f"alignment: Procrustes P@1, retrieval of {cfg.alignment.sentences} held-out sentences, "
        f"swap test on {cfg.alignment.swap_sequences}",
    ]
    if cfg.grid:
        lines.append(f"alignment of every checkpoint of the CPT grid {cfg.grid}")
    return [*steps(lines), Step("write calibration.csv/png/md, summary.json", out=cfg.out_dir)]


def _score(model, tokenizer, items, cfg: CalibrateConfig) -> dict[str, dict[str, float]]:
    from bridgelab.probes.scoring import score_items_multi

    results, _ = score_items_multi(model, tokenizer, items, cfg.scorers, batch_size=cfg.batch_size)
    return {s: {r.item_id: r.correct for r in rows} for s, rows in results.items()}


def _cached(path: Path, chash: str) -> dict[str, Any] | None:
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("config_hash") == chash:
            return data
    return None


def run(cfg: CalibrateConfig, *, force: bool = False) -> Path:
    """Build, probe and measure the oracle family (and the grid); skip what is complete."""
    from bridgelab.calibrate.alignment import heldout_pairs
    from bridgelab.calibrate.analysis import write_outputs
    from bridgelab.calibrate.measure import Pairing, measure
    from bridgelab.calibrate.oracle import OracleFamily, calibration_items
    from bridgelab.contracts.clone import clone_text, id_map
    from bridgelab.contracts.markers import prepare_run_folder
    from bridgelab.probes.models import build_null_model, load_model, load_tokenizer

    out = Path(cfg.out_dir)
    chash = config_hash(cfg, exclude=("out_dir",))
    if done_with_config(out, chash, force=force, what="calibration"):
        return out
    out = prepare_run_folder(out, force=force, what="calibration")
    cfg.dump(out / "config.yaml")
    script = _clone_script(cfg.tokenizer)
    ckpt = _checkpoint(cfg.checkpoint)
    tokenizer = load_tokenizer(cfg.tokenizer)
    pairs = id_map(tokenizer, script)
    triples = calibration_items(cfg.world, script, max_items=cfg.max_items, seed=cfg.seed)
    english_items = [en for en, _, _ in triples]
    clone_items = [cl for _, cl, _ in triples]
    culture = {en.id: lang for en, _, lang in triples}
    a = cfg.alignment
    held = heldout_pairs(cfg.world, "en", a.sentences + a.swap_sequences, seed=a.seed)
    english = [t for t, _ in held[: a.sentences]]
    swap_text = [t for t, _ in held[a.sentences :]]
    swap_seqs = [tokenizer.encode(t, add_special_tokens=False) for t in swap_text]
    inverse = {v: k for k, v in pairs.items()}
    pairings = {
        # the swap test reads the known language's sequences through the other's tokens
        "en_to_clone": Pairing(
            english, [clone_text(t, script) for t in english], swap_seqs, pairs, []
        ),
        "clone_to_en": Pairing(
            english,
            [clone_text(t, script) for t in english],
            [[pairs.get(i, i) for i in s] for s in swap_seqs],
            inverse,
            [],
        ),
    }
    device = cfg.device
    model = load_model(ckpt, device=device)
    family = OracleFamily(model, pairs)
    members: list[dict[str, Any]] = []
    (out / "members").mkdir(exist_ok=True)
    todo = [(d, w) for d in cfg.directions for w in sorted(cfg.weights)]
    for direction, weight in tqdm(todo, desc="calibrate members"):
        path = out / "members" / f"{direction}_w{weight:.3f}.json"
        member = _cached(path, chash)
        if member is None:
            family.set(direction, weight)
            member = {
                "config_hash": chash,
                "direction": direction,
                "weight": weight,
                "scores": {
                    "en": _score(model, tokenizer, english_items, cfg),
                    "clone": _score(model, tokenizer, clone_items, cfg),
                },
                "alignment": measure(
                    model, tokenizer, pairings[direction], seed=a.seed, layer=a.layer
                ),
            }
            atomic_write_json(path, member)
        members.append(member)
    family.restore()
    null = None
    if cfg.null_model:
        path = out / "members" / "null.json"
        null = _cached(path, chash)
        if null is None:
            nm = build_null_model(ckpt, seed=cfg.seed, device=device)
            null = {
                "config_hash": chash,
                "scores": {
                    "en": _score(nm, tokenizer, english_items, cfg),
                    "clone": _score(nm, tokenizer, clone_items, cfg),
                },
            }
            atomic_write_json(path, null)
    grid_rows = _grid_alignment(cfg, out, chash, tokenizer, script) if cfg.grid else []
    summary = write_outputs(out, cfg, members, null, culture, english_items, grid_rows)
    mark_done(out, {"config_hash": chash, "checkpoint": str(ckpt), **summary["oracle"],
                    "inputs": lineage(cfg)})  # fmt: skip
    log.info("calibration -> %s", out)
    return out


def _grid_checkpoints(grid: Path) -> list[dict[str, Any]]:
    from bridgelab.contracts.runs import grid_units

    return [
        {
            "name": u.run,
            "lang": u.run_lang,
            "setting": u.setting,
            "seed": u.seed,
            "step": u.step,
            "path": u.path,
        }  # fmt: skip
        for u in grid_units(grid)
    ]


def _grid_alignment(cfg: CalibrateConfig, out: Path, chash: str, tokenizer, script: str) -> list:
    """Alignment of every checkpoint of the grid's runs: curves over CPT steps."""
    from bridgelab.calibrate.alignment import heldout_pairs
    from bridgelab.calibrate.measure import Pairing, measure
    from bridgelab.contracts.clone import CLONE_LANG_SCRIPTS, id_map
    from bridgelab.probes.models import load_model

    world = json.loads((Path(cfg.world) / "world.json").read_text(encoding="utf-8"))
    clones = world["config"].get("clones", [])
    a = cfg.alignment
    pairings: dict[str, Pairing] = {}
    rows = []
    (out / "grid").mkdir(exist_ok=True)
    checkpoints = _grid_checkpoints(Path(cfg.grid))
    for ck in tqdm(checkpoints, desc="calibrate grid alignment"):
        lang = ck["lang"]
        if lang not in pairings:
            held = heldout_pairs(cfg.world, lang, a.sentences + a.swap_sequences, seed=a.seed)
            token_level = lang in clones and CLONE_LANG_SCRIPTS.get(lang) == script
            lexicon = world["lexicons"][lang]
            words = [(w, t) for w, t in sorted(lexicon.items()) if t]
            pairings[lang] = Pairing(
                [e for e, _ in held[: a.sentences]],
                [x for _, x in held[: a.sentences]],
                [tokenizer.encode(e, add_special_tokens=False) for e, _ in held[a.sentences :]]
                if token_level
                else [],
                id_map(tokenizer, script) if token_level else {},
                words,
            )
        path = out / "grid" / f"{ck['name']}_s{ck['step']:06d}.json"
        row = _cached(path, chash)
        if row is None:
            model = load_model(ck["path"], device=cfg.device)
            row = {
                "config_hash": chash,
                **ck,
                **measure(model, tokenizer, pairings[lang], seed=a.seed, layer=a.layer),
            }
            atomic_write_json(path, row)
        rows.append(row)
    return rows
