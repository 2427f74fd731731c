"""`FrequencyConfig`: which corpora and probes, how to retrieve, how to judge, where to write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bridgelab.config import Config, check_corpus_selection, param
from bridgelab.errors import ConfigError

# Versioned judge prompts. A new wording gets a new key: the judgment store is keyed by the
# version, so answers given to one wording are never reused for another.
PROMPTS: dict[str, str] = {
    "v1": (
        "You are checking whether a document states a fact.\n\n"
        "Fact: {statement}\n\n"
        "Document:\n{document}\n\n"
        "Does the document state the fact above? Answer Yes or No.\n"
        "Answer:"
    ),
}


@dataclass
class RetrieverConfig(Config):
    kind: Literal["dense", "bm25", "hybrid"] = param(
        "hybrid",
        help="retriever for English corpora: dense, bm25 or hybrid (reciprocal-rank fusion)",
    )
    kind_non_english: Literal["dense", "bm25", "hybrid"] = param(
        "bm25",
        help="retriever for non-English corpora; the default embedder is English-only, so BM25 "
        "unless `model` is multilingual",
    )
    model: str | None = param(
        None,
        help="sentence-transformers model name or folder (None: the bundled all-MiniLM-L6-v2)",
    )
    index: Literal["auto", "flat", "ivf", "hnsw"] = param(
        "auto", help="FAISS index; auto = flat up to flat_max_passages, else HNSW"
    )
    flat_max_passages: int = param(200_000, help="largest corpus that auto indexes exactly")
    nlist: int | None = param(None, help="IVF cells (None: 4*sqrt(passages))")
    nprobe: int = param(16, help="IVF cells searched per query")
    hnsw_m: int = param(32, help="HNSW neighbours per node")
    ef_search: int = param(128, help="HNSW search breadth")
    use_gpu: bool = param(True, help="move flat/IVF indexes to the GPU when faiss-gpu sees one")
    batch_size: int = param(64, help="passages embedded per batch")
    device: str | None = param(None, help="embedding device (None: sentence-transformers picks)")
    k: int = param(50, help="documents retrieved per probe and corpus (the paper: 50)")
    rrf_k: int = param(60, help="reciprocal-rank-fusion constant")
    passage_chars: int = param(
        1500, help="documents are split into passages of at most this many characters"
    )

    def validate(self) -> None:
        super().validate()
        for key in ("k", "batch_size", "passage_chars", "nprobe", "hnsw_m", "ef_search"):
            if getattr(self, key) < 1:
                raise ConfigError(f"retriever.{key}: must be at least 1")


@dataclass
class JudgeConfig(Config):
    kind: Literal["lexical", "transformers", "vllm", "openai"] = param(
        "lexical", help="judge backend: lexical rule, transformers, vllm (offline) or openai (HTTP)"
    )
    model: str | None = param(None, help="judge model name or folder (LLM judges)")
    prompt_version: str = param("v1", help="key of the prompt template; part of the store key")
    prompt: str | None = param(
        None,
        help="custom template with {statement} {question} {answer} {document}; needs a new "
        "prompt_version",
    )
    batch_size: int = param(32, help="requests per backend call (and per store commit)")
    max_doc_chars: int = param(2000, help="document text shown to the judge is cut here")
    tensor_parallel_size: int = param(1, help="vllm: GPUs per model replica")
    max_model_len: int | None = param(None, help="vllm: context length (None: the model's)")
    gpu_memory_utilization: float = param(0.9, help="vllm: share of GPU memory to use")
    base_url: str | None = param(None, help="openai: endpoint, e.g. http://localhost:8000/v1")
    api_key_env: str = param("OPENAI_API_KEY", help="openai: environment variable holding the key")
    timeout_s: float = param(120.0, help="openai: seconds per HTTP request")
    device: str | None = param(None, help="transformers: device (None: cuda when present)")

    @property
    def template(self) -> str:
        return self.prompt if self.prompt is not None else PROMPTS[self.prompt_version]

    def validate(self) -> None:
        super().validate()
        if self.prompt is None and self.prompt_version not in PROMPTS:
            raise ConfigError(
                f"judge.prompt_version: '{self.prompt_version}' is not a built-in prompt "
                f"({', '.join(PROMPTS)}); give judge.prompt too"
            )
        if self.prompt is not None and self.prompt_version in PROMPTS:
            raise ConfigError(
                "judge.prompt_version: a custom prompt needs its own version name, not a "
                "built-in one, so the store never mixes their answers"
            )
        if self.prompt is not None and "{document}" not in self.prompt:
            raise ConfigError("judge.prompt: the template must contain {document}")
        if self.kind in ("transformers", "vllm", "openai") and not self.model:
            raise ConfigError(f"judge.model: the {self.kind} judge needs a model")
        if self.kind == "openai" and not self.base_url:
            raise ConfigError("judge.base_url: the openai judge needs an endpoint")
        if self.batch_size < 1 or self.tensor_parallel_size < 1:
            raise ConfigError("judge.batch_size and judge.tensor_parallel_size must be >= 1")


@dataclass
class FrequencyConfig(Config):
    out_dir: str = param("runs/frequency", help="output folder")
    world: str | None = param(
        None,
        help="synthetic world folder: supplies corpora, probes and ground truth where those "
        "keys are empty",
    )
    corpora: dict[str, str] = param(
        {}, help="corpus name -> Document JSONL (.gz/.xz) or token-shard folder"
    )
    corpus_langs: dict[str, str] = param(
        {}, help="corpus name -> language (default: the name itself)"
    )
    tokenizer: str | None = param(
        None, help="tokenizer folder, to decode shard-folder corpora back to text"
    )
    probes: list[str] = param(
        [], help="probe files (ProbeItem JSONL, or sets load_probe_set reads)"
    )
    all_pairs: bool = param(
        False,
        help="search every probe in every corpus (default: English plus the probe's own languages)",
    )
    ground_truth: str | None = param(None, help="ground_truth.jsonl for validation")
    counts: str | None = param(
        None,
        help="a finished `bridgelab count` folder: adds exact columns to the density table and "
        "writes agreement.{csv,md} (judge against exact counts; None: neither)",
    )
    probe_results: list[str] = param(
        [], help="item-level probe results (JSONL) for the instance-level analysis"
    )
    transfer_setting: str = param("bridge", help="setting whose runs define transferred facts")
    transfer_threshold: float = param(0.5, help="mean credit counted as knowing a fact")
    store: str | None = param(None, help="judgment SQLite file (None: <out_dir>/judgments.sqlite)")
    retriever: RetrieverConfig = param(RetrieverConfig(), help="retrieval settings")
    judge: JudgeConfig = param(JudgeConfig(), help="judge settings")

    @property
    def store_path(self) -> Path:
        return Path(self.store) if self.store else Path(self.out_dir) / "judgments.sqlite"

    def lang_of(self, corpus: str) -> str:
        return self.corpus_langs.get(corpus, corpus)

    def validate(self) -> None:
        super().validate()
        check_corpus_selection(self)
