"""bridgelab.cpt"""
