"""Speed-ratio intervals over processes (common/bench/report/pairing.py), checked by simulation against a
known ratio: processes differ by a start-up level shift, rounds within one are autocorrelated and
share the machine's drift with the other side's rounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from common.bench.report.pairing import process_ratio

TRUE_RATIO = 1.3  # the variant is 1.3x as fast
EXPERIMENTS = 400


def simulated_processes(rng, processes: int, rounds: int) -> tuple[list, list]:
    """Round seconds of the reference and the variant: a level per process (sd 0.05 on the log
    scale), AR(1) rounds (rho 0.5, sd 0.03) and a drift both sides share round by round."""
    reference, variant = [], []
    for _ in range(processes):
        drift = rng.normal(0, 0.05, rounds)
        sides = []
        for _ in range(2):
            noise = np.zeros(rounds)
            for i in range(rounds):
                noise[i] = (0.5 * noise[i - 1] if i else 0.0) + rng.normal(0, 0.03)
            sides.append(rng.normal(0, 0.05) + noise + drift)
        reference.append(list(np.exp(0.2 + sides[0])))
        variant.append(list(np.exp(0.2 - math.log(TRUE_RATIO) + sides[1])))
    return reference, variant


def rounds_only_covers(reference: list[float], variant: list[float]) -> bool:
    """The interval before --processes: t over the rounds of one process."""
    logs = np.log(np.asarray(reference) / np.asarray(variant))
    half = stats.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs))
    return abs(logs.mean() - math.log(TRUE_RATIO)) <= half


@pytest.mark.parametrize("processes", [2, 3, 5])
def test_interval_over_processes_covers_the_true_ratio(processes):
    rng = np.random.default_rng(processes)
    covered = before = 0
    for _ in range(EXPERIMENTS):
        reference, variant = simulated_processes(rng, processes, rounds=3)
        ratio = process_ratio(reference, variant)
        assert ratio["n"] == processes and ratio["rounds"] == 3
        covered += ratio["lo"] <= TRUE_RATIO <= ratio["hi"]
        before += rounds_only_covers(reference[0], variant[0])
    assert 0.92 <= covered / EXPERIMENTS <= 0.98
    assert before / EXPERIMENTS < 0.80  # rounds of one process miss the process level


def test_rounds_that_agree_do_not_make_a_zero_width_interval():
    agreeing = process_ratio([[1.0] * 3, [1.1] * 3], [[2.0] * 3, [2.0] * 3])
    assert agreeing["lo"] < agreeing["ratio"] < agreeing["hi"]
    identical = process_ratio([[1.0] * 3, [1.0] * 3], [[2.0] * 3, [2.0] * 3])
    assert identical["ratio"] == 0.5 and math.isnan(identical["lo"])  # no spread measured
    one = process_ratio([[1.0, 1.2, 0.9]], [[2.0, 2.1, 2.2]])
    assert one["n"] == 1 and math.isnan(one["lo"]) and math.isnan(one["hi"])
