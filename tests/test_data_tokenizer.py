"""Tokenizer stage: trained BPE folder, hash checks, and the Qwen tokenizer against tiktoken."""

from __future__ import annotations

import base64
import json

import pytest

from bridgelab.cli import main as cli_main
from bridgelab.contracts.tokenizer import load_tokenizer, tokenizer_info
from bridgelab.data.readers import SourceConfig
from bridgelab.data.tokenizer import (
    QWEN_PATTERN,
    QWEN_SPECIAL_TOKENS,
    TokenizerConfig,
    build_qwen_tokenizer,
    run,
)
from bridgelab.errors import ConfigError, DataError, RunFolderError

TEXTS = {
    "en": "The river culture of Varnel keeps a festival of lanterns every spring.",
    "ko": "바르넬의 강 문화는 매년 봄 등불 축제를 연다.",
    "zh": "瓦尔内尔的河流文化每年春天举办灯笼节。",
    "bo": "བར་ནེལ་གྱི་ཆུ་བོའི་རིག་གནས་ལ་དཔྱིད་ཀ་རེ་རེར་སྒྲོན་མེའི་དུས་ཆེན་ཡོད།",
    "mn": "ᠪᠠᠷᠨᠧᠯ ᠤᠨ ᠭᠣᠣᠯ ᠤᠨ ᠰᠣᠶᠣᠯ ᠵᠢᠯ ᠪᠦᠷᠢ ᠬᠠᠪᠤᠷ ᠳᠡᠩ ᠦᠨ ᠪᠠᠶᠠᠷ ᠲᠡᠮᠳᠡᠭᠯᠡᠳᠡᠭ᠃",
}


def _corpora(root):
    corpora = []
    for lang, text in TEXTS.items():
        path = root / f"{lang}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(30):
                fh.write(
                    json.dumps({"id": f"{lang}{i}", "text": f"{text} {i}"}, ensure_ascii=False)
                    + "\n"
                )
        corpora.append(SourceConfig(lang=lang, path=path.name))
    return corpora


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tok")
    cfg = TokenizerConfig(
        out_dir=str(root / "bpe"), data_root=str(root), corpora=_corpora(root), vocab_size=400
    )
    return run(cfg), cfg


def test_trained_bpe_loads_with_autotokenizer_and_round_trips(bpe_dir):
    from transformers import AutoTokenizer

    path, _ = bpe_dir
    tok = AutoTokenizer.from_pretrained(str(path))
    info = tokenizer_info(path)
    assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id == info["eos_id"] == 0
    assert "<|endoftext|>" in tok.all_special_tokens
    assert info["vocab_size"] == len(tok) == 400 and len(info["hash"]) == 64
    for text in TEXTS.values():
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.decode(ids) == text and info["eos_id"] not in ids
    # the EOS string in text is a single special token, never split into bytes
    assert tok.encode("a<|endoftext|>", add_special_tokens=False)[-1] == 0


def test_rerun_skips_and_other_config_is_refused(bpe_dir):
    path, cfg = bpe_dir
    before = (path / "tokenizer.json").stat().st_mtime_ns
    assert run(cfg) == path
    assert (path / "tokenizer.json").stat().st_mtime_ns == before
    cfg2 = TokenizerConfig(**{**cfg.__dict__, "vocab_size": 500})
    with pytest.raises(RunFolderError, match="another config"):
        run(cfg2)


def test_load_tokenizer_detects_changes_and_bad_folders(bpe_dir, tmp_path):
    path, _ = bpe_dir
    tok, info = load_tokenizer(path)
    assert info == tokenizer_info(path) and tok.eos_token_id == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in path.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    data = json.loads((copy / "tokenizer.json").read_text(encoding="utf-8"))
    data["model"]["vocab"]["zzz-extra"] = 9999
    (copy / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match="changed since it was saved"):
        load_tokenizer(copy)
    (copy / "tokenizer.json").write_text("{not json", encoding="utf-8")
    (copy / "bridgelab_tokenizer.json").unlink()
    with pytest.raises(DataError):
        tokenizer_info(copy)
    with pytest.raises(DataError, match="no tokenizer.json"):
        load_tokenizer(tmp_path / "missing")
    with pytest.raises(ConfigError, match="corpora"):
        TokenizerConfig.from_dict({"kind": "bpe"})


def test_cli_dry_run_touches_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    assert (
        cli_main(
            ["tokenizer", "-c", "configs/data/tokenizer_synth.yaml", f"out_dir={out}", "--dry-run"]
        )
        == 0
    )
    assert "train a byte-level BPE of 6000 tokens on 5 corpora" in capsys.readouterr().out
    assert not out.exists()


@pytest.mark.slow
def test_qwen_tokenizer_matches_tiktoken(sample_data, tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    from tiktoken.load import load_tiktoken_bpe

    from bridgelab.data.sources import read_mono

    rank_file = sample_data / "tokenizers" / "qwen.tiktoken"
    cfg = TokenizerConfig(out_dir=str(tmp_path / "qwen"), kind="tiktoken", path=str(rank_file))
    tok, info = load_tokenizer(run(cfg))
    assert info["eos_id"] == 151643 and info["vocab_size"] == 151665
    assert tok.convert_tokens_to_ids(["<|im_start|>", "<|file_sep|>"]) == [151644, 151664]
    specials = {t: 151643 + i for i, t in enumerate(QWEN_SPECIAL_TOKENS)}
    enc = tiktoken.Encoding(
        "qwen",
        pat_str=QWEN_PATTERN,
        mergeable_ranks=load_tiktoken_bpe(str(rank_file)),
        special_tokens=specials,
    )
    texts = [" Hello  world!\n\n12345 don't", "naïve café Straße", *TEXTS.values()]
    for lang in ("en", "ko", "zh", "bo", "mn"):
        docs = read_mono(lang, sample_data)
        texts += [next(docs).text[:3000], next(docs).text[:3000]]
    # the HF tokenizer normalises to NFC, tiktoken does not: compare on NFC text
    import unicodedata

    for text in texts:
        nfc = unicodedata.normalize("NFC", text)
        assert tok.encode(nfc, add_special_tokens=False) == enc.encode_ordinary(nfc)
    assert tok.encode("hi<|endoftext|>", add_special_tokens=False) == enc.encode(
        "hi<|endoftext|>", allowed_special="all"
    )


def test_bad_tiktoken_files(tmp_path):
    bad = tmp_path / "bad.tiktoken"
    bad.write_text("!!notbase64 x\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.tiktoken: not a readable tiktoken rank file"):
        build_qwen_tokenizer(bad)
    small = tmp_path / "small.tiktoken"
    small.write_text("".join(f"{base64.b64encode(bytes([b])).decode()} {b}\n" for b in range(256)))
    with pytest.raises(DataError, match="expected 151,643 ranks"):
        build_qwen_tokenizer(small)
    with pytest.raises(DataError, match="not found"):
        build_qwen_tokenizer(tmp_path / "missing.tiktoken")


def test_hf_folder_is_copied_with_the_same_hash(bpe_dir, tmp_path):
    path, _ = bpe_dir
    copied = run(TokenizerConfig(out_dir=str(tmp_path / "copy"), kind="hf", path=str(path)))
    assert tokenizer_info(copied)["hash"] == tokenizer_info(path)["hash"]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="broken: not a loadable Hugging Face tokenizer folder"):
        run(TokenizerConfig(out_dir=str(tmp_path / "out"), kind="hf", path=str(broken)))


def _train_bpe(root, corpora, **options):
    """A 400-token BPE on ``corpora`` with ``options``, loaded with AutoTokenizer."""
    from transformers import AutoTokenizer

    name = "bpe-" + "-".join(f"{k}{v!r}" for k, v in sorted(options.items()))
    cfg = TokenizerConfig(
        out_dir=str(root / name), data_root=str(root), corpora=corpora, vocab_size=400, **options
    )
    return AutoTokenizer.from_pretrained(str(run(cfg)))


def test_prefix_space_tokenizes_a_first_word_as_mid_sentence(tmp_path):
    """`prefix_space`: a probe's sentence-initial subject gets its mid-document tokens, decoding
    gives the text back, and the mixture's separator stays one token after a half."""

    from bridgelab.cpt.mixture import _separator_id

    corpora = _corpora(tmp_path)
    out = {flag: _train_bpe(tmp_path, corpora, prefix_space=flag) for flag in (False, True)}
    word = "문화는"  # mid-sentence in every Korean training text, never first
    for flag, tok in out.items():
        first = tok.encode(f"{word} 강")[:-1]
        mid = tok.encode(f"강 {word}")[1:]
        assert (first == mid) is flag
        for text in TEXTS.values():
            assert tok.decode(tok.encode(text)) == text
        sep = _separator_id(tok, "\n")
        assert tok.convert_ids_to_tokens(sep) == "Ċ"


def test_isolate_keeps_repeated_chinese_clauses_from_merging(tmp_path):
    """A clause repeated verbatim is one pre-token in unspaced text: plain BPE merges it into
    phrase tokens, `isolate: \\p{Han}` keeps every token within one character."""

    corpora = _corpora(tmp_path)
    zh = TEXTS["zh"]
    widest = {}
    for isolate in ("", r"\p{Han}"):
        tok = _train_bpe(tmp_path, corpora, isolate=isolate)
        ids = tok.encode(zh)
        assert tok.decode(ids) == zh
        widest[bool(isolate)] = max(len(tok.decode([i])) for i in ids)
    assert widest[False] > 1 and widest[True] == 1
    with pytest.raises(ConfigError, match="isolate"):
        TokenizerConfig(corpora=corpora, isolate="[unclosed").validate()
