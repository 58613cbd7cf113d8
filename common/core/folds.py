"""Deterministic K-fold split stratified by salt coverage class ceil(coverage * 10), saved as CSV id,fold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common.core.errors import DataError
from common.core.io import atomic_write_csv


def coverage_class(masks: np.ndarray) -> np.ndarray:
    """(N,) int in 0..10: 0 for an empty mask, else ceil(coverage * 10)."""
    masks = np.asarray(masks)
    coverage = masks.reshape(masks.shape[0], -1).astype(bool).mean(axis=1)
    return np.ceil(coverage * 10).astype(np.int64)


def make_folds(ids, masks: np.ndarray, k: int = 5, seed: int = 0) -> pd.DataFrame:
    """DataFrame[id, fold] in the order of `ids`; each coverage class is spread evenly over folds."""
    ids = [str(i) for i in ids]
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    if len(ids) != len(masks):
        raise ValueError(f"{len(ids)} ids but {len(masks)} masks")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    if k > len(ids):
        raise ValueError(f"k = {k} folds but only {len(ids)} ids: every fold needs at least one")
    classes = coverage_class(masks)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(ids), dtype=np.int64)
    next_fold = 0
    for value in np.unique(classes):
        members = rng.permutation(np.flatnonzero(classes == value))
        # continue the round robin across classes so fold sizes differ by at most one
        folds[members] = (next_fold + np.arange(members.size)) % k
        next_fold = (next_fold + members.size) % k
    return pd.DataFrame({"id": ids, "fold": folds})


def default_folds_path(root, k: int = 5, seed: int = 0) -> Path:
    """Where `saltbench folds` keeps the folds of a dataset folder by default."""
    return Path(root) / f"folds_k{k}_seed{seed}.csv"


def read_folds(path) -> pd.DataFrame:
    """Read a folds CSV; DataError when it is not id,fold with integer folds."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"id": str}, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: cannot read folds CSV ({err})") from None
    if list(table.columns) != ["id", "fold"] or not pd.api.types.is_integer_dtype(table.fold):
        raise DataError(f"{path}: expected columns id,fold with integer folds")
    return table


def load_or_make_folds(path, ids, masks: np.ndarray, k: int = 5, seed: int = 0) -> pd.DataFrame:
    """Reuse the folds at `path` when they cover exactly `ids` with k folds; else make and save them."""
    path = Path(path)
    ids = [str(i) for i in ids]
    if path.exists():
        table = read_folds(path)
        problem = _inconsistency(table, ids, k)
        if problem:
            raise DataError(f"{path}: {problem}; delete it or choose another path")
        return table.set_index("id").loc[ids].reset_index()
    table = make_folds(ids, masks, k=k, seed=seed)
    atomic_write_csv(path, table)
    return table


def _inconsistency(table: pd.DataFrame, ids: list[str], k: int) -> str | None:
    if table.id.duplicated().any():
        return f"duplicate id {table.id[table.id.duplicated()].iloc[0]}"
    missing = set(ids) - set(table.id)
    extra = set(table.id) - set(ids)
    if missing or extra:
        return f"folds cover other ids ({len(missing)} missing, {len(extra)} extra)"
    if set(table.fold) != set(range(k)):
        return f"folds are {sorted(set(table.fold))}, expected 0..{k - 1}"
    return None
