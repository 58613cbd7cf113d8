"""Numbers that keep a run honest about itself: loop vs bare step, time to target, threshold optimism."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

LOOP_SLOWER_FLAG_PCT = 5.0  # the report flags a loop more than this far below its bare step
DEFAULT_TARGETS = (0.5, 0.6, 0.7, 0.8)

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


def cross_fitted_score(
    truth: np.ndarray, logits: np.ndarray, grid, seed: int = 0, areas=(0,)
) -> dict[str, Any]:
    """Score with the cut (threshold, and minimum area over `areas`) chosen on held-out tiles: the
    tiles are split in two halves at random (seeded), each half is scored at the cut searched on
    the other half, and the per-tile scores of both halves are averaged. Unlike the cut searched
    on the scored tiles themselves, no tile helps choose the cut it is scored with."""
    from common.postprocess import search_cut, tile_scores

    n = len(truth)
    if n < 2:
        return {"score": float("nan"), "thresholds": [], "min_areas": []}
    order = np.random.default_rng(seed).permutation(n)
    halves = (order[: n // 2], order[n // 2 :])
    scores = np.empty(n)
    thresholds, min_areas = [], []
    for scored, chooser in (halves, halves[::-1]):
        cut, _ = search_cut(truth[chooser], logits[chooser], grid, areas)
        scores[scored] = tile_scores(truth[scored], logits[scored], cut)
        thresholds.append(cut.threshold)
        min_areas.append(cut.min_area)
    return {"score": float(scores.mean()), "thresholds": thresholds, "min_areas": min_areas}
