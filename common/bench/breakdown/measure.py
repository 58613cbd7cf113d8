"""One variant's breakdown in its benchmark process: profile a few steps of the timed operation
right after its timed rounds, then account for the profiled step (classes plus unattributed)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from common.bench.breakdown.accounting import account
from common.bench.breakdown.profilers import (
    KERAS_PYTHON,
    missing_reader,
    profile_steps,
    profiler_for,
)
from common.subjects.table import Variant


def measure_breakdown(
    variant: Variant,
    operation: str,
    fn: Callable[[], object],
    steps: int,
    spec,
    median_s: float,
    trainer=None,
) -> dict:
    """The breakdown of `operation` (the phase: train | infer) as a dict for the side report; a
    variant whose profile cannot be read here, or failed, gets a row that says why instead."""
    phase = operation
    profiler = profiler_for(variant)
    base = {"variant": variant.name, "phase": phase, "profiler": profiler}
    if (missing := missing_reader(variant)) is not None:
        return {**base, "reason": missing}
    fn()  # one untimed call, so nothing the profiler starts with is a first call
    try:
        totals, wall_ms = profile_steps(variant, fn, steps, spec, trainer)
    except Exception as err:  # the timing stands; the breakdown says why it has no profile
        print(f"saltbench: {variant.name} {phase}: no breakdown: {err}", file=sys.stderr)
        return {**base, "reason": f"the profile failed: {type(err).__name__}: {err}"}
    python_ms = totals.pop(KERAS_PYTHON, 0.0) / steps
    result = account(variant.name, phase, profiler, totals, steps, wall_ms, median_s * 1e3)
    if python_ms > 0:  # Keras on torch: what of `unattributed` its layers' Python took
        result.note = " ".join(filter(None, [result.note, (
            f"{python_ms:.1f} ms of the unattributed time is inside Keras layer calls but "
            "outside any torch op (Keras's own Python per layer call)"
        )]))  # fmt: skip
    return result.to_dict()
