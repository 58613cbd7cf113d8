"""Simulated comparisons with a known truth, for the coverage tests of common.stats.levels.

Per-tile score differences are shaped like real ones (measured on 640 real validation tiles of a
Keras-vs-PyTorch run: 26 % of tiles differ, in steps of 0.1, with a mass at +-1 where one model
empties a tile the other fills). Each unit (training run) has its own mean difference
delta + b_u; the run effects b_u have between-unit sd `run_sd` and are correlated among the folds
of one dataset so that the per-unit mean differences have the equicorrelation Nadeau & Bengio
(2003) describe for overlapping training sets, rho = n_test / n (1/5 for 5 folds), or none
(`correlated=False`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEPS = np.round(np.arange(1, 11) / 10, 1)
# Share of the differing tiles at each |difference| 0.1 ... 1.0 (real tiles, rounded).
STEP_WEIGHTS = np.array([0.30, 0.22, 0.12, 0.09, 0.01, 0.04, 0.03, 0.02, 0.01, 0.16])
STEP_WEIGHTS = STEP_WEIGHTS / STEP_WEIGHTS.sum()
TILES = 640
FOLDS = 5


@dataclass(frozen=True)
class Setting:
    units: int
    delta: float
    run_sd: float
    differing: float = 0.26  # share of tiles whose scores differ
    magnitudes: str = "real"  # "real" (STEP_WEIGHTS) or "flips" (every difference is +-1)
    correlated: bool = True


def _magnitudes(rng, kind: str, size) -> np.ndarray:
    if kind == "flips":
        return np.ones(size)
    return rng.choice(STEPS, size=size, p=STEP_WEIGHTS)


def tile_variance(setting: Setting) -> float:
    """Variance of one unit's mean difference from its tiles alone (E d^2 / TILES at delta 0)."""
    square = 1.0 if setting.magnitudes == "flips" else float(STEP_WEIGHTS @ STEPS**2)
    return setting.differing * square / TILES


def run_effects(rng, setting: Setting) -> np.ndarray:
    """b_u with between-unit sd run_sd. With `correlated`, the run effects are equicorrelated so
    that each unit's whole mean difference (run effect plus its own tiles' noise, independent
    across folds) has Nadeau & Bengio's correlation rho = n_test / n = 1/FOLDS between folds."""
    rho = 0.0
    if setting.correlated and setting.run_sd > 0:
        total = setting.run_sd**2 + tile_variance(setting)
        rho = min(1.0, total / FOLDS / setting.run_sd**2)
    shared = rng.normal(0.0, setting.run_sd * np.sqrt(rho))
    own = rng.normal(0.0, setting.run_sd * np.sqrt(1.0 - rho), setting.units)
    return shared + own


def experiment(rng, setting: Setting) -> tuple[np.ndarray, np.ndarray]:
    """(diff: 1 x units*TILES, fold_of_tile): one simulated comparison, one seed, U folds."""
    means = setting.delta + run_effects(rng, setting)
    size = (setting.units, TILES)
    magnitude = _magnitudes(rng, setting.magnitudes, size)
    typical = 1.0 if setting.magnitudes == "flips" else float(STEP_WEIGHTS @ STEPS)
    mean_magnitude = setting.differing * typical  # E|d| over all tiles
    # sign skew so that a unit's expected mean difference is its mean: p(+) = 1/2 + m / (2 p E|d|)
    plus = np.clip(0.5 + means[:, None] / (2 * mean_magnitude), 0.0, 1.0)
    sign = np.where(rng.random(size) < plus, 1.0, -1.0)
    differs = rng.random(size) < setting.differing
    diff = np.where(differs, sign * magnitude, 0.0)
    folds = np.repeat(np.arange(setting.units), TILES)
    return diff.reshape(1, -1), folds
