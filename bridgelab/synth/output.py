"""Write a generated world in the layout of docs/CONTRACTS.md, and read its ground truth back."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from bridgelab.contracts.markers import DONE_MARKER, is_done, mark_done, prepare_run_folder
from bridgelab.contracts.records import write_records
from bridgelab.contracts.truth import GROUND_TRUTH
from bridgelab.errors import RunFolderError
from bridgelab.stage import Step, steps
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.designs import design_cells, plan_lines, totals
from bridgelab.synth.vocab import FILLER_INTRO
from bridgelab.synth.world import generate, world_hash
from bridgelab.utils.io import atomic_dir, atomic_write_json, atomic_write_jsonl

log = logging.getLogger(__name__)
WORLD_ENTRIES = frozenset({"corpora", "parallel", "probes", "world.json", GROUND_TRUTH})


def _done_hash(out: Path) -> str | None:
    try:
        return json.loads((out / DONE_MARKER).read_text(encoding="utf-8")).get("config_hash")
    except (OSError, ValueError, AttributeError):
        return None


def run(cfg: SynthConfig, *, force: bool = False) -> Path:
    """Generate the world of ``cfg`` into ``cfg.out_dir``; return that folder.

    A finished world with the same config is left as it is (generation is deterministic, so
    redoing it would write the same bytes). A finished world of ANOTHER config is never
    overwritten: that is an error unless ``force``, which moves it aside to ``<out>.old-N``.
    The world is built in a temporary folder next to ``out`` and moved into place complete,
    so a killed run leaves no half-written world, and is simply redone.
    """

    out = Path(cfg.out_dir)
    digest = world_hash(cfg)
    if is_done(out) and not force:
        if _done_hash(out) == digest:
            log.info("world %s is complete (config %s); nothing to do", out, digest)
            return out
        raise RunFolderError(
            f"{out} holds a finished world of another config (DONE has config_hash "
            f"{_done_hash(out)}, this config is {digest}); pass --force to move it aside"
        )
    prepare_run_folder(out, force=force, what="synthetic world")
    strangers = sorted(p.name for p in out.iterdir() if p.name not in WORLD_ENTRIES)
    if strangers:
        # an unfinished world is replaced whole; anything else in the folder is not ours
        raise RunFolderError(
            f"{out} is not empty and holds '{strangers[0]}', which a world does not; "
            f"choose another output folder"
        )
    world = generate(cfg)
    with atomic_dir(out) as tmp:
        for lang, docs in world.documents.items():
            write_records(tmp / "corpora" / f"{lang}.jsonl", docs)
        for lang, pairs in world.pairs.items():
            write_records(tmp / "parallel" / f"en-{lang}.jsonl", pairs)
        for (lang, qlang), items in world.probes.items():
            write_records(tmp / "probes" / f"{lang}.{qlang}.jsonl", items)
        atomic_write_jsonl(tmp / GROUND_TRUTH, world.ground_truth())
        summary = world.summary()
        atomic_write_json(tmp / "world.json", summary)
        # generation is deterministic: the config hash identifies the content (utils.provenance)
        mark_done(tmp, {"config_hash": digest, "format": summary["format"], "id": digest[:16]})
    log.info("wrote the synthetic world to %s", out)
    return out


def plan(cfg: SynthConfig) -> list[Step]:
    """What ``run`` would write, computed from the config alone (nothing is generated): the
    world folder, with one sub-step per corpus file and design."""
    lo, hi = cfg.filler_sentences
    words_per_filler_doc = (lo + hi) / 2 * 8 + len(FILLER_INTRO.split())  # ~8 words a sentence
    probed = cfg.facts_per_culture
    weights = cfg.exposure.weights()
    share_en = (weights["both"] + weights["en_only"]) / sum(weights.values())
    share_native = (weights["both"] + weights["native_only"]) / sum(weights.values())
    lines: list[str] = []
    cultures = sum(lc.cultures for lc in cfg.languages.values())
    if cfg.designs_on():
        # a design fixes each target language's probed facts and their statements exactly
        per_lang, en_per_lang, native_per_lang = totals(design_cells(cfg))
        lines.append(
            f"{cultures} cultures, {per_lang} design facts per language (dealt over its "
            f"cultures; they replace exposure, en_mentions and native_mentions) + "
            f"{cfg.bridge_facts_per_culture} pair-only facts per culture"
        )
        lines += plan_lines(cfg)
    else:
        lines.append(
            f"{cultures} cultures, {probed} probed + {cfg.bridge_facts_per_culture} pair-only "
            "facts each"
        )
    langs = [lc for lc in cfg.languages.values() if lc.cultures]
    if cfg.designs_on():
        en_mentions = float(en_per_lang * len(langs))
    else:
        en_mentions = sum(
            lc.cultures * probed * share_en * lc.en_mentions for lc in cfg.languages.values()
        )
    share_seen = 1 - weights["unseen"] / sum(weights.values())  # of an English culture's facts
    en_mentions += cfg.en_cultures * probed * share_seen * cfg.en_culture_mentions
    en_docs = math.ceil(
        cfg.en_filler_words / words_per_filler_doc + en_mentions / cfg.facts_per_doc
    )
    lines.append(
        f"corpora/en.jsonl: ~{en_docs} documents, ~{cfg.en_filler_words + 8 * en_mentions:,.0f} "
        f"words (~{en_mentions:.0f} fact mentions)"
    )
    for lang, lc in sorted(cfg.languages.items()):
        mentions = lc.cultures * probed * share_native * lc.native_mentions
        items = lc.cultures * probed
        if cfg.designs_on():
            mentions, items = (native_per_lang, per_lang) if lc.cultures else (0, 0)
        docs = math.ceil(lc.filler_words / words_per_filler_doc + mentions / cfg.facts_per_doc)
        lines.append(
            f"corpora/{lang}.jsonl: ~{docs} documents, ~{lc.filler_words + 8 * mentions:,.0f} "
            f"words (~{mentions:.0f} fact mentions); parallel/en-{lang}.jsonl: {lc.pairs} pairs; "
            f"probes/{lang}.en.jsonl + {lang}.{lang}.jsonl: {items} items each"
        )
    if cfg.en_cultures:
        lines.append(
            f"{cfg.en_cultures} English cultures: {cfg.en_cultures * probed} facts stated in "
            f"{cfg.en_culture_mentions} English documents each; probes/en.en.jsonl"
        )
    world = Step(f"write the synthetic world (seed {cfg.seed})", out=cfg.out_dir,
                 data={"en_documents": en_docs}, steps=tuple(steps(lines)))  # fmt: skip
    return [world]
