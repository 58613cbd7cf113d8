"""Out-of-fold evaluation shared by both twins: flip TTA, threshold and area search, inference speed,
and a trained unit's evaluation (`evaluate_unit`): TTA logits of its validation and test tiles (or
the mean over the final stage's snapshots), the cut searched and cross-fitted, throughput, and
fold_metrics.json."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from common.compare.unit.step_timing import is_true, step_throughput, timed_rows
from common.compare.unit.targets import DEFAULT_TARGETS, time_to_targets
from common.core.io import atomic_write_json, load_neutral, save_arrays, save_neutral
from common.core.postprocess import area_grid
from common.models.schedules import snapshots_to_average
from common.recipes.resolve import threshold_grid
from common.runs.unit_state import BEST_MODEL, FOLD_METRICS
from common.stats.crossfit import cross_fitted_score

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
    from common.core.metric import competition_score, score_at_threshold
    from common.core.postprocess import search_cut

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


# `session` below is the unit's common.compare.unit.fold.FoldSession (not imported: fold imports this module).
FoldSession = Any


def evaluate_unit(session: FoldSession) -> dict[str, Any]:
    """Score the unit's final weights, save its OOF and test logits and fold_metrics.json."""
    started = time.perf_counter()
    trainer, recipe, store = session.trainer, session.recipe, session.store
    save_neutral(store.dir / BEST_MODEL, trainer.get_weights())
    batch = int(recipe["eval"]["batch_size"])
    predict = lambda x: trainer.predict_logits(x, batch)  # noqa: E731
    snapshots = ensemble_snapshots(recipe, store.state)
    val_logits, test_logits = ensemble_logits(session, predict, recipe["eval"]["tta"], snapshots)
    grid, areas = threshold_grid(recipe), area_grid(recipe)
    result = search_on_logits(session.val_masks, val_logits, grid, areas)
    honest = cross_fitted_score(session.val_masks, val_logits, grid, seed=session.seed, areas=areas)
    targets = recipe["eval"].get("targets", DEFAULT_TARGETS)
    data = session.data
    speed = inference_throughput(
        predict, session.val_images if len(session.val_images) >= 16 else data.images
    )
    save_arrays(
        store.dir / "oof.npz",
        ids=np.array([data.train_ids[i] for i in session.val_idx]),
        logits=val_logits.astype(np.float16),
    )
    save_arrays(
        store.dir / "test.npz", ids=np.array(data.test_ids), logits=test_logits.astype(np.float16)
    )
    store.state["wall_s"] += time.perf_counter() - started
    memory = unit_memory(session)
    history, probes = store.history, store.state.get("step_probes", [])
    metrics = {
        "framework": trainer.framework,
        "backend": trainer.backend(),
        "fold": session.fold,
        "seed": session.seed,
        **result,
        **speed,
        **train_throughput(history),
        **step_throughput(history, probes),
        "step_probes": probes,
        "score_cross_fitted": honest["score"],
        "thresholds_cross_fitted": honest["thresholds"],
        "min_areas_cross_fitted": honest["min_areas"],
        "time_to_target": time_to_targets(history, targets),
        "epochs": len(history),
        "snapshots": len(snapshots),
        "best_epoch": int(best_epoch(history)),
        "n_train": int(len(session.train_idx)),
        "n_val": int(len(session.val_idx)),
        "wall_s": float(store.state["wall_s"]),
        "threads": session.config.get("threads"),
        "versions": trainer.versions(),
        "numerics": getattr(trainer, "numerics", {}),
        "device_peak_mib": getattr(trainer, "device_peak_mib", lambda: None)(),
        **memory,
    }
    atomic_write_json(store.dir / FOLD_METRICS, metrics)
    store.finish()
    return metrics


def unit_memory(session: FoldSession) -> dict[str, Any]:
    """The worker's resident-set peak while it trained and scored this unit, and that peak over
    its resident size when the unit started (common/core/memory.py); a resumed unit's since it resumed."""
    window = getattr(session, "memory", None)
    if window is None or not window.started:
        return {}
    peak = window.stop()
    return {
        "peak_rss_mib": peak.peak_mib,
        "working_set_mib": peak.working_set_mib,
        "memory_method": peak.method,
    }


def ensemble_snapshots(recipe: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """The last K snapshots of the final stage when it ensembles them (else none)."""
    keep = snapshots_to_average(recipe["stages"][-1].get("schedule"))
    snapshots = state.get("snapshots", [])
    return snapshots[-keep:] if keep and snapshots else []


def ensemble_logits(session: FoldSession, predict, tta, snapshots: list[str]):
    """(validation, test) TTA logits: of the current weights, or the mean over the snapshots.

    The last snapshot is loaded last, so it is the model saved and timed afterwards.
    """
    val_images, test_images = session.val_images, session.data.test_images
    if not snapshots:
        return predict_tta(predict, val_images, tta), predict_tta(predict, test_images, tta)
    val_sum = test_sum = 0.0
    for name in snapshots:
        session.trainer.set_weights(load_neutral(session.store.dir / name))
        val_sum = val_sum + predict_tta(predict, val_images, tta).astype(np.float64)
        test_sum = test_sum + predict_tta(predict, test_images, tta).astype(np.float64)
    k = len(snapshots)
    return (val_sum / k).astype(np.float32), (test_sum / k).astype(np.float32)


def best_epoch(history: list[dict[str, Any]]) -> int:
    best = [r["epoch"] for r in history if is_true(r["best"])]
    return best[-1] if best else -1


def train_throughput(history: list[dict[str, Any]]) -> dict[str, float]:
    """Training images/s over the epochs that were not warm-up (first of a stage or of a process)."""
    rows = timed_rows(history)
    seconds = sum(float(r["train_seconds"]) for r in rows)
    images = sum(int(r["images"]) for r in rows)
    return {
        "train_img_s": images / seconds if seconds else float("nan"),
        "train_epochs_timed": len(rows),
    }
