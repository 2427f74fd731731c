"""Qwen2 pretraining (and CPT) with DeepSpeed (`bridgelab pretrain`, docs/pretrain.md).

``model.py`` is the pure model; ``engine.py`` wraps it in DeepSpeed; ``trainer.run`` is the stage.
"""
