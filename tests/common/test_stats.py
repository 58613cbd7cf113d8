"""common.stats: intervals that cover what they should, exclude 0 when they should, and never fake n."""

import numpy as np
import pytest

from common.stats import (
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
    identical = paired_difference_ci(np.zeros((1, 50)))
    assert (identical.low, identical.high) == (0.0, 0.0)
    assert "contains 0" in difference_verdict(identical)


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
