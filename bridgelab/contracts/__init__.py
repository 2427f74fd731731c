"""What one stage hands to the next: the file layouts and readers of docs/CONTRACTS.md.

Stages import from here (and ``utils``), never from each other, unless one is built on another
(``cpt`` on ``data`` and ``pretrain``, ``calibrate`` and ``dose`` on ``probes``, ``slurm`` on
``study``). Modules: ``records`` (documents, parallel pairs, probe items, JSONL readers),
``scripts`` and ``clone`` (script tables, the letter/token clone), ``tokenizer`` (a tokenizer
folder), ``shards`` (token shards), ``truth`` (a world's ground truth), ``probe_sets`` (probe
files), ``runs`` (run folders, grids, checkpoints), ``results`` (probe result tables),
``markers`` (DONE, moving aside), ``provenance`` (lineage in markers) and ``settings``
(bridge setting names).
"""
