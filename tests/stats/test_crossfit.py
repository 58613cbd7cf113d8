"""Threshold cross-fitting: no tile helps choose the cut it is scored with (common/stats/crossfit.py)."""

import numpy as np

from common.core.metric import search_threshold
from common.stats.crossfit import cross_fitted_score


def _tiles(n: int, seed: int):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:101, :101]
    radius = rng.uniform(10, 40, (n, 1, 1)) * (rng.random((n, 1, 1)) > 0.4)
    truth = ((yy - 50) ** 2 + (xx - 50) ** 2 < radius**2)[..., None]
    return truth, rng


def test_cross_fitted_score_equals_the_search_when_any_threshold_separates():
    truth, _ = _tiles(30, 0)
    logits = np.where(truth, 3.0, -3.0).astype(np.float32)
    grid = np.linspace(-2, 2, 9)
    result = cross_fitted_score(truth, logits, grid, seed=0)
    assert result["score"] == 1.0 and search_threshold(truth, logits, grid)[1] == 1.0


def test_cross_fitted_score_shows_the_optimism_of_searching_on_the_scored_tiles():
    truth, rng = _tiles(40, 0)
    # Clean masks shifted by a random offset per tile: the best threshold on a few tiles is partly
    # luck, so searching it on the scored tiles overstates the score (checked for every seed 0-5).
    offsets = rng.normal(0, 1.5, (len(truth), 1, 1, 1))
    logits = (np.where(truth, 1.0, -1.0) + offsets).astype(np.float32)
    grid = np.linspace(-2, 2, 41)
    searched = search_threshold(truth, logits, grid)[1]
    result = cross_fitted_score(truth, logits, grid, seed=0)
    assert result["score"] < searched
    assert len(result["thresholds"]) == 2
