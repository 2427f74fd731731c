"""`bridgelab check-corpus PATH`: an independent scan of written token shards.

It trusts nothing the prepare stage recorded except the token ids: every document is decoded
with the tokenizer whose hash the manifest names, and each character outside the allowed
scripts is reported, together with duplicate ids, documents that do not end with EOS, and
token counts that disagree with the manifest. Exit status 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bridgelab.contracts.scripts import outside_scripts_pattern
from bridgelab.contracts.shards import TokenCorpus
from bridgelab.errors import DataError

MAX_EXAMPLES = 20


def check_corpus(
    path: str | Path,
    *,
    scripts: list[str] | None = None,
    tokenizer_path: str | Path | None = None,
    batch_size: int = 256,
    progress: bool = True,
) -> dict[str, Any]:
    """Scan a shard folder; return a report whose ``ok`` is False on any violation.

    ``scripts`` defaults to the scripts the prepare stage stripped the text to.
    """
    from bridgelab.contracts.tokenizer import load_tokenizer

    corpus = TokenCorpus(path)
    meta = corpus.manifest.get("meta", {})
    scripts = scripts or meta.get("scripts")
    if not scripts:
        raise DataError(f"{path}: its characters were not stripped to a script; pass --scripts")
    tok_path = tokenizer_path or meta.get("tokenizer_path")
    if not tok_path:
        raise DataError(f"{path}: the manifest names no tokenizer; pass --tokenizer")
    tokenizer, info = load_tokenizer(tok_path)
    if info["hash"] != corpus.tokenizer_hash:
        raise DataError(
            f"{tok_path}: tokenizer hash {info['hash'][:12]} differs from the shards' "
            f"{corpus.tokenizer_hash[:12]}; pass the tokenizer the shards were written with"
        )
    pattern = outside_scripts_pattern(tuple(scripts))
    # every id must index the tokenizer's vocabulary: decoding would silently skip or crash on
    # one that does not, and training would fail with an embedding IndexError
    vocab = int(info["vocab_size"])
    num_oov, oov = corpus.out_of_vocab(vocab, limit=MAX_EXAMPLES)
    docs = corpus.docs
    id_counts = Counter(d.id for d in docs)
    duplicates = sorted(i for i, n in id_counts.items() if n > 1)
    chars_outside: Counter = Counter()
    examples: list[dict[str, Any]] = []
    docs_with_violations = 0
    no_eos = []
    covered = 0
    for start in tqdm(range(0, len(docs), batch_size), desc="check-corpus", disable=not progress):
        batch = docs[start : start + batch_size]
        seqs = [corpus.doc_tokens(d) for d in batch]
        for doc, seq in zip(batch, seqs):
            covered += doc.length
            if not len(seq) or int(seq[-1]) != corpus.eos_id:
                no_eos.append(doc.id)
        # out-of-vocabulary ids are reported above; the rest of the text is still scanned
        texts = tokenizer.batch_decode([[i for i in s[:-1].tolist() if i < vocab] for s in seqs])
        for doc, text in zip(batch, texts):
            found = pattern.findall(text)
            if found:
                docs_with_violations += 1
                chars_outside.update(found)
                if len(examples) < MAX_EXAMPLES:
                    examples.append({"id": doc.id, "chars": sorted(set(found))[:10]})
    count_problems = []
    if covered != corpus.num_tokens:
        count_problems.append(
            f"documents cover {covered} tokens, the stream holds {corpus.num_tokens}"
        )
    if len(docs) != corpus.manifest["num_docs"]:
        count_problems.append(
            f"{len(docs)} documents indexed, manifest says {corpus.manifest['num_docs']}"
        )
    report = {
        "path": str(path),
        "scripts": scripts,
        "num_docs": len(docs),
        "num_tokens": corpus.num_tokens,
        "tokens_per_shard": {s["name"]: s["num_tokens"] for s in corpus.manifest["shards"]},
        "non_script_chars": sum(chars_outside.values()),
        "docs_with_non_script_chars": docs_with_violations,
        "top_non_script_chars": [[c, n] for c, n in chars_outside.most_common(20)],
        "examples": examples,
        "duplicate_ids": duplicates[:MAX_EXAMPLES],
        "num_duplicate_ids": len(duplicates),
        "docs_without_eos": no_eos[:MAX_EXAMPLES],
        "count_problems": count_problems,
        "vocab_size": vocab,
        "num_out_of_vocab": num_oov,
        "out_of_vocab": oov,
    }
    report["ok"] = not (chars_outside or duplicates or no_eos or count_problems or num_oov)
    return report


def _print_report(report: dict[str, Any]) -> None:
    print(f"{report['path']}: {report['num_docs']} documents, {report['num_tokens']} tokens")
    print(f"  allowed scripts: {', '.join(report['scripts'])} (+ Common, Inherited)")
    print(
        f"  characters outside them: {report['non_script_chars']} "
        f"in {report['docs_with_non_script_chars']} documents"
    )
    for ex in report["examples"][:5]:
        print(f"    {ex['id']}: {' '.join(ex['chars'])}")
    print(f"  duplicate ids: {report['num_duplicate_ids']} {report['duplicate_ids'][:5]}")
    print(f"  documents without EOS: {len(report['docs_without_eos'])}")
    print(
        f"  token ids outside the vocabulary of {report['vocab_size']}: "
        f"{report['num_out_of_vocab']}"
    )
    for bad in report["out_of_vocab"][:5]:
        print(f"    {bad['shard']} offset {bad['offset']}: id {bad['id']}")
    for problem in report["count_problems"]:
        print(f"  count mismatch: {problem}")
    print("  OK" if report["ok"] else "  VIOLATIONS FOUND")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="shard folder written by `bridgelab prepare`")
    parser.add_argument(
        "--scripts", nargs="+", help="allowed Unicode scripts (default: those the manifest records)"
    )
    parser.add_argument("--tokenizer", help="tokenizer folder (default: the manifest's)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def main(args: argparse.Namespace) -> int:
    report = check_corpus(
        args.path, scripts=args.scripts, tokenizer_path=args.tokenizer, progress=not args.json
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    return 0 if report["ok"] else 1
