"""Twin drift: how far each subject moves away from the reference from identical weights and batches.

Every pair (a subject and the reference, run.reference) has a folder `drift_<subject>/`. At the
end of every epoch each worker drops its trainable weights (neutral layout) and its packed
validation masks (logit > 0) into `drift_<subject>/seed<S>_fold<F>/<name>_e<epoch>.npz` of every
pair it is in. Whichever side reaches an epoch second computes the pair's distances under a lock,
appends one row to `drift_<subject>/seed<S>_fold<F>.csv` and deletes both files, so at most the
epochs one side is ahead of the other wait on disk. `finish_drift` pairs any leftovers and writes
`drift_<subject>.csv` for the run.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.core.io import append_csv_rows, atomic_write_bytes, atomic_write_csv, file_lock
from common.models.weights import is_trainable, relative_distance
from common.runs import rundir
from common.subjects.selection import NOISE_FLOOR_SUFFIX, others, reference_of

DRIFT_DIR = "drift"
# The noise floor (eval.noise_floor): the reference subject against its own copy whose initial
# weights were moved by one ulp, recorded the same way beside the subjects' drift.
FLOOR_DIR = "drift_floor"
FLOOR_SUFFIX = NOISE_FLOOR_SUFFIX


def pair_folder(subject: str) -> str:
    """The folder (and, with .csv, the file) of one subject's drift from the reference."""
    return f"{DRIFT_DIR}_{subject}"


def drift_pairs(config: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(folder, subject, reference) of every pair whose drift the run records: each other subject
    against the reference, and with eval.noise_floor the reference against its one-ulp copy."""
    reference = reference_of(config)
    pairs = [(pair_folder(s), s, reference) for s in others(config)]
    floor = floor_reference(config)
    if floor:
        pairs.append((FLOOR_DIR, floor + FLOOR_SUFFIX, floor))
    return pairs


def floor_reference(config: dict[str, Any]) -> str | None:
    """The subject the noise floor copies (the run's reference), or None."""
    if not config.get("recipe", {}).get("eval", {}).get("noise_floor"):
        return None
    return reference_of(config)


MASK_KEY = "__val_masks_packed__"
SHAPE_KEY = "__val_masks_shape__"


def unit_drift_dir(run_dir: Path, fold: int, seed: int, folder: str = DRIFT_DIR) -> Path:
    return Path(run_dir) / folder / f"seed{int(seed)}_fold{int(fold)}"


def epoch_file(
    run_dir: Path, framework: str, fold: int, seed: int, epoch: int, folder: str = DRIFT_DIR
) -> Path:
    return unit_drift_dir(run_dir, fold, seed, folder) / f"{framework}_e{int(epoch)}.npz"


def record_epoch(
    run_dir: Path,
    framework: str,
    fold: int,
    seed: int,
    epoch: int,
    stage: str,
    weights: dict[str, np.ndarray],
    val_logits: np.ndarray,
    pairs: list[tuple[str, str, str]],
) -> None:
    """Save this subject's epoch for every pair it is in; a pair whose other side already saved
    the same epoch gets its drift computed."""
    mine = [pair for pair in pairs if framework in pair[1:]]
    if not mine:
        return
    masks = np.asarray(val_logits) > 0
    arrays = {k: np.asarray(v, np.float32) for k, v in weights.items() if is_trainable(k)}
    arrays[MASK_KEY] = np.packbits(masks.ravel())
    arrays[SHAPE_KEY] = np.array(masks.shape)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    for folder, first, second in mine:
        directory = unit_drift_dir(run_dir, fold, seed, folder)
        directory.mkdir(parents=True, exist_ok=True)
        with file_lock(directory):
            target = epoch_file(run_dir, framework, fold, seed, epoch, folder)
            atomic_write_bytes(target, buffer.getvalue())
            _pair_if_ready(run_dir, fold, seed, epoch, stage, (first, second), folder)


def _pair_if_ready(
    run_dir: Path,
    fold: int,
    seed: int,
    epoch: int,
    stage: str,
    frameworks,
    folder: str = DRIFT_DIR,
) -> None:
    first, second = (epoch_file(run_dir, fw, fold, seed, epoch, folder) for fw in frameworks[:2])
    if not (first.is_file() and second.is_file()):
        return
    row = {"seed": seed, "fold": fold, "epoch": epoch, "stage": stage}
    row.update(epoch_drift(_load(first), _load(second)))
    csv = unit_drift_dir(run_dir, fold, seed, folder).with_suffix(".csv")
    append_csv_rows(csv, pd.DataFrame([row]))
    first.unlink()
    second.unlink()


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def masks_of(saved: dict[str, np.ndarray]) -> np.ndarray:
    shape = tuple(int(s) for s in saved[SHAPE_KEY])
    return np.unpackbits(saved[MASK_KEY], count=int(np.prod(shape))).reshape(shape).astype(bool)


def mask_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-tile IoU of two twins' masks (both empty = 1: they agree)."""
    a = a.reshape(len(a), -1)
    b = b.reshape(len(b), -1)
    inter = np.count_nonzero(a & b, axis=1)
    union = np.count_nonzero(a | b, axis=1)
    return np.divide(inter, union, out=np.ones(len(a)), where=union > 0)


def epoch_drift(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    """weights_<group> (relative L2, 'weights_total' overall) and mask_iou (mean over tiles)."""
    weights_a = {k: v for k, v in a.items() if not k.startswith("__")}
    weights_b = {k: v for k, v in b.items() if not k.startswith("__")}
    distances = relative_distance(weights_a, weights_b)
    row = {"weights_total": distances.pop("total")}
    row.update({f"weights_{group}": value for group, value in sorted(distances.items())})
    row["mask_iou"] = float(mask_agreement(masks_of(a), masks_of(b)).mean())
    return row


def finish_all_drift(run_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """subject -> the summary of its drift from the reference (the noise floor's copy apart)."""
    return {
        subject: drift_summary(finish_drift(run_dir, config, folder))
        for folder, subject, _ in drift_pairs(config)
        if folder != FLOOR_DIR
    }


def finish_drift(run_dir: Path, config: dict[str, Any], wanted: str) -> pd.DataFrame | None:
    """Pair leftover epochs of the pair in folder `wanted`, write `<wanted>.csv`, one row per
    unit x epoch, and delete the epoch files."""
    pair = next((p for p in drift_pairs(config) if p[0] == wanted), None)
    if pair is None:
        return None
    folder, *frameworks = pair
    csv_name = f"{folder}.csv"
    run_dir = Path(run_dir)
    tables = []
    for fold, seed in rundir.run_units(config):
        directory = unit_drift_dir(run_dir, fold, seed, folder)
        if directory.is_dir():
            with file_lock(directory):
                for epoch, stage in _pending_epochs(run_dir, frameworks[0], fold, seed, folder):
                    _pair_if_ready(run_dir, fold, seed, epoch, stage, frameworks, folder)
                for leftover in directory.glob("*.npz"):  # epochs only one twin reached
                    leftover.unlink()
            with contextlib.suppress(OSError):
                directory.rmdir()
        path = directory.with_suffix(".csv")
        if path.is_file() and path.stat().st_size:
            tables.append(pd.read_csv(path))
    if not tables:  # aggregated before (the per-unit files are gone): reuse the CSV
        path = run_dir / csv_name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size else None
    table = pd.concat(tables, ignore_index=True)
    table = table.drop_duplicates(["seed", "fold", "epoch"], keep="last")
    table = table.sort_values(["seed", "fold", "epoch"], kind="stable").reset_index(drop=True)
    atomic_write_csv(run_dir / csv_name, table)
    shutil.rmtree(run_dir / folder, ignore_errors=True)
    return table


def _pending_epochs(
    run_dir: Path, framework: str, fold: int, seed: int, folder: str = DRIFT_DIR
) -> list[tuple[int, str]]:
    """Epochs this framework saved that were not paired yet, with their stage from its history."""
    history = rundir.unit_dir(run_dir, framework, fold, seed) / "history.csv"
    stage_of = {}
    if history.is_file() and history.stat().st_size:
        h = pd.read_csv(history)
        stage_of = dict(zip(h["epoch"].astype(int), h["stage"].astype(str), strict=True))
    epochs = []
    for path in unit_drift_dir(run_dir, fold, seed, folder).glob(f"{framework}_e*.npz"):
        epoch = int(path.stem.rsplit("_e", 1)[1])
        epochs.append((epoch, stage_of.get(epoch, "")))
    return sorted(epochs)


def drift_summary(table: pd.DataFrame | None) -> dict[str, Any] | None:
    """Per epoch, the mean over units of every drift column; and the last common epoch's values."""
    if table is None or table.empty:
        return None
    columns = [c for c in table.columns if c.startswith("weights_") or c == "mask_iou"]
    per_epoch = table.groupby("epoch", sort=True)[columns].mean()
    stages = table.groupby("epoch", sort=True)["stage"].first()
    units = table.groupby("epoch", sort=True).size()
    last = int(per_epoch.index.max())
    return {
        "epochs": [
            {
                "epoch": int(e),
                "stage": str(stages[e]),
                "units": int(units[e]),
                **per_epoch.loc[e].to_dict(),
            }
            for e in per_epoch.index
        ],
        "last_epoch": last,
        "last": per_epoch.loc[last].to_dict(),
    }
