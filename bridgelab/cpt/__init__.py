"""Continued pretraining with and without bridges: CPT mixtures (`bridgelab mixture`), their
isolation check (`check-mixture`) and the grid of runs (`bridgelab grid`), built on the corpus
stage's readers and the pretraining stage's trainer (docs/cpt.md).
"""
