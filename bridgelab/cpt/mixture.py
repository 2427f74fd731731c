"""`bridgelab mixture`: the CPT token shards of one language and one bridge setting.

The mixture holds the pairs' sentences arranged by the setting (:mod:`bridgelab.cpt.bridges`),
the target-language documents and, optionally, English replay, placed in the stream by
:mod:`bridgelab.cpt.packing` for one ``seq_len``. Everything that does not depend on the
setting (which pairs, which documents, which replay, the filler stream) depends on the config
minus ``setting``/``out_dir`` only, so the settings of one language are comparable, and
``bridgelab check-mixture`` verifies it from the shards.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bridgelab.config import Config, config_hash, param
from bridgelab.contracts.markers import done_with_config, is_done, mark_done, prepare_run_folder
from bridgelab.contracts.provenance import lineage
from bridgelab.contracts.scripts import DEFAULT_MIN_SCRIPT_FRACTION
from bridgelab.contracts.settings import Setting
from bridgelab.contracts.shards import token_dtype, tokenize_documents, write_manifest, write_shard
from bridgelab.cpt.bridges import Order, Unit, pair_cost, pair_units
from bridgelab.cpt.inputs import PairSourceConfig, read_documents, read_mixture_pairs
from bridgelab.cpt.packing import pack
from bridgelab.data.readers import SourceConfig
from bridgelab.errors import ConfigError, RunFolderError
from bridgelab.stage import Step
from bridgelab.utils.io import atomic_dir

log = logging.getLogger(__name__)
STAGE = "cpt-mixture"


@dataclass
class CptMixtureConfig(Config):
    out_dir: str = param("runs/cpt/mixture", help="output shard folder (manifest.json, shards)")
    tokenizer: str = param("", help="tokenizer folder (the one the base model was trained with)")
    lang: str = param("ko", help="target language (ko, zh, bo, mn)")
    setting: Setting = param("bridge", help="bridge | nobridge | codeswitch")
    pairs: list[PairSourceConfig] = param([], help="English-X parallel pairs")
    docs: list[SourceConfig] = param(
        [], help="target-language documents (identical in all settings)"
    )
    replay: list[SourceConfig] = param([], help="English documents to replay against forgetting")
    replay_fraction: float = param(0.0, help="share of the mixture's tokens that is English replay")
    order: Order = param("en-first", help="bridge: en-first | x-first | random (seeded per pair)")
    separator: str = param("\n", help="text between the sentences of a document; must be one token")
    codeswitch_group: int = param(4, help="codeswitch: consecutive pairs mixed into one document")
    seq_len: int = param(128, help="training sequence length; windows hold seq_len + 1 tokens")
    seed: int = param(0, help="seeds document order, bridge order and replay choice")
    min_script_fraction: float = param(
        DEFAULT_MIN_SCRIPT_FRACTION,
        help="share of a side's letters (of 3 or more) that must be in its language's script; "
        "the line readers' default (bridgelab.contracts.scripts.DEFAULT_MIN_SCRIPT_FRACTION)",
    )
    skip_bad: bool = param(False, help="skip (and count) bad pairs and records instead of failing")
    shard_tokens: int = param(50_000_000, help="tokens per shard file")

    def validate(self) -> None:
        super().validate()
        if not self.pairs:
            raise ConfigError("pairs: a CPT mixture needs at least one parallel source")
        if not 0.0 <= self.replay_fraction < 1.0:
            raise ConfigError(f"replay_fraction: must lie in [0, 1), got {self.replay_fraction}")
        if not 0.0 <= self.min_script_fraction <= 1.0:
            raise ConfigError(
                f"min_script_fraction: must lie in [0, 1], got {self.min_script_fraction}"
            )
        if self.replay_fraction > 0 and not self.replay:
            raise ConfigError("replay: replay_fraction > 0 needs at least one replay source")
        for key in ("seq_len", "codeswitch_group", "shard_tokens"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key}: must be positive, got {getattr(self, key)}")

    def shared_hash(self) -> str:
        """Hash of everything that must be equal between the settings of one language."""
        return config_hash(self, exclude=("setting", "out_dir"))


def _encode(tokenizer: Any, texts: list[str], eos: int) -> list[np.ndarray]:
    """Token ids of each text with EOS appended (engineer A's batched Rust encoding)."""
    step = 20_000
    out: list[np.ndarray] = []
    for start in tqdm(
        range(0, len(texts), step), desc="tokenize", unit="chunk", disable=len(texts) <= step
    ):
        out.extend(tokenize_documents(tokenizer, texts[start : start + step], eos))
    return out


def _separator_id(tokenizer: Any, separator: str) -> int:
    # The separator's tokens where it stands, after a half: a tokenizer that prepends a space to
    # every text (`prefix_space`) would otherwise encode it as space + separator.
    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    head = encode("a")
    ids = encode("a" + separator)
    ids = ids[len(head) :] if ids[: len(head)] == head else encode(separator)
    if len(ids) != 1:
        raise ConfigError(
            f"separator: {separator!r} is {len(ids)} tokens; it must be exactly one so that a "
            f"bridge document costs as many tokens as the two halves without bridges"
        )
    return int(ids[0])


def _fillers(cfg: CptMixtureConfig, tokenizer: Any, eos: int, pair_tokens: int) -> list[Unit]:
    """Target documents plus enough replay for ``replay_fraction``, in a setting-free order."""
    docs = read_documents(cfg.docs, skip_bad=cfg.skip_bad)
    units = [
        Unit(ids, {"id": f"mono:{d.id}", "kind": "mono", "lang": d.lang})
        for d, ids in zip(docs, _encode(tokenizer, [d.text for d in docs], eos))
    ]
    if cfg.replay_fraction > 0:
        base = pair_tokens + sum(u.length for u in units)
        target = cfg.replay_fraction / (1 - cfg.replay_fraction) * base
        replay = read_documents(cfg.replay, skip_bad=cfg.skip_bad)
        random.Random(f"{cfg.seed}:replay").shuffle(replay)
        got = 0
        for start in range(0, len(replay), 64):
            batch = replay[start : start + 64]
            for d, ids in zip(batch, _encode(tokenizer, [d.text for d in batch], eos)):
                if got >= target:
                    break
                units.append(Unit(ids, {"id": f"replay:{d.id}", "kind": "replay", "lang": "en"}))
                got += len(ids)
            if got >= target:
                break
        if got < target:
            log.warning("replay: only %d of the %d tokens wanted are available", got, int(target))
    random.Random(f"{cfg.seed}:fillers").shuffle(units)
    return units


def _log_dropped(
    what: str,
    cfg: CptMixtureConfig,
    read: int,
    dropped: dict[str, int],
    n_duplicates: int,
    examples: list[list[str]],
) -> None:
    total = sum(dropped.values())
    if total:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(dropped.items()) if v)
        log.info(
            "%s: dropped %d of %d pairs (%s; min_script_fraction %s)",
            what, total, read, reasons, cfg.min_script_fraction,
        )  # fmt: skip
    else:
        log.info("%s: kept all %d pairs", what, read)
    if n_duplicates:
        shown = ", ".join(f"{a} = {b}" for a, b in examples[:3])
        log.warning(
            "%s: %d exact duplicate pairs (same English and %s text as an earlier pair, e.g. %s)"
            "; kept, so each copy is trained on; listed in manifest.json meta.duplicate_examples",
            what, n_duplicates, cfg.lang, shown,
        )  # fmt: skip


def build_mixture(cfg: CptMixtureConfig, *, force: bool = False) -> Path:
    """Build (or find complete) the mixture folder of ``cfg``; return it."""
    from bridgelab.contracts.tokenizer import load_tokenizer

    if not cfg.tokenizer:
        raise ConfigError(
            "tokenizer: required (the tokenizer folder the base model was trained with)"
        )
    out = Path(cfg.out_dir)
    chash = config_hash(cfg)
    if done_with_config(out, chash, force=force, what="mixture"):
        return out
    if (
        out.is_dir()
        and any(out.iterdir())
        and not (out / "config.yaml").is_file()
        and not is_done(out)
    ):
        raise RunFolderError(f"{out} exists, is not empty and is not a mixture folder")
    prepare_run_folder(out, force=force, what="mixture")
    inputs = lineage(cfg)
    what = f"mixture {cfg.lang}/{cfg.setting}"
    tokenizer, info = load_tokenizer(cfg.tokenizer)
    eos, sep = int(info["eos_id"]), _separator_id(tokenizer, cfg.separator)
    window = cfg.seq_len + 1
    pairs, counts = read_mixture_pairs(
        cfg.pairs, cfg.lang, min_script_fraction=cfg.min_script_fraction, skip_bad=cfg.skip_bad
    )
    en_ids = [a[:-1].tolist() for a in _encode(tokenizer, [p.text_a for p in pairs], eos)]
    x_ids = [a[:-1].tolist() for a in _encode(tokenizer, [p.text_b for p in pairs], eos)]
    # a pair that cannot share a window with its translation is dropped in every setting alike
    keep = [i for i in range(len(pairs)) if pair_cost(en_ids[i], x_ids[i]) <= window]
    counts["pairs_too_long"] = len(pairs) - len(keep)
    # what was left out, and why, goes to manifest.meta and the log: a filter that drops real
    # data (a script fraction too strict for lines with Latin names) must be visible
    dropped = {**counts.pop("skipped_by_reason"), "too_long": counts["pairs_too_long"]}
    duplicates = (counts.pop("duplicate_pairs"), counts.pop("duplicate_examples"))
    _log_dropped(what, cfg, counts["pairs_read"], dropped, *duplicates)
    pairs, en_ids, x_ids = (
        [pairs[i] for i in keep],
        [en_ids[i] for i in keep],
        [x_ids[i] for i in keep],
    )
    pair_tokens = sum(pair_cost(e, x) for e, x in zip(en_ids, x_ids))
    units = pair_units(
        cfg.setting, pairs, en_ids, x_ids, sep_id=sep, eos_id=eos, order=cfg.order,
        group=cfg.codeswitch_group, window=window, rng=random.Random(f"{cfg.seed}:order"),
    )  # fmt: skip
    random.Random(f"{cfg.seed}:{cfg.setting}:units").shuffle(units)
    fillers = _fillers(cfg, tokenizer, eos, pair_tokens)
    placed, pack_stats = pack(units, fillers, window, isolate=cfg.setting != "bridge", what=what)
    counts.update(pack_stats, pairs=len(pairs), pair_docs=len(units), filler_docs=len(fillers))
    counts["replay_tokens"] = sum(u.length for u in placed if u.row["kind"] == "replay")
    meta = {
        "stage": STAGE, "lang": cfg.lang, "setting": cfg.setting, "seq_len": cfg.seq_len,
        "window": window, "isolate": cfg.setting != "bridge", "order": cfg.order,
        "separator": cfg.separator, "separator_id": sep, "tokenizer": str(Path(cfg.tokenizer).resolve()),
        "shared_hash": cfg.shared_hash(), "config_hash": chash, "pair_ids": [p.id for p in pairs],
        "min_script_fraction": cfg.min_script_fraction, "dropped": dropped,
        "duplicate_pairs": duplicates[0], "duplicate_examples": duplicates[1],
    }  # fmt: skip
    dtype = token_dtype(int(info["vocab_size"]))
    with atomic_dir(out) as tmp:
        cfg.dump(tmp / "config.yaml")
        shards, start = [], 0
        while start < len(placed):
            stop, size = start, 0
            while stop < len(placed) and (
                size == 0 or size + placed[stop].length <= cfg.shard_tokens
            ):
                size += placed[stop].length
                stop += 1
            chunk = placed[start:stop]
            shards.append(
                write_shard(
                    tmp, len(shards), [u.tokens for u in chunk], [u.row for u in chunk], dtype
                )
            )
            start = stop
        write_manifest(
            tmp, shards=shards, vocab_size=int(info["vocab_size"]), eos_id=eos,
            tokenizer_hash=info["hash"], stats=counts, meta=meta,
        )  # fmt: skip
        # a mixture is a pure function of its config and inputs: the manifest hash identifies it
        manifest_hash = hashlib.sha256((tmp / "manifest.json").read_bytes()).hexdigest()[:16]
        mark_done(tmp, {"config_hash": chash, "id": manifest_hash, "inputs": inputs})
    total = sum(s["num_tokens"] for s in shards)
    log.info(
        "%s: %d pairs, %d tokens (%d windows) -> %s", what, len(pairs), total, total // window, out
    )
    return out


def run(cfg: CptMixtureConfig, *, force: bool = False) -> Path:
    return build_mixture(cfg, force=force)


def plan(cfg: CptMixtureConfig) -> list[Step]:
    return [
        Step(
            f"read {len(cfg.pairs)} parallel source(s) en-{cfg.lang}, {len(cfg.docs)} document "
            f"source(s), {len(cfg.replay)} replay source(s) (replay_fraction "
            f"{cfg.replay_fraction})"
        ),  # fmt: skip
        Step(f"arrange the pairs as '{cfg.setting}' and pack for seq_len {cfg.seq_len}"),
        Step("write manifest.json, shard_*.bin, shard_*.docs.jsonl", out=cfg.out_dir),
    ]
