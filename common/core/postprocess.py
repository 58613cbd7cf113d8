"""Post-processing of predicted logits into masks, the same for every subject (framework-free).

A cut is a logit threshold and a minimum predicted area: a tile whose mask (logit > threshold)
covers fewer than `min_area` pixels is emptied. About 39 % of the TGS tiles hold no salt, and one
stray pixel scores such a tile 0 where an empty mask scores 1, so a small area floor pays.

Recipe key `eval.min_area`: 0 (off, the default), a fixed number of pixels, or "search": the area
is then searched jointly with the threshold over MIN_AREA_GRID, on the same tiles and, for the
honest score, cross-fitted the same way (common/compare/unit/step_timing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from common.core.errors import SaltbenchError
from common.core.metric import _counts, _flatten, scores_from_counts

# Pixel counts searched by eval.min_area "search" (a tile is 101 x 101 = 10201 pixels).
MIN_AREA_GRID = (0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600)


@dataclass(frozen=True)
class Cut:
    """How logits become a mask: pixels above `threshold`, emptied below `min_area` pixels."""

    threshold: float
    min_area: int = 0


def cut_of(summary: dict[str, Any]) -> Cut:
    """The cut a metrics summary records (its `threshold` and `min_area`; logit 0, no area if absent)."""
    return Cut(float(summary.get("threshold", 0.0)), int(summary.get("min_area", 0) or 0))


def area_grid(recipe: dict[str, Any]) -> tuple[int, ...]:
    """The minimum areas a run searches: (0,) when off, (n,) when fixed, MIN_AREA_GRID for 'search'."""
    setting = recipe.get("eval", {}).get("min_area", 0)
    if setting == "search":
        return MIN_AREA_GRID
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 0:
        raise SaltbenchError(
            f"recipe key eval.min_area must be a whole number of pixels >= 0 or 'search', "
            f"got {setting!r}"
        )
    return (int(setting),)


def to_masks(logits: np.ndarray, cut: Cut) -> np.ndarray:
    """Boolean masks of `logits` under `cut` (same shape as `logits`)."""
    masks = np.asarray(logits) > cut.threshold
    if cut.min_area > 0:
        flat = masks.reshape(masks.shape[0], -1)
        masks = masks.copy()
        masks[flat.sum(axis=1) < cut.min_area] = False
    return masks


def cut_scores(truth: np.ndarray, logits: np.ndarray, thresholds, areas=(0,)) -> np.ndarray:
    """Per-tile scores for every (threshold, min_area) pair: shape (T, A, N)."""
    t = _flatten(truth, "truth").astype(bool, copy=False)
    v = _flatten(logits, "logits")
    if t.shape != v.shape:
        raise ValueError(f"truth and logits shapes differ: {t.shape} vs {v.shape}")
    thresholds = np.asarray(thresholds, dtype=np.float64).ravel()
    if thresholds.size == 0:
        raise ValueError("thresholds must not be empty")
    truth_area = np.count_nonzero(t, axis=1)
    out = np.empty((thresholds.size, len(areas), t.shape[0]))
    for i, threshold in enumerate(thresholds):
        pred = v > threshold
        inter, union = _counts(t, pred)
        area = np.count_nonzero(pred, axis=1)
        for j, min_area in enumerate(areas):
            emptied = area < min_area
            out[i, j] = scores_from_counts(
                np.where(emptied, 0, inter), np.where(emptied, truth_area, union)
            )
    return out


def search_cut(truth: np.ndarray, logits: np.ndarray, thresholds, areas=(0,)) -> tuple[Cut, float]:
    """The best cut on these tiles and its score; ties go to the lowest threshold, then area."""
    means = cut_scores(truth, logits, thresholds, areas).mean(axis=2)
    i, j = np.unravel_index(int(np.argmax(means)), means.shape)
    threshold = float(np.asarray(thresholds, dtype=np.float64).ravel()[i])
    return Cut(threshold, int(areas[j])), float(means[i, j])


def tile_scores(truth: np.ndarray, logits: np.ndarray, cut: Cut) -> np.ndarray:
    """(N,) competition score of each tile under `cut`."""
    return cut_scores(truth, logits, [cut.threshold], (cut.min_area,))[0, 0]
