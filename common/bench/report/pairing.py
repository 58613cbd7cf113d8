"""Ratios to the reference from paired timed rounds, with the process as the unit of replication.

Within one process pair (the k-th process of the reference's backend and the k-th of the
variant's), the i-th round of the variant is paired with the i-th round of torch-eager and the log
time ratios are averaged. Across processes, the interval is a t interval on those per-process
means (df = processes - 1): the two-level (processes, then rounds) design of Kalibera & Jones,
"Rigorous benchmarking in reasonable time" (2013), read at its top level, where start-up, memory
layout and thread placement vary. Rounds of one process share all of that, so an interval from
them alone can be far too narrow (it has zero width when the rounds happen to agree); with one
process there is a ratio and no interval. A hierarchical bootstrap over processes then rounds
covers far less than its nominal level with 2–5 processes (docs/statistics.md has the
simulation), which is why the top level is read with t.

With interleaved turns the i-th rounds of two processes ran one right after the other, so a drift
of the machine divides out of each pair; the pair is "adjacent" when no full cycle of turns lies
between them. Rounds of variants sharing a process with the reference run after the reference's
(one process times its variants in turn), so their pairs are not adjacent and the summary says so.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_log_ratio(reference_s: list[float], variant_s: list[float]) -> tuple[float, int]:
    """Mean over paired rounds of log(reference time / variant time) (>0: the variant is faster)."""
    n = min(len(reference_s), len(variant_s))
    if n == 0:
        return math.nan, 0
    ref, var = np.asarray(reference_s[:n], float), np.asarray(variant_s[:n], float)
    return float(np.log(ref / var).mean()), n


def process_ratio(
    reference_by_process: list[list[float]],
    variant_by_process: list[list[float]],
    confidence: float = 0.95,
) -> dict:
    """Speed of the variant over the reference from P process pairs: the geometric mean of the
    per-process ratios (each over its paired rounds), a t interval over processes, n = P."""
    logs, rounds = [], []
    for ref, var in zip(reference_by_process, variant_by_process, strict=False):
        log, n = mean_log_ratio(ref, var)
        if n:
            logs.append(log)
            rounds.append(n)
    out = {"ratio": math.nan, "lo": math.nan, "hi": math.nan, "n": len(logs),
           "rounds": min(rounds) if rounds else 0}  # fmt: skip
    if not logs:
        return out
    centre = float(np.mean(logs))
    out["ratio"] = math.exp(centre)
    spread = float(np.std(logs, ddof=1)) if len(logs) >= 2 else 0.0
    if spread > 0:  # one process, or processes that agree to the last bit: no interval
        half = stats.t.ppf(0.5 + confidence / 2, len(logs) - 1) * spread / math.sqrt(len(logs))
        out.update(lo=math.exp(centre - half), hi=math.exp(centre + half))
    return out


def adjacent(reference_turns, variant_turns, n: int, cycle: int) -> bool:
    """Whether every pair's two rounds lie within one cycle of turns (one turn per process)."""
    if not reference_turns or not variant_turns or min(reference_turns[:n] + variant_turns[:n]) < 0:
        return False
    gaps = [abs(a - b) for a, b in zip(reference_turns[:n], variant_turns[:n], strict=False)]
    return len(gaps) == n and max(gaps) < max(1, cycle)
