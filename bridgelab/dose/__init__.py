"""bridgelab.dose: dose-response analysis of a synthetic world (docs/dose.md).

``run(cfg)`` reads a world's ground truth (how many documents of each corpus state each fact)
and item-level probe results, and fits, per culture, direction, setting and step, accuracy
against log2(count + 1) with a guessing floor, the count at which half the facts are known,
transfer per source count, and the prioritisation and robustness tables of dose worlds.
"""

from bridgelab.dose.stage import plan, run

__all__ = ["plan", "run"]
