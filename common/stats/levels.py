"""A score comparison at two levels, each with its own unit of replication.

- **These trained models** (`models`): are these two sets of trained weights equally good on these
  tiles? Per-tile differences, bootstrapped over tiles (and seeds): common.stats.intervals.
- **The frameworks** (`frameworks`): would another training run of each framework come out the
  same way? Two questions, each named for what it generalises to:
  - *on this dataset* (`frameworks["dataset"]`, common.stats.dataset_level): another seed on these
    same folds. Seeds on one split share all their data, so they are the replicates; the folds
    are held fixed. A plain t interval, exact for normal per-seed differences; it needs >= 2 seeds
    per fold (or >= 3 on one fold) and is the level that can decide, so the Answer leads with it
    where it has an interval.
  - *across training sets* (the top-level fields): new training sets of this size. Seeds are
    averaged within each fold (they share its training set, so they are not independent draws of
    it) and the folds' means go into a Student-t interval with the Nadeau & Bengio (2003)
    correction for folds whose training sets overlap (the corrected k-fold t-test of Bouckaert &
    Frank, 2004): Var(mean) = S^2 (1/F + n_test/n_train), df = F - 1. The correlation it assumes
    (n_test / n) is not measured: the interval is exact for normal fold means only when it is the
    true one, and meant to be conservative otherwise. Its second term does not shrink with more
    folds of the same tiles, which is why this level often cannot decide. One fold: no interval.

Why a t interval and not a cluster (two-stage) bootstrap over units: with 5 units the bootstrap's
percentile interval is known to be too narrow. Coverage of both levels is checked by simulation
(tests/stats/test_levels.py, tests/stats/test_dataset_level.py).

Below MIN_RUNS units the between-run spread cannot be estimated from the run; a noise floor
(`--noise-floor`: the reference against its own copy started one ulp away, unit by unit) may
stand in: its per-unit differences have mean 0 by construction, so their mean square estimates the
variance of one unit's difference between two runs (a lower bound: the copy shares the batch
order and dropout masks, so data-order variance is missing from it).

With several pairs in one run, every interval is Bonferroni-adjusted for the family (confidence
1 - alpha/m), so the interval shown is the one that decides.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from common.stats.dataset_level import (
    dataset_interval,
    plan_goal,
    seed_fold_grid,
    seeds_needed,
    variance_components,
)
from common.stats.intervals import (
    CONFIDENCE,
    RESAMPLES,
    TOST_CONFIDENCE,
    Interval,
    paired_difference_ci,
    tie_interval,
)
from common.stats.verdict_rules import three_way_verdict

# With 2 units the between-run variance rests on one degree of freedom (its standard error is
# ~70 % of itself and t(0.975, 1) = 12.7): the framework verdict is then luck, not measurement.
# From 3 units (2 df) the interval is still wide but its width is a measurement.
MIN_RUNS = 3
POWER = 0.80  # the power `runs_needed` plans for


def family_levels(family: float) -> tuple[float, float]:
    """(95 %, 90 %) confidence levels, Bonferroni-adjusted: alpha / `family` (the pairs compared
    at once, or a claim's weighted share: common.stats.claims)."""
    m = max(1.0, float(family))
    return 1.0 - (1.0 - CONFIDENCE) / m, 1.0 - (1.0 - TOST_CONFIDENCE) / m


def unit_means(diff: np.ndarray, fold_of_tile: np.ndarray) -> np.ndarray:
    """Mean difference of every unit: rows of `diff` are seeds, columns tiles; a unit is one seed's
    tiles of one fold. Seeds outermost, then folds in ascending order."""
    diff = np.atleast_2d(diff)
    folds = np.unique(fold_of_tile)
    return np.array(
        [diff[s, fold_of_tile == f].mean() for s in range(diff.shape[0]) for f in folds]
    )


def runs_interval(
    unit_diffs,
    test_over_train: float,
    confidence: float,
    floor_diffs=None,
    tie: tuple[int, int] | None = None,
) -> Interval:
    """The framework-level interval of the mean unit difference (see the module docstring).

    `floor_diffs`: per-unit noise-floor differences, used only below MIN_RUNS units. `tie`:
    (differing tiles, tiles) over all units, for the case where every unit differs alike."""
    from scipy import stats

    d = np.asarray(unit_diffs, dtype=np.float64)
    units, estimate = int(d.size), float(d.mean())
    correlation = test_over_train / (1.0 + test_over_train)  # Nadeau & Bengio's rho = n_test / n
    if units >= MIN_RUNS:
        if np.ptp(d) == 0.0 and tie is not None:  # no spread between runs at all: bound the ties
            bound = tie_interval(estimate, *tie, confidence)
            return Interval(estimate, bound.low, bound.high, units, bound.method)
        variance = float(d.var(ddof=1)) * (1.0 / units + test_over_train)
        df, method = units - 1, "corrected t across training sets (Nadeau-Bengio)"
    elif floor_diffs is not None and np.any(np.asarray(floor_diffs, dtype=np.float64) != 0.0):
        f = np.asarray(floor_diffs, dtype=np.float64)  # all zero: the floor measured no spread
        variance = float(np.mean(f**2)) * (correlation + (1.0 - correlation) / units)
        floor_units = f"{f.size} unit{'s' * (f.size != 1)}"
        df, method = int(f.size), f"t, between-run spread from the noise floor ({floor_units})"
    else:
        return Interval(estimate, None, None, units, "too few training runs")
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * math.sqrt(variance)
    return Interval(estimate, estimate - half, estimate + half, units, method)


def runs_needed(
    sd: float, margin: float, test_over_train: float, equivalence: bool, alpha: float = 0.05
) -> int | None:
    """About how many training runs (units) give POWER to show equivalence within +-margin (TOST,
    true difference 0: t(1-a) + t(1-b/2), Julious 2004) or to detect a difference of the margin
    (t(1-a/2) + t(1-b)), for a between-unit sd `sd` and the Nadeau-Bengio variance
    sd^2 (1/U + n_test/n_train): the smallest U with (quantile sum)^2 * variance <= margin^2,
    with t quantiles on U - 1 df (the normal-quantile formula promises too much at a few runs).
    None when no number of units reaches it (up to 1000): the correction's second term does not
    shrink with more runs on the same tiles. An estimate."""
    from scipy.stats import norm, t

    beta = 1.0 - POWER
    sides = (1 - alpha, 1 - beta / 2) if equivalence else (1 - alpha / 2, 1 - beta)
    if sum(norm.ppf(sides)) ** 2 * sd**2 * test_over_train >= margin**2:
        return None  # not even infinitely many runs (t quantiles fall towards the normal ones)
    for units in range(MIN_RUNS, 1001):
        df = units - 1
        if equivalence:
            quantiles = t.ppf(1 - alpha, df) + t.ppf(1 - beta / 2, df)
        else:
            quantiles = t.ppf(1 - alpha / 2, df) + t.ppf(1 - beta, df)
        if quantiles**2 * sd**2 * (1.0 / units + test_over_train) <= margin**2:
            return units
    return None


def _interval_dicts(ci95: Interval, ci90: Interval, conf95: float, conf90: float) -> dict:
    return {
        **ci95.to_dict(),
        "confidence": conf95,
        "tost": {**ci90.to_dict(), "confidence": conf90},
    }


def models_level(
    diff: np.ndarray, margin: float, family: int, first: str, second: str, n_resamples: int
) -> dict[str, Any]:
    """These trained models on these tiles: the paired tile bootstrap and its verdict."""
    conf95, conf90 = family_levels(family)
    ci95 = paired_difference_ci(diff, confidence=conf95, n_resamples=n_resamples)
    ci90 = paired_difference_ci(diff, confidence=conf90, n_resamples=n_resamples)
    verdict = three_way_verdict(ci95, ci90, margin, first, second)
    diff = np.atleast_2d(diff)
    return {
        **_interval_dicts(ci95, ci90, conf95, conf90),
        "n_seeds": int(diff.shape[0]),
        "differing_tiles": int(np.count_nonzero(np.any(diff != 0.0, axis=0))),
        "verdict": verdict,
    }


def dataset_verdict(
    grid: np.ndarray, margin: float, family: float, first: str, second: str, fallback_sd
) -> dict[str, Any]:
    """The frameworks on this dataset (common.stats.dataset_level): its interval, the variance
    components, and the seeds per fold a decision needs (planned from the seed sd, or where one
    seed per fold leaves it unknown, from `fallback_sd`, the between-fold sd: an upper bound)."""
    conf95, conf90 = family_levels(family)
    ci95, ci90 = dataset_interval(grid, conf95), dataset_interval(grid, conf90)
    parts = variance_components(grid)
    sd, source = parts["seed_sd"], "the seed sd"
    if sd is None:
        sd, source = fallback_sd, "the between-fold sd, an upper bound on the seed sd"
    target, equivalence, goal = plan_goal(ci95.estimate, margin)
    folds = parts["folds"]
    needed = seeds_needed(sd, folds, target, equivalence, 1 - conf95, POWER) if sd else None
    where = f"{folds} fold{'s' * (folds != 1)}"
    advice = (
        f"about {needed} seeds per fold on these {where} would give {POWER:.0%} power to {goal} "
        f"(from {source} {sd:.4f})"
        if needed
        else ""
    )
    result = {**_interval_dicts(ci95, ci90, conf95, conf90), **parts}
    if ci95.low is None:
        line = (
            f"{parts['seeds']} seed(s) on {where}: the seed-to-seed spread is not measured "
            f"(needs ≥ 2 seeds per fold, or ≥ 3 on one fold)" + (f"; {advice}" if advice else "")
        )
        verdict = {"kind": "too few runs", "line": line}
    else:
        verdict = three_way_verdict(ci95, ci90, margin, first, second, advice)
    if needed:
        verdict["seeds_needed"] = needed
    return {**result, "verdict": verdict}


def frameworks_level(
    diff: np.ndarray,
    fold_of_tile: np.ndarray,
    margin: float,
    test_over_train: float,
    family: int,
    first: str,
    second: str,
    floor_diffs=None,
) -> dict[str, Any]:
    """The frameworks at both levels: on this dataset (seeds on fixed folds: `dataset`, the lead
    where it has an interval) and across training sets (the corrected t over the folds' seed
    means, the top-level fields), each with its verdict."""
    conf95, conf90 = family_levels(family)
    units = unit_means(diff, fold_of_tile)
    grid = seed_fold_grid(diff, fold_of_tile)
    flat = np.atleast_2d(diff)
    tie = (int(np.count_nonzero(flat)), int(flat.size))
    one_split = grid.shape[1] == 1 and grid.shape[0] > 1
    sets = grid.mean(axis=0)  # one value per training set: its seeds averaged
    ci95 = runs_interval(sets, test_over_train, conf95, floor_diffs, tie)
    ci90 = runs_interval(sets, test_over_train, conf90, floor_diffs, tie)
    sd = float(sets.std(ddof=1)) if sets.size > 1 else None
    dataset = dataset_verdict(grid, margin, family, first, second, sd)
    result = {
        **_interval_dicts(ci95, ci90, conf95, conf90),
        "unit_differences": units.tolist(),
        "set_differences": sets.tolist(),
        "between_unit_sd": sd,
        "test_over_train": test_over_train,
        "dataset": dataset,
        "lead": "dataset" if dataset["low"] is not None else "across",
    }
    if one_split:
        line = (
            f"one training set ({grid.shape[0]} seeds on one fold): says nothing across "
            "training sets; see the level on this dataset"
        )
        return {**result, "low": None, "high": None, "method": "one training set",
                "verdict": {"kind": "too few runs", "line": line}}  # fmt: skip
    if ci95.low is None:
        line = (
            f"{sets.size} training set{'s' * (sets.size != 1)} (folds; {units.size} training "
            f"run{'s' * (units.size != 1)} per framework): too few to speak across training sets, "
            f"which needs ≥ {MIN_RUNS} folds (`--folds`) or `--noise-floor`; see the level on "
            "this dataset"
        )
        return {**result, "verdict": {"kind": "too few runs", "line": line}}
    target, equivalence, goal = plan_goal(ci95.estimate, margin)
    needed = runs_needed(sd, target, test_over_train, equivalence, 1 - conf95) if sd else None
    design = f"corrected t across training sets, assumed correlation {test_over_train / (1 + test_over_train):.2f}"
    advice = (
        f"about {needed} training sets (folds) would give {POWER:.0%} power to {goal} ({design}; "
        f"between-set sd {sd:.4f})"
        if needed
        else f"no number of training sets of this size would {goal} at {POWER:.0%} power "
        f"({design}: the folds share training data, so their correlation stays; between-set sd "
        f"{sd:.4f})"
        if sd
        else ""
    )
    if sd and (seeds := dataset["verdict"].get("seeds_needed")):
        advice += f"; on this dataset, {seeds} seeds per fold would (seeds on fixed folds)"
    verdict = three_way_verdict(ci95, ci90, margin, first, second, advice)
    if needed:
        verdict["runs_needed"] = needed
    return {**result, "verdict": verdict}


def compare_levels(
    diff: np.ndarray,
    fold_of_tile: np.ndarray,
    margin: float,
    test_over_train: float,
    family: float = 1,
    first: str = "Keras",
    second: str = "PyTorch",
    floor_diffs=None,
    n_resamples: int = RESAMPLES,
    models_family: float | None = None,
) -> dict[str, Any]:
    """Both levels of one pair's score difference (`diff`: seeds x tiles, first - second);
    `family` divides alpha for the frameworks level, `models_family` (default: the same) for
    these trained models."""
    models_family = family if models_family is None else models_family
    return {
        "models": models_level(diff, margin, models_family, first, second, n_resamples),
        "frameworks": frameworks_level(
            diff, fold_of_tile, margin, test_over_train, family, first, second, floor_diffs
        ),
        "family": family,
    }
