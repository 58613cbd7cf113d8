"""Competition metric: vectorised version against a plain per-image loop."""

import numpy as np
import pytest

from common.core.metric import (
    competition_score,
    image_scores,
    score_at_threshold,
    search_threshold,
)


def loop_score(truth: np.ndarray, pred: np.ndarray) -> float:
    """Independent per-image reference of the competition metric (docs/data.md)."""
    total = 0.0
    for t, p in zip(truth, pred, strict=True):
        t, p = t.astype(bool), p.astype(bool)
        if not t.any() and not p.any():
            total += 1.0
            continue
        iou = (t & p).sum() / (t | p).sum()
        total += (
            sum(iou > th for th in [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]) / 10
        )
    return total / len(truth)


def random_pairs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.random((n, 101, 101)) < rng.random((n, 1, 1))
    pred = truth ^ (rng.random((n, 101, 101)) < rng.random((n, 1, 1)) * 0.6)
    truth[: n // 5] = False  # empty truth
    pred[n // 10 : n // 4] = False  # empty prediction (overlaps empty truth for some)
    return truth, pred


def test_matches_plain_loop_including_empty_cases():
    truth, pred = random_pairs()
    assert abs(competition_score(truth, pred) - loop_score(truth, pred)) < 1e-12
    per_image = image_scores(truth[..., None], pred[..., None])
    assert per_image.shape == (300,) and per_image.dtype == np.float64
    for i in (0, 20, 40, 100, 299):
        assert abs(per_image[i] - loop_score(truth[i : i + 1], pred[i : i + 1])) < 1e-12


def test_empty_cases():
    empty = np.zeros((1, 5, 5), bool)
    full = np.ones((1, 5, 5), bool)
    assert image_scores(empty, empty)[0] == 1.0
    assert image_scores(empty, full)[0] == 0.0
    assert image_scores(full, empty)[0] == 0.0
    assert image_scores(full, full)[0] == 1.0


def test_iou_boundary_is_strict():
    truth = np.zeros((1, 1, 20), bool)
    truth[0, 0, :20] = True
    pred = np.zeros_like(truth)
    pred[0, 0, :11] = True  # IoU exactly 0.55: hit at 0.50 only
    assert image_scores(truth, pred)[0] == pytest.approx(0.1)


def test_threshold_and_search():
    truth, pred = random_pairs(80, seed=1)
    rng = np.random.default_rng(2)
    probs = np.where(pred, 0.6, 0.3) + rng.normal(0, 0.02, pred.shape)
    assert score_at_threshold(truth, probs, 0.45) == competition_score(truth, probs > 0.45)
    grid = np.linspace(0.1, 0.9, 17)
    best_t, best_s, scores = search_threshold(truth, probs, grid)
    assert scores.shape == (17,)
    assert best_s == scores.max() and best_t == grid[np.argmax(scores)]
    assert abs(best_s - loop_score(truth, probs > best_t)) < 1e-12


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ"):
        image_scores(np.zeros((2, 5, 5)), np.zeros((3, 5, 5)))
