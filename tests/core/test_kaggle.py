"""Kaggle-layout reader: arrays, validation lines, cache."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from common.core.errors import DataError
from common.core.kaggle import cache_path, check_dataset, load_dataset
from common.core.synth import write_synthetic_dataset


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SALTBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory):
    return write_synthetic_dataset(
        tmp_path_factory.mktemp("k") / "d", 30, 6, seed=2, progress=False
    )


def copy_of(clean_dir, tmp_path):
    import shutil

    return shutil.copytree(clean_dir, tmp_path / "copy")


def test_load_arrays(clean_dir):
    data = load_dataset(clean_dir, progress=False)
    table = pd.read_csv(clean_dir / "train.csv", dtype=str, keep_default_na=False)
    assert data.train_ids == table.id.tolist()
    assert data.images.shape == (30, 101, 101, 1) and data.images.dtype == np.float32
    assert data.images.min() >= 0 and data.images.max() <= 1
    assert data.masks.shape == (30, 101, 101, 1) and data.masks.dtype == bool
    assert data.depths.shape == (30,) and data.depths.dtype == np.float32
    assert data.test_images.shape == (6, 101, 101, 1) and len(data.test_ids) == 6
    pixels = np.asarray(Image.open(clean_dir / "train" / "images" / f"{data.train_ids[3]}.png"))
    np.testing.assert_allclose(data.images[3, ..., 0], pixels[..., 0] / 255, atol=1e-7)
    assert check_dataset(clean_dir) == []


def test_cache_round_trip(clean_dir):
    cold = load_dataset(clean_dir, progress=False)
    assert cache_path(clean_dir).is_file()
    warm = load_dataset(clean_dir, progress=False)
    for name in ["images", "masks", "depths", "test_images", "test_depths"]:
        np.testing.assert_array_equal(getattr(warm, name), getattr(cold, name))
    assert warm.train_ids == cold.train_ids and warm.test_ids == cold.test_ids


def test_cache_key_follows_content(clean_dir, tmp_path):
    root = copy_of(clean_dir, tmp_path)
    key = cache_path(root)
    assert cache_path(root) == key
    with open(root / "depths.csv", "a") as handle:
        handle.write("")
    (root / "train.csv").write_text((root / "train.csv").read_text() + "")
    png = next((root / "test" / "images").glob("*.png"))
    png.write_bytes(png.read_bytes() + b"\0")
    assert cache_path(root) != key


def break_dataset(root):
    """One truncated PNG, one 100x100 image, one mask with value 7, one odd RLE, one missing mask."""
    table = pd.read_csv(root / "train.csv", dtype=str, keep_default_na=False)
    ids = table.id.tolist()
    truncated = root / "train" / "images" / f"{ids[0]}.png"
    truncated.write_bytes(truncated.read_bytes()[:200])
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(
        root / "train" / "images" / f"{ids[1]}.png"
    )
    seven = np.zeros((101, 101), np.uint16)
    seven[4, 4] = 7
    Image.fromarray(seven).save(root / "train" / "masks" / f"{ids[2]}.png")
    table.loc[3, "rle_mask"] = "5 3 9"
    table.to_csv(root / "train.csv", index=False)
    (root / "train" / "masks" / f"{ids[4]}.png").unlink()
    Image.fromarray(np.ones((101, 101), np.uint16) * 65535).save(
        root / "train" / "masks" / f"{ids[5]}.png"
    )  # RLE now disagrees
    return ids


def test_every_problem_is_one_line_naming_the_file(clean_dir, tmp_path):
    root = copy_of(clean_dir, tmp_path)
    ids = break_dataset(root)
    problems = check_dataset(root)
    text = "\n".join(problems)
    assert f"images/{ids[0]}.png: cannot decode PNG" in text
    assert f"images/{ids[1]}.png: size 100x100, expected 101x101" in text
    assert f"masks/{ids[2]}.png: mask value 7" in text
    assert f"train.csv: id {ids[3]}: odd number of values" in text
    assert f"masks/{ids[4]}.png: missing" in text
    assert f"train.csv: id {ids[5]}: RLE disagrees" in text
    assert len(problems) == 6 and all("\n" not in p for p in problems)
    with pytest.raises(DataError, match="6 problem"):
        load_dataset(root, progress=False)


def test_missing_files_and_depths(clean_dir, tmp_path):
    root = copy_of(clean_dir, tmp_path)
    depths = pd.read_csv(root / "depths.csv", dtype={"id": str})
    depths.iloc[1:].to_csv(root / "depths.csv", index=False)
    extra = root / "test" / "images" / "ffffffffff.png"
    extra.write_bytes(next((root / "test" / "images").glob("*.png")).read_bytes())
    (root / "sample_submission.csv").unlink()
    problems = check_dataset(root)
    assert any(f"no depth for id {depths.id[0]}" in p for p in problems)
    assert any("sample_submission.csv: missing" in p for p in problems)
    assert any("ffffffffff.png: no row" in p for p in problems)
    assert check_dataset(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: not a folder"]


def test_problem_count_is_of_problems_not_printed_lines(clean_dir, tmp_path, capsys):
    """A train.csv holding only its header leaves 30 images and 30 masks without a row: 60
    problems, printed as 20 lines of each kind plus one summary line per kind."""
    from common.cli import main

    root = copy_of(clean_dir, tmp_path)
    (root / "train.csv").write_text("id,rle_mask\n")
    problems = check_dataset(root)
    assert problems.total == 60
    assert len(problems) == 42  # 2 x 20 shown + 2 "... and 10 more" lines
    assert sum("... and 10 more problems like" in p for p in problems) == 2
    assert main(["data", "check", str(root), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"saltbench: error: {root}: 60 problem(s) (42 lines shown)"]
    with pytest.raises(DataError, match="60 problem"):
        load_dataset(root, progress=False)


@pytest.mark.realdata
def test_real_data_reads_clean(real_data_dir):
    data = load_dataset(real_data_dir, progress=False)
    assert len(data.train_ids) == 3200 and len(data.test_ids) == 1000
    empty = (data.coverage == 0).mean()
    assert 0.35 < empty < 0.43 and (data.coverage < 1).all()
    assert data.depths.min() >= 50 and data.depths.max() <= 959
