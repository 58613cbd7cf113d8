"""The uncertainty of a finished run's comparison (common.stats applied to its files).

- each subject's score: mean over units (fold x seed) with a Student-t 95 % CI and n;
- every other subject - the reference (run.reference, default torch): per-tile score differences
  on the same out-of-fold tiles, each subject at its pooled cut (threshold, minimum area),
  bootstrapped over tiles and seeds (paired), with t-test p-values Holm-corrected across the pairs;
- throughput: per-epoch training images/s (warm-up epochs excluded) and per-unit inference
  images/s, each subject's mean with a CI, its ratio to the reference with a bootstrap CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.errors import SaltbenchError
from common.harness import rundir
from common.harness.subjects import reference_of
from common.postprocess import Cut, cut_of
from common.postprocess import tile_scores as scores_under
from common.stats import (
    TOST_CONFIDENCE,
    holm,
    mean_ci,
    paired_difference_ci,
    paired_p_values,
    ratio_of_means_ci,
)

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
    subject: str,
    reference: str,
    margin: float = DEFAULT_EQUIVALENCE_MARGIN,
) -> dict[str, Any]:
    """Paired subject - reference difference of per-tile scores on the same OOF rows, each at its
    cut: the 95 % and TOST intervals, and the t-test p-values a Holm correction adjusts."""
    (ids_s, _, logits_s), (ids_r, _, logits_r) = oof[subject], oof[reference]
    if list(ids_s) != list(ids_r):
        raise SaltbenchError(
            f"{subject} and {reference} out-of-fold tiles differ; cannot pair their scores"
        )
    diff = tile_scores(truth, logits_s, cuts[subject], n_seeds) - tile_scores(
        truth, logits_r, cuts[reference], n_seeds
    )
    interval = paired_difference_ci(diff)
    tost = paired_difference_ci(diff, confidence=TOST_CONFIDENCE)
    return {
        **interval.to_dict(),
        "n_seeds": n_seeds,
        "confidence": 0.95,
        "tost": {**tost.to_dict(), "confidence": TOST_CONFIDENCE},
        **paired_p_values(diff, margin),
    }


def pair_uncertainty(
    subject: str,
    reference: str,
    frameworks: dict[str, dict[str, Any]],
    rates: dict[str, list[float]],
) -> dict[str, Any]:
    """Throughput ratios subject / reference (95 % and 90 % intervals) and the paired
    time-to-target ratios of one pair."""
    from common.harness.honesty import time_to_target_ratios

    infer = {fw: [m["infer_img_s"] for m in frameworks[fw]["folds"]] for fw in (subject, reference)}

    def ratios(confidence: float) -> dict[str, Any]:
        return {
            "train_img_s": ratio_of_means_ci(
                rates[subject], rates[reference], confidence=confidence
            ).to_dict(),
            "infer_img_s": ratio_of_means_ci(
                infer[subject], infer[reference], confidence=confidence
            ).to_dict(),
        }

    s, r = frameworks[subject], frameworks[reference]
    return {
        "ratio": {k: s[k] / r[k] for k in ("train_img_s", "infer_img_s")},
        "ratio_ci": ratios(0.95),
        "ratio_ci90": ratios(TOST_CONFIDENCE),
        "time_to_target_ratio": time_to_target_ratios(
            s.get("time_to_target", []), r.get("time_to_target", [])
        ),
    }


def run_uncertainty(
    run_dir: Path,
    config: dict[str, Any],
    frameworks: dict[str, dict[str, Any]],
    oof: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
    truth: np.ndarray,
) -> dict[str, Any]:
    """metrics.json's uncertainty fields: per subject CIs, and for every other subject against
    the reference the paired difference, Holm-adjusted p-values and throughput ratios."""
    n_seeds = len(rundir.run_seeds(config))
    rates = {fw: epoch_rates(run_dir, config, fw) for fw in frameworks}
    for framework, summary in frameworks.items():
        units = summary["folds"]
        summary["score_ci"] = mean_ci([m["score"] for m in units]).to_dict()
        summary["train_img_s_ci"] = mean_ci(rates[framework]).to_dict()
        summary["infer_img_s_ci"] = mean_ci([m["infer_img_s"] for m in units]).to_dict()
    reference = reference_of(config)
    compared = [s for s in frameworks if s != reference]
    if reference not in frameworks or not compared:
        return {}
    margin = margins(config)
    cuts = {fw: cut_of(frameworks[fw]) for fw in frameworks}
    pairs = {}
    for subject in compared:
        difference = score_difference(
            oof, truth, cuts, n_seeds, subject, reference, margin["score"]
        )
        difference["units"] = len(rundir.run_units(config))
        pairs[subject] = {
            "difference": difference,
            **pair_uncertainty(subject, reference, frameworks, rates),
        }
    for key in ("p_difference", "p_equivalence"):  # one family per kind of test
        adjusted = holm({s: pairs[s]["difference"][key] for s in pairs})
        for subject, p in adjusted.items():
            pairs[subject]["difference"][f"{key}_holm"] = p
    return {"reference": reference, "pairs": pairs, "margins": margin, "holm_family": len(pairs)}


def pairs_of(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """subject -> its comparison with the reference; a run made before N-way comparisons kept
    its one pair under keys named `<what>_<subject>_<reference>` and its drift under `drift`."""
    if "pairs" in metrics:
        return metrics["pairs"]
    legacy = next((k for k in metrics if k.startswith("difference_")), None)
    if legacy is None:
        return {}
    subject, reference = legacy.removeprefix("difference_").split("_", 1)
    suffix = f"_{subject}_{reference}"
    pair = {
        name: metrics[f"{name}{suffix}"]
        for name in ("difference", "ratio", "ratio_ci", "ratio_ci90", "time_to_target_ratio")
        if f"{name}{suffix}" in metrics
    }
    return {subject: {**pair, "drift": metrics.get("drift")}}


def reference_in(metrics: dict[str, Any]) -> str | None:
    """The run's reference subject (a run made before N-way comparisons: its legacy pair's)."""
    if "reference" in metrics:
        return metrics["reference"]
    legacy = next((k for k in metrics if k.startswith("difference_")), None)
    return legacy.removeprefix("difference_").split("_", 1)[1] if legacy else None
