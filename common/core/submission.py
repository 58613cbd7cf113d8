"""Kaggle-format RLE CSVs (id,rle_mask): read with clear errors, validate, write, score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common.core.errors import DataError
from common.core.io import atomic_write_csv
from common.core.metric import image_scores
from common.core.rle import DEFAULT_SHAPE, first_invalid, rle_decode_many, rle_encode_many

COLUMNS = ["id", "rle_mask"]


def read_rle_csv(path, shape: tuple[int, int] = DEFAULT_SHAPE) -> pd.DataFrame:
    """DataFrame[id, rle_mask] (strings, '' = empty); DataError names the file and the bad row."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read CSV ({str(err).strip()})") from None
    if list(table.columns) != COLUMNS:
        raise DataError(
            f"{path}: columns are {','.join(map(str, table.columns))}, expected id,rle_mask"
        )
    duplicated = table.id[table.id.duplicated()]
    if len(duplicated):
        raise DataError(
            f"{path}: duplicate id {duplicated.iloc[0]} ({len(duplicated)} duplicate rows)"
        )
    empty = np.flatnonzero(table.id.str.strip() == "")
    if empty.size:
        raise DataError(f"{path}: row {empty[0] + 2} has an empty id")
    bad = first_invalid(table.rle_mask.tolist(), shape)
    if bad is not None:
        raise DataError(f"{path}: id {table.id.iloc[bad[0]]}: {bad[1]}")
    return table


def _id_problem(path: Path, ids: list[str], expected: list[str], other: str) -> str | None:
    missing = [i for i in expected if i not in set(ids)]
    if missing:
        return f"{path}: {len(missing)} id(s) of {other} missing, first {missing[0]}"
    extra = [i for i in ids if i not in set(expected)]
    if extra:
        return f"{path}: {len(extra)} id(s) not in {other}, first {extra[0]}"
    return None


def validate_submission(
    path, expected_ids, *, require_order: bool = True, shape: tuple[int, int] = DEFAULT_SHAPE
) -> pd.DataFrame:
    """Check a submission: columns, RLE, no missing/extra/duplicate ids, and (by default) id order."""
    path = Path(path)
    table = read_rle_csv(path, shape)
    expected = [str(i) for i in expected_ids]
    problem = _id_problem(path, table.id.tolist(), expected, "the expected ids")
    if problem:
        raise DataError(problem)
    if require_order and table.id.tolist() != expected:
        first = next(i for i, (a, b) in enumerate(zip(table.id, expected, strict=True)) if a != b)
        raise DataError(
            f"{path}: row {first + 2} is id {table.id.iloc[first]}, expected {expected[first]}"
        )
    return table


def write_submission(path, ids, masks: np.ndarray) -> Path:
    """Write masks ((N,H,W) or (N,H,W,1), boolean) as a Kaggle submission, atomically."""
    ids = [str(i) for i in ids]
    if len(ids) != len(masks):
        raise ValueError(f"{len(ids)} ids but {len(masks)} masks")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    return atomic_write_csv(path, pd.DataFrame({"id": ids, "rle_mask": rle_encode_many(masks)}))


def score_submission(
    predictions, truth, shape: tuple[int, int] = DEFAULT_SHAPE
) -> tuple[float, int]:
    """(competition score, number of images) of a predictions CSV against a truth CSV, matched by id."""
    predictions, truth = Path(predictions), Path(truth)
    pred = read_rle_csv(predictions, shape)
    true = read_rle_csv(truth, shape)
    if len(true) == 0:
        raise DataError(f"{truth}: no rows to score against")
    problem = _id_problem(predictions, pred.id.tolist(), true.id.tolist(), truth.name)
    if problem:
        raise DataError(problem)
    pred = pred.set_index("id").loc[true.id]
    scores = image_scores(
        rle_decode_many(true.rle_mask, shape), rle_decode_many(pred.rle_mask, shape)
    )
    return float(scores.mean()), len(scores)
