"""Cost claims by simulation, with fixed seeds: the per-run speed ratio covers a known ratio when
epochs are correlated and runs shift, where the old per-epoch interval did not; the restricted
mean time to target with censored runs is unbiased where dropping the runs that never got there
is not."""

import numpy as np

from common.compare.analysis.time_to_target import (
    follow_up,
    restricted_mean,
    rmst_ratio,
    time_to_target_comparison,
)
from common.compare.analysis.uncertainty import paired_ratio
from common.stats.intervals import ratio_of_means_ci

TRUE_RATIO = 0.8  # subject / reference images/s


def simulated_rates(rng, runs: int, epochs: int = 10, rho: float = 0.6, shift_sd: float = 0.05):
    """Per run, per epoch images/s of two subjects: AR(1) epoch noise (correlation rho) around a
    per-run level that moves with the load (sd `shift_sd` on the log scale, the same draw
    moving both sides only partly: each run shares the machine with its own company)."""

    def series(level: float) -> np.ndarray:
        noise = np.empty(epochs)
        noise[0] = rng.normal(0, 0.03)
        for k in range(1, epochs):
            noise[k] = rho * noise[k - 1] + rng.normal(0, 0.03 * np.sqrt(1 - rho**2))
        return level * np.exp(noise)

    first, second = [], []
    for _ in range(runs):
        load = rng.normal(0, shift_sd)
        first.append(series(20.0 * TRUE_RATIO * np.exp(load + rng.normal(0, shift_sd))))
        second.append(series(20.0 * np.exp(load + rng.normal(0, shift_sd))))
    return first, second


def coverage(runs: int, experiments: int = 400) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    per_run = per_epoch = 0
    for _ in range(experiments):
        first, second = simulated_rates(rng, runs)
        unit = paired_ratio([a.mean() for a in first], [b.mean() for b in second])
        per_run += unit["low"] <= TRUE_RATIO <= unit["high"]
        old = ratio_of_means_ci(np.concatenate(first), np.concatenate(second), n_resamples=299)
        per_epoch += old.low <= TRUE_RATIO <= old.high
    return per_run / experiments, per_epoch / experiments


def test_speed_ratio_over_runs_covers_where_pooled_epochs_did_not(capsys):
    rows = {runs: coverage(runs) for runs in (3, 5, 10)}
    with capsys.disabled():
        print("\nruns | per-run t interval coverage | pooled-epoch bootstrap (before)")
        for runs, (new, old) in rows.items():
            print(f"{runs:4d} | {new:27.3f} | {old:.3f}")
    for runs, (new, old) in rows.items():
        assert 0.92 <= new <= 0.98, (runs, new)
        assert old < 0.85, (runs, old)  # epochs are not independent draws


def test_one_or_two_runs_give_a_ratio_but_no_interval():
    one = paired_ratio([16.0], [20.0])
    assert one["estimate"] == 0.8 and one["low"] is None and one["n"] == 1
    assert paired_ratio([16.0, 17.0], [20.0, 20.0])["low"] is None


def test_restricted_mean_with_censoring_is_unbiased_where_dropping_is_not():
    """Exponential times to target (mean 300 s), each run trained 400 s: a third never get there."""
    rng = np.random.default_rng(1)
    horizon, trained = 400.0, 400.0
    truth = 300.0 * (1 - np.exp(-horizon / 300.0))  # E[min(T, horizon)] of an exponential
    censored, dropped = [], []
    for _ in range(2000):
        t = rng.exponential(300.0, 8)
        per_unit = [float(x) if x <= trained else None for x in t]
        if not any(p is not None for p in per_unit):
            continue
        times, reached = follow_up(per_unit, [trained] * 8)
        censored.append(restricted_mean(times, reached, horizon))
        dropped.append(np.mean([p for p in per_unit if p is not None]))
    assert abs(np.mean(censored) - truth) < 0.02 * truth
    assert np.mean(dropped) < 0.8 * truth  # keeping only the runs that got there: too fast


def test_rmst_ratio_needs_three_runs_and_counts_the_censored():
    reached = (np.array([100.0, 150.0, 400.0]), np.array([True, True, False]))
    other = (np.array([200.0, 210.0, 220.0]), np.array([True, True, True]))
    both = rmst_ratio(reached, other, horizon=400.0)
    assert both["censored"] == [1, 0] and both["low"] <= both["ratio"] <= both["high"]
    few = rmst_ratio((reached[0][:2], reached[1][:2]), (other[0][:2], other[1][:2]), 400.0)
    assert "ratio" not in few and few["restricted_mean_s"][0] == 125.0


def test_time_ratio_horizon_is_the_follow_up_and_its_interval_covers():
    """Every run reaches the target (lognormal times, the pair's runs correlated): the horizon is
    the follow-up (training seconds), not the last event, so nothing is cut off; the t interval on
    the paired log ratios covers the true ratio about 95 % of the time at 3 and 5 pairs."""
    truth = 1.5
    for pairs in (3, 5):
        rng = np.random.default_rng(pairs)
        covered = 0
        for _ in range(1000):
            shared = rng.normal(0.0, 0.3, pairs)
            t1 = np.exp(np.log(300.0 * truth) + shared + rng.normal(0.0, 0.15, pairs))
            t2 = np.exp(np.log(300.0) + shared + rng.normal(0.0, 0.15, pairs))
            longest = float(max(t1.max(), t2.max()))  # both trained past every event, unequally
            trained = ([longest + 100.0] * pairs, [longest + 50.0] * pairs)
            (entry,) = time_to_target_comparison(
                [{"target": 0.5, "per_unit": list(t1)}],
                [{"target": 0.5, "per_unit": list(t2)}],
                trained,
            )
            assert entry["horizon_s"] == min(max(trained[0]), max(trained[1]))
            covered += entry["low"] <= truth <= entry["high"]
        assert 0.92 <= covered / 1000 <= 0.98, (pairs, covered)
