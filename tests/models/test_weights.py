"""common.models.weights: the one torch rule, npz round trip, clear mismatch errors."""

import numpy as np
import pytest

from common.core.errors import SaltbenchError
from common.models.weights import (
    check_compatible,
    load_weights_npz,
    neutral_to_torch,
    save_weights_npz,
    torch_module_path,
    torch_to_neutral,
)


def test_one_rule_for_conv_and_transposed_conv_kernels():
    conv = np.arange(8 * 3 * 3 * 3, dtype=np.float32).reshape(8, 3, 3, 3)  # torch (out, in, kh, kw)
    assert torch_to_neutral("kernel", conv).shape == (3, 3, 3, 8)  # Keras (kh, kw, in, out)
    transposed = np.zeros((16, 8, 3, 3), np.float32)  # torch (in, out, kh, kw)
    assert torch_to_neutral("kernel", transposed).shape == (3, 3, 8, 16)  # Keras (kh, kw, out, in)
    assert np.array_equal(neutral_to_torch("kernel", torch_to_neutral("kernel", conv)), conv)
    assert torch_to_neutral("kernel", conv)[1, 2, 0, 5] == conv[5, 0, 1, 2]  # no spatial flip
    bias = np.ones(4, np.float32)
    assert torch_to_neutral("gamma", bias) is not None and torch_to_neutral("bias", bias).shape == (
        4,
    )


def test_names_map_by_one_rule():
    assert torch_module_path("enc1_res1/bn1") == "enc1_res1.bn1"


def test_npz_round_trip(tmp_path):
    weights = {"head/kernel": np.ones((1, 1, 4, 1), np.float32), "enc1_res1/bn1/gamma": np.ones(4)}
    path = save_weights_npz(tmp_path / "w.npz", weights)
    loaded = load_weights_npz(path)
    assert loaded.keys() == weights.keys() and loaded["enc1_res1/bn1/gamma"].dtype == np.float32


def test_bad_npz_is_one_error(tmp_path):
    with pytest.raises(SaltbenchError, match="not found"):
        load_weights_npz(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_text("nope")
    with pytest.raises(SaltbenchError, match="bad.npz"):
        load_weights_npz(tmp_path / "bad.npz")


def test_mismatch_lists_missing_extra_and_shapes():
    expected = {"a/kernel": (3, 3, 1, 4), "a/bias": (4,)}
    weights = {"a/kernel": np.zeros((3, 3, 1, 8)), "b/bias": np.zeros(4)}
    with pytest.raises(SaltbenchError) as err:
        check_compatible(expected, weights, "model.npz")
    message = str(err.value)
    assert "model.npz" in message and "missing 1" in message and "unexpected 1" in message
    assert "wrong shape 1" in message
