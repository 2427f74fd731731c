"""Opening checkpoints for scoring, and the null model: the same architecture, random weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from bridgelab.errors import DataError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DataError(f"device: '{name}' requested but CUDA is not available")
    return torch.device(name)


def load_tokenizer(path: str | Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot load the tokenizer ({exc})") from None


def load_model(path: str | Path, *, dtype: str = "float32", device: str = "auto") -> Any:
    """An HF causal LM from a checkpoint folder, in eval mode, on ``device``."""
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=DTYPES[dtype])
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot load the model ({exc})") from None
    return model.to(resolve_device(device)).eval()


def build_null_model(
    path: str | Path, *, seed: int, dtype: str = "float32", device: str = "auto"
) -> Any:
    """A randomly initialised model of the checkpoint's architecture (its config.json), seeded.

    Scoring it with the same scorer and tokenizer shows what the probe set and scorer give a
    model that knows nothing: option-length and option-order effects and ties show up here.
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(path))
    # Seed the global generator only for the initialisation, then restore it for the caller.
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = AutoModelForCausalLM.from_config(config, dtype=DTYPES[dtype])
    finally:
        torch.random.set_rng_state(state)
    return model.to(resolve_device(device)).eval()
