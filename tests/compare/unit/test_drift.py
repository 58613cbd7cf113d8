"""Twin drift: 0 for identical twins, positive after perturbing one; epoch files paired then deleted."""

import numpy as np
import pandas as pd

from common.compare.unit import drift
from common.models.weights import relative_distance


def fake_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "enc1_conv/kernel": rng.normal(size=(3, 3, 1, 4)).astype(np.float32),
        "enc1_bn/gamma": np.ones(4, np.float32),
        "enc1_bn/moving_variance": np.ones(4, np.float32),
        "dec1_conv/kernel": rng.normal(size=(3, 3, 4, 4)).astype(np.float32),
        "head/kernel": rng.normal(size=(1, 1, 4, 1)).astype(np.float32),
    }


def test_identical_twins_have_zero_drift_and_a_perturbed_twin_drifts():
    a = fake_weights()
    same = relative_distance(a, {k: v.copy() for k, v in a.items()})
    assert set(same) == {"total", "enc1", "dec1", "head"} and all(v == 0 for v in same.values())
    b = {k: v.copy() for k, v in a.items()}
    b["dec1_conv/kernel"] = b["dec1_conv/kernel"] + 0.01
    moved = relative_distance(a, b)
    assert moved["total"] > 0 and moved["dec1"] > moved["total"] > 0
    assert moved["enc1"] == 0 and moved["head"] == 0
    assert moved == relative_distance(b, a)  # symmetric
    stats_only = {k: v.copy() for k, v in a.items()}
    stats_only["enc1_bn/moving_variance"] = stats_only["enc1_bn/moving_variance"] * 3
    assert relative_distance(a, stats_only)["total"] == 0  # running statistics are not weights


def test_mask_agreement_is_iou_with_empty_pairs_agreeing():
    a = np.zeros((3, 4, 4), bool)
    b = a.copy()
    a[1, :2] = True  # 8 pixels
    b[1, :1] = True  # 4 of them
    b[2, 0, 0] = True  # only one twin predicts salt
    assert drift.mask_agreement(a, b).tolist() == [1.0, 0.5, 0.0]


KERAS = drift.pair_folder("keras")  # the folder of keras's drift from the reference, torch


def test_epochs_are_paired_once_both_twins_reach_them_then_deleted(tmp_path):
    logits = np.random.default_rng(0).normal(size=(5, 8, 8)).astype(np.float32)
    frameworks = ["keras", "torch"]
    pairs = drift.drift_pairs({"subjects": frameworks})
    w = fake_weights()
    drift.record_epoch(tmp_path, "keras", 0, 1, 0, "bce", w, logits, pairs)
    assert drift.epoch_file(tmp_path, "keras", 0, 1, 0, KERAS).is_file()
    drift.record_epoch(tmp_path, "torch", 0, 1, 0, "bce", w, logits, pairs)
    assert not list(drift.unit_drift_dir(tmp_path, 0, 1, KERAS).glob("*.npz"))  # paired, deleted
    perturbed = {k: v + 0.05 for k, v in w.items()}
    drift.record_epoch(tmp_path, "torch", 0, 1, 1, "bce", perturbed, -logits, pairs)
    drift.record_epoch(tmp_path, "keras", 0, 1, 1, "bce", w, logits, pairs)
    drift.record_epoch(tmp_path, "keras", 0, 1, 2, "lovasz", w, logits, pairs)  # unpaired
    config = {"subjects": frameworks, "folds": [0], "seeds": [1], "recipe": {}}
    table = drift.finish_drift(tmp_path, config, KERAS)
    assert (tmp_path / f"{KERAS}.csv").is_file() and not (tmp_path / KERAS).exists()
    assert table["epoch"].tolist() == [0, 1] and table["seed"].tolist() == [1, 1]
    assert table.loc[0, "weights_total"] == 0 and table.loc[0, "mask_iou"] == 1
    assert table.loc[1, "weights_total"] > 0 and table.loc[1, "mask_iou"] < 0.5
    assert {"weights_enc1", "weights_dec1", "weights_head"} <= set(table.columns)
    summary = drift.drift_summary(pd.read_csv(tmp_path / f"{KERAS}.csv"))
    assert summary["last_epoch"] == 1 and summary["last"]["weights_total"] > 0


def test_a_single_framework_run_records_nothing(tmp_path):
    drift.record_epoch(tmp_path, "torch", 0, 0, 0, "bce", fake_weights(), np.zeros((2, 4, 4)), [])
    assert not list(tmp_path.iterdir())


def test_the_noise_floor_pair_is_recorded_beside_the_twins(tmp_path):
    """With eval.noise_floor, torch's epochs pair with keras (drift_keras.csv) and with its one-ulp
    copy (drift_floor.csv); each file is deleted once its own pair is done."""
    config = {"subjects": ["keras", "torch"], "folds": [0], "seeds": [0],
              "recipe": {"eval": {"noise_floor": True}}}  # fmt: skip
    pairs = drift.drift_pairs(config)
    assert pairs == [(KERAS, "keras", "torch"), (drift.FLOOR_DIR, "torch_ulp", "torch")]
    logits = np.random.default_rng(1).normal(size=(3, 8, 8)).astype(np.float32)
    w = fake_weights()
    nudged = {k: np.nextafter(v, np.inf) for k, v in w.items()}
    drift.record_epoch(tmp_path, "torch", 0, 0, 0, "bce", w, logits, pairs)
    drift.record_epoch(tmp_path, "torch_ulp", 0, 0, 0, "bce", nudged, logits, pairs)
    assert not list(drift.unit_drift_dir(tmp_path, 0, 0, drift.FLOOR_DIR).glob("*.npz"))
    assert drift.epoch_file(tmp_path, "torch", 0, 0, 0, KERAS).is_file()  # still waits for keras
    drift.record_epoch(tmp_path, "keras", 0, 0, 0, "bce", w, logits, pairs)
    twins = drift.finish_drift(tmp_path, config, KERAS)
    floor = drift.finish_drift(tmp_path, config, drift.FLOOR_DIR)
    assert twins["weights_total"].tolist() == [0.0]
    assert 0 < floor.loc[0, "weights_total"] < 1e-6 and floor.loc[0, "mask_iou"] == 1.0
    assert (tmp_path / "drift_floor.csv").is_file() and not (tmp_path / drift.FLOOR_DIR).exists()


def test_every_subject_drifts_from_the_reference_in_its_own_pair(tmp_path):
    """Three subjects, reference torch: two pairs, each paired and deleted on its own, so the
    reference's epoch file serves both and a slow subject does not hold up the other pair."""
    config = {"subjects": ["torch", "keras-tf", "keras-jax"], "folds": [0], "seeds": [0],
              "recipe": {}}  # fmt: skip
    pairs = drift.drift_pairs(config)
    assert [p[1:] for p in pairs] == [("keras-tf", "torch"), ("keras-jax", "torch")]
    logits = np.random.default_rng(2).normal(size=(3, 8, 8)).astype(np.float32)
    w = fake_weights()
    moved = {k: v + 0.1 for k, v in w.items()}
    drift.record_epoch(tmp_path, "torch", 0, 0, 0, "bce", w, logits, pairs)
    drift.record_epoch(tmp_path, "keras-tf", 0, 0, 0, "bce", w, logits, pairs)
    tf_dir, jax_dir = drift.pair_folder("keras-tf"), drift.pair_folder("keras-jax")
    assert not list(drift.unit_drift_dir(tmp_path, 0, 0, tf_dir).glob("*.npz"))
    assert drift.epoch_file(tmp_path, "torch", 0, 0, 0, jax_dir).is_file()  # waits for jax
    drift.record_epoch(tmp_path, "keras-jax", 0, 0, 0, "bce", moved, logits, pairs)
    summaries = drift.finish_all_drift(tmp_path, config)
    assert set(summaries) == {"keras-tf", "keras-jax"}
    assert summaries["keras-tf"]["last"]["weights_total"] == 0
    assert summaries["keras-jax"]["last"]["weights_total"] > 0
