"""The frameworks on this dataset: training runs that differ by seed, on splits held fixed.

With the same seed both twins start from the same weights and see the same batches, so on one
fixed split the paired per-seed differences are independent draws of "what training in Keras
instead of PyTorch does to this model on these tiles". The question this level answers is
conditional on the dataset and its folds: would another seed, on these splits, come out the
same way? It generalises over training runs, not over new training sets (that is the
across-training-sets level, common.stats.levels, which needs an assumed correlation).

Per fold f and seed s the mean tile difference d[s, f]. The estimate is the mean over all of
them; its variance, with the folds fixed, is sigma_seed^2 / (S F), where sigma_seed^2 is the
within-fold variance between seeds, pooled over folds (df = F (S - 1)). A plain t interval on
that is exact for normal per-seed differences with equal spread in every fold. The fold
component (how much the folds' own means differ beyond seed noise) is estimated beside it, for
the report and for planning, but it does not enter this level's interval: the folds are not
resampled here. Coverage is checked by simulation (tests/stats/test_dataset_level.py).
"""

from __future__ import annotations

import math

import numpy as np

from common.stats.intervals import Interval

MIN_DF = 2  # below 2 degrees of freedom the seed spread is luck (t(0.975, 1) = 12.7)
METHOD = "t over seeds on fixed folds (within-fold seed variance, pooled)"


def seed_fold_grid(diff: np.ndarray, fold_of_tile: np.ndarray) -> np.ndarray:
    """Mean difference per (seed, fold): rows of `diff` are seeds, columns tiles."""
    diff = np.atleast_2d(np.asarray(diff, dtype=np.float64))
    folds = np.unique(fold_of_tile)
    return np.array([[row[fold_of_tile == f].mean() for f in folds] for row in diff])


def degrees_of_freedom(grid: np.ndarray) -> int:
    seeds, folds = np.shape(grid)
    return folds * (seeds - 1)


def variance_components(grid: np.ndarray) -> dict[str, float | int | None]:
    """Seed sd (pooled within folds) and fold sd (between the folds' seed means, beyond what
    seed noise explains; 0 where it explains all), with the grid's shape."""
    grid = np.asarray(grid, dtype=np.float64)
    seeds, folds = grid.shape
    seed_var = float(grid.var(axis=0, ddof=1).mean()) if seeds > 1 else None
    fold_var = None
    if folds > 1:
        spread = float(grid.mean(axis=0).var(ddof=1))
        fold_var = max(0.0, spread - (seed_var or 0.0) / seeds) if seed_var is not None else None
    return {
        "seeds": seeds,
        "folds": folds,
        "seed_sd": None if seed_var is None else math.sqrt(seed_var),
        "fold_sd": None if fold_var is None else math.sqrt(fold_var),
        "df": degrees_of_freedom(grid),
    }


def dataset_interval(grid: np.ndarray, confidence: float) -> Interval:
    """The mean of the grid with its t interval over seeds (no interval below MIN_DF)."""
    from scipy import stats

    grid = np.asarray(grid, dtype=np.float64)
    seeds, folds = grid.shape
    estimate, df = float(grid.mean()), degrees_of_freedom(grid)
    if df < MIN_DF:
        return Interval(estimate, None, None, int(grid.size), "too few seeds per fold")
    variance = float(grid.var(axis=0, ddof=1).mean()) / (seeds * folds)
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * math.sqrt(variance)
    return Interval(estimate, estimate - half, estimate + half, int(grid.size), METHOD)


def seeds_needed(
    seed_sd: float, folds: int, target: float, equivalence: bool, alpha: float, power: float
) -> int | None:
    """Seeds per fold (on `folds` fixed folds) that give `power` to show equivalence within
    +-target (TOST at true difference 0) or to detect a difference of `target`, for a between-seed
    sd `seed_sd`; None beyond 1000 seeds. An estimate, from t quantiles on F (S - 1) df."""
    from scipy.stats import t

    beta = 1.0 - power
    for seeds in range(2, 1001):
        df = folds * (seeds - 1)
        if df < MIN_DF:
            continue
        if equivalence:
            quantiles = t.ppf(1 - alpha, df) + t.ppf(1 - beta / 2, df)
        else:
            quantiles = t.ppf(1 - alpha / 2, df) + t.ppf(1 - beta, df)
        if quantiles**2 * seed_sd**2 / (seeds * folds) <= target**2:
            return seeds
    return None


def plan_goal(estimate: float, margin: float) -> tuple[float, bool, str]:
    """(difference to plan for, equivalence?, its words): equivalence within the margin when the
    estimate is inside it, else detecting the measured difference (never less than the margin)."""
    if abs(estimate) < margin:
        return margin, True, f"show equivalence within ±{margin:g}"
    target = max(margin, abs(estimate))
    return target, False, f"detect the measured difference {target:.4f}"
