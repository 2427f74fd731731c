"""The corpus stage: tokenizers (`bridgelab tokenizer`), filtered and packed token shards
(`bridgelab prepare`) and their script check (`check-corpus`), docs/data.md.
"""
