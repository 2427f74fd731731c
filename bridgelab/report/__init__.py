"""bridgelab.report"""
