"""The noise floor (--noise-floor): each unit also trains the reference from weights one ulp up,
and the report sets the twins' drift and score difference beside what round-off alone makes."""

import json

import numpy as np
import pandas as pd
import pytest

from common.compare.run.worker import one_ulp_up

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]


def test_one_ulp_moves_every_trainable_weight_by_one_float32_step_and_nothing_else():
    rng = np.random.default_rng(0)
    weights = {
        "enc1_conv/kernel": rng.normal(size=(3, 3, 1, 4)).astype(np.float32),
        "enc1_bn/gamma": np.ones(4, np.float32),
        "enc1_bn/moving_mean": rng.normal(size=4).astype(np.float32),
    }
    moved = one_ulp_up(weights)
    for key in ("enc1_conv/kernel", "enc1_bn/gamma"):
        assert moved[key].dtype == np.float32
        assert np.array_equal(moved[key], np.nextafter(weights[key], np.float32(np.inf)))
        assert np.all(moved[key] > weights[key])
    assert np.array_equal(moved["enc1_bn/moving_mean"], weights["enc1_bn/moving_mean"])


def test_the_noise_floor_copy_trains_and_its_drift_is_reported(nway_run):
    """The N-way smoke run has --noise-floor: the reference's copy trains beside the three
    subjects and every pair's drift is read against the floor."""
    run_dir, stdout = nway_run
    copy = run_dir / "torch_ulp" / "seed0" / "fold0"
    assert (copy / "fold_metrics.json").is_file() and (copy / "oof.npz").is_file()
    floor = pd.read_csv(run_dir / "drift_floor.csv")
    twins = pd.read_csv(run_dir / "drift_keras-tf.csv")
    assert floor["epoch"].tolist() == twins["epoch"].tolist() == [0, 1]
    assert (floor["weights_total"] > 0).all()  # round-off alone moved the copy away
    metrics = json.loads((run_dir / "metrics.json").read_text())
    noise = metrics["noise_floor"]
    assert noise["reference"] == "torch" and noise["copy"] == "torch_ulp"
    assert "one ulp" in noise["perturbation"]
    assert noise["score_difference"]["n"] == 20 and "tost" in noise["score_difference"]
    assert len(noise["unit_differences"]) == 1  # one unit: the floor's per-run difference
    for pair in metrics["pairs"].values():  # with one run, the floor stands in for the spread
        runs = pair["frameworks"]
        if noise["unit_differences"][0] != 0.0:
            assert "noise floor (1 unit)" in runs["method"] and runs["low"] <= runs["high"]
        else:  # the floor measured no spread at all: it cannot stand in
            assert runs["verdict"]["kind"] == "too few runs"
    assert "torch_ulp" not in metrics["subjects"]  # the copy is no subject
    assert "Noise floor: Keras/TF–PyTorch weight drift" in stdout
    assert "Noise floor: Keras/JAX–PyTorch weight drift" in stdout
    assert "Score floor (PyTorch − PyTorch +1 ulp" in stdout
    assert "noise floor: weights" in (run_dir / "report.md").read_text()
    board = pd.read_csv(run_dir / "leaderboard_rows.csv", dtype=str, keep_default_na=False)
    assert set(board["twin"]) == {"keras", "torch"}
