"""bridgelab.pretrain"""
