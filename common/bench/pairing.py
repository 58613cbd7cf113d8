"""Ratios to the reference from paired timed rounds: the i-th round of a variant against the i-th
round of torch-eager, a geometric mean with a t-interval on the log ratios (n = pairs).

With interleaved turns the i-th rounds of two processes ran one right after the other, so a drift
of the machine divides out of each pair; the pair is "adjacent" when no full cycle of turns lies
between them. Rounds of variants sharing a process with the reference run after the reference's
(one process times its variants in turn), so their pairs are not adjacent and the summary says so.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def paired_ratio(
    reference_s: list[float],
    variant_s: list[float],
    reference_turns: list[int] | None = None,
    variant_turns: list[int] | None = None,
    cycle: int = 1,
    confidence: float = 0.95,
) -> dict:
    """Speed of the variant over the reference (>1: faster), its interval and n, from round times."""
    n = min(len(reference_s), len(variant_s))
    if n == 0:
        return {"ratio": math.nan, "lo": math.nan, "hi": math.nan, "n": 0, "adjacent": False}
    logs = np.log(np.asarray(reference_s[:n], float) / np.asarray(variant_s[:n], float))
    centre = float(logs.mean())
    if n >= 2 and logs.std(ddof=1) > 0:
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * logs.std(ddof=1) / math.sqrt(n)
    else:
        half = math.nan if n < 2 else 0.0
    return {
        "ratio": math.exp(centre),
        "lo": math.exp(centre - half),
        "hi": math.exp(centre + half),
        "n": n,
        "adjacent": adjacent(reference_turns, variant_turns, n, cycle),
    }


def adjacent(reference_turns, variant_turns, n: int, cycle: int) -> bool:
    """Whether every pair's two rounds lie within one cycle of turns (one turn per process)."""
    if not reference_turns or not variant_turns or min(reference_turns[:n] + variant_turns[:n]) < 0:
        return False
    gaps = [abs(a - b) for a, b in zip(reference_turns[:n], variant_turns[:n], strict=False)]
    return len(gaps) == n and max(gaps) < max(1, cycle)
