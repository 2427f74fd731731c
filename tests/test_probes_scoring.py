"""Scorers on a tiny random Qwen2 checkpoint: direct computations, lm-eval, the official loop."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from bridgelab.contracts.records import ProbeItem, write_records
from bridgelab.errors import RunFolderError
from bridgelab.probes.config import ProbeConfig
from bridgelab.probes.models import build_null_model, load_model, load_tokenizer
from bridgelab.probes.scoring import ScorePolicy, cyclic_credit, decide, score_items
from bridgelab.probes.transfer import TransferConfig
from bridgelab.testing import save_tiny_qwen2, train_byte_bpe

torch.set_num_threads(1)

EN = [
    ("p0", "The capital of Aldoria is ___.", ["Vell", "Mora", "Tusk", "Quen"], "Mora"),
    ("p1", "___ is the river of the Kessan people.", ["Oro", "Lim", "Saba", "Ket"], "Oro"),
    ("p2", "People of Brynn eat ___ at weddings.", ["rice cakes", "fish", "dumplings", "honey"], "fish"),
    ("p3", "The Kessan festival happens in ___ every year.", ["spring", "winter", "June", "May"], "June"),
    ("p4", "Which animal do the Tovi herders keep?", ["yaks", "goats", "camels", "horses"], "yaks"),
    ("p5", "The song of Aldoria is called ___", ["Ama", "Ama", "Bel", "Cor"], "Bel"),
]  # fmt: skip
KO = ["알도리아의 수도는 ___이다.", "___은 케산 사람들의 강이다.", "브린 사람들은 결혼식에서 ___을 먹는다.",
      "케산 축제는 매년 ___에 열린다.", "토비 목동들은 어떤 동물을 키우는가?", "알도리아의 노래는 ___"]  # fmt: skip


def make_items(lang: str) -> list[ProbeItem]:
    return [
        ProbeItem(id=i, culture="c-ko", lang=lang, question=KO[n] if lang == "ko" else q,
                  options=tuple(opts), answer=ans)
        for n, (i, q, opts, ans) in enumerate(EN)
    ]  # fmt: skip


def build_checkpoint(folder, seed: int):
    """A tiny byte-level BPE tokenizer (EOS <|endoftext|>) and a random Qwen2, saved HF-style."""
    texts = [f"{q} {' '.join(o)}" for _, q, o, _ in EN] + KO
    return save_tiny_qwen2(folder, train_byte_bpe(texts, 320), seed=seed)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return build_checkpoint(tmp_path_factory.mktemp("ckpt"), seed=0)


@pytest.fixture(scope="module")
def lm(ckpt):
    return load_model(ckpt, device="cpu"), load_tokenizer(ckpt)


def test_loglik_equals_direct_log_probability(lm):
    model, tok = lm
    items = make_items("en")[:4]
    rows = score_items(model, tok, items, "loglik", batch_size=3)
    norm = score_items(model, tok, items, "loglik_norm", batch_size=3)
    for it, row, nrow in zip(items, rows, norm):
        context = it.question[: it.question.index("___")]
        for option, got, got_norm in zip(it.options, row.scores, nrow.scores):
            if context:  # lm-eval moves the context's trailing space into the continuation
                ctx_ids = tok.encode(context.rstrip())
                whole = tok.encode(context.rstrip() + context[len(context.rstrip()) :] + option)
            else:  # an empty context is replaced by the EOS (no BOS here) token
                ctx_ids, whole = [tok.eos_token_id], [tok.eos_token_id] + tok.encode(option)
            with torch.no_grad():
                logp = torch.log_softmax(model(torch.tensor([whole])).logits[0].float(), -1)
            direct = sum(float(logp[j - 1, whole[j]]) for j in range(len(ctx_ids), len(whole)))
            assert got == pytest.approx(direct, abs=1e-4)
            assert got_norm == pytest.approx(direct / len(option), abs=1e-4)


def test_paper_scorer_ranks_as_its_definition(lm):
    model, tok = lm
    items = make_items("en")[:4] + make_items("ko")[:4]
    rows = score_items(model, tok, items, "paper", batch_size=4)
    for it, row in zip(items, rows):
        losses = []
        for option in it.options:
            ids = torch.tensor(
                [[tok.eos_token_id] + tok.encode(it.question.replace("___", option))]
            )
            with torch.no_grad():
                losses.append(float(model(ids, labels=ids).loss))  # HF: mean CE of tokens 1..n
        assert row.scores == pytest.approx(losses, abs=1e-5)
        assert list(np.argsort(row.scores, kind="stable")) == list(
            np.argsort(losses, kind="stable")
        )
        assert row.pred == int(np.argmin(losses))


def _official_bf16(ckpt):
    """The model as the paper's src/main.py loads it: bf16 weights, float32 rotary buffers."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(ckpt), dtype=torch.bfloat16).eval()


def test_paper_exact_is_the_official_loop(lm, ckpt):
    model, tok = lm
    bf16 = _official_bf16(ckpt)
    items = make_items("en")
    rows = score_items(model, tok, items, "paper_exact")
    for it, row in zip(items, rows):
        # the loop of the paper's src/main.py: re.sub(r"_+", "<mask>"), dict keyed by option,
        # eos prepended, CrossEntropyLoss(reduction="mean") on bf16 logits, stable sort
        import re

        prompt = re.sub(r"_+", "<mask>", it.question)
        probs = {}
        for answer in it.options:
            enc = tok(prompt.replace("<mask>", answer), return_tensors="pt")["input_ids"]
            ids = torch.cat([torch.tensor([[tok.eos_token_id]]), enc], dim=-1)
            with torch.no_grad():
                logits = bf16(input_ids=ids).logits[0, :-1]
                probs[answer] = float(
                    torch.nn.CrossEntropyLoss(reduction="mean")(logits, ids[0, 1:])
                )
        ranked = [k for k, _ in sorted(probs.items(), key=lambda x: x[1])]
        assert row.scores == [probs[o] for o in it.options]
        assert it.options[row.pred] == ranked[0]
        assert row.correct == float(ranked[0] == it.answer)
    no_blank = rows[4]  # the sentence is the same for every option: a 4-way tie, order decides
    assert no_blank.tie and len(set(no_blank.scores)) == 1 and no_blank.pred == 0
    assert no_blank.correct == 1.0 and no_blank.perm_correct is None


def test_ties_split_credit_and_cyclic_permutations(lm):
    assert decide([1.0, 1.0, 2.0], ["a", "b", "c"], "b", higher_better=False, ties="split")[:3] == (
        0,
        0.5,
        True,
    )
    assert (
        decide([1.0, 1.0, 2.0], ["a", "b", "c"], "b", higher_better=False, ties="first")[1] == 0.0
    )
    # duplicate option texts are one option: no tie, full credit
    assert decide([3.0, 3.0, 1.0], ["x", "x", "y"], "x", higher_better=True, ties="split")[1:3] == (
        1.0,
        False,
    )
    # order-only decisions average to 1/k over cyclic shifts
    assert cyclic_credit([0.0] * 4, list("abcd"), "c", higher_better=True, ties="first") == 0.25
    model, tok = lm
    exact = score_items(model, tok, make_items("en"), "paper_exact", permutations="cyclic")
    assert exact[4].perm_correct == 0.25  # the no-blank item: credit 1 by order, 1/4 over shifts
    skip = ScorePolicy(no_blank="skip")
    ids = [r.item_id for r in score_items(model, tok, make_items("en"), "paper", policy=skip)]
    assert "p4" not in ids and len(ids) == 5


def test_batching_does_not_change_scores(lm):
    model, tok = lm
    items = make_items("en") + make_items("ko")
    one = score_items(model, tok, items, "loglik", batch_size=1)
    many = score_items(model, tok, items, "loglik", batch_size=7)
    for a, b in zip(one, many):
        assert a.scores == pytest.approx(b.scores, abs=1e-5)


@pytest.mark.slow
def test_acc_and_acc_norm_agree_with_lm_eval(ckpt, lm, tmp_path):
    lm_eval = pytest.importorskip("lm_eval")
    model, tok = lm
    items = [it for it in make_items("en") if it.id != "p5"]  # lm-eval needs the answer's index
    first = ScorePolicy(ties="first")  # lm-eval's argmax takes the first of tied options
    ours = {s: score_items(model, tok, items, s, policy=first) for s in ("loglik", "loglik_norm")}
    from bridgelab.probes.scoring import context_before_blank

    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"context": context_before_blank(it.question),
                                        "options": list(it.options),
                                        "gold": it.answer_index}) + "\n" for it in items))  # fmt: skip
    task = {
        "task": "bridgelab_cloze", "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}}, "test_split": "test",
        "output_type": "multiple_choice", "doc_to_text": "context", "doc_to_choice": "options",
        "doc_to_target": "gold", "target_delimiter": "",
        "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}],
    }  # fmt: skip
    out = lm_eval.simple_evaluate(
        model="hf", model_args={"pretrained": str(ckpt), "dtype": "float32", "device": "cpu"},
        tasks=[task], log_samples=True, batch_size=4,
    )  # fmt: skip
    samples = sorted(out["samples"]["bridgelab_cloze"], key=lambda s: s["doc_id"])
    assert len(samples) == len(items)
    for sample, acc_row, norm_row in zip(samples, ours["loglik"], ours["loglik_norm"]):
        lls = [r[0] for r in sample["filtered_resps"]]
        assert acc_row.scores == pytest.approx(lls, abs=1e-4)
        assert acc_row.correct == sample["acc"]
        assert norm_row.correct == sample["acc_norm"]


def test_null_model_is_seeded_and_random(ckpt, lm):
    model, _ = lm
    a = build_null_model(ckpt, seed=3, device="cpu")
    b = build_null_model(ckpt, seed=3, device="cpu")
    c = build_null_model(ckpt, seed=4, device="cpu")
    wa, wb, wc = (m.model.layers[0].mlp.up_proj.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert not torch.equal(wa, model.model.layers[0].mlp.up_proj.weight)


def test_probe_run_resumes_then_transfer(tmp_path, monkeypatch):
    from bridgelab.probes import evaluate, models, transfer

    world = tmp_path / "world"
    write_records(world / "probes" / "ko.en.jsonl", make_items("en"))
    write_records(world / "probes" / "ko.ko.jsonl", make_items("ko"))
    english = [ProbeItem(f"e{it.id}", "en-c0", "en", it.question, it.options, it.answer)
               for it in make_items("en")]  # fmt: skip
    write_records(world / "probes" / "en.en.jsonl", english)
    init = str(build_checkpoint(tmp_path / "init", 0))  # the model both runs start from
    runs = []
    for setting, seed in (("bridge", 1), ("nobridge", 2)):
        cks = [
            [s, str(build_checkpoint(tmp_path / setting / f"step{s}", seed + s))] for s in (5, 10)
        ]
        runs.append({"name": f"ko-{setting}-s0", "lang": "ko", "setting": setting, "seed": 0,
                     "run_dir": "", "status": "done", "checkpoints": cks,
                     "config": {"init_from": init}})  # fmt: skip
    (tmp_path / "grid").mkdir()
    (tmp_path / "grid" / "grid.json").write_text(json.dumps({"runs": runs}))
    data = {"out_dir": str(tmp_path / "probes"), "grid": str(tmp_path / "grid"), "device": "cpu",
            "probe_sets": [{"kind": "synthetic", "path": str(world), "langs": ["ko", "en"]}]}  # fmt: skip
    loads = []
    real_load = models.load_model
    monkeypatch.setattr(
        models, "load_model", lambda path, **kw: loads.append(path) or real_load(path, **kw)
    )
    out = evaluate.run(ProbeConfig.from_dict(data))
    # every checkpoint folder opened once: 4 CPT exports + the shared init model
    assert sorted(loads) == sorted({init, *(p for r in runs for _, p in r["checkpoints"])})
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    # (2 runs x 3 steps + 1 null model) x 3 sets (ko.en, ko.ko, en.en) x 3 scorers x 6 items
    assert len(rows) == 7 * 3 * 3 * 6
    assert {r["setting"] for r in rows} == {"bridge", "nobridge", "random-init"}
    step0 = [r for r in rows if r["step"] == 0 and r["setting"] != "random-init"]
    assert {r["run"] for r in step0} == {"ko-bridge-s0", "ko-nobridge-s0"}
    assert {r["checkpoint"] for r in step0} == {init}
    by_run = {}
    for r in step0:
        by_run.setdefault(r["run"], {})[(r["probe_set"], r["item_id"], r["scorer"])] = r["scores"]
    assert len(by_run["ko-bridge-s0"]) == 3 * 3 * 6
    assert by_run["ko-bridge-s0"] == by_run["ko-nobridge-s0"]
    unit = out / "items" / "ko-bridge-s0" / "step_000010" / "synthetic__ko.en.jsonl"
    others = sorted(p for p in (out / "items").rglob("*.jsonl") if p != unit)
    before = {p: os.stat(p).st_mtime_ns for p in others}
    unit.unlink()
    (out / "DONE").unlink()  # as if killed before the end
    loads.clear()
    evaluate.run(ProbeConfig.from_dict(data))
    assert unit.is_file() and {p: os.stat(p).st_mtime_ns for p in others} == before
    assert loads == [runs[0]["checkpoints"][1][1]]
    with pytest.raises(RunFolderError, match="another config"):
        evaluate.run(ProbeConfig.from_dict({**data, "batch_size": 3}))
    summary = (out / "summary.csv").read_text()
    assert "null_accuracy" in summary and "random-init" in summary
    tcfg = TransferConfig.from_dict(
        {"results": str(out), "out_dir": str(tmp_path / "tr"), "n_boot": 200}
    )
    tr = transfer.run(tcfg)
    for name in ("transfer.csv", "transfer.md", "curves_ko.png", "transfer_curves.png"):
        assert (tr / name).is_file(), name
    md = (tr / "transfer.md").read_text()
    assert "| ko | bridge | 10 |" in md and "random-init model" in md  # step -1: the last step
    import pandas as pd

    curves = pd.read_csv(tr / "transfer_curves.csv")
    assert sorted(set(curves["step"])) == [0, 5, 10]
    assert (curves[curves["step"] == 0]["diff"] == 0).all()  # both settings: the same model
    assert list(pd.read_csv(tr / "transfer.csv")["step"].unique()) == [10]
    forgetting = pd.read_csv(tr / "forgetting.csv")
    assert set(forgetting["step"]) == {0, 5, 10} and (tr / "forgetting.png").is_file()
    first = forgetting[forgetting["step"] == 0]
    assert set(first["setting"]) == {"bridge", "nobridge"} and (first["change"] == 0).all()
    assert first["accuracy"].nunique() == 1  # both runs start from the same model


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_paper_exact_does_not_depend_on_the_configured_dtype(ckpt, dtype, monkeypatch):
    """Issue 15: a bf16 copy made with .to(bfloat16) also cast the rotary inv_freq buffers, so
    dtype: float32 disagreed with the official scorer on 39 of 2,940 paper items."""
    from bridgelab.probes import scoring

    seen = []
    real = scoring.official_losses

    def spy(model, seqs):
        seen.append(model)
        return real(model, seqs)

    monkeypatch.setattr(scoring, "official_losses", spy)
    tok = load_tokenizer(ckpt)
    items = make_items("en")
    rows = score_items(load_model(ckpt, dtype=dtype, device="cpu"), tok, items, "paper_exact")
    used = seen[0]
    buffers = {n: b.dtype for n, b in used.named_buffers() if b.is_floating_point()}
    assert buffers and all(d == torch.float32 for d in buffers.values()), buffers
    assert {p.dtype for p in used.parameters()} == {torch.bfloat16}
    reference = score_items(_official_bf16(ckpt), tok, items, "paper_exact")
    assert [r.scores for r in rows] == [r.scores for r in reference]


@pytest.fixture(scope="module")
def qwen_tok():
    from transformers import PreTrainedTokenizerFast

    from bridgelab.data.tokenizer import build_qwen_tokenizer
    from tests.conftest import sample_data_dir

    tiktoken = sample_data_dir() / "tokenizers" / "qwen.tiktoken"  # skips without the samples
    return PreTrainedTokenizerFast(tokenizer_object=build_qwen_tokenizer(tiktoken))


@pytest.mark.parametrize(
    ("context", "option"),
    [
        ("They eat", "en"),  # a blank right after a word (`...eat___`): " eaten" is one token
        ("他们喜欢吃", "饭"),  # Han has no spaces: "吃饭" is one token
    ],
)
@pytest.mark.slow
def test_lm_eval_split_is_not_clean_across_a_merged_boundary(qwen_tok, context, option):
    """docs/probes.md: lm-eval's split encode(ctx + option)[len(encode(ctx)):] breaks where BPE
    merges across the blank; bridgelab then encodes the option on its own."""
    from bridgelab.probes.scoring import encode_pair

    whole, ctx = qwen_tok.encode(context + option), qwen_tok.encode(context)
    assert whole[: len(ctx)] != ctx  # lm-eval's continuation would start inside the context
    got_ctx, cont = encode_pair(qwen_tok, context, option)
    assert got_ctx == ctx and cont == qwen_tok.encode(option)
    # with a space before the blank the split is clean and is lm-eval's
    ctx2, cont2 = encode_pair(qwen_tok, "The roof of a yurt is ", "felt")
    assert ctx2 + cont2 == qwen_tok.encode("The roof of a yurt is felt")
