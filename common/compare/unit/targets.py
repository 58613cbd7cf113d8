"""When a unit's validation score first reached each target (time to accuracy), and the same over
a subject's units: how many got there, and how long they took."""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_TARGETS = (0.5, 0.6, 0.7, 0.8)


def time_to_targets(history: list[dict[str, Any]], targets) -> list[dict[str, Any]]:
    """Per target: training seconds and images seen until the validation score first reaches it
    (MLPerf/DAWNBench time-to-accuracy); seconds/images/epoch are None when never reached."""
    out = []
    for target in targets:
        seconds, images, hit = 0.0, 0, None
        for row in sorted(history, key=lambda r: int(r["epoch"])):
            seconds += float(row["train_seconds"])
            images += int(row["images"])
            if float(row["val_score"]) >= float(target):
                hit = row
                break
        reached = hit is not None
        out.append(
            {
                "target": float(target),
                "seconds": seconds if reached else None,
                "images": images if reached else None,
                "epoch": int(hit["epoch"]) if reached else None,
            }
        )
    return out


def summarize_time_to_targets(per_fold: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per target over units: how many reached it; the mean seconds and images where reached (as
    before); and the spread: median, range and, from 5 units on, the MLPerf olympic mean (the
    fastest and the slowest dropped). `per_unit` keeps every unit's seconds (None: not reached)."""
    if not per_fold:
        return []
    out = []
    for position, first in enumerate(per_fold[0]):
        per_unit = [fold[position]["seconds"] for fold in per_fold]
        hits = [fold[position] for fold in per_fold if fold[position]["seconds"] is not None]
        seconds = np.sort([h["seconds"] for h in hits])
        out.append(
            {
                "target": first["target"],
                "reached": len(hits),
                "folds": len(per_fold),
                "seconds": float(np.mean(seconds)) if hits else None,
                "images": float(np.mean([h["images"] for h in hits])) if hits else None,
                "median_s": float(np.median(seconds)) if hits else None,
                "min_s": float(seconds[0]) if hits else None,
                "max_s": float(seconds[-1]) if hits else None,
                "olympic_mean_s": float(np.mean(seconds[1:-1])) if len(hits) >= 5 else None,
                "per_unit": per_unit,
            }
        )
    return out
