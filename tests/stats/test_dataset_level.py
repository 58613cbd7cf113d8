"""The frameworks on this dataset (seeds on fixed folds): coverage of a known truth, the error
rates of its verdicts, its power planning, and how the two framework levels hand over."""

import numpy as np
import pytest

from common.stats.dataset_level import dataset_interval, seeds_needed, variance_components
from common.stats.levels import frameworks_level
from common.stats.verdict_rules import three_way_verdict

MARGIN = 0.01
SEED_SD, FOLD_SD = 0.013, 0.01  # the real run's between-run sd; fold effects of the same size
EXPERIMENTS = 1000


def simulate(seeds: int, folds: int, delta: float, rng, experiments: int = EXPERIMENTS) -> dict:
    """Rates over simulated grids d[s, f] = delta + fold effect + seed noise. The truth on this
    dataset is the mean over its folds: the fold effects are drawn anew each time and centred,
    so that it is delta exactly (a false "higher" at delta 0 is then false on these folds)."""
    covered = higher = equivalent = 0
    for _ in range(experiments):
        fold_effects = rng.normal(0.0, FOLD_SD, folds)
        fold_effects -= fold_effects.mean()
        grid = delta + fold_effects + rng.normal(0.0, SEED_SD, (seeds, folds))
        truth = delta
        ci95, ci90 = dataset_interval(grid, 0.95), dataset_interval(grid, 0.90)
        covered += ci95.low <= truth <= ci95.high
        kind = three_way_verdict(ci95, ci90, MARGIN)["kind"]
        higher += kind == "higher"
        equivalent += kind == "equivalent"
    return {k: v / experiments for k, v in
            {"coverage": covered, "higher": higher, "equivalent": equivalent}.items()}  # fmt: skip


@pytest.mark.parametrize(("seeds", "folds"), [(3, 1), (5, 1), (2, 5), (3, 5), (4, 2)])
def test_seeds_on_fixed_folds_cover_and_decide_at_nominal_rates(seeds, folds):
    rng = np.random.default_rng(seeds * 10 + folds)
    null = simulate(seeds, folds, 0.0, rng)
    assert 0.92 <= null["coverage"] <= 0.98, null
    assert null["higher"] <= 0.07, null
    far = simulate(seeds, folds, 1.5 * MARGIN, rng)
    assert 0.92 <= far["coverage"] <= 0.98, far
    assert far["equivalent"] <= 0.07, far


def test_too_few_seeds_give_no_interval():
    assert dataset_interval(np.zeros((1, 5)), 0.95).low is None  # one seed per fold: 0 df
    assert dataset_interval(np.zeros((2, 1)), 0.95).low is None  # two seeds on one fold: 1 df
    assert dataset_interval(np.array([[0.0], [0.01], [0.02]]), 0.95).low is not None


def test_variance_components_recover_seed_and_fold_spread():
    rng = np.random.default_rng(0)
    grid = rng.normal(0.0, FOLD_SD, 40) + rng.normal(0.0, SEED_SD, (30, 40))
    parts = variance_components(grid)
    assert parts["seed_sd"] == pytest.approx(SEED_SD, rel=0.05)
    assert parts["fold_sd"] == pytest.approx(FOLD_SD, rel=0.3)
    assert parts["df"] == 40 * 29 and parts["seeds"] == 30 and parts["folds"] == 40


@pytest.mark.parametrize("equivalence", [True, False])
def test_seeds_needed_gives_the_power_it_promises(equivalence):
    delta, folds = (0.0, 5) if equivalence else (-0.0146, 5)
    target = MARGIN if equivalence else abs(delta)
    seeds = seeds_needed(SEED_SD, folds, target, equivalence, alpha=0.025, power=0.8)
    assert seeds is not None and 2 <= seeds <= 10
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(400):
        grid = (
            delta + rng.normal(0.0, FOLD_SD, folds) * 0 + rng.normal(0.0, SEED_SD, (seeds, folds))
        )
        ci95, ci90 = dataset_interval(grid, 0.975), dataset_interval(grid, 0.95)
        kind = three_way_verdict(ci95, ci90, MARGIN)["kind"]
        hits += kind == ("equivalent" if equivalence else "higher")
    assert 0.72 <= hits / 400 <= 0.97, (seeds, hits)


def _tiles(grid: np.ndarray, tiles: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Per-tile differences whose (seed, fold) means are `grid`; the fold of each tile."""
    seeds, folds = grid.shape
    return np.repeat(grid, tiles, axis=1), np.repeat(np.arange(folds), tiles)


def test_the_dataset_level_leads_where_seeds_repeat_and_both_levels_are_reported():
    rng = np.random.default_rng(3)
    diff, fold = _tiles(-0.015 + rng.normal(0.0, 0.004, (3, 5)))
    both = frameworks_level(diff, fold, MARGIN, 0.25, 1, "Keras", "PyTorch")
    assert both["lead"] == "dataset" and both["dataset"]["verdict"]["kind"] == "higher"
    assert both["dataset"]["seeds"] == 3 and both["dataset"]["folds"] == 5
    assert both["low"] is not None and len(both["set_differences"]) == 5
    assert len(both["unit_differences"]) == 15
    one_fold, fold1 = _tiles(rng.normal(0.0, 0.004, (4, 1)))
    seeds_only = frameworks_level(one_fold, fold1, MARGIN, 0.25, 1, "Keras", "PyTorch")
    assert seeds_only["lead"] == "dataset" and seeds_only["low"] is None
    assert "one training set" in seeds_only["verdict"]["line"]


def test_one_seed_per_fold_leads_across_training_sets_and_plans_seeds_for_the_other():
    """The committed verdict run's per-fold differences: across training sets no number of folds
    decides; the line names its design and the seeds per fold the dataset level would need."""
    diff, fold = _tiles(np.array([[-0.0348, -0.0020, -0.0194, -0.0109, -0.0056]]))
    level = frameworks_level(diff, fold, MARGIN, 0.25, 2, "Keras", "PyTorch")
    assert level["lead"] == "across" and level["dataset"]["low"] is None
    line = level["verdict"]["line"]
    assert "corrected t across training sets, assumed correlation 0.20" in line
    seeds = level["dataset"]["verdict"]["seeds_needed"]
    assert f"on this dataset, {seeds} seeds per fold would" in line and 2 <= seeds <= 5
    assert "upper bound" in level["dataset"]["verdict"]["line"]
