"""common.compare.unit.divergence: the one divergence rule both twins share."""

import numpy as np

from common.compare.unit.divergence import (
    Divergence,
    first_nonfinite_weight,
    injected_nan_epoch,
    poisoned,
)


def test_first_nonfinite_weight_names_the_array_and_ignores_integer_state():
    weights = {"conv/kernel": np.ones((2, 2), np.float32), "seed": np.array([3, 4], np.int64)}
    assert first_nonfinite_weight(weights) is None
    weights["bn/moving_variance"] = np.array([1.0, np.inf], np.float32)
    weights["dense/bias"] = np.array([np.nan], np.float32)
    assert first_nonfinite_weight(weights) == "bn/moving_variance"


def test_divergence_message_names_framework_seed_fold_stage_epoch_batch_and_lr():
    d = Divergence("keras", 42, 3, "lovasz", 7, 2, 5, 1e12, "training loss nan")
    assert d.message == (
        "keras seed 42 fold 3 diverged: training loss nan in stage lovasz, epoch 7, batch 2/5, "
        "learning rate 1e+12"
    )
    assert Divergence("torch", 0, 0, "bce", 1, 0, 5, 0.01, "non-finite weight w").message.endswith(
        "epoch 1, epoch end, learning rate 0.01"
    )
    assert d.to_dict()["message"] == d.message


def test_nan_injection_is_read_for_its_framework_only(monkeypatch):
    monkeypatch.setenv("SALTBENCH_INJECT_NAN", "torch:2")
    assert injected_nan_epoch("torch") == 2 and injected_nan_epoch("keras") is None
    weights = poisoned({"w": np.ones(3, np.float32), "step": np.array([1])})
    assert np.isnan(weights["w"]).all() and weights["step"][0] == 1
