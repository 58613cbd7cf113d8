"""The uncertainty of a finished run's comparison (common.stats.intervals and common.stats.levels applied to
its files).

- each subject's score: mean over units (fold x seed) with a Student-t 95 % CI and n;
- every other subject - the reference (run.reference, default torch), on the same out-of-fold
  tiles, each tile scored at a cut searched without it (common.stats.crossfit), at two levels:
  `difference`, these trained models (tile bootstrap), and `frameworks`, over training runs:
  on this dataset (seeds on fixed folds, `frameworks["dataset"]`) and across training sets
  (corrected t over the folds' seed means; none from one fold); with several pairs,
  Bonferroni-adjusted across them;
- throughput: a unit's training rate is its timed images over its timed seconds; a subject's
  rate is the mean over units, and its ratio to the reference the geometric mean of the per-unit
  paired ratios with a t interval on their logs over units (none below MIN_RUNS units); peak
  memory the same way, from each unit's peak;
- every interval at the level its claim's share of alpha gives it (common.stats.claims): the score at
  the frameworks level is the primary outcome, everything else secondary, one family per run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.compare.analysis.score_per_minute import score_per_minute
from common.compare.unit.step_timing import timed_rows
from common.core.errors import SaltbenchError
from common.runs import rundir
from common.runs.schedule import sharing_of
from common.stats.claims import (
    INFER_SPEED,
    MEMORY,
    MODELS,
    PRIMARY,
    TIME_TO_TARGET,
    TRAIN_SPEED,
    ClaimPlan,
)
from common.stats.intervals import Interval, mean_ci
from common.stats.levels import MIN_RUNS, compare_levels
from common.subjects.selection import label, reference_of

DEFAULT_EQUIVALENCE_MARGIN = 0.01  # eval.equivalence_margin: score points
DEFAULT_SPEED_MARGIN = 0.05  # eval.speed_margin: a fraction of the ratio


def margins(config: dict[str, Any]) -> dict[str, float]:
    """The run's equivalence margins (defaults for runs made before the keys existed)."""
    evaluation = config["recipe"].get("eval", {})
    return {
        "score": float(evaluation.get("equivalence_margin", DEFAULT_EQUIVALENCE_MARGIN)),
        "speed": float(evaluation.get("speed_margin", DEFAULT_SPEED_MARGIN)),
    }


def unit_histories(run_dir: Path, config: dict[str, Any], framework: str) -> list[list[dict]]:
    """Each unit's history rows (run_units order); [] where the unit left none."""
    histories = []
    for fold, seed in rundir.run_units(config):
        path = rundir.unit_dir(run_dir, framework, fold, seed) / "history.csv"
        ok = path.is_file() and path.stat().st_size
        histories.append(pd.read_csv(path).to_dict("records") if ok else [])
    return histories


def unit_train_rates(histories: list[list[dict]]) -> list[float | None]:
    """Per unit: timed training images / timed seconds (warm-up epochs excluded); None where the
    unit left no history."""
    rates: list[float | None] = []
    for history in histories:
        rows = timed_rows(history) if history else []
        seconds = sum(float(r["train_seconds"]) for r in rows)
        rates.append(sum(int(r["images"]) for r in rows) / seconds if seconds > 0 else None)
    return rates


def unit_train_seconds(histories: list[list[dict]]) -> list[float]:
    """Per unit: all its training seconds (warm-up included): how long a run that never reached a
    target was followed."""
    return [sum(float(r["train_seconds"]) for r in history) for history in histories]


def fold_of_tiles(run_dir: Path, ids) -> np.ndarray:
    """The fold of each tile id, from the run's folds.csv."""
    folds = pd.read_csv(Path(run_dir) / "folds.csv", dtype={"id": str})
    fold_of = dict(zip(folds["id"], folds["fold"].astype(int), strict=True))
    return np.array([fold_of[str(i)] for i in ids])


def paired_ratio(first: list, second: list, confidence: float = 0.95) -> dict[str, Any]:
    """Geometric mean of the per-unit ratios first/second with a t interval on the log ratios
    over units (no interval below MIN_RUNS units: one or two runs are a measurement, not a
    spread). n = paired units."""
    logs = [np.log(a / b) for a, b in zip(first, second, strict=False) if a and b]
    if not logs:
        return {"estimate": None, "low": None, "high": None, "n": 0, "method": "no paired units"}
    ci = mean_ci(logs, confidence)
    if len(logs) < MIN_RUNS or ci.low is None:
        ci = Interval(ci.estimate, None, None, len(logs), "t")
    return {
        "estimate": float(np.exp(ci.estimate)),
        "low": None if ci.low is None else float(np.exp(ci.low)),
        "high": None if ci.high is None else float(np.exp(ci.high)),
        "n": len(logs),
        "method": "geometric mean of per-unit ratios, t over units",
        "confidence": confidence,
    }


def unit_peaks(units: list[dict[str, Any]]) -> tuple[list, str]:
    """Each unit's peak memory: the device allocator's where every unit measured it, else RSS."""
    for key in ("device_peak_mib", "peak_rss_mib"):
        peaks = [u.get(key) for u in units]
        if peaks and all(peaks):
            return peaks, key
    return [], "peak_rss_mib"


def memory_ratio(subject: str, reference: str, frameworks: dict, plan: ClaimPlan) -> dict:
    """Peak memory subject / reference over units, at the memory claim's level (none below
    MIN_RUNS units)."""
    (mine, key), (theirs, _) = (unit_peaks(frameworks[s]["folds"]) for s in (subject, reference))
    return {**paired_ratio(mine, theirs, plan.levels(MEMORY)[0]), "what": key}


def pair_speed(
    subject: str,
    reference: str,
    frameworks: dict[str, Any],
    rates: dict,
    trained: dict,
    plan: ClaimPlan,
) -> dict:
    """Throughput ratios subject / reference over units (the interval deciding a difference and
    the equivalence one, at each claim's level) and the censored time-to-target comparison of
    one pair (common.compare.analysis.time_to_target)."""
    from common.compare.analysis.time_to_target import time_to_target_comparison

    infer = {fw: [m["infer_img_s"] for m in frameworks[fw]["folds"]] for fw in (subject, reference)}

    def ratios(which: int) -> dict[str, Any]:
        return {
            "train_img_s": paired_ratio(
                rates[subject], rates[reference], plan.levels(TRAIN_SPEED)[which]
            ),
            "infer_img_s": paired_ratio(
                infer[subject], infer[reference], plan.levels(INFER_SPEED)[which]
            ),
        }

    s, r = frameworks[subject], frameworks[reference]
    return {
        "ratio": {k: s[k] / r[k] for k in ("train_img_s", "infer_img_s")},
        "ratio_ci": ratios(0),
        "ratio_ci90": ratios(1),  # the equivalence interval (90 % for a lone claim)
        "speed_unit": "training run",
        "memory_ratio": memory_ratio(subject, reference, frameworks, plan),
        "time_to_target_ratio": time_to_target_comparison(
            s.get("time_to_target", []),
            r.get("time_to_target", []),
            (trained[subject], trained[reference]),
            plan.levels(TIME_TO_TARGET)[0],
        ),
    }


def score_levels(
    rows: dict[str, tuple[list[str], np.ndarray]],
    subject: str,
    reference: str,
    fold_of_tile: np.ndarray,
    config: dict[str, Any],
    plan: ClaimPlan,
    floor_diffs=None,
) -> dict[str, Any]:
    """Both levels of subject - reference, each row scored at its cross-fitted cut, each at its
    claim's level."""
    (ids_s, scores_s), (ids_r, scores_r) = rows[subject], rows[reference]
    if list(ids_s) != list(ids_r):
        raise SaltbenchError(
            f"{subject} and {reference} out-of-fold tiles differ; cannot pair their scores"
        )
    n_seeds = len(rundir.run_seeds(config))
    diff = (np.asarray(scores_s) - np.asarray(scores_r)).reshape(n_seeds, -1)
    k = int(config["recipe"]["data"]["num_folds"])
    return compare_levels(
        diff,
        fold_of_tile,
        margins(config)["score"],
        1.0 / (k - 1),
        plan.divisor(PRIMARY),
        label(subject),
        label(reference),
        floor_diffs,
        models_family=plan.divisor(MODELS),
    )


def run_uncertainty(
    run_dir: Path,
    config: dict[str, Any],
    frameworks: dict[str, dict[str, Any]],
    rows: dict[str, tuple[list[str], np.ndarray]],
    floor_diffs=None,
) -> dict[str, Any]:
    """metrics.json's uncertainty fields: per subject CIs and speed over units, and for every other
    subject against the reference both levels of the score difference and the speed ratios.
    `rows`: per subject its OOF row ids and each row's cross-fitted score."""
    histories = {fw: unit_histories(run_dir, config, fw) for fw in frameworks}
    rates = {fw: unit_train_rates(h) for fw, h in histories.items()}
    trained = {fw: unit_train_seconds(h) for fw, h in histories.items()}
    for framework, summary in frameworks.items():
        units = summary["folds"]
        summary["score_ci"] = mean_ci([m["score"] for m in units]).to_dict()
        summary["train_img_s_units"] = rates[framework]
        summary["train_img_s_ci"] = mean_ci([r for r in rates[framework] if r]).to_dict()
        summary["infer_img_s_ci"] = mean_ci([m["infer_img_s"] for m in units]).to_dict()
    reference = reference_of(config)
    compared = [s for s in frameworks if s != reference and s in rows]
    if reference not in rows or not compared:
        return {}
    n_tiles = len(rows[reference][0]) // len(rundir.run_seeds(config))
    fold_of_tile = fold_of_tiles(run_dir, rows[reference][0][:n_tiles])
    plan = claim_plan(config, len(compared))
    pairs = {}
    for subject in compared:
        levels = score_levels(rows, subject, reference, fold_of_tile, config, plan, floor_diffs)
        pairs[subject] = {
            "difference": {**levels["models"], "units": len(rundir.run_units(config))},
            "frameworks": levels["frameworks"],
            **pair_speed(subject, reference, frameworks, rates, trained, plan),
            "sharing": sharing_of(run_dir, subject, reference),
        }
    return {
        "reference": reference,
        "pairs": pairs,
        "margins": margins(config),
        "family": len(compared),
        "claims": plan.to_dict(),
        "adjustment": plan.to_dict()["method"],
        "score_per_minute": score_per_minute(histories, frameworks, reference),
    }


def claim_plan(config: dict[str, Any], pairs: int) -> ClaimPlan:
    """The run's error budget: its pairs, and the time-to-target targets of its recipe."""
    targets = config["recipe"].get("eval", {}).get("targets", [])
    return ClaimPlan(pairs=max(1, pairs), targets=max(1, len(targets)))


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
