"""Frequency analysis (`bridgelab frequency`, docs/retrieval.md): how often each probe's fact
occurs in each training corpus.

Document stores over corpora, BM25 / dense (FAISS) / hybrid retrievers, LLM or lexical judges
with a resumable SQLite judgment store, cultural density and the instance-level analysis.
"""
