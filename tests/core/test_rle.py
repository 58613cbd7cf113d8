"""RLE codec: column-major, 1-indexed runs; round trips; malformed input; real train.csv."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from common.core.rle import first_invalid, rle_decode, rle_decode_many, rle_encode, rle_encode_many


def naive_encode(mask: np.ndarray) -> str:
    """Plain loop over pixels in column-major order: an independent reference."""
    pixels = mask.T.ravel()
    runs, start = [], None
    for i, value in enumerate(pixels):
        if value and start is None:
            start = i
        if not value and start is not None:
            runs += [start + 1, i - start]
            start = None
    if start is not None:
        runs += [start + 1, len(pixels) - start]
    return " ".join(map(str, runs))


def random_masks(n: int, shape=(101, 101), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = rng.random((n, *shape)) < rng.random((n, 1, 1))
    masks[0] = False
    masks[1] = True
    masks[2, -1, -1] = True  # a run ending on the very last pixel
    masks[3, 0, 0] = True  # a run starting on the first pixel
    return masks


def test_column_major_one_indexed():
    mask = np.zeros((3, 4), dtype=bool)
    mask[1:3, 0] = True  # column 0, rows 1-2 -> pixels 2,3
    mask[0, 1] = True  # column 1, row 0 -> pixel 4
    assert rle_encode(mask) == "2 3"
    mask[2, 3] = True  # last pixel (12)
    assert rle_encode(mask) == "2 3 12 1"


def test_empty_and_full():
    assert rle_encode(np.zeros((101, 101), bool)) == ""
    assert rle_encode(np.ones((101, 101), bool)) == "1 10201"
    assert not rle_decode("").any()
    assert rle_decode("1 10201").all()


def test_encode_many_matches_naive_loop():
    masks = random_masks(40, shape=(7, 9))
    assert rle_encode_many(masks) == [naive_encode(m) for m in masks]
    assert rle_encode_many(masks[..., None]) == rle_encode_many(masks)


def test_round_trip_many():
    masks = random_masks(600)  # more than one chunk
    decoded = rle_decode_many(rle_encode_many(masks))
    assert decoded.dtype == bool and decoded.shape == masks.shape
    np.testing.assert_array_equal(decoded, masks)
    np.testing.assert_array_equal(rle_decode(rle_encode(masks[5])), masks[5])


def test_decode_non_square_and_adjacent_runs():
    mask = rle_decode("1 2 3 2", shape=(2, 3))
    np.testing.assert_array_equal(mask, [[1, 1, 0], [1, 1, 0]])
    assert rle_decode_many([], shape=(4, 4)).shape == (0, 4, 4)


@pytest.mark.parametrize(
    ("rle", "problem"),
    [
        ("1 2 3", "odd number"),
        ("1 x", "non-integer"),
        ("1.5 2", "non-integer"),
        ("0 3", "below 1"),
        ("3 0", "zero or negative"),
        ("3 -1", "zero or negative"),
        ("10200 5", "out of range"),
        ("5 2 1 1", "unsorted"),
        ("5 3 6 2", "overlapping"),
    ],
)
def test_malformed_rle_names_the_problem(rle, problem):
    with pytest.raises(ValueError, match=problem):
        rle_decode(rle)
    with pytest.raises(ValueError, match=problem):
        rle_decode_many(["1 1", rle])
    assert first_invalid(["", "1 1", rle])[0] == 2


def test_first_invalid_none_for_valid():
    assert first_invalid(["", "1 1", "5 3 9 1"]) is None


@pytest.mark.realdata
def test_encoding_real_masks_reproduces_train_csv(real_data_dir):
    table = pd.read_csv(real_data_dir / "train.csv", dtype=str, keep_default_na=False)
    masks = np.stack(
        [np.array(Image.open(real_data_dir / "train" / "masks" / f"{i}.png")) for i in table.id]
    )
    assert set(np.unique(masks)) <= {0, 65535}
    encoded = rle_encode_many(masks > 0)
    mismatched = [i for i, a, b in zip(table.id, encoded, table.rle_mask, strict=True) if a != b]
    assert mismatched == []
    np.testing.assert_array_equal(rle_decode_many(table.rle_mask), masks > 0)
