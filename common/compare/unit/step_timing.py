"""How fast a unit's training loop runs against its bare optimiser steps: a short burst of bare steps
per stage, and the loop's speed relative to it (the report flags a loop well below its steps)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

LOOP_SLOWER_FLAG_PCT = 5.0  # the report flags a loop more than this far below its bare step

Batches = Iterator[tuple[np.ndarray, np.ndarray]]


def time_bare_steps(
    train_step: Callable[[np.ndarray, np.ndarray], float],
    batches: Batches,
    *,
    min_seconds: float = 2.0,
    min_steps: int = 3,
    max_steps: int = 50,
) -> dict[str, float]:
    """A short burst of bare optimiser steps: one untimed warm-up, then at least `min_steps` and
    about `min_seconds` of timed steps (batch preparation is not timed). Returns images, seconds."""
    x, y = next(batches)
    train_step(x, y)
    seconds, images, steps = 0.0, 0, 0
    while steps < min_steps or (seconds < min_seconds and steps < max_steps):
        x, y = next(batches)
        start = time.perf_counter()
        train_step(x, y)
        seconds += time.perf_counter() - start
        images += len(x)
        steps += 1
    return {"images": images, "seconds": seconds, "steps": steps}


def is_true(value: Any) -> bool:
    """A history flag as written (bool) or read back from CSV ("True")."""
    return str(value) in ("True", "true", "1")


def timed_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The epochs a run's train images/s is computed over: all but warm-up epochs (all if none)."""
    return [r for r in history if not is_true(r["warmup"])] or list(history)


def step_throughput(
    history: list[dict[str, Any]], probes: list[dict[str, Any]]
) -> dict[str, float]:
    """Bare-step images/s with the loop's own mix of stages, and the loop's speed relative to it.

    Each stage's timed loop images are priced at that stage's probed step rate (a stage without a
    probe at the mean rate of all probes), so `loop_vs_step_pct` compares like with like;
    negative = the loop is slower than its bare steps.
    """
    nan = float("nan")
    if not probes:
        return {"step_img_s": nan, "loop_vs_step_pct": nan}
    rate = {p["stage"]: p["images"] / p["seconds"] for p in probes if p["seconds"] > 0}
    overall = sum(p["images"] for p in probes) / max(sum(p["seconds"] for p in probes), 1e-12)
    rows = timed_rows(history)
    images = sum(int(r["images"]) for r in rows)
    loop_s = sum(float(r["train_seconds"]) for r in rows)
    step_s = sum(int(r["images"]) / rate.get(r["stage"], overall) for r in rows)
    if not images or not step_s or not loop_s:
        return {"step_img_s": overall, "loop_vs_step_pct": nan}
    return {
        "step_img_s": images / step_s,
        "loop_vs_step_pct": 100.0 * (step_s / loop_s - 1.0),
    }


def loop_is_slow(loop_vs_step_pct: float | None) -> bool:
    """More than LOOP_SLOWER_FLAG_PCT below the bare step; False when not measured (None, NaN)."""
    if loop_vs_step_pct is None or not np.isfinite(float(loop_vs_step_pct)):
        return False
    return float(loop_vs_step_pct) < -LOOP_SLOWER_FLAG_PCT
