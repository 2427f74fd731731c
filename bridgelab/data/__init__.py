"""bridgelab.data"""
