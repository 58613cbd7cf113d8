"""Synthetic data: Kaggle formats, determinism, coverage spread."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from common.core.errors import SaltbenchError
from common.core.rle import rle_decode_many
from common.core.synth import make_tile, tile_rng, write_synthetic_dataset


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    return write_synthetic_dataset(
        tmp_path_factory.mktemp("s") / "d", 60, 12, seed=5, progress=False
    )


def test_layout_and_formats(synth_dir):
    train = pd.read_csv(synth_dir / "train.csv", dtype=str, keep_default_na=False)
    sample = pd.read_csv(synth_dir / "sample_submission.csv", dtype=str, keep_default_na=False)
    depths = pd.read_csv(synth_dir / "depths.csv", dtype={"id": str})
    assert list(train.columns) == ["id", "rle_mask"] and len(train) == 60
    assert list(sample.columns) == ["id", "rle_mask"] and len(sample) == 12
    assert set(depths.id) == set(train.id) | set(sample.id)
    assert depths.z.between(50, 959).all()
    assert all(len(i) == 10 for i in train.id) and not set(train.id) & set(sample.id)
    image = Image.open(synth_dir / "train" / "images" / f"{train.id[0]}.png")
    assert image.mode == "RGB" and image.size == (101, 101)
    pixels = np.asarray(image)
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 0] == pixels[..., 2]).all()
    masks = np.stack(
        [np.asarray(Image.open(synth_dir / "train" / "masks" / f"{i}.png")) for i in train.id]
    )
    assert Image.open(synth_dir / "train" / "masks" / f"{train.id[0]}.png").mode == "I;16"
    assert set(np.unique(masks)) <= {0, 65535}
    np.testing.assert_array_equal(rle_decode_many(train.rle_mask), masks > 0)
    assert len(list((synth_dir / "test" / "images").glob("*.png"))) == 12


def test_same_seed_same_bytes(synth_dir, tmp_path):
    again = write_synthetic_dataset(tmp_path / "again", 60, 12, seed=5, progress=False)
    for rel in ["train.csv", "depths.csv", "sample_submission.csv"]:
        assert (again / rel).read_bytes() == (synth_dir / rel).read_bytes()
    for png in (synth_dir / "train" / "images").glob("*.png"):
        assert (again / "train" / "images" / png.name).read_bytes() == png.read_bytes()
    other = write_synthetic_dataset(tmp_path / "other", 60, 12, seed=6, progress=False)
    assert (other / "train.csv").read_bytes() != (synth_dir / "train.csv").read_bytes()


def test_existing_output_is_kept_or_refused(synth_dir, tmp_path):
    before = (synth_dir / "train.csv").stat().st_mtime_ns
    write_synthetic_dataset(synth_dir, 60, 12, seed=5, progress=False)  # same parameters: no-op
    assert (synth_dir / "train.csv").stat().st_mtime_ns == before
    with pytest.raises(SaltbenchError, match="--force"):
        write_synthetic_dataset(synth_dir, 61, 12, seed=5, progress=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(SaltbenchError, match="not a saltbench synthetic dataset"):
        write_synthetic_dataset(tmp_path / "mine", 5, 1, seed=0, force=True, progress=False)
    replaced = write_synthetic_dataset(tmp_path / "r", 5, 1, seed=0, progress=False)
    write_synthetic_dataset(replaced, 6, 1, seed=0, force=True, progress=False)
    assert json.loads((replaced / "synth.json").read_text())["n_train"] == 6


def test_tile_depends_only_on_seed_and_index():
    a = make_tile(tile_rng(1, 0, 7))
    b = make_tile(tile_rng(1, 0, 7))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)


def test_coverage_spread_and_image_statistics():
    tiles = [make_tile(tile_rng(11, 0, i)) for i in range(300)]
    coverage = np.array([t.mask.mean() for t in tiles])
    assert 0.3 < (coverage == 0).mean() < 0.5
    assert ((coverage > 0) & (coverage < 0.015)).any()
    assert (coverage > 0.9).any() and (coverage < 1).all()
    images = np.stack([t.image for t in tiles]).astype(float)
    assert 90 < images.mean() < 150 and images.reshape(300, -1).std(axis=1).min() > 3
    salt = np.stack([t.mask for t in tiles])
    # learnable: salt texture is weaker than layered sediments (local gradient energy)
    gradient = np.abs(np.diff(images, axis=1))
    inside = gradient[salt[:, 1:] & salt[:, :-1]].mean()
    outside = gradient[~salt[:, 1:] & ~salt[:, :-1]].mean()
    assert inside < outside
