"""Honest accounting of one profiled phase: the classified op time per step, and the rest of the
profiled step's wall time shown as unattributed, so the classes plus unattributed are the step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from common.bench.breakdown.classes import CLASS_IDS, OP_CLASSES, UNATTRIBUTED

COVERAGE_TARGET = 0.90  # the classes must cover this share of the profiled step


@dataclass
class Breakdown:
    """ms per step by class for one variant and phase (train or infer)."""

    variant: str
    phase: str
    profiler: str
    steps: int
    profiled_ms: float  # wall time of one profiled step (the profiler's overhead included)
    unprofiled_ms: float | None  # the median of the timed rounds, for the overhead
    class_ms: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def classified_ms(self) -> float:
        return sum(v for k, v in self.class_ms.items() if k != UNATTRIBUTED)

    @property
    def coverage(self) -> float:
        return self.classified_ms / self.profiled_ms if self.profiled_ms > 0 else 0.0

    def rows(self) -> list[dict]:
        """One row per class (every class, zeros included): ms per step and % of the step."""
        return [
            {
                "variant": self.variant,
                "phase": self.phase,
                "class": class_id,
                "ms_per_step": self.class_ms.get(class_id, 0.0),
                "pct_of_step": 100.0 * self.class_ms.get(class_id, 0.0) / self.profiled_ms,
            }
            for class_id in CLASS_IDS
        ]

    def to_dict(self) -> dict:
        return {**self.__dict__, "coverage": self.coverage}


def account(
    variant: str,
    phase: str,
    profiler: str,
    op_ms_total: dict[str, float],
    steps: int,
    wall_ms_total: float,
    unprofiled_ms: float | None,
) -> Breakdown:
    """Per-step class times from totals over `steps` profiled steps; unattributed is the profiled
    wall time no classified op covers (never negative: ops that overlap on several threads can
    add up to more than the wall time, and then the note says so)."""
    unknown = set(op_ms_total) - set(OP_CLASSES)
    if unknown:
        raise ValueError(f"not operation classes: {sorted(unknown)}")
    per_step = {k: v / steps for k, v in op_ms_total.items() if v > 0}
    wall = wall_ms_total / steps
    classified = sum(per_step.values())
    note = ""
    if classified > wall:
        note = (
            f"ops overlapped: their times add up to {classified:.1f} ms, more than the "
            f"{wall:.1f} ms step (inter-op threads ran them at once)"
        )
    per_step[UNATTRIBUTED] = max(wall - classified, 0.0)
    return Breakdown(variant, phase, profiler, steps, wall, unprofiled_ms, per_step, note)


def timed_calls(fn: Callable[[], object], steps: int) -> float:
    """Wall ms of `steps` calls of `fn`: the profiled step's time, whatever profiler is on."""
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) * 1e3
