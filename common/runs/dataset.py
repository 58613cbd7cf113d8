"""The data a run trains on: the cached synthetic default or a Kaggle-layout folder, its folds and subsets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.core.io import file_lock
from common.core.paths import cache_dir


@dataclass(frozen=True)
class RunData:
    """Train tiles (after any limit) and test tiles of a run, NHWC float32 images and bool masks."""

    train_ids: list[str]
    images: np.ndarray
    masks: np.ndarray
    test_ids: list[str]
    test_images: np.ndarray


def synthetic_dir(params: dict[str, Any]) -> Path:
    return (
        cache_dir()
        / "synthetic"
        / f"train{params['n_train']}-test{params['n_test']}-seed{params['seed']}"
    )


def ensure_synthetic(params: dict[str, Any]) -> Path:
    """Generate the synthetic dataset once into the cache (locked; reused when its parameters match)."""
    from common.core.synth import write_synthetic_dataset

    target = synthetic_dir(params)
    with file_lock(target):
        write_synthetic_dataset(target, params["n_train"], params["n_test"], params["seed"])
    return target


def load_run_data(config: dict[str, Any], *, progress: bool = False) -> RunData:
    """Load the run's dataset and apply the recipe's limits (first N tiles, file order)."""
    from common.core.kaggle import load_dataset

    ds = load_dataset(Path(config["data_dir"]), progress=progress)
    limit_train = config["recipe"]["data"].get("limit_train") or len(ds.train_ids)
    limit_test = config["recipe"]["data"].get("limit_test") or len(ds.test_ids)
    return RunData(
        train_ids=list(ds.train_ids[:limit_train]),
        images=ds.images[:limit_train],
        masks=ds.masks[:limit_train],
        test_ids=list(ds.test_ids[:limit_test]),
        test_images=ds.test_images[:limit_test],
    )


def run_folds(run_dir: Path, config: dict[str, Any], data: RunData):
    """The run's fold table (folds.csv in the run directory), made once and reused."""
    from common.core.folds import load_or_make_folds

    recipe_data = config["recipe"]["data"]
    return load_or_make_folds(
        Path(run_dir) / "folds.csv",
        data.train_ids,
        data.masks,
        k=recipe_data["num_folds"],
        seed=recipe_data["fold_seed"],
    )


def fold_indices(folds_df, train_ids: list[str], fold: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) into `train_ids` for one fold."""
    fold_of = dict(zip(folds_df["id"].astype(str), folds_df["fold"].astype(int), strict=True))
    assignment = np.array([fold_of[i] for i in train_ids])
    return np.flatnonzero(assignment != fold), np.flatnonzero(assignment == fold)


def coverage(masks: np.ndarray) -> np.ndarray:
    return masks.reshape(len(masks), -1).mean(axis=1)


def stage_subset(masks: np.ndarray, indices: np.ndarray, exclude_below: float | None) -> np.ndarray:
    """Drop tiles with 0 < coverage < exclude_below (seed000 stage 1); empty tiles stay."""
    if not exclude_below:
        return indices
    cov = coverage(masks[indices])
    return indices[~((cov > 0) & (cov < exclude_below))]
