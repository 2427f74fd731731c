"""bridgelab.synth"""
