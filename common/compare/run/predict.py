"""Predict a dataset's test tiles with a finished run's models (one worker process per framework)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.compare.unit.evaluate import logit, sigmoid
from common.core.errors import SaltbenchError
from common.core.postprocess import cut_of, to_masks
from common.runs import rundir


def expected_test_ids(data_dir: Path) -> list[str]:
    from common.core.submission import read_rle_csv

    path = Path(data_dir) / "sample_submission.csv"
    if not path.is_file():
        raise SaltbenchError(f"{path}: not found; --data must be a Kaggle-layout folder")
    return read_rle_csv(path)["id"].astype(str).tolist()


def predict_submission(
    run_dir: Path,
    config: dict[str, Any],
    data_dir: Path,
    frameworks: list[str],
    out: Path,
    scratch: Path,
) -> int:
    """Write and validate `out`; returns the number of rows."""
    from common.core.submission import validate_submission, write_submission
    from common.runs.processes import check_exit, run_worker_process

    metrics = rundir.load_metrics(run_dir)
    unknown = [f for f in frameworks if f not in metrics["subjects"]]
    if unknown:
        raise SaltbenchError(
            f"--subjects {','.join(unknown)}: not in run {config['run_id']} "
            f"(it has {', '.join(metrics['subjects'])})"
        )
    probs, ids = [], None
    for framework in frameworks:
        target = scratch / f"{framework}.npz"
        proc = run_worker_process(
            framework,
            ["predict", str(run_dir), "--data", str(data_dir), "--out", str(target)],
            config,
            Path(run_dir) / "logs" / f"predict_{framework}.log",
        )
        proc.wait()
        check_exit(proc)
        with np.load(target) as npz:
            ids, logits = npz["ids"].tolist(), npz["logits"]
        probs.append(sigmoid(logits))
    chosen = metrics["subjects"][frameworks[0]] if len(frameworks) == 1 else metrics.get("ensemble")
    masks = to_masks(logit(np.mean(probs, axis=0)), cut_of(chosen or {}))
    write_submission(out, ids, masks)
    validate_submission(out, expected_test_ids(data_dir))
    return len(ids)
