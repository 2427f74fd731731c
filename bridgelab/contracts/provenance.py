"""Provenance (design control 7): every DONE marker records the identity of what it consumed.

A stage's inputs are the folders and files its config names (:data:`INPUT_FIELDS`). The
*identity* of an input is read from the DONE marker of the finished folder that holds it (the
input itself or the nearest parent with a DONE, so ``pretrain/hf/step_000010`` is the
pretraining run's, and ``world/corpora/en.jsonl`` the world's): ``<config hash>/<id>``, where
``id`` is written with the marker (:func:`bridgelab.contracts.markers.mark_done`): a content hash where
one is cheap and deterministic (a tokenizer's hash, a shard manifest's sha256, a world's config
hash), a random id otherwise (a trained model differs run to run). An input outside any finished
folder (a raw corpus, the paper's probe files) has no identity and is not tracked.

:func:`lineage` gives the identities of a config's inputs now; a stage stores it as ``inputs``
in its DONE. :func:`stale_inputs` compares what a finished folder recorded with the identities
its inputs have now: any difference means the folder holds results of an older lineage.
``bridgelab study`` re-runs such a stage (and, since the stage's own id then changes, every
stage downstream of it); a single stage command refuses (:func:`refuse_if_stale`); the report
refuses to combine them.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgelab.contracts.markers import DONE_MARKER
from bridgelab.errors import RunFolderError

# how far up from an input path to look for the DONE of the folder that holds it
# (run/hf/step_N/model.safetensors is three levels below its run)
MAX_DEPTH = 3

# Per config class: the fields naming inputs. A list's items contribute their ``path``
# (resolved against ``root`` when relative), a dict its values.
INPUT_FIELDS: dict[str, tuple[str, ...]] = {
    "SynthConfig": (),
    "TokenizerConfig": ("path", "data_root", "corpora"),
    "PrepareConfig": ("tokenizer", "data_root", "sources"),
    "PretrainConfig": ("tokenizer", "data.path", "init_from"),
    "CptMixtureConfig": ("tokenizer", "pairs", "docs", "replay"),
    "GridConfig": ("tokenizer", "world", "init_from"),
    "CalibrateConfig": ("world", "tokenizer", "checkpoint", "grid"),
    "ProbeConfig": ("grid", "checkpoints", "probe_sets"),
    "TransferConfig": ("results",),
    "DoseConfig": ("world", "results"),
    "CountConfig": ("world", "corpora", "tokenizer", "probes"),
    # the judgment store is a cache keyed by (judge, prompt, probe, document), not an input
    "FrequencyConfig": (
        "world",
        "corpora",
        "tokenizer",
        "probes",
        "ground_truth",
        "probe_results",
        "counts",
    ),  # fmt: skip
    "ReportConfig": (
        "world",
        "pretrain",
        "grid",
        "probes",
        "transfer",
        "frequency",
        "calibrate",
        "dose",
    ),  # fmt: skip
}
ROOT_FIELD = {"TokenizerConfig": "data_root", "PrepareConfig": "data_root"}


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / DONE_MARKER).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else {}


def marker_identity(folder: str | Path) -> str | None:
    """``<config hash>/<id>`` of a finished folder; None when it holds no DONE. A marker written
    before markers had ids is identified by the hash of its bytes."""
    folder = Path(folder)
    done = _read_marker(folder)
    if done is None:
        return None
    ident = done.get("id")
    if not ident:
        ident = hashlib.sha256((folder / DONE_MARKER).read_bytes()).hexdigest()[:16]
    return f"{str(done.get('config_hash') or '-')[:16]}/{ident}"


def identity(path: str | Path | None) -> str | None:
    """The identity of an input path: that of the finished folder holding it, else None."""
    if not path or str(path) == "scratch":
        return None
    p = Path(path)
    for folder in (p, *p.parents)[: MAX_DEPTH + 1]:
        if (folder / DONE_MARKER).is_file():
            return marker_identity(folder)
    return None


def _field(cfg: Any, dotted: str) -> Any:
    value = cfg
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def input_paths(cfg: Any) -> dict[str, str]:
    """Input name (the config key: ``init_from``, ``probe_sets[0]``) -> path, for ``cfg``."""
    name = type(cfg).__name__
    root = _field(cfg, ROOT_FIELD[name]) if name in ROOT_FIELD else None
    paths: dict[str, str] = {}
    for key in INPUT_FIELDS.get(name, ()):
        value = _field(cfg, key)
        if isinstance(value, dict):
            items = [(f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            # a Hugging Face dataset name or a shared-sample name is not a path
            items = [
                (f"{key}[{i}]", getattr(v, "path", v))
                for i, v in enumerate(value)
                if getattr(v, "format", None) not in ("hf", "shared")
            ]
        else:
            items = [(key, value)]
        for label, path in items:
            if not isinstance(path, str) or not path or path == "scratch":
                continue  # scratch: random weights (cpt.grid.SCRATCH), nothing is read
            if root and key not in ("tokenizer", "data_root") and not Path(path).is_absolute():
                path = str(Path(root) / path)
            paths[label] = path
    return paths


def inside(path: str | Path, folder: str | Path) -> bool:
    """True when ``path`` is ``folder`` or lies below it (lexically, after normalisation)."""
    p, f = os.path.normpath(os.path.abspath(path)), os.path.normpath(os.path.abspath(folder))
    return p == f or p.startswith(f + os.sep)


def exists(path: str) -> bool:
    """Whether an input path exists; a glob pattern exists when it matches something."""
    if any(c in path for c in "*?["):
        return bool(glob.glob(path))
    return Path(path).exists()


def lineage(cfg: Any) -> dict[str, dict[str, str]]:
    """What a DONE marker records as ``inputs``: name -> {"path", "id"} for every input that
    lies in a finished folder now."""
    out = {}
    for name, path in input_paths(cfg).items():
        ident = identity(path)
        if ident is not None:
            out[name] = {"path": path, "id": ident}
    return out


@dataclass(frozen=True)
class Stale:
    """One input whose identity changed since ``marker`` recorded it."""

    marker: Path
    name: str
    path: str
    recorded: str
    current: str | None

    def __str__(self) -> str:
        now = self.current or "missing or unfinished"
        return (
            f"input '{self.name}' ({self.path}) changed since {self.marker.parent} finished "
            f"(recorded {self.recorded}, now {now})"
        )


def recorded_inputs(marker: Path) -> dict[str, dict[str, str]]:
    done = _read_marker(marker.parent) or {}
    inputs = done.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def stale_inputs(folder: str | Path) -> list[Stale]:
    """Inputs of the finished ``folder`` whose identity differs from the one its DONE recorded.

    A CPT grid's runs carry markers of their own (each is a pretraining run), so they are
    checked too. A marker from before provenance was recorded has no ``inputs``: nothing to
    compare, nothing reported.
    """
    folder = Path(folder)
    markers = [folder / DONE_MARKER]
    if (folder / "grid.yaml").is_file():
        # runs moved aside by --force (runs/<name>.old-N) are history, not part of the grid
        markers += [
            m for m in sorted(folder.glob(f"runs/*/{DONE_MARKER}")) if ".old-" not in m.parent.name
        ]
    stale = []
    for marker in markers:
        if not marker.is_file():
            continue
        for name, rec in recorded_inputs(marker).items():
            if not isinstance(rec, dict) or not rec.get("id"):
                continue
            now = identity(rec.get("path"))
            if now != rec["id"]:
                stale.append(Stale(marker, name, str(rec.get("path")), rec["id"], now))
    return stale


def refuse_if_stale(folder: str | Path, what: str) -> None:
    """For a stage about to skip its finished ``folder``: refuse when the folder's inputs have
    changed since, naming the input and ``--force`` (``bridgelab study`` re-runs it itself)."""
    stale = stale_inputs(folder)
    if stale:
        raise RunFolderError(
            f"{folder} holds a {what} made from an older input: {stale[0]}; its results are "
            f"stale: pass --force to redo it (`bridgelab study` redoes stale stages itself)"
        )


def check_same_lineage(inputs: dict[str, str | None], *, what: str) -> None:
    """Refuse to combine results (the report) when one of ``inputs`` (name -> folder) was
    computed from another version of an input than the one that exists now."""
    for name, folder in inputs.items():
        if not folder or not Path(folder).exists():
            continue
        stale = stale_inputs(folder)
        if stale:
            raise RunFolderError(
                f"{what}: '{name}' ({folder}) belongs to another lineage: {stale[0]}; its "
                f"results cannot be combined with the others: redo that stage "
                f"(`bridgelab study` re-runs stale stages)"
            )
