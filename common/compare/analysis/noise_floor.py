"""The noise floor of a run (eval.noise_floor): the reference subject against its own copy whose
initial weights were moved one ulp. Same code, batches and dropout masks; only round-off differs.

Its score difference (paired over the same out-of-fold tiles, like the twins') is the floor a
framework difference must clear, and its weight drift per epoch is what round-off alone does to
one framework: set beside the twins' drift, it says how much of that drift is the frameworks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.compare.analysis.uncertainty import fold_of_tiles
from common.compare.unit.drift import (
    FLOOR_DIR,
    FLOOR_SUFFIX,
    drift_summary,
    finish_drift,
    floor_reference,
)
from common.compare.unit.evaluate import search_on_logits
from common.runs import rundir
from common.stats.crossfit import crossfit_scores, tile_groups
from common.stats.intervals import TOST_CONFIDENCE, paired_difference_ci
from common.stats.levels import unit_means

PERTURBATION = (
    "initial trainable weights moved to the next float32 up (one ulp): a change the size of one "
    "float32 rounding error, with the same code, batches, dropout seeds and threads"
)


def noise_floor(
    run_dir: Path,
    config: dict[str, Any],
    reference_rows,
    truth: np.ndarray,
    grid,
    load_outputs,
    areas=(0,),
) -> dict[str, Any] | None:
    """metrics.json's noise_floor: score difference reference - copy, per tile and per unit, and
    the copy's drift. Both are scored at cross-fitted cuts with the same tile groups (the
    reference's rows come in already scored, common.stats.crossfit)."""
    reference = floor_reference(config)
    if reference is None or reference_rows is None:
        return None
    copy = reference + FLOOR_SUFFIX
    try:
        _, ids, _, oof, _, _ = load_outputs(run_dir, copy, rundir.run_units(config))
    except FileNotFoundError as err:  # the copy diverged (failed.json): no floor, said loudly
        from common.core.errors import warn

        warn(f"no noise floor: the {copy} copy left no results ({err.filename})")
        return None
    ref_ids, ref_scores = reference_rows
    if list(ids) != list(ref_ids):
        return None
    n_seeds = len(rundir.run_seeds(config))
    copy_pooled = search_on_logits(truth, oof, grid, areas)
    groups = tile_groups(ids, seed=int(config["recipe"]["train"]["seed"]))
    copy_scores, _ = crossfit_scores(truth, oof, groups, grid, areas)
    diff = (np.asarray(ref_scores) - copy_scores).reshape(n_seeds, -1)
    ci95 = paired_difference_ci(diff)
    ci90 = paired_difference_ci(diff, confidence=TOST_CONFIDENCE)
    folds = fold_of_tiles(run_dir, list(ids)[: diff.shape[1]])
    return {
        "reference": reference,
        "copy": copy,
        "perturbation": PERTURBATION,
        "copy_pooled_score": copy_pooled["score"],
        "score_difference": {**ci95.to_dict(), "tost": ci90.to_dict(), "n_seeds": n_seeds},
        "unit_differences": unit_means(diff, folds).tolist(),
        "drift": drift_summary(finish_drift(run_dir, config, FLOOR_DIR)),
    }


def floor_reading(metrics: dict[str, Any]) -> list[str]:
    """The report's lines: each pair's drift beside the floor's, and the score floor."""
    from common.compare.analysis.uncertainty import pairs_of
    from common.stats.intervals import Interval, format_interval
    from common.subjects.selection import label

    floor = metrics.get("noise_floor")
    if not floor:
        return []
    lines = []
    ref = label(floor["reference"])
    for subject, pair in pairs_of(metrics).items():
        twins = pair.get("drift")
        if not (floor.get("drift") and twins):
            continue
        cross, self_drift = twins["last"]["weights_total"], floor["drift"]["last"]["weights_total"]
        if self_drift > 0 and cross <= 1.5 * self_drift:
            reading = "the frameworks differ about as much as round-off alone makes one framework differ from itself"
        elif self_drift > 0:
            reading = f"the frameworks differ {cross / self_drift:.1f}× more than round-off alone makes {ref} differ from itself"
        else:
            reading = "round-off alone left no drift, so all of it is the frameworks"
        lines.append(
            f"Noise floor: {label(subject)}–{ref} weight drift {cross:.4g} at epoch "
            f"{twins['last_epoch'] + 1} vs {ref}–{ref} (+1 ulp) {self_drift:.4g} at epoch "
            f"{floor['drift']['last_epoch'] + 1}: {reading}."
        )
    diff = floor["score_difference"]
    plain = {k: diff[k] for k in ("estimate", "low", "high", "n", "method")}
    lines.append(
        f"Score floor ({ref} − {ref} +1 ulp, paired over the same tiles): "
        f"{format_interval(Interval(**plain), 4, signed=True)} tiles: the difference a framework "
        "comparison must clear to mean more than round-off."
    )
    return lines
