"""The empty-tile rule (eval.min_area) and the joint threshold x area search."""

import numpy as np
import pytest

from common.core.errors import SaltbenchError
from common.core.metric import image_scores, search_threshold
from common.core.postprocess import MIN_AREA_GRID, Cut, area_grid, search_cut, tile_scores, to_masks
from common.stats.crossfit import cross_fitted_score

GRID = np.linspace(-2, 2, 9)


def _tiles(seed=0, n=40, size=16):
    """Half empty tiles whose logits hold one confident stray blob of 3 pixels; half salt squares."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((n, size, size), dtype=bool)
    logits = rng.normal(-3, 0.3, (n, size, size)).astype(np.float32)
    for k in range(n):
        if k % 2:
            truth[k, 2:12, 2:12] = True
            logits[k, 2:12, 2:12] = 3 + rng.normal(0, 0.3, (10, 10))
        else:
            logits[k, 0, :3] = 2.5  # a stray 3-pixel false positive on an empty tile
    return truth, logits


def test_to_masks_empties_only_masks_below_the_area():
    logits = np.full((2, 4, 4), -1.0)
    logits[0, 0, :2] = 1  # 2 pixels
    logits[1, :2, :2] = 1  # 4 pixels
    masks = to_masks(logits, Cut(0.0, 3))
    assert not masks[0].any() and masks[1].sum() == 4
    assert (to_masks(logits, Cut(0.0)) == (logits > 0)).all()


def test_area_search_removes_stray_pixels_on_empty_tiles():
    truth, logits = _tiles()
    plain, plain_score = search_cut(truth, logits, GRID)
    cut, score = search_cut(truth, logits, GRID, MIN_AREA_GRID)
    assert plain.min_area == 0 and plain_score == pytest.approx(0.5)
    assert 3 < cut.min_area <= 100 and score == pytest.approx(1.0)
    assert tile_scores(truth, logits, cut) == pytest.approx(
        image_scores(truth, to_masks(logits, cut))
    )


def test_without_areas_the_search_is_the_threshold_search():
    truth, logits = _tiles(seed=1)
    logits = logits + np.random.default_rng(2).normal(0, 2, logits.shape)
    cut, score = search_cut(truth, logits, GRID)
    threshold, best, _ = search_threshold(truth, logits, GRID)
    assert (cut.threshold, cut.min_area, score) == (threshold, 0, pytest.approx(best))


def test_cross_fitting_chooses_the_area_on_the_other_half():
    truth, logits = _tiles(seed=3)
    honest = cross_fitted_score(truth, logits, GRID, seed=0, areas=MIN_AREA_GRID)
    assert len(honest["min_areas"]) == 2 and all(a > 3 for a in honest["min_areas"])
    assert honest["score"] == pytest.approx(1.0)
    without = cross_fitted_score(truth, logits, GRID, seed=0)
    assert without["min_areas"] == [0, 0] and without["score"] < 0.6


@pytest.mark.parametrize("setting", [-1, 2.5, "big", True])
def test_a_bad_min_area_is_one_line_naming_the_key(setting):
    with pytest.raises(SaltbenchError, match="eval.min_area"):
        area_grid({"eval": {"min_area": setting}})


def test_area_grid_reads_off_fixed_and_search():
    assert area_grid({"eval": {}}) == (0,)
    assert area_grid({"eval": {"min_area": 40}}) == (40,)
    assert area_grid({"eval": {"min_area": "search"}}) == MIN_AREA_GRID
