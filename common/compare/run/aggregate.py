"""After training: pooled OOF scores, submissions (per subject and ensemble), metrics.json, leaderboard."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from common.compare.analysis.noise_floor import noise_floor
from common.compare.analysis.uncertainty import run_uncertainty
from common.compare.report.leaderboard import keep_and_append
from common.compare.unit.curves import write_drift_curves
from common.compare.unit.divergence import FAILED
from common.compare.unit.drift import drift_pairs, finish_all_drift, floor_reference
from common.compare.unit.evaluate import logit, search_on_logits, sigmoid
from common.compare.unit.targets import summarize_time_to_targets
from common.core.cpu import machine_record
from common.core.io import atomic_write_json, atomic_write_text, save_arrays
from common.core.postprocess import area_grid, cut_of, search_cut, to_masks
from common.recipes.resolve import threshold_grid
from common.runs import rundir
from common.runs.dataset import RunData
from common.runs.unit_state import FOLD_METRICS
from common.stats.crossfit import crossfit_scores, tile_groups


def load_unit_outputs(run_dir: Path, framework: str, units: list[tuple[int, int]]):
    """One framework's per-unit metrics, its OOF rows and the unit-mean test logits.

    OOF rows are stacked in unit order (seeds outermost, then folds), so each seed contributes
    one prediction of every out-of-fold tile: (ids, seeds, logits) are row-aligned, and two
    frameworks with the same units have the same rows.
    """
    metrics, oof_ids, oof_seeds, oof_logits, test_logits, test_ids = [], [], [], [], [], None
    for fold, seed in units:
        directory = rundir.unit_dir(run_dir, framework, fold, seed)
        metrics.append(json.loads((directory / FOLD_METRICS).read_text()))
        with np.load(directory / "oof.npz") as npz:
            oof_ids.extend(npz["ids"].tolist())
            oof_seeds.extend([seed] * len(npz["ids"]))
            oof_logits.append(npz["logits"].astype(np.float32))
        with np.load(directory / "test.npz") as npz:
            test_ids = npz["ids"].tolist()
            test_logits.append(npz["logits"].astype(np.float32))
    return (
        metrics,
        oof_ids,
        np.array(oof_seeds),
        np.concatenate(oof_logits),
        test_ids,
        np.mean(test_logits, axis=0),
    )


def _mean_of(fold_metrics: list[dict[str, Any]], key: str) -> float:
    """Mean of a fold metric (NaN when a fold lacks it: runs made before it existed)."""
    return float(np.mean([m.get(key, np.nan) for m in fold_metrics]))


def _max_of(fold_metrics: list[dict[str, Any]], key: str) -> float | None:
    """Largest value of a fold metric over units; None when no unit measured it (the CPU)."""
    values = [m[key] for m in fold_metrics if m.get(key) is not None]
    return float(max(values)) if values else None


def pooled_cross_fit(
    config: dict[str, Any], ids: list[str], truth: np.ndarray, oof: np.ndarray, grid, areas
) -> dict[str, Any]:
    """Every OOF row scored at a cut searched without its tile (common.stats.crossfit; groups by tile
    id, seeded by train.seed, so every subject of the run has the same groups): the per-row
    scores and the summary's cross-fitted fields (with and without the empty-tile rule)."""
    groups = tile_groups(ids, seed=int(config["recipe"]["train"]["seed"]))
    scores, cuts = crossfit_scores(truth, oof, groups, grid, areas)
    summary = {
        "pooled_score_cross_fitted": float(scores.mean()),
        "cross_fitted_cuts": [[c.threshold, c.min_area] for c in cuts],
    }
    if areas != (0,):  # what the empty-tile rule bought: the same searches without it
        summary["pooled_score_no_min_area"] = search_cut(truth, oof, grid)[1]
        plain, _ = crossfit_scores(truth, oof, groups, grid)
        summary["pooled_score_cross_fitted_no_min_area"] = float(plain.mean())
    return {"scores": scores, "summary": summary}


def framework_summary(fold_metrics: list[dict[str, Any]]) -> dict[str, Any]:
    scores = np.array([m["score"] for m in fold_metrics])
    first = fold_metrics[0]
    return {
        "step_img_s": _mean_of(fold_metrics, "step_img_s"),
        "loop_vs_step_pct": _mean_of(fold_metrics, "loop_vs_step_pct"),
        "score_cross_fitted": _mean_of(fold_metrics, "score_cross_fitted"),
        "time_to_target": summarize_time_to_targets(
            [m["time_to_target"] for m in fold_metrics if "time_to_target" in m]
        ),
        "backend": first["backend"],
        "versions": first["versions"],
        "numerics": first.get("numerics", {}),
        "device_peak_mib": _max_of(fold_metrics, "device_peak_mib"),
        "peak_rss_mib": _max_of(fold_metrics, "peak_rss_mib"),
        "working_set_mib": _max_of(fold_metrics, "working_set_mib"),
        "score_mean": float(scores.mean()),
        "score_std": float(scores.std()),
        "threshold_mean": float(np.mean([m["threshold"] for m in fold_metrics])),
        "train_img_s": float(np.mean([m["train_img_s"] for m in fold_metrics])),
        "infer_img_s": float(np.mean([m["infer_img_s"] for m in fold_metrics])),
        "epochs": int(sum(m["epochs"] for m in fold_metrics)),
        "wall_s": float(sum(m["wall_s"] for m in fold_metrics)),
        "empty_baseline": float(np.mean([m["empty_baseline"] for m in fold_metrics])),
        "folds": fold_metrics,
    }


def unit_failures(run_dir: Path, framework: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The divergence records (failed.json) of a framework's units; empty when none failed."""
    found = []
    for fold, seed in rundir.run_units(config):
        path = rundir.unit_dir(run_dir, framework, fold, seed) / FAILED
        if path.is_file():
            found.append(json.loads(path.read_text()))
    return found


def finish_run(
    run_dir: Path, config: dict[str, Any], data: RunData, session_wall_s: float
) -> dict[str, Any]:
    """Write OOF files, submissions, metrics.json, leaderboard rows, report and plots; mark finished.

    A framework with a diverged fold is listed under "failed" and gets no row, file or score.
    """
    from common.core.submission import validate_submission, write_submission

    run_dir = Path(run_dir)
    truth_of = dict(zip(data.train_ids, data.masks, strict=True))
    grid, areas = threshold_grid(config["recipe"]), area_grid(config["recipe"])
    frameworks: dict[str, Any] = {}
    probs_oof, probs_test = {}, {}
    rows: dict[str, tuple[list[str], np.ndarray]] = {}
    truth = None
    failed = {
        fw: found for fw in config["subjects"] if (found := unit_failures(run_dir, fw, config))
    }
    for framework in [fw for fw in config["subjects"] if fw not in failed]:
        fold_metrics, ids, seeds, oof, test_ids, test = load_unit_outputs(
            run_dir, framework, rundir.run_units(config)
        )
        truth = np.stack([truth_of[i] for i in ids])
        pooled = search_on_logits(truth, oof, grid, areas)
        summary = framework_summary(fold_metrics)
        honest = pooled_cross_fit(config, ids, truth, oof, grid, areas)
        summary.update(
            pooled_score=pooled["score"],
            threshold=pooled["threshold"],
            min_area=pooled["min_area"],
            **honest["summary"],
        )
        frameworks[framework] = summary
        save_arrays(
            run_dir / f"oof_{framework}.npz",
            ids=np.array(ids),
            seeds=seeds,
            logits=oof.astype(np.float16),
        )
        path = run_dir / f"submission_{framework}.csv"
        write_submission(path, test_ids, to_masks(test, cut_of(pooled)))
        validate_submission(path, list(data.test_ids))
        probs_oof[framework], probs_test[framework] = sigmoid(oof), sigmoid(test)
        rows[framework] = (ids, honest["scores"])
    reference = floor_reference(config) or ""
    floor = noise_floor(
        run_dir, config, rows.get(reference), truth, grid, load_unit_outputs, areas,
    ) if truth is not None else None  # fmt: skip
    metrics: dict[str, Any] = {
        "run_id": config["run_id"],
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "session_wall_s": session_wall_s,
        # the orchestrator's machine (where a local run's units ran); a run made before configs
        # recorded it gets the machine that aggregates it, which is the same one for local runs
        "machine": config.get("machine") or machine_record(),
        "subjects": frameworks,
        **run_uncertainty(run_dir, config, frameworks, rows, (floor or {}).get("unit_differences")),
    }
    drift = finish_all_drift(run_dir, config)
    write_drift_curves(run_dir, drift_pairs(config))  # TensorBoard: drift/* beside each curve
    for subject, pair in metrics.get("pairs", {}).items():
        pair["drift"] = drift.get(subject)
    if floor:
        metrics["noise_floor"] = floor
    if failed:
        metrics["failed"] = failed
    if len(frameworks) >= 2:
        metrics["ensemble"] = write_ensemble(
            run_dir, data, truth, probs_oof, probs_test, test_ids, grid, areas
        )
    atomic_write_json(run_dir / rundir.METRICS, metrics)
    board_problem = None
    if frameworks:
        board_problem = keep_and_append(run_dir, config, metrics)
        write_tile_sample(run_dir, list(frameworks), data)
    from common.compare.report.build import write_report

    write_report(run_dir)
    atomic_write_text(run_dir / rundir.FINISHED, metrics["finished"] + "\n")
    if board_problem:
        metrics["leaderboard_problem"] = board_problem  # not in metrics.json: compare reports it
    return metrics


def write_ensemble(
    run_dir: Path,
    data: RunData,
    truth: np.ndarray,
    probs_oof: dict,
    probs_test: dict,
    test_ids: list[str],
    grid: np.ndarray,
    areas=(0,),
) -> dict[str, float]:
    """Mean of every subject's probabilities; the cut searched on the pooled OOF mean."""
    from common.core.submission import validate_submission, write_submission

    mean_oof = np.mean(list(probs_oof.values()), axis=0)
    result = search_on_logits(truth, logit(mean_oof).astype(np.float32), grid, areas)
    mean_test = np.mean(list(probs_test.values()), axis=0)
    path = run_dir / "submission_ensemble.csv"
    cut = cut_of(result)
    write_submission(path, test_ids, to_masks(logit(mean_test), cut))
    validate_submission(path, list(data.test_ids))
    return {"score": result["score"], "threshold": cut.threshold, "min_area": cut.min_area}


def write_tile_sample(run_dir: Path, frameworks: list[str], data: RunData, n: int = 8) -> None:
    """A few validation tiles (most salt-covered first, some empty) with truth and each framework's mask."""
    oof = {}
    for framework in frameworks:
        with np.load(run_dir / f"oof_{framework}.npz") as npz:
            first_seed = (
                npz["seeds"] == npz["seeds"][0]
            )  # one prediction per tile: the first seed's
            oof[framework] = (
                npz["ids"][first_seed].tolist(),
                npz["logits"][first_seed].astype(np.float32),
            )
    ids = oof[frameworks[0]][0]
    index_of = {i: k for k, i in enumerate(data.train_ids)}
    cover = np.array([data.masks[index_of[i]].mean() for i in ids])
    order = np.argsort(-cover, kind="stable")
    salty = order[cover[order] > 0]
    chosen = list(salty[:: max(1, len(salty) // max(1, n - 2))][: n - 2]) + list(
        np.flatnonzero(cover == 0)[:2]
    )
    chosen = chosen[:n]
    arrays = {
        "ids": np.array([ids[c] for c in chosen]),
        "images": np.stack([data.images[index_of[ids[c]]] for c in chosen]),
        "truth": np.stack([data.masks[index_of[ids[c]]] for c in chosen]),
    }
    metrics = rundir.load_metrics(run_dir)
    for framework in frameworks:
        position = {i: k for k, i in enumerate(oof[framework][0])}
        logits = oof[framework][1][[position[ids[c]] for c in chosen]]
        arrays[f"pred_{framework}"] = to_masks(logits, cut_of(metrics["subjects"][framework]))
    save_arrays(run_dir / "plots" / "tiles_sample.npz", **arrays)
