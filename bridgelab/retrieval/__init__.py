"""bridgelab.retrieval"""
