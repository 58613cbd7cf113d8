"""Learning-rate schedules and snapshot points of a recipe stage, as pure functions of the position.

A stage's `schedule` is None (constant LR, plateau decay as in seed000) or a dict:
  {"kind": "one_cycle", "pct_start": 0.3, "div_factor": 25, "final_div_factor": 1e4}
      torch.optim.lr_scheduler.OneCycleLR's cosine shape: from lr/div_factor up to the stage's
      learning_rate over pct_start of the stage, then down to lr/(div_factor*final_div_factor).
  {"kind": "cosine_cycles", "cycles": 3, "min_lr_factor": 0.01, "snapshots": 2}
      `cycles` cosine annealings from learning_rate to learning_rate*min_lr_factor (warm restarts,
      Loshchilov & Hutter), a weight snapshot at the end of each cycle; evaluation averages the
      logits of the last `snapshots` of them (snapshot ensembling, Huang et al. 2017).
The position is in epochs, fractional within an epoch (epoch + batch / batches), so both twins set
the same LR before every batch and a resumed run continues the same curve.
"""

from __future__ import annotations

import math
from typing import Any

from common.core.errors import SaltbenchError

KINDS = ("one_cycle", "cosine_cycles")
DEFAULTS: dict[str, dict[str, Any]] = {
    "one_cycle": {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
    "cosine_cycles": {"cycles": 1, "min_lr_factor": 0.01, "snapshots": 1},
}


def _cosine(start: float, end: float, fraction: float) -> float:
    """Half a cosine from `start` (fraction 0) to `end` (fraction 1)."""
    fraction = min(max(fraction, 0.0), 1.0)
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2


def resolved(schedule: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schedule with its kind's defaults filled in (None stays None)."""
    if schedule is None:
        return None
    return {**DEFAULTS.get(schedule.get("kind"), {}), **schedule}


def validate_schedule(stage: dict[str, Any]) -> None:
    """Raise one SaltbenchError naming the recipe key when a stage's schedule cannot run."""
    schedule, name = stage.get("schedule"), stage.get("name")
    if schedule is None:
        return
    key = f"stages.{name}.schedule"
    if not isinstance(schedule, dict) or schedule.get("kind") not in KINDS:
        raise SaltbenchError(
            f"recipe key {key} must be null or have kind one of {', '.join(KINDS)}"
        )
    s = resolved(schedule)
    unknown = sorted(set(s) - {"kind", *DEFAULTS[s["kind"]]})
    if unknown:
        raise SaltbenchError(f"recipe key {key} has unknown field(s) {', '.join(unknown)}")
    if s["kind"] == "one_cycle":
        if not 0 < s["pct_start"] < 1 or s["div_factor"] < 1 or s["final_div_factor"] < 1:
            raise SaltbenchError(
                f"recipe key {key}: one_cycle needs 0 < pct_start < 1, div factors >= 1"
            )
        return
    cycles, epochs = s["cycles"], stage["epochs"]
    if not isinstance(cycles, int) or not 1 <= cycles <= max(epochs, 1):
        raise SaltbenchError(
            f"recipe key {key}.cycles must be an integer from 1 to the stage's epochs ({epochs})"
        )
    if not isinstance(s["snapshots"], int) or not 1 <= s["snapshots"] <= cycles:
        raise SaltbenchError(f"recipe key {key}.snapshots must be an integer from 1 to cycles")
    if not 0 <= s["min_lr_factor"] <= 1:
        raise SaltbenchError(f"recipe key {key}.min_lr_factor must be in [0, 1]")


def cycle_ends(schedule: dict[str, Any] | None, epochs: int) -> list[int]:
    """Epoch counts (1-based ends) at which a cosine cycle finishes and a snapshot is taken."""
    s = resolved(schedule)
    if s is None or s["kind"] != "cosine_cycles" or epochs < 1:
        return []
    return [round(k * epochs / s["cycles"]) for k in range(1, s["cycles"] + 1)]


def learning_rate_at(
    schedule: dict[str, Any] | None, base_lr: float, position: float, epochs: int
) -> float:
    """The LR at `position` epochs into a stage of `epochs` epochs whose peak LR is `base_lr`."""
    s = resolved(schedule)
    if s is None or epochs < 1:
        return float(base_lr)
    if s["kind"] == "one_cycle":
        start = base_lr / s["div_factor"]
        warm = s["pct_start"] * epochs
        if position < warm:
            return _cosine(start, base_lr, position / warm)
        final = start / s["final_div_factor"]
        return _cosine(base_lr, final, (position - warm) / max(epochs - warm, 1e-9))
    begin = 0
    for end in cycle_ends(s, epochs):
        if position < end:
            fraction = (position - begin) / max(end - begin, 1)
            return _cosine(base_lr, base_lr * s["min_lr_factor"], fraction)
        begin = end
    return float(base_lr * s["min_lr_factor"])


def snapshots_to_average(schedule: dict[str, Any] | None) -> int:
    """How many of the last snapshots evaluation averages (0: no snapshot ensembling)."""
    s = resolved(schedule)
    return int(s["snapshots"]) if s is not None and s["kind"] == "cosine_cycles" else 0
