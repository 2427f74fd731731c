"""The calibrated positive control of the transfer instrument (`bridgelab calibrate`, docs/calibrate.md).

The oracle family of a pretrained checkpoint (its token-level clone's embeddings interpolated
between their untrained rows and the exact English rows), probed with the usual scorers, the
alignment metrics of every member and of every checkpoint of a CPT grid, and the calibration curve.
"""
