"""The TGS competition metric: per-image IoU hit rate over thresholds 0.50..0.95, vectorised over N."""

from __future__ import annotations

import numpy as np

IOU_THRESHOLDS = np.array([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
_CHUNK = 512  # images per step: keeps the working set in cache


def _flatten(masks: np.ndarray, name: str) -> np.ndarray:
    """(N,H,W) or (N,H,W,1) -> (N, H*W)."""
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.ndim != 3:
        raise ValueError(f"{name}: expected (N,H,W) or (N,H,W,1), got shape {masks.shape}")
    return masks.reshape(masks.shape[0], -1)


def _counts(truth: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image intersection and union pixel counts of two (N, P) boolean arrays."""
    n = truth.shape[0]
    inter = np.empty(n, dtype=np.int64)
    union = np.empty(n, dtype=np.int64)
    for lo in range(0, n, _CHUNK):
        t = truth[lo : lo + _CHUNK]
        p = pred[lo : lo + _CHUNK]
        inter[lo : lo + _CHUNK] = np.count_nonzero(t & p, axis=1)
        union[lo : lo + _CHUNK] = np.count_nonzero(t | p, axis=1)
    return inter, union


def scores_from_counts(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    """Image scores from intersection/union counts; union 0 (both empty) scores 1."""
    inter = np.asarray(inter, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    iou = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    return (iou[:, None] > IOU_THRESHOLDS[None, :]).mean(axis=1)


def image_scores(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(N,) float64 score of each image for boolean (or 0/1) truth and prediction masks."""
    t = _flatten(truth, "truth").astype(bool, copy=False)
    p = _flatten(pred, "pred").astype(bool, copy=False)
    if t.shape != p.shape:
        raise ValueError(f"truth and pred shapes differ: {t.shape} vs {p.shape}")
    return scores_from_counts(*_counts(t, p))


def competition_score(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean image score: the number the Kaggle leaderboard showed."""
    scores = image_scores(truth, pred)
    if scores.size == 0:
        raise ValueError("cannot score an empty set of images")
    return float(scores.mean())


def score_at_threshold(truth: np.ndarray, values: np.ndarray, threshold: float) -> float:
    """Score of pred = values > threshold (values are probabilities or logits)."""
    t = _flatten(truth, "truth").astype(bool, copy=False)
    v = _flatten(values, "values")
    if t.shape != v.shape:
        raise ValueError(f"truth and values shapes differ: {t.shape} vs {v.shape}")
    return float(scores_from_counts(*_counts(t, v > threshold)).mean())


def search_threshold(
    truth: np.ndarray, values: np.ndarray, thresholds
) -> tuple[float, float, np.ndarray]:
    """Best threshold on a grid: (best_threshold, best_score, score per threshold); ties -> first."""
    thresholds = np.asarray(thresholds, dtype=np.float64).ravel()
    if thresholds.size == 0:
        raise ValueError("thresholds must not be empty")
    t = _flatten(truth, "truth").astype(bool, copy=False)
    v = _flatten(values, "values")
    if t.shape != v.shape:
        raise ValueError(f"truth and values shapes differ: {t.shape} vs {v.shape}")
    scores = np.array([scores_from_counts(*_counts(t, v > th)).mean() for th in thresholds])
    best = int(np.argmax(scores))
    return float(thresholds[best]), float(scores[best]), scores
