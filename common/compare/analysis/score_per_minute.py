"""Score per CPU minute: the best validation score each training run reached within fixed budgets
of training time, per subject over runs and paired between subjects.

A unit's cost is its cumulative training seconds (warm-up and tracing included, per-epoch
validation not) times its threads on a CPU, so two subjects on different thread counts pay in one
currency; on a GPU it is the training minutes. At a budget a unit scores the best per-epoch
validation score (logit 0, no TTA: the curve a user watches) among the epochs that ended within
it; a unit that finished before a budget keeps its best, since its recipe stops there. Budgets run
1, 2, 5, 10, ... minutes from the slowest first epoch up to the longest unit, the last
BUDGETS_SHOWN of them. Intervals (95 %, descriptive: no verdict rests on them): t over runs per
subject, and t over the paired runs' differences (same fold, same seed) between subjects.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.stats.intervals import mean_ci

LADDER = tuple(m * 10.0**e for e in range(-2, 4) for m in (1, 2, 5))  # 0.01 ... 5000 minutes
BUDGETS_SHOWN = 4


def unit_cost_minutes(history: list[dict], threads: int, device: str) -> np.ndarray:
    """Cumulative cost at the end of each epoch: CPU minutes (x threads) or device minutes."""
    seconds = np.cumsum([float(r["train_seconds"]) for r in history])
    return seconds * (max(int(threads or 1), 1) if device == "cpu" else 1) / 60.0


def best_within(history: list[dict], minutes: np.ndarray, budget: float) -> float | None:
    """The best validation score of the epochs that ended within `budget`; None before the first."""
    scores = [float(r["val_score"]) for r, m in zip(history, minutes, strict=True) if m <= budget]
    return max(scores) if scores else None


def budgets(longest: float, first: float = 0.0) -> list[float]:
    """The last BUDGETS_SHOWN steps of the 1-2-5 ladder no longer than the longest unit and no
    shorter than the slowest first epoch (below it some runs have no score: a mean over the fast
    ones only would flatter the subject); a run too short for any step gets its longest unit's end."""
    steps = [b for b in LADDER if first <= b <= longest]
    if not steps and longest > 0:  # a run too short for the ladder: its end is the one budget
        return [max(float(f"{longest:.2g}"), first)]
    return steps[-BUDGETS_SHOWN:]


def unit_device(unit: dict[str, Any]) -> str:
    return (unit.get("numerics") or {}).get("device", "cpu")


def unit_costs(histories: list[list[dict]], units: list[dict]) -> list[np.ndarray | None]:
    """Each unit's cumulative cost per epoch (run_units order); None where it left no history."""
    return [
        unit_cost_minutes(h, u.get("threads", 1), unit_device(u)) if h else None
        for h, u in zip(histories, units, strict=True)
    ]


def subject_scores(histories, costs, budget_list) -> list[list[float | None]]:
    """Per budget, each unit's best score within it (run_units order)."""
    return [
        [best_within(h, c, b) if h else None for h, c in zip(histories, costs, strict=True)]
        for b in budget_list
    ]


def _interval(values: list[float]) -> dict[str, Any]:
    return mean_ci(values).to_dict() if values else {"estimate": None, "n": 0}


def score_per_minute(
    histories: dict[str, list[list[dict]]], frameworks: dict[str, dict], reference: str | None
) -> dict[str, Any]:
    """metrics.json's "score_per_minute": budgets, per subject the mean best score at each, and
    each other subject's paired difference from the reference; {} where no unit left a history."""
    costs = {fw: unit_costs(histories[fw], s["folds"]) for fw, s in frameworks.items()}
    ran = [c for per_unit in costs.values() for c in per_unit if c is not None]
    if not ran:
        return {}
    budget_list = budgets(max(float(c[-1]) for c in ran), max(float(c[0]) for c in ran))
    per = {fw: subject_scores(histories[fw], costs[fw], budget_list) for fw in frameworks}
    device = unit_device(next(iter(frameworks.values()))["folds"][0])
    result = {
        "budgets_min": budget_list,
        "unit": "CPU minutes (training seconds x threads)" if device == "cpu" else "device minutes",
        "subjects": {
            fw: [_interval([v for v in at if v is not None]) for at in rows]
            for fw, rows in per.items()
        },
        "differences": {},
    }
    if reference in per:
        for fw, rows in per.items():
            if fw == reference:
                continue
            result["differences"][fw] = [
                _interval([a - b for a, b in zip(mine, theirs, strict=True) if None not in (a, b)])
                for mine, theirs in zip(rows, per[reference], strict=True)
            ]
    return result
