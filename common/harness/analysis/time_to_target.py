"""Time to target with the runs that never got there: censored, not dropped.

A training run that never reached a target is censored at its training time (all it trained
without getting there). Each subject's time to target is summarised by the Kaplan-Meier
restricted mean (scipy.stats.ecdf on CensoredData; the area under the "not yet reached" curve up
to a horizon both subjects followed), and two subjects by the ratio of their restricted means,
with a percentile interval from resampling the paired runs. Dropping the runs that never reached
it would keep only the fast ones and bias the mean low; below MIN_PAIRS paired runs there is no
ratio, only the runs' times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_PAIRS = 3  # no ratio from fewer paired runs: their times are shown instead
RESAMPLES = 1000


def restricted_mean(times, reached, horizon: float) -> float:
    """Kaplan-Meier restricted mean time to target up to `horizon` (seconds)."""
    from scipy import stats

    times, reached = np.asarray(times, dtype=float), np.asarray(reached, dtype=bool)
    if reached.all():
        return float(np.minimum(times, horizon).mean())
    data = stats.CensoredData(uncensored=times[reached], right=times[~reached])
    curve = stats.ecdf(data).sf
    steps = np.concatenate([[0.0], curve.quantiles[curve.quantiles < horizon], [horizon]])
    survival = curve.evaluate(steps[:-1])  # constant on [steps[i], steps[i + 1])
    return float(np.sum(survival * np.diff(steps)))


def follow_up(per_unit: list[float | None], trained: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(time, reached) per run: the time to target where reached, else the run's training time."""
    times = [t if t is not None else c for t, c in zip(per_unit, trained, strict=True)]
    return np.array(times, dtype=float), np.array([t is not None for t in per_unit])


def rmst_ratio(
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Ratio of restricted mean times first/second over paired runs, with a percentile interval
    from resampling the pairs; the horizon is the shorter of the two longest follow-ups."""
    (t1, r1), (t2, r2) = first, second
    horizon = float(min(t1.max(), t2.max()))
    out: dict[str, Any] = {
        "horizon_s": horizon,
        "restricted_mean_s": [restricted_mean(t1, r1, horizon), restricted_mean(t2, r2, horizon)],
        "censored": [int((~r1).sum()), int((~r2).sum())],
        "method": "Kaplan-Meier restricted mean, runs resampled in pairs",
    }
    if len(t1) < MIN_PAIRS or horizon <= 0:
        return out
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(RESAMPLES):
        pick = rng.integers(0, len(t1), len(t1))
        h = float(min(t1[pick].max(), t2[pick].max()))
        if h > 0:
            ratios.append(
                restricted_mean(t1[pick], r1[pick], h) / restricted_mean(t2[pick], r2[pick], h)
            )
    a, b = out["restricted_mean_s"]
    tail = 50 * (1 - confidence)
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return {**out, "ratio": a / b, "low": float(low), "high": float(high),
            "confidence": confidence}  # fmt: skip


def time_to_target_comparison(
    first: list[dict[str, Any]],
    second: list[dict[str, Any]],
    trained: tuple[list[float], list[float]],
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Per target of two subjects' time_to_target summaries: every run's time (None = never
    reached), the censored comparison, and how many runs reached it on each side."""
    out = []
    for a, b in zip(first, second, strict=False):
        per_a, per_b = a.get("per_unit", []), b.get("per_unit", [])
        entry: dict[str, Any] = {
            "target": a["target"],
            "pairs": len(per_a),
            "times": list(zip(per_a, per_b, strict=False)),
        }
        if per_a and len(per_a) == len(per_b) == len(trained[0]) == len(trained[1]):
            fa, fb = follow_up(per_a, trained[0]), follow_up(per_b, trained[1])
            if fa[1].any() or fb[1].any():
                entry.update(rmst_ratio(fa, fb, confidence=confidence))
        out.append(entry)
    return out


def time_comparison_text(r: dict[str, Any]) -> str:
    """One pair's time to one target, in words (see _time_ratio)."""
    if "restricted_mean_s" in r and "ratio" in r:
        censored = "+".join(map(str, r["censored"]))
        level = f" ({r['confidence'] * 100:.4g} %)" if "confidence" in r else ""
        return (
            f"restricted-mean time ratio {r['ratio']:.2f} [{r['low']:.2f}, {r['high']:.2f}]{level} "
            f"n={r['pairs']} runs ({censored} not reached, censored; horizon {r['horizon_s']:.0f} s)"
        )
    if "ratio" in r and "restricted_mean_s" not in r:  # a run made before censoring
        interval = f" [{r['low']:.2f}, {r['high']:.2f}]" if r.get("low") is not None else ""
        return f"time ratio {r['ratio']:.2f}{interval} n={r['pairs']} paired units"
    times = r.get("times") or []
    if not times or all(x is None and y is None for x, y in times):
        return ""
    shown = "; ".join(
        " vs ".join("not reached" if t is None else f"{t:.0f} s" for t in pair) for pair in times
    )
    return f"{len(times)} run{'s' * (len(times) != 1)} each: {shown} (no ratio below 3 runs)"
