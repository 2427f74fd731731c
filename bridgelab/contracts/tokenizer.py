"""A tokenizer folder as every stage opens it (docs/CONTRACTS.md, "Tokenizer").

A Hugging Face tokenizer folder plus ``bridgelab_tokenizer.json`` =
``{"hash", "vocab_size", "eos_token", "eos_id", "source"[, "clone_script"]}``, where ``hash`` is
the sha256 of the canonical ``tokenizer.json``. :func:`load_tokenizer` and
:func:`tokenizer_info` are the only ways other stages open one; `bridgelab tokenizer`
(:mod:`bridgelab.data.tokenizer`) builds them and writes the info with :func:`save_tokenizer`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from bridgelab.contracts.records import read_json
from bridgelab.errors import DataError
from bridgelab.utils.io import atomic_write_json

INFO_FILE = "bridgelab_tokenizer.json"


EOS_TOKEN = "<|endoftext|>"


def canonical_hash(tokenizer_json: Path) -> str:
    """sha256 of ``tokenizer.json`` with sorted keys and no whitespace (formatting-independent)."""
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_hf_folder(path: Path):
    from transformers import AutoTokenizer

    if not path.is_dir():
        raise DataError(f"tokenizer folder not found: {path}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:  # transformers raises OSError/ValueError/JSON errors alike
        raise DataError(f"{path}: not a loadable Hugging Face tokenizer folder ({exc})") from None
    if not getattr(tokenizer, "is_fast", False):
        raise DataError(f"{path}: only fast (tokenizer.json) tokenizers are supported")
    if tokenizer.eos_token is None:
        raise DataError(f"{path}: the tokenizer declares no EOS token")
    return tokenizer


def save_tokenizer(
    tokenizer: Any, out_dir: Path, source: str, *, clone_script: str = ""
) -> dict[str, Any]:
    """Save a fast HF tokenizer and its ``bridgelab_tokenizer.json``; return the info."""
    tokenizer.save_pretrained(str(out_dir))
    info = {
        "hash": canonical_hash(out_dir / "tokenizer.json"),
        "vocab_size": len(tokenizer),
        "eos_token": tokenizer.eos_token,
        "eos_id": tokenizer.eos_token_id,
        "source": source,
    }
    if clone_script:  # the token-level clone of English the tokenizer holds (data.clone)
        info["clone_script"] = clone_script
    atomic_write_json(out_dir / INFO_FILE, info)
    return info


def tokenizer_info(path: str | Path) -> dict[str, Any]:
    """The ``bridgelab_tokenizer.json`` of a tokenizer folder (checked against tokenizer.json)."""
    path = Path(path)
    info_path, json_path = path / INFO_FILE, path / "tokenizer.json"
    if not json_path.is_file():
        raise DataError(f"{path}: no tokenizer.json (not a tokenizer folder)")
    if not info_path.is_file():
        raise DataError(f"{path}: no {INFO_FILE}; create the folder with `bridgelab tokenizer`")
    info = read_json(info_path)
    if info.get("hash") != canonical_hash(json_path):
        raise DataError(f"{json_path}: changed since it was saved (hash differs from {info_path})")
    return info


def load_tokenizer(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(PreTrainedTokenizerFast, info) of a folder written by `bridgelab tokenizer`."""
    info = tokenizer_info(path)
    return load_hf_folder(Path(path)), info


def tokenizer_vocab(path: str | Path | None) -> int | None:
    """The vocabulary size a tokenizer folder records; None while it is not built yet (plans
    and compute estimates are made before the study runs)."""
    info = Path(path) / INFO_FILE if path else None
    if info is None or not info.is_file():
        return None
    return int(json.loads(info.read_text(encoding="utf-8"))["vocab_size"])
