"""Bilingual cloze probes: scoring checkpoints (`bridgelab probe`), transfer estimates with
paired tests and learning curves (`bridgelab transfer`), and the probe linter (docs/probes.md).
"""
