"""The uncertainty of a finished run's comparison (common.stats applied to its files).

- each framework's score: mean over units (fold x seed) with a Student-t 95 % CI and n;
- Keras - PyTorch: per-tile score differences on the same out-of-fold tiles, each framework at its
  pooled cut (threshold, minimum area), bootstrapped over tiles and seeds (paired), and the verdict line;
- throughput: per-epoch training images/s (warm-up epochs excluded) and per-unit inference
  images/s, each framework's mean with a CI, the Keras/PyTorch ratio with a bootstrap CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.errors import SaltbenchError
from common.harness import rundir
from common.postprocess import Cut, cut_of
from common.postprocess import tile_scores as scores_under
from common.stats import TOST_CONFIDENCE, mean_ci, paired_difference_ci, ratio_of_means_ci

DEFAULT_EQUIVALENCE_MARGIN = 0.01  # eval.equivalence_margin: score points
DEFAULT_SPEED_MARGIN = 0.05  # eval.speed_margin: a fraction of the ratio


def margins(config: dict[str, Any]) -> dict[str, float]:
    """The run's equivalence margins (defaults for runs made before the keys existed)."""
    evaluation = config["recipe"].get("eval", {})
    return {
        "score": float(evaluation.get("equivalence_margin", DEFAULT_EQUIVALENCE_MARGIN)),
        "speed": float(evaluation.get("speed_margin", DEFAULT_SPEED_MARGIN)),
    }


def tile_scores(truth: np.ndarray, logits: np.ndarray, cut: Cut, n_seeds: int) -> np.ndarray:
    """(seeds, tiles) competition score of every stacked OOF row (rows are seeds outermost)."""
    return scores_under(truth, logits, cut).reshape(n_seeds, -1)


def epoch_rates(run_dir: Path, config: dict[str, Any], framework: str) -> list[float]:
    """Training images/s of every timed (not warm-up) epoch of every unit of one framework."""
    rates = []
    for fold, seed in rundir.run_units(config):
        path = rundir.unit_dir(run_dir, framework, fold, seed) / "history.csv"
        if not path.is_file() or not path.stat().st_size:
            continue
        history = pd.read_csv(path)
        timed = history[~history["warmup"].astype(str).isin(["True", "true", "1"])]
        rates.extend((timed if len(timed) else history)["train_img_s"].astype(float))
    return rates


def score_difference(
    oof: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
    truth: np.ndarray,
    cuts: dict[str, Cut],
    n_seeds: int,
) -> dict[str, Any]:
    """Paired Keras - PyTorch difference of per-tile scores on the same OOF rows, each at its cut."""
    (ids_k, _, logits_k), (ids_t, _, logits_t) = oof["keras"], oof["torch"]
    if list(ids_k) != list(ids_t):
        raise SaltbenchError("keras and torch out-of-fold tiles differ; cannot pair their scores")
    keras = tile_scores(truth, logits_k, cuts["keras"], n_seeds)
    torch = tile_scores(truth, logits_t, cuts["torch"], n_seeds)
    interval = paired_difference_ci(keras - torch)
    tost = paired_difference_ci(keras - torch, confidence=TOST_CONFIDENCE)
    return {
        **interval.to_dict(),
        "n_seeds": n_seeds,
        "confidence": 0.95,
        "tost": {**tost.to_dict(), "confidence": TOST_CONFIDENCE},
    }


def run_uncertainty(
    run_dir: Path,
    config: dict[str, Any],
    frameworks: dict[str, dict[str, Any]],
    oof: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
    truth: np.ndarray,
) -> dict[str, Any]:
    """metrics.json's uncertainty fields: per framework CIs, and the paired difference and ratios."""
    n_seeds = len(rundir.run_seeds(config))
    rates = {fw: epoch_rates(run_dir, config, fw) for fw in frameworks}
    for framework, summary in frameworks.items():
        units = summary["folds"]
        summary["score_ci"] = mean_ci([m["score"] for m in units]).to_dict()
        summary["train_img_s_ci"] = mean_ci(rates[framework]).to_dict()
        summary["infer_img_s_ci"] = mean_ci([m["infer_img_s"] for m in units]).to_dict()
    result: dict[str, Any] = {}
    if {"keras", "torch"} <= set(frameworks):
        cuts = {fw: cut_of(frameworks[fw]) for fw in ("keras", "torch")}
        result["difference_keras_torch"] = score_difference(oof, truth, cuts, n_seeds)
        result["difference_keras_torch"]["units"] = len(rundir.run_units(config))
        infer = {fw: [m["infer_img_s"] for m in frameworks[fw]["folds"]] for fw in frameworks}
        result["ratio_ci_keras_torch"] = {
            "train_img_s": ratio_of_means_ci(rates["keras"], rates["torch"]).to_dict(),
            "infer_img_s": ratio_of_means_ci(infer["keras"], infer["torch"]).to_dict(),
        }
        result["ratio_ci90_keras_torch"] = {
            "train_img_s": ratio_of_means_ci(
                rates["keras"], rates["torch"], confidence=TOST_CONFIDENCE
            ).to_dict(),
            "infer_img_s": ratio_of_means_ci(
                infer["keras"], infer["torch"], confidence=TOST_CONFIDENCE
            ).to_dict(),
        }
        result["margins"] = margins(config)
        from common.harness.honesty import time_to_target_ratios

        result["time_to_target_ratio_keras_torch"] = time_to_target_ratios(
            frameworks["keras"].get("time_to_target", []),
            frameworks["torch"].get("time_to_target", []),
        )
    return result
