"""Submission CSVs: reading errors, validation, writing, scoring against an independent metric."""

import numpy as np
import pandas as pd
import pytest

from common.core.errors import DataError
from common.core.rle import rle_encode_many
from common.core.submission import (
    read_rle_csv,
    score_submission,
    validate_submission,
    write_submission,
)


def independent_score(truth_rles, pred_rles, shape=(101, 101)):
    """Decode with a plain loop and score per image with Python sets: shares no code with common/."""

    def pixels(rle):
        values = list(map(int, rle.split()))
        return {p for s, n in zip(values[::2], values[1::2], strict=True) for p in range(s, s + n)}

    total = 0.0
    for t_rle, p_rle in zip(truth_rles, pred_rles, strict=True):
        t, p = pixels(t_rle), pixels(p_rle)
        if not t and not p:
            total += 1
            continue
        iou = len(t & p) / len(t | p)
        total += sum(iou > th / 100 for th in range(50, 100, 5)) / 10
    return total / len(truth_rles)


def random_masks(n, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:101, 0:101]
    cy, cx, r = rng.uniform(0, 101, (3, n, 1, 1))
    masks = (yy - cy) ** 2 + (xx - cx) ** 2 < (r * 0.6) ** 2
    masks[rng.random(n) < 0.35] = False
    return masks


@pytest.fixture
def truth_and_pred(tmp_path):
    ids = [f"{i:010x}" for i in range(120)]
    truth = random_masks(120, 0)
    pred = (
        np.roll(truth, 3, axis=2) | random_masks(120, 1) & (np.arange(120) % 3 == 0)[:, None, None]
    )
    write_submission(tmp_path / "truth.csv", ids, truth)
    write_submission(tmp_path / "pred.csv", ids[::-1], pred[::-1])  # order must not matter
    return tmp_path / "truth.csv", tmp_path / "pred.csv", ids


def test_score_agrees_with_independent_metric(truth_and_pred):
    truth_csv, pred_csv, _ = truth_and_pred
    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False).set_index("id")
    pred = pd.read_csv(pred_csv, dtype=str, keep_default_na=False).set_index("id").loc[truth.index]
    score, count = score_submission(pred_csv, truth_csv)
    assert count == 120
    assert abs(score - independent_score(truth.rle_mask, pred.rle_mask)) < 1e-12
    assert score_submission(truth_csv, truth_csv)[0] == 1.0


def test_write_and_validate(tmp_path):
    masks = random_masks(10, 3)
    ids = [f"x{i}" for i in range(10)]
    path = write_submission(tmp_path / "sub.csv", ids, masks[..., None])
    table = validate_submission(path, ids)
    assert table.rle_mask.tolist() == rle_encode_many(masks)
    with pytest.raises(DataError, match="row 2 is id x0, expected x1"):
        validate_submission(path, ids[1:2] + ids[:1] + ids[2:])
    validate_submission(path, ids[::-1], require_order=False)
    with pytest.raises(DataError, match="1 id\\(s\\) of the expected ids missing, first y"):
        validate_submission(path, ids + ["y"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,rle_mask\na,1 2\na,\n", "duplicate id a"),
        ("id,mask\na,1 2\n", "expected id,rle_mask"),
        ("id,rle_mask\na,1 2\nb,1 2 3\n", "id b: odd number"),
        ("id,rle_mask\na,1 2\nb,3 0\n", "id b: zero or negative"),
        ("id,rle_mask\na,1 x\n", "id a: non-integer"),
        ("id,rle_mask\n,1 2\n", "row 2 has an empty id"),
    ],
)
def test_read_errors_name_file_and_id(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as info:
        read_rle_csv(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_and_extra_ids(truth_and_pred, tmp_path):
    truth_csv, pred_csv, ids = truth_and_pred
    table = pd.read_csv(pred_csv, dtype=str, keep_default_na=False)
    table.iloc[1:].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match=f"missing, first {table.id[0]}"):
        score_submission(tmp_path / "short.csv", truth_csv)
    pd.concat([table, pd.DataFrame({"id": ["zz"], "rle_mask": [""]})]).to_csv(
        tmp_path / "long.csv", index=False
    )
    with pytest.raises(DataError, match="not in truth.csv, first zz"):
        score_submission(tmp_path / "long.csv", truth_csv)
    with pytest.raises(DataError, match="file not found"):
        score_submission(tmp_path / "nope.csv", truth_csv)
