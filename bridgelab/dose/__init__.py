"""Dose-response analysis of a synthetic world (`bridgelab dose`, docs/dose.md).

Accuracy against log2(count + 1) per culture, direction, setting and step, fitted with a guessing
floor; the count at which half the facts are known; transfer per source count; and the
prioritisation and robustness tables of dose worlds.
"""
