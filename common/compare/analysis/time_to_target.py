"""Time to target with the runs that never got there: censored, not dropped.

A training run that never reached a target is censored at its training time (all it trained
without getting there). Each subject's time to target is summarised by the Kaplan-Meier
restricted mean (scipy.stats.ecdf on CensoredData; the area under the "not yet reached" curve up
to the horizon both subjects followed: the smaller of each subject's longest training time), and
two subjects by the ratio of their paired restricted times min(time, horizon), a geometric mean
with a t interval on the log ratios over pairs (a run censored before the horizon enters at its
training time, a lower bound). The percentile bootstrap of the restricted means used before
covered 0.29-0.62 at 95 % in simulation, since it took event times for the horizon. Dropping the runs that never reached
it would keep only the fast ones and bias the mean low; below MIN_PAIRS paired runs there is no
ratio, only the runs' times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_PAIRS = 3  # no ratio from fewer paired runs: their times are shown instead


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
    horizon: float,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Each subject's restricted mean up to `horizon` (the follow-up both had: the smaller of each
    subject's longest training time, never an event time), and the time ratio first/second: the
    geometric mean of the paired restricted times' ratios, min(time, horizon) per run, with a t
    interval on their logs over the pairs (none below MIN_PAIRS)."""
    from scipy import stats

    (t1, r1), (t2, r2) = first, second
    out: dict[str, Any] = {
        "horizon_s": horizon,
        "restricted_mean_s": [restricted_mean(t1, r1, horizon), restricted_mean(t2, r2, horizon)],
        "censored": [int((~r1).sum()), int((~r2).sum())],
        "method": "paired restricted times min(time, horizon), t interval on log ratios",
    }
    a, b = np.minimum(t1, horizon), np.minimum(t2, horizon)
    if len(t1) < MIN_PAIRS or horizon <= 0 or (a <= 0).any() or (b <= 0).any():
        return out
    logs = np.log(a) - np.log(b)
    centre, spread = float(logs.mean()), float(logs.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(logs) - 1)) * spread / np.sqrt(len(logs))
    return {**out, "ratio": float(np.exp(centre)), "low": float(np.exp(centre - half)),
            "high": float(np.exp(centre + half)), "confidence": confidence}  # fmt: skip


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
                horizon = float(min(max(trained[0]), max(trained[1])))
                entry.update(rmst_ratio(fa, fb, horizon, confidence))
        out.append(entry)
    return out


def time_comparison_text(r: dict[str, Any]) -> str:
    """One pair's time to one target, in words (see _time_ratio)."""
    if "restricted_mean_s" in r and "ratio" in r:
        censored = "+".join(map(str, r["censored"]))
        level = f" ({r['confidence'] * 100:.4g} %)" if "confidence" in r else ""
        what = "time ratio" if "log ratios" in r.get("method", "") else "restricted-mean time ratio"
        return (
            f"{what} {r['ratio']:.2f} [{r['low']:.2f}, {r['high']:.2f}]{level} "
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
