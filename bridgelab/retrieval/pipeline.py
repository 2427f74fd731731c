"""`run(cfg)`: retrieve the top-k documents per probe and corpus, judge them, count and report.

Output folder::

    config.yaml                 resolved FrequencyConfig
    index/<corpus>/<kind>/      saved BM25 / FAISS indexes (reused when corpus and settings match)
    retrieved/<corpus>.jsonl    {"probe_id", "corpus", "query", "docs": [[doc_id, score], ...]}
    occurrences.jsonl           {"probe_id", "culture", "corpus", "occurrences", "retrieved", "k"}
    density.{csv,md,png}        cultural density per culture and corpus (with exact columns
                                when ``counts`` names a `bridgelab count` folder)
    agreement.{csv,md}          judge against exact counts (with ``counts``)
    instances.{csv,md,png}      transferred vs all facts (when probe_results are given)
    validation.{csv,md}         against the world's ground truth (when there is one)
    summary.json, DONE

Judgments live in the store (``judgments.sqlite`` unless ``store`` says otherwise), so a killed
run resumes where its judge stopped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from bridgelab.config import config_hash
from bridgelab.contracts.markers import (
    DONE_MARKER,
    is_done,
    mark_done,
    moved_aside,
    prepare_run_folder,
)
from bridgelab.contracts.provenance import lineage, refuse_if_stale
from bridgelab.errors import DataError
from bridgelab.retrieval.config import FrequencyConfig, JudgeConfig
from bridgelab.retrieval.density import density_table, instance_table
from bridgelab.retrieval.docstore import DocumentStore
from bridgelab.retrieval.exact import add_exact_columns, agreement_table, read_counts
from bridgelab.retrieval.inputs import Probe, load_probes, read_item_results, resolve_world
from bridgelab.retrieval.judges import Judge, JudgeRequest, get_judge
from bridgelab.retrieval.plots import plot_density, plot_instances
from bridgelab.retrieval.retrievers import RetrieverFactory
from bridgelab.retrieval.store import JudgmentStore
from bridgelab.retrieval.text import statement
from bridgelab.retrieval.validate import read_ground_truth, validation_table
from bridgelab.stage import Step, steps
from bridgelab.utils.io import atomic_write_json, atomic_write_jsonl
from bridgelab.utils.tables import write_table

log = logging.getLogger(__name__)


def judge_name(cfg: JudgeConfig) -> str:
    """The judge's identity in the store; equals the ``name`` of the object get_judge builds."""
    return "lexical" if cfg.kind == "lexical" else f"{cfg.kind}:{cfg.model}"


def build_judge(cfg: JudgeConfig) -> Judge:
    kw: dict[str, Any] = {}
    if cfg.kind != "lexical":
        kw = dict(model=cfg.model, template=cfg.template, max_doc_chars=cfg.max_doc_chars)
        kw["batch_size"] = cfg.batch_size
    if cfg.kind == "transformers":
        kw["device"] = cfg.device
    elif cfg.kind == "vllm":
        kw.update(
            tensor_parallel_size=cfg.tensor_parallel_size,
            max_model_len=cfg.max_model_len,
            gpu_memory_utilization=cfg.gpu_memory_utilization,
        )
    elif cfg.kind == "openai":
        kw.update(base_url=cfg.base_url, api_key_env=cfg.api_key_env, timeout_s=cfg.timeout_s)
    return get_judge(cfg.kind, **kw)


def searched_in(probe: Probe, lang: str, all_pairs: bool) -> bool:
    """English corpora and the probe's own languages (the paper's pairs), or everything."""
    return all_pairs or lang == "en" or lang in probe.versions


def plan(cfg: FrequencyConfig) -> list[Step]:
    try:
        cfg = resolve_world(cfg)
    except DataError as exc:
        return [Step(f"world not generated yet ({exc}); run `bridgelab synth` first")]
    factory = RetrieverFactory(cfg.retriever, Path(cfg.out_dir) / "index")
    lines = [
        f"corpus {name} ({cfg.lang_of(name)}): {path} -> {factory.kind_for(cfg.lang_of(name))} "
        f"top-{cfg.retriever.k}"
        for name, path in cfg.corpora.items()
    ]
    lines.append(f"probes: {', '.join(cfg.probes)}")
    try:
        probes = load_probes(cfg.probes)
    except DataError as exc:
        lines.append(f"probes not readable yet ({exc})")
    else:
        pairs = sum(
            searched_in(p, cfg.lang_of(c), cfg.all_pairs) for p in probes for c in cfg.corpora
        )
        lines.append(
            f"{len(probes)} probes, {pairs} probe-corpus pairs: at most "
            f"{pairs * cfg.retriever.k} judgments (stored ones are not asked again)"
        )
    lines.append(
        f"judge {judge_name(cfg.judge)} prompt {cfg.judge.prompt_version}, store {cfg.store_path}"
    )
    if cfg.ground_truth:
        lines.append(f"validate against {cfg.ground_truth}")
    if cfg.counts:
        lines.append(f"exact counts beside the judge from {cfg.counts}")
    if cfg.probe_results:
        lines.append(f"instance analysis with {len(cfg.probe_results)} probe-result file(s)")
    return [*steps(lines), Step("write occurrences, density and instance tables", out=cfg.out_dir)]


def summary(out: Path) -> list[str]:
    return [f"frequency analysis written to {out}"]


def run(cfg: FrequencyConfig, *, force: bool = False) -> Path:
    out = Path(cfg.out_dir)
    # without exact counts the hash stays what it was before `counts` existed: finished runs
    # remain finished
    digest = config_hash(cfg, exclude=() if cfg.counts else ("counts",))
    if is_done(out) and not force and (out / "summary.json").is_file():
        if json.loads((out / DONE_MARKER).read_text(encoding="utf-8")).get("config_hash") == digest:
            refuse_if_stale(out, "frequency analysis")
            log.info("%s is complete for this config; nothing to do", out)
            return out
    prepare_run_folder(out, force=force, what="frequency analysis")
    if cfg.store is None:
        _carry_store_forward(out)
    cfg.dump(out / "config.yaml")
    cfg = resolve_world(cfg)
    inputs = lineage(cfg)
    probes = load_probes(cfg.probes)
    truth = read_ground_truth(cfg.ground_truth) if cfg.ground_truth else {}
    factory = RetrieverFactory(cfg.retriever, out / "index")

    num_docs: dict[str, int] = {}
    retrieved: dict[tuple[str, str], list[str]] = {}
    requests: list[JudgeRequest] = []
    for corpus, path in cfg.corpora.items():
        store = DocumentStore.load(
            corpus, path, passage_chars=cfg.retriever.passage_chars, tokenizer=cfg.tokenizer
        )
        num_docs[corpus] = len(store)
        requests += _retrieve(cfg, factory, store, probes, truth, retrieved, out)

    labels = _judge(cfg, requests)
    k = cfg.retriever.k
    occurrences = [
        {
            "probe_id": probe.id,
            "culture": probe.culture,
            "corpus": corpus,
            "occurrences": sum(labels[(probe.id, d)] for d in retrieved[(probe.id, corpus)]),
            "retrieved": len(retrieved[(probe.id, corpus)]),
            "k": k,
        }
        for probe in probes
        for corpus in cfg.corpora
        if (probe.id, corpus) in retrieved
    ]
    atomic_write_jsonl(out / "occurrences.jsonl", occurrences)
    density = density_table(
        occurrences,
        num_docs,
        retriever={c: factory.describe(factory.kind_for(cfg.lang_of(c))) for c in cfg.corpora},
        k=k,
        judge=judge_name(cfg.judge),
        prompt_version=cfg.judge.prompt_version,
    )
    agreement = None
    if cfg.counts:
        counts = read_counts(cfg.counts)
        density = add_exact_columns(density, occurrences, counts)
        agreement = agreement_table(occurrences, counts, truth, k)
        write_table(agreement, out / "agreement")
    write_table(density, out / "density")
    plot_density(density, out / "density.png")
    summary: dict[str, Any] = {"density": density, "num_judgments": len(requests)}
    if agreement is not None:
        summary["agreement"] = agreement
    if cfg.probe_results:
        summary["instances"] = instance_table(
            occurrences,
            read_item_results(cfg.probe_results),
            {c: cfg.lang_of(c) for c in cfg.corpora},
            setting=cfg.transfer_setting,
            threshold=cfg.transfer_threshold,
        )
        write_table(summary["instances"], out / "instances")
        plot_instances(summary["instances"], out / "instances.png")
    if truth:
        summary["validation"] = validation_table(truth, retrieved, labels, k)
        write_table(summary["validation"], out / "validation")
    atomic_write_json(out / "summary.json", summary)
    mark_done(out, {"config_hash": digest, "inputs": inputs})
    return out


def _retrieve(
    cfg: FrequencyConfig,
    factory: RetrieverFactory,
    store: DocumentStore,
    probes: list[Probe],
    truth: dict[str, dict],
    retrieved: dict[tuple[str, str], list[str]],
    out: Path,
) -> list[JudgeRequest]:
    """Top-k documents of one corpus for its probes (into ``retrieved``); the judge requests."""
    lang, k = cfg.lang_of(store.name), cfg.retriever.k
    retriever = factory.open(store, factory.kind_for(lang))
    chosen = [p for p in probes if searched_in(p, lang, cfg.all_pairs)]
    items = [p.item_for(lang) for p in chosen]
    queries = [statement(item) for item in items]
    log.info("top-%d of %d documents in %s for %d probes", k, len(store), store.name, len(chosen))
    rows, requests = [], []
    for probe, item, query, hits in zip(chosen, items, queries, retriever.search(queries, k)):
        retrieved[(probe.id, store.name)] = [store.ids[h.doc] for h in hits]
        docs = [[store.ids[h.doc], h.score] for h in hits]
        rows.append({"probe_id": probe.id, "corpus": store.name, "query": query, "docs": docs})
        subject = truth.get(probe.id, {}).get("subject")
        if subject is not None and subject not in item.question:
            subject = None  # the recorded subject is in another language than this query
        requests += [
            JudgeRequest(
                probe_id=probe.id,
                doc_id=store.ids[h.doc],
                question=item.question,
                answer=item.answer,
                statement=query,
                document=store.passages[h.passage].text,
                subject=subject,
            )
            for h in hits
        ]
    atomic_write_jsonl(out / "retrieved" / f"{store.name}.jsonl", rows)
    return requests


def _carry_store_forward(out: Path) -> None:
    """After --force moved a finished run aside, start from its judgments: they are keyed by
    judge, prompt version, probe and document, so they stay valid under any other setting."""
    store = out / "judgments.sqlite"
    backups = [
        p / "judgments.sqlite" for p in moved_aside(out) if (p / "judgments.sqlite").is_file()
    ]
    if store.exists() or not backups:
        return
    import sqlite3

    with sqlite3.connect(backups[-1]) as src, sqlite3.connect(store) as dst:
        src.backup(dst)
    log.info("reusing the judgments of %s", backups[-1].parent)


def _judge(cfg: FrequencyConfig, requests: list[JudgeRequest]) -> dict[tuple[str, str], bool]:
    """Labels for every request, from the store or (for the missing ones) from the judge."""
    built: list[Judge] = []

    def ask(batch: list[JudgeRequest]):
        if not built:  # build the (possibly 70B) judge only when the store lacks answers
            built.append(build_judge(cfg.judge))
        return built[0].judge(batch)

    with JudgmentStore(cfg.store_path) as store:
        found = store.judge_all(
            judge_name(cfg.judge), cfg.judge.prompt_version, requests, ask, cfg.judge.batch_size
        )
    return {key: j.label for key, j in found.items()}
