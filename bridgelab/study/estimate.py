"""The compute of a study: tokens, GPU-hours and disk of its training stages together.

Nothing is estimated here: every training stage's plan carries its own estimate as data (a step
whose ``data`` holds ``compute``, from the one estimate of a training run,
:mod:`bridgelab.pretrain.estimate`; a CPT grid's is its first run's times its runs), and the
study adds them up. An estimate, stated as one.
"""

from __future__ import annotations

from bridgelab.stage import Step


def study_totals(plans: dict[str, list[Step]]) -> list[Step]:
    """One step per stage whose plan states its compute, and the total."""
    rows = [
        (step.data.get("label", name), step.data["compute"])
        for name, plan in plans.items()
        for step in plan
        if "compute" in step.data
    ]
    if not rows:
        return []

    def line(label: str, c: dict[str, float]) -> str:
        return (f"compute: {label}: {c['tokens'] / 1e9:,.3f} B tokens, {c['gpu_hours']:,.1f} "
                f"GPU-hours, ~{c['disk_bytes'] / 1e9:,.1f} GB disk")  # fmt: skip

    total = {k: sum(c[k] for _, c in rows) for k in ("tokens", "gpu_hours", "disk_bytes")}
    return [Step(line(label, c), data=c) for label, c in rows] + [
        Step(
            line("total", total) + " (GPU-hours at each config's estimate.mfu of "
            "estimate.peak_tflops)",
            data=total,
        )  # fmt: skip
    ]
