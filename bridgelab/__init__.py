"""bridgelab: a pretraining testbed for controlled cross-lingual transfer."""

__version__ = "0.1.0"
