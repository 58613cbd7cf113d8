"""Out-of-fold evaluation shared by both twins: flip TTA, threshold and area search, inference speed."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

PredictFn = Callable[[np.ndarray], np.ndarray]


def predict_tta(predict: PredictFn, images: np.ndarray, tta: str = "hflip") -> np.ndarray:
    """Mean logits of the plain and (when tta='hflip') the horizontally flipped, flipped-back prediction."""
    logits = predict(images)
    if tta == "hflip":
        flipped = predict(np.ascontiguousarray(images[:, :, ::-1]))
        logits = (logits + flipped[:, :, ::-1]) / 2
    elif tta not in ("none", None):
        raise ValueError(f"unknown TTA {tta!r}; use 'hflip' or 'none'")
    return logits.astype(np.float32)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))).astype(np.float32)


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def search_on_logits(
    truth: np.ndarray, logits: np.ndarray, grid: np.ndarray, areas=(0,)
) -> dict[str, float]:
    """Best cut (logit threshold, and minimum area over `areas`) on validation tiles, its score,
    and the score at logit 0 with no area floor."""
    from common.metric import competition_score, score_at_threshold
    from common.postprocess import search_cut

    cut, best_score = search_cut(truth, logits, grid, areas)
    return {
        "threshold": cut.threshold,
        "min_area": cut.min_area,
        "score": best_score,
        "score_at_0": float(score_at_threshold(truth, logits, 0.0)),
        "empty_baseline": float(competition_score(truth, np.zeros(truth.shape, dtype=bool))),
    }


def inference_throughput(
    predict: PredictFn, images: np.ndarray, rounds: int = 3
) -> dict[str, float]:
    """Images/s of plain inference on `images` after one warm-up pass: median of `rounds` passes."""
    predict(images[: min(len(images), 64)])
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        predict(images)
        rates.append(len(images) / (time.perf_counter() - start))
    return {"infer_img_s": float(np.median(rates)), "infer_img_s_spread": float(np.ptp(rates))}
