"""Running the study on a SLURM cluster: resource profiles and `bridgelab submit` (docs/slurm.md)."""
