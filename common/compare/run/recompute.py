"""`saltbench report --run RUN_DIR --recompute`: re-derive a finished run's statistics from its per-tile
outputs (oof_<subject>.npz and the data's masks) with this version's methods, keeping everything
the run measured (per-unit metrics, speeds, drift, noise floor) as it was."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from common.compare.analysis.uncertainty import run_uncertainty
from common.compare.run.aggregate import pooled_cross_fit
from common.core.errors import SaltbenchError
from common.core.io import atomic_write_json
from common.core.postprocess import area_grid
from common.recipes.resolve import threshold_grid
from common.runs import rundir

# metrics.json keys the older statistics wrote and this version no longer does
RETIRED = ("holm_family",)


def load_oof(run_dir: Path, subject: str) -> tuple[list[str], np.ndarray]:
    path = Path(run_dir) / f"oof_{subject}.npz"
    if not path.is_file():
        raise SaltbenchError(
            f"{path}: not found; --recompute needs the run's per-tile outputs (a committed "
            "example keeps only its report and metrics)"
        )
    with np.load(path) as npz:
        return [str(i) for i in npz["ids"]], npz["logits"].astype(np.float32)


def recompute_statistics(run_dir: Path) -> dict[str, Any]:
    """Rewrite metrics.json's cross-fitted scores, both levels of every pair and the speed ratios;
    returns the new metrics. Needs the run's data folder (config.json's data_dir)."""
    from common.runs.dataset import load_run_data

    run_dir = Path(run_dir)
    if not rundir.is_finished(run_dir):
        raise SaltbenchError(f"{run_dir}: the run has not finished; nothing to recompute")
    config = rundir.load_config(run_dir)
    metrics = rundir.load_metrics(run_dir)
    if not Path(config["data_dir"]).is_dir():
        raise SaltbenchError(f"{config['data_dir']}: the run's data folder is gone; cannot rescore")
    data = load_run_data(config)
    truth_of = dict(zip(data.train_ids, data.masks, strict=True))
    grid, areas = threshold_grid(config["recipe"]), area_grid(config["recipe"])
    frameworks, rows = metrics["subjects"], {}
    for subject, summary in frameworks.items():
        ids, logits = load_oof(run_dir, subject)
        truth = np.stack([truth_of[i] for i in ids])
        honest = pooled_cross_fit(config, ids, truth, logits, grid, areas)
        summary.update(honest["summary"])
        rows[subject] = (ids, honest["scores"])
    floor = (metrics.get("noise_floor") or {}).get("unit_differences")
    drift = {s: p.get("drift") for s, p in metrics.get("pairs", {}).items()}
    for key in [*RETIRED, *(k for k in metrics if k.split("_")[0] in ("difference", "ratio"))]:
        metrics.pop(key, None)  # legacy one-pair keys and retired fields: replaced just below
    metrics.update(run_uncertainty(run_dir, config, frameworks, rows, floor))
    for subject, pair in metrics.get("pairs", {}).items():
        pair["drift"] = drift.get(subject) or (metrics.get("drift") if len(drift) == 0 else None)
    metrics["recomputed"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    metrics.setdefault("machine", config.get("machine"))
    atomic_write_json(run_dir / rundir.METRICS, metrics)
    return metrics
