"""bridgelab.probes"""
