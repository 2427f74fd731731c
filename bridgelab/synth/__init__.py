"""bridgelab.synth: a seeded synthetic multilingual world with known ground truth.

``run(cfg)`` writes the world of a :class:`~bridgelab.synth.config.SynthConfig`;
``bridgelab.synth.world.generate(cfg)`` builds it in memory; ``load_ground_truth(dir)`` reads
the per-fact counts and document ids back.
"""

from bridgelab.synth.output import load_ground_truth, plan, run

__all__ = ["load_ground_truth", "plan", "run"]
