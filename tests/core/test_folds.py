"""Stratified folds: balance per coverage class, determinism, reuse."""

import numpy as np
import pandas as pd
import pytest

from common.core.errors import DataError
from common.core.folds import coverage_class, load_or_make_folds, make_folds


def masks_with_coverages(coverages, size=20):
    masks = np.zeros((len(coverages), size, size), bool)
    for mask, coverage in zip(masks, coverages, strict=True):
        mask.ravel()[: int(round(coverage * size * size))] = True
    return masks


def test_coverage_class():
    masks = masks_with_coverages([0, 0.0025, 0.1, 0.1025, 0.5, 0.9975, 1.0])
    np.testing.assert_array_equal(coverage_class(masks), [0, 1, 1, 2, 5, 10, 10])
    assert coverage_class(masks[..., None]).shape == (7,)


def test_stratified_and_deterministic():
    rng = np.random.default_rng(0)
    coverages = np.where(rng.random(503) < 0.4, 0, rng.random(503))
    masks = masks_with_coverages(coverages)
    ids = [f"id{i:04d}" for i in range(503)]
    folds = make_folds(ids, masks, k=5, seed=3)
    assert folds.id.tolist() == ids and set(folds.fold) == set(range(5))
    assert folds.fold.value_counts().max() - folds.fold.value_counts().min() <= 1
    per_class = pd.crosstab(coverage_class(masks), folds.fold)
    assert (per_class.max(axis=1) - per_class.min(axis=1) <= 1).all()
    assert make_folds(ids, masks, k=5, seed=3).equals(folds)
    assert not make_folds(ids, masks, k=5, seed=4).equals(folds)


def test_saved_once_then_reused(tmp_path):
    masks = masks_with_coverages(np.linspace(0, 0.9, 40))
    ids = [f"t{i}" for i in range(40)]
    path = tmp_path / "folds.csv"
    first = load_or_make_folds(path, ids, masks, k=4, seed=1)
    content = path.read_bytes()
    again = load_or_make_folds(path, ids, masks, k=4, seed=99)  # reuse, whatever the seed
    assert again.equals(first) and path.read_bytes() == content
    assert path.read_text().splitlines()[0] == "id,fold"
    with pytest.raises(DataError, match="other ids"):
        load_or_make_folds(path, ids[:-1], masks[:-1], k=4)
    with pytest.raises(DataError, match="expected 0..4"):
        load_or_make_folds(path, ids, masks, k=5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unique"):
        make_folds(["a", "a"], np.zeros((2, 3, 3)), k=2)
    with pytest.raises(ValueError, match="at least 2"):
        make_folds(["a", "b"], np.zeros((2, 3, 3)), k=1)
    with pytest.raises(ValueError, match="only 2 ids"):
        make_folds(["a", "b"], np.zeros((2, 3, 3)), k=3)


def test_folds_command_refuses_more_folds_than_ids_and_a_folder_for_a_file(tmp_path, capsys):
    from common.cli import main
    from common.core.synth import write_synthetic_dataset

    data = tmp_path / "data"
    write_synthetic_dataset(data, 6, 2, 0)
    assert main(["folds", str(data), "--k", "100"]) == 2
    assert "--k 100" in capsys.readouterr().err and not list(data.glob("folds_*.csv"))
    assert main(["folds", str(data), "--out", str(tmp_path)]) == 2
    assert "is a folder; give the CSV file" in capsys.readouterr().err
    assert main(["folds", str(data / "train.csv")]) == 2
    assert "is a file; give the dataset folder" in capsys.readouterr().err


@pytest.mark.realdata
def test_real_folds_stratified(real_data_dir):
    from common.core.kaggle import load_dataset

    data = load_dataset(real_data_dir, progress=False)
    folds = make_folds(data.train_ids, data.masks, k=5, seed=0)
    per_class = pd.crosstab(coverage_class(data.masks), folds.fold)
    assert (per_class.max(axis=1) - per_class.min(axis=1) <= 1).all()
    assert sorted(folds.fold.value_counts()) == [640] * 5
