"""common.stats.intervals: intervals that cover what they should, exclude 0 when they should, and never fake n."""

import numpy as np
import pytest

from common.stats.intervals import (
    difference_verdict,
    format_interval,
    mean_ci,
    paired_difference_ci,
    ratio_of_means_ci,
)


def synthetic_tile_scores(rng, n_seeds: int, n_tiles: int, difference: float):
    """Competition-like per-tile scores (0, 0.1, ..., 1) of two frameworks on the same tiles."""
    hardness = rng.random(n_tiles)  # tiles differ in how hard they are: the pairing matters
    base = np.clip(hardness + rng.normal(0, 0.15, (n_seeds, n_tiles)), 0, 1)
    other = np.clip(base - difference + rng.normal(0, 0.15, (n_seeds, n_tiles)), 0, 1)
    return np.round(base * 10) / 10, np.round(other * 10) / 10


def test_paired_interval_covers_the_known_difference_most_of_the_time():
    rng = np.random.default_rng(0)
    covered = 0
    trials = 30
    for trial in range(trials):
        # True difference 0: both score distributions are symmetric about 0.5 by construction.
        first, second = synthetic_tile_scores(rng, 1, 150, 0.0)
        interval = paired_difference_ci(first - second, n_resamples=999, seed=trial)
        covered += interval.contains(0.0)
    assert covered >= 0.8 * trials  # nominal 95 %; 30 trials leave room for chance


def test_paired_interval_covers_a_shift_and_excludes_zero_when_it_is_large():
    rng = np.random.default_rng(1)
    first, second = synthetic_tile_scores(rng, 1, 200, 0.0)
    shifted = np.clip(second - 0.2, 0, 1)  # a known, large difference
    true_difference = float((first - shifted).mean())
    interval = paired_difference_ci(first - shifted, n_resamples=1999)
    assert interval.low < true_difference < interval.high
    assert interval.low > 0.1 and interval.n == 200
    assert difference_verdict(interval).startswith("Keras scores higher by")
    flipped = paired_difference_ci(shifted - first, n_resamples=1999)
    assert flipped.high < 0 and difference_verdict(flipped).startswith("PyTorch scores higher by")


def test_no_difference_gives_the_contains_zero_verdict():
    rng = np.random.default_rng(2)
    first, second = synthetic_tile_scores(rng, 1, 120, 0.0)
    interval = paired_difference_ci(first - second, n_resamples=999)
    assert interval.contains(0.0)  # this draw; the coverage test above checks the rate
    assert difference_verdict(interval).startswith("no significant difference (CI [")
    identical = paired_difference_ci(np.zeros((1, 50)))  # ties: bounded, never [0, 0]
    assert identical.method == "Clopper-Pearson tie bound"
    assert identical.low < -0.05 and identical.high > 0.05  # 0 of 50 differ: up to ~7 % could
    assert "contains 0" in difference_verdict(identical)


def test_bca_only_where_enough_tiles_differ():
    from common.stats.intervals import MIN_BCA_DIFFERING

    few = np.zeros((1, 640))
    few[0, :20] = 0.1
    many = np.zeros((1, 640))
    many[0, : MIN_BCA_DIFFERING + 50 : 2] = 0.1
    many[0, 1 : MIN_BCA_DIFFERING + 50 : 2] = -0.2
    assert paired_difference_ci(few, n_resamples=999).method == "bootstrap percentile"
    assert paired_difference_ci(many, n_resamples=999).method == "bootstrap BCa"


def test_seed_to_seed_spread_widens_the_crossed_bootstrap():
    rng = np.random.default_rng(3)
    first, second = synthetic_tile_scores(rng, 3, 150, 0.05)
    differences = first - second
    with_seed_effect = differences + np.array([[-0.08], [0.0], [0.08]])  # runs disagree
    narrow = paired_difference_ci(differences, n_resamples=999)
    wide = paired_difference_ci(with_seed_effect, n_resamples=999)
    assert wide.high - wide.low > 1.5 * (narrow.high - narrow.low)
    assert wide.estimate == pytest.approx(narrow.estimate)


def test_mean_ci_and_format_never_fake_a_spread():
    single = mean_ci([0.6317])
    assert single.low is None and single.n == 1
    assert format_interval(single) == "0.6317 n=1" and "±" not in format_interval(single)
    three = mean_ci([0.60, 0.62, 0.64])
    assert three.low < 0.62 < three.high and three.n == 3
    assert format_interval(three).endswith("n=3") and "[" in format_interval(three)


def test_ratio_interval_contains_the_ratio_of_means():
    rng = np.random.default_rng(4)
    keras = rng.normal(10, 0.5, 8)
    torch = rng.normal(20, 1.0, 8)
    ratio = ratio_of_means_ci(keras, torch, n_resamples=999)
    assert ratio.low < keras.mean() / torch.mean() < ratio.high and ratio.n == 8
    assert ratio.low > 0.4 and ratio.high < 0.6
    too_few = ratio_of_means_ci([10.0, 11.0], [20.0, 21.0, 19.0, 22.0, 20.5])
    assert too_few.low is None and too_few.n == 2  # 2 values cannot give an honest interval


# ---- three-way verdicts (TOST) -------------------------------------------------------------
def _verdict(diff, margin=0.01):
    from common.stats.intervals import TOST_CONFIDENCE
    from common.stats.verdict_rules import three_way_verdict

    diff = np.atleast_2d(diff)
    ci95 = paired_difference_ci(diff, n_resamples=2000)
    ci90 = paired_difference_ci(diff, confidence=TOST_CONFIDENCE, n_resamples=2000)
    return three_way_verdict(ci95, ci90, margin), ci90


def fabricated_tiles(n_tiles: int, shift: float, seed: int = 0) -> np.ndarray:
    """Per-tile score differences as a comparison makes them: most tiles 0, some +-0.1 steps."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-0.2, -0.1, 0.0, 0.0, 0.0, 0.1, 0.2], size=n_tiles)
    return steps - steps.mean() + shift


def test_tost_says_equivalent_with_many_tiles_and_no_true_difference():
    verdict, ci90 = _verdict(fabricated_tiles(20000, 0.0))
    assert verdict["kind"] == "equivalent", verdict
    assert verdict["line"].startswith("equivalent within ±0.01 (TOST, 90 % CI [")
    assert ci90.low > -0.01 and ci90.high < 0.01


def test_tost_is_inconclusive_with_few_tiles():
    verdict, _ = _verdict(fabricated_tiles(60, 0.0))
    assert verdict["kind"] == "inconclusive", verdict
    assert "is wider than ±0.01" in verdict["line"]


def test_a_large_shift_is_higher_not_equivalent():
    verdict, _ = _verdict(fabricated_tiles(2000, 0.05))
    assert verdict["kind"] == "higher" and verdict["line"].startswith("Keras scores higher by 0.05")
    verdict, _ = _verdict(-fabricated_tiles(2000, 0.05))
    assert verdict["line"].startswith("PyTorch scores higher by 0.05")


def test_speed_ratio_reads_three_ways():
    from common.stats.intervals import Interval
    from common.stats.verdict_rules import ratio_verdict

    same = ratio_verdict(
        Interval(1.0, 0.98, 1.02, 30, "b"),
        Interval(1.0, 0.985, 1.015, 30, "b"),
        0.05,
        "Keras",
        "PyTorch",
    )
    assert same["kind"] == "equivalent" and same["line"].startswith("as fast within ±5%")
    slower = ratio_verdict(
        Interval(0.9, 0.88, 0.91, 30, "b"),
        Interval(0.9, 0.885, 0.905, 30, "b"),
        0.05,
        "Keras",
        "PyTorch",
    )
    assert slower["line"].startswith("PyTorch trains 1.11× as fast [1.10, 1.14]")
    wide = ratio_verdict(
        Interval(1.0, 0.8, 1.2, 5, "b"), Interval(1.0, 0.85, 1.15, 5, "b"), 0.05, "Keras", "PyTorch"
    )
    assert wide["kind"] == "inconclusive" and "±5% band" in wide["line"]


def test_speed_margin_is_symmetric_on_the_log_scale():
    """Swapping which subject is the reference never changes a speed verdict."""
    from common.stats.intervals import Interval
    from common.stats.verdict_rules import ratio_verdict

    rng = np.random.default_rng(7)
    for _ in range(500):
        centre = float(np.exp(rng.normal(0, 0.06)))
        half = float(np.exp(abs(rng.normal(0, 0.03))))
        ci95 = Interval(centre, centre / half**1.2, centre * half**1.2, 5, "t")
        ci90 = Interval(centre, centre / half, centre * half, 5, "t")

        def flip(ci):
            return Interval(1 / ci.estimate, 1 / ci.high, 1 / ci.low, ci.n, ci.method)

        ahead = ratio_verdict(ci95, ci90, 0.05, "A", "B")
        behind = ratio_verdict(flip(ci95), flip(ci90), 0.05, "B", "A")
        assert ahead["kind"] == behind["kind"], (ci90, ahead, behind)


def test_holm_adjusts_step_down_and_stays_monotone():
    from common.stats.intervals import holm

    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    # sorted 0.01, 0.03, 0.04 -> x3, x2, x1 = 0.03, 0.06, 0.04 -> monotone: 0.03, 0.06, 0.06
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})
    assert holm({"only": 0.02}) == {"only": 0.02}  # one test: nothing to correct
    assert holm({"a": 0.6, "b": 0.7})["a"] == 1.0  # capped at 1
