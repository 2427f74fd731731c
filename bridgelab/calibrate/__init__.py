"""bridgelab.calibrate: the calibrated positive control of the transfer instrument.

``run(cfg)`` builds the oracle family of a pretrained checkpoint (its token-level clone's
embeddings interpolated between their untrained rows and the exact English rows), probes every
member with the usual scorers, measures the alignment metrics of every member and of every
checkpoint of a CPT grid, and writes the calibration curve.
"""

from bridgelab.calibrate.stage import plan, run

__all__ = ["plan", "run"]
