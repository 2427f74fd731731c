"""`bridgelab check-mixture`: verify scientific control 2 from what is really in the shards.

For each mixture folder it re-reads the token stream and the per-document rows, and:

- re-tokenizes every stored sentence with the mixture's tokenizer and compares the ids with the
  tokens at that place in the shard (a row that lies about its tokens is caught), and checks
  the document layout (SEP between sentences, EOS last, nothing else);
- walks the training windows exactly as the trainer does (``TokenCorpus.window_range`` /
  ``docs_in_window``) and, per pair, finds whether some window holds tokens of both halves
  (co-occurring) or both whole sentences (bridged);
- compares the settings of each language: same token total, same multiset of sentences
  (pair id, language, text, tokens) and the same monolingual/replay documents.

Violations: without bridges (and code-switched), a co-occurring pair; with bridges, a pair that
is not bridged.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bridgelab.contracts.shards import TokenCorpus
from bridgelab.cpt.mixture import STAGE
from bridgelab.errors import DataError
from bridgelab.utils.io import atomic_write_json


def _digest(tokens: Any) -> str:
    return hashlib.sha1(tokens.astype("int64").tobytes()).hexdigest()


def check_mixture(path: str | Path) -> dict[str, Any]:
    """The isolation and integrity report of one mixture folder, plus its comparison keys."""
    from bridgelab.contracts.tokenizer import load_tokenizer

    corpus = TokenCorpus(path)
    meta = corpus.manifest.get("meta", {})
    if meta.get("stage") != STAGE:
        raise DataError(
            f"{path}/manifest.json: not a CPT mixture (meta.stage is {meta.get('stage')!r})"
        )
    seq_len, eos, sep = int(meta["seq_len"]), corpus.eos_id, int(meta["separator_id"])
    tokenizer, info = load_tokenizer(meta["tokenizer"])
    if info["hash"] != corpus.tokenizer_hash:
        raise DataError(
            f"{path}: shards were written with another tokenizer than {meta['tokenizer']}"
        )
    problems: list[str] = []
    sentences: Counter = Counter()
    filler_hash, filler_tokens = hashlib.sha1(), 0  # the filler stream, in order
    seg_tokens: list[tuple[str, list[int]]] = []
    spans: dict[str, list[tuple[str, int, int]]] = defaultdict(list)  # doc id -> segments
    for doc, toks in tqdm(
        corpus.iter_docs(), total=len(corpus.docs), desc=f"read {path}", leave=False
    ):
        whole = "span" not in doc.info  # filler pieces are cut where a window ends
        if doc.length == 0 or (whole and toks[-1] != eos):
            problems.append(f"document {doc.id} does not end with EOS")
        segments = doc.info.get("segments")
        if not segments:
            filler_hash.update(toks.astype("int64").tobytes())
            filler_tokens += doc.length
            continue
        pos = 0
        for k, seg in enumerate(segments):
            if k == 0 and seg["start"] != 0:
                problems.append(f"document {doc.id}: tokens before its first sentence")
            if k and (seg["start"] != pos + 1 or toks[pos] != sep):
                problems.append(f"document {doc.id}: segment {k} is not preceded by the separator")
            piece = toks[seg["start"] : seg["start"] + seg["length"]]
            pos = seg["start"] + seg["length"]
            seg_tokens.append((seg["text"], piece.tolist()))
            sentences[(seg["pair_id"], seg["lang"], seg["text"], _digest(piece))] += 1
            start = doc.start + seg["start"]
            spans[doc.id].append((f"{seg['pair_id']}\t{seg['lang']}", start, start + seg["length"]))
        if pos != doc.length - 1:
            problems.append(
                f"document {doc.id}: {doc.length - 1 - pos} tokens outside its sentences"
            )
    texts = [t for t, _ in seg_tokens]
    encoded = [] if not texts else tokenizer(texts, add_special_tokens=False)["input_ids"]
    retok = [t for (t, ids), enc in zip(seg_tokens, encoded) if list(enc) != ids]
    problems += [f"stored tokens do not re-tokenize to the sentence {t[:50]!r}" for t in retok[:5]]

    # Walk the training windows with the trainer's own definition.
    trained: set[str] = set()  # pairs with at least one token in some window
    cooccur: set[str] = set()
    bridged: set[str] = set()
    for w in tqdm(range(corpus.num_windows(seq_len)), desc="windows", leave=False):
        lo, hi = corpus.window_range(w, seq_len)
        touched: dict[str, set[str]] = defaultdict(set)
        whole: dict[str, set[str]] = defaultdict(set)
        for doc in corpus.docs_in_range(lo, hi):
            for key, start, end in spans.get(doc.id, ()):
                pair_id, lang = key.split("\t")
                if start < hi and end > lo:
                    touched[pair_id].add(lang)
                if lo <= start and end <= hi:
                    whole[pair_id].add(lang)
        cooccur.update(p for p, langs in touched.items() if len(langs) > 1)
        bridged.update(p for p, langs in whole.items() if len(langs) > 1)
        trained.update(touched)
    pair_ids = list(meta.get("pair_ids", []))
    seen = Counter((k[0], k[1]) for k in sentences.elements())
    incomplete = [p for p in pair_ids if seen[(p, "en")] != 1 or seen[(p, meta["lang"])] != 1]
    problems += [f"pair {p} does not appear exactly once per language" for p in incomplete[:5]]
    unlisted = {k[0] for k in sentences} - set(pair_ids)
    problems += [
        f"pair {p} is in the shards but not in manifest.meta.pair_ids" for p in sorted(unlisted)[:5]
    ]
    isolate = meta["setting"] != "bridge"
    violations = len(cooccur) if isolate else len(set(pair_ids) - bridged)
    tail = corpus.num_tokens - corpus.num_windows(seq_len) * (seq_len + 1)
    untrained = [p for p in pair_ids if p not in trained]
    problems += [f"pair {p} lies in no training window (stream tail)" for p in untrained[:5]]
    if violations:
        problems.append(
            f"{violations} isolation violations ({'pairs sharing a window' if isolate else 'pairs not bridged'})"
        )
    return {
        "path": str(path), "lang": meta["lang"], "setting": meta["setting"], "seq_len": seq_len,
        "num_tokens": corpus.num_tokens, "num_windows": corpus.num_windows(seq_len),
        "tail_tokens": tail, "pairs": len(pair_ids), "cooccurring_pairs": len(cooccur),
        "bridged_pairs": len(bridged), "violations": violations, "retokenize_errors": len(retok),
        "sentences": sum(sentences.values()), "problems": problems,
        "filler_tokens": filler_tokens,
        "_sentences": sentences, "_fillers": filler_hash.hexdigest(), "_tokenizer": corpus.tokenizer_hash,
    }  # fmt: skip


def _compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    same = {
        "same_tokens": a["num_tokens"] == b["num_tokens"],
        "same_seq_len": a["seq_len"] == b["seq_len"],
        "same_tokenizer": a["_tokenizer"] == b["_tokenizer"],
        "same_sentences": a["_sentences"] == b["_sentences"],
        "same_fillers": a["_fillers"] == b["_fillers"],
    }
    diff = (a["_sentences"] - b["_sentences"]) + (b["_sentences"] - a["_sentences"])
    return {"lang": a["lang"], "a": a["path"], "b": b["path"], **same,
            "sentences_differing": sum(diff.values()), "ok": all(same.values())}  # fmt: skip


def check_mixtures(paths: list[str | Path]) -> dict[str, Any]:
    """Report on every mixture, and on every pair of settings of the same language."""
    reports = [check_mixture(p) for p in paths]
    comparisons = []
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in reports:
        by_lang[r["lang"]].append(r)
    for group in by_lang.values():
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                comparisons.append(_compare(group[i], group[j]))
    mixtures = [{k: v for k, v in r.items() if not k.startswith("_")} for r in reports]
    ok = all(not m["problems"] for m in mixtures) and all(c["ok"] for c in comparisons)
    return {"ok": ok, "mixtures": mixtures, "comparisons": comparisons}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="mixture folders (all settings of a language)")
    parser.add_argument("--json", help="also write the full report to this file")


def main(args: argparse.Namespace) -> int:
    report = check_mixtures(args.paths)
    for m in report["mixtures"]:
        print(
            f"{m['lang']}/{m['setting']:<10} tokens {m['num_tokens']:>10} windows {m['num_windows']:>7} "
            f"pairs {m['pairs']:>6} co-occurring {m['cooccurring_pairs']:>6} bridged "
            f"{m['bridged_pairs']:>6} violations {m['violations']} retokenize errors {m['retokenize_errors']}"
        )
        for p in m["problems"]:
            print(f"  problem: {p}")
    for c in report["comparisons"]:
        flags = " ".join(f"{k}={'yes' if c[k] else 'NO'}" for k in c if k.startswith("same_"))
        print(f"{c['lang']}: {Path(c['a']).name} vs {Path(c['b']).name}: {flags}")
    if args.json:
        atomic_write_json(args.json, report)
    print("OK" if report["ok"] else "FAILED")
    return 0 if report["ok"] else 1
