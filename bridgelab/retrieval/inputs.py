"""What a frequency run reads: corpora and probes (from config, or from a synthetic world)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from bridgelab.contracts.probe_sets import load_probe_file
from bridgelab.contracts.records import ProbeItem, read_jsonl_records
from bridgelab.errors import DataError
from bridgelab.retrieval.config import FrequencyConfig


def resolve_world(cfg: FrequencyConfig) -> FrequencyConfig:
    """Fill corpora, probes and ground truth from ``cfg.world`` where the config leaves them empty."""
    if not cfg.world:
        return cfg
    world = Path(cfg.world)
    if not (world / "corpora").is_dir():
        raise DataError(f"world: {world} holds no corpora/ folder (not a synthetic world?)")
    corpora = cfg.corpora or {
        p.name[: -len(".jsonl")]: str(p) for p in sorted((world / "corpora").glob("*.jsonl"))
    }
    probes = cfg.probes or [str(p) for p in sorted((world / "probes").glob("*.jsonl"))]
    truth = cfg.ground_truth
    if truth is None and (world / "ground_truth.jsonl").is_file():
        truth = str(world / "ground_truth.jsonl")
    return dataclasses.replace(cfg, corpora=corpora, probes=probes, ground_truth=truth)


@dataclass
class Probe:
    """One probe id with its versions by language (an English and a native item align by id)."""

    id: str
    culture: str
    versions: dict[str, ProbeItem]

    def item_for(self, lang: str) -> ProbeItem:
        """The version in ``lang``, else the English one, else any."""
        return (
            self.versions.get(lang) or self.versions.get("en") or next(iter(self.versions.values()))
        )


def load_probes(paths: list[str]) -> list[Probe]:
    probes: dict[str, Probe] = {}
    for path in paths:
        for item in load_probe_file(path):
            probe = probes.setdefault(item.id, Probe(item.id, item.culture, {}))
            if item.lang in probe.versions and probe.versions[item.lang] != item:
                raise DataError(
                    f"probes: {path}: id '{item.id}' appears twice in language {item.lang}"
                )
            probe.versions[item.lang] = item
    if not probes:
        raise DataError(f"probes: no probe items in {', '.join(paths)}")
    return sorted(probes.values(), key=lambda p: p.id)


def read_item_results(paths: list[str]) -> list[dict]:
    """Probe-stage item results (docs/CONTRACTS.md "Probe results"), checked for needed keys."""
    needed = ("run", "setting", "step", "item_id", "correct", "question_lang", "culture_lang")
    rows = []

    def check(row: dict, where: str) -> dict:
        missing = [key for key in needed if key not in row]
        if missing:
            raise DataError(f"{where}: missing key '{missing[0]}'")
        return row

    for path in paths:
        rows.extend(read_jsonl_records(path, check))
    return rows
