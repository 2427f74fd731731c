"""A seeded synthetic multilingual world with known ground truth (`bridgelab synth`, docs/synth.md).

``output.run(cfg)`` writes the world of a :class:`~bridgelab.synth.config.SynthConfig`;
``world.generate(cfg)`` builds it in memory; its ground truth is read back through
:mod:`bridgelab.contracts.truth`.
"""
