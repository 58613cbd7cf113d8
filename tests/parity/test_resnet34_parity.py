"""Keras and PyTorch ResNet34 U-Nets compute the same function: forward parity both ways and over
the options, encoder weights, padding, saving, and the parity command.

Small width (base_width 8) and two tiles keep it fast; one Keras model is shared per module.
"""

import numpy as np
import pytest

from common.models.spec_resnet34 import ResNet34UNetSpec
from tests.parity.resnet34_twins import (
    FORWARD_TOLERANCE,
    SPEC,
    Twins,
    keras,
    make_batch,
    max_diff,
    torch,
)

pytestmark = [pytest.mark.parity, pytest.mark.keras, pytest.mark.torch]


def test_parameter_counts_are_equal(resnet34):
    from keras_impl.weights import parameter_counts as keras_counts
    from torch_impl.weights import parameter_counts as torch_counts

    expected = (SPEC.parameter_count(), SPEC.parameter_count(trainable_only=True))
    assert keras_counts(resnet34.keras) == torch_counts(resnet34.torch) == expected


def test_forward_keras_to_torch(resnet34):
    resnet34.sync(resnet34.start)
    x, _ = make_batch(0)
    keras_logits, torch_logits = resnet34.logits(x)
    assert keras_logits.shape == torch_logits.shape == (2, 101, 101, 1)
    assert np.std(keras_logits) > 1e-3  # a non-trivial function is compared
    assert max_diff(keras_logits, torch_logits) < FORWARD_TOLERANCE


def test_forward_torch_to_keras(resnet34):
    from common.parity.check import randomize_batch_norm
    from keras_impl.weights import import_weights as keras_import
    from torch_impl.model import build_model
    from torch_impl.weights import export_weights as torch_export
    from torch_impl.weights import import_weights as torch_import

    torch.manual_seed(3)
    source = randomize_batch_norm(torch_export(build_model(SPEC)), seed=4)
    torch_import(resnet34.torch, source)
    keras_import(resnet34.keras, source)
    x, _ = make_batch(1)
    keras_logits, torch_logits = resnet34.logits(x)
    assert max_diff(keras_logits, torch_logits) < FORWARD_TOLERANCE


def test_changing_one_weight_breaks_parity(resnet34):
    resnet34.sync(resnet34.start)
    x, _ = make_batch(0)
    resnet34.torch.dec2.skip.bias.data += 0.05
    keras_logits, torch_logits = resnet34.logits(x)
    resnet34.sync(resnet34.start)
    assert max_diff(keras_logits, torch_logits) > 100 * FORWARD_TOLERANCE


@pytest.mark.parametrize(
    "fields",
    [
        {"activation": "mish", "attention": "se", "pad_mode": "constant"},
        {"activation": "swish", "attention": "none", "padded_size": 160},
    ],
    ids=["mish-se-constant", "swish-none-160"],
)
def test_forward_parity_over_options(fields):
    pair = Twins(ResNet34UNetSpec(base_width=4, dropout=0.0, **fields))
    x, _ = make_batch(2)
    keras_logits, torch_logits = pair.logits(x)
    assert max_diff(keras_logits, torch_logits) < FORWARD_TOLERANCE


def test_encoder_weights_load_into_both_twins_alike(resnet34, tmp_path):
    from common.models.encoder_weights import with_encoder_weights
    from keras_impl.weights import export_weights as keras_export
    from keras_impl.weights import import_weights as keras_import
    from tests.resnet34_reference import save_reference
    from torch_impl.weights import export_weights as torch_export
    from torch_impl.weights import import_weights as torch_import

    resnet34.sync(resnet34.start)
    path = tmp_path / "resnet34.pth"
    save_reference(path, SPEC.base_width, seed=7)
    keras_import(resnet34.keras, with_encoder_weights(keras_export(resnet34.keras), path, SPEC))
    torch_import(resnet34.torch, with_encoder_weights(torch_export(resnet34.torch), path, SPEC))
    assert (
        max_diff(
            keras_export(resnet34.keras)["layer3_0/downsample/0/kernel"],
            resnet34.start["layer3_0/downsample/0/kernel"],
        )
        > 0
    )
    x, _ = make_batch(6)
    keras_logits, torch_logits = resnet34.logits(x)
    resnet34.sync(resnet34.start)
    assert max_diff(keras_logits, torch_logits) < FORWARD_TOLERANCE


def test_stride_two_padding_follows_torchvision_not_tf_same():
    """TF 'same' pads a stride-2 conv only at the end; the resnet34 pad both sides, like torch padding=1."""
    from keras_impl.resnet34_unet import StemPool as KerasPool
    from keras_impl.resnet34_unet import _pad_hw
    from torch_impl.resnet34_unet import StemPool as TorchPool

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 16, 16, 3)).astype(
        np.float32
    )  # negative values: -inf pool padding matters
    kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)
    torch_out = torch.nn.functional.conv2d(
        xt, torch.from_numpy(kernel.transpose(3, 2, 0, 1)), stride=2, padding=1
    )
    torch_out = torch_out.permute(0, 2, 3, 1).numpy()
    explicit = keras.ops.conv(_pad_hw(x, 1, 1), kernel, strides=2, padding="valid")
    tf_same = keras.ops.conv(x, kernel, strides=2, padding="same")
    assert max_diff(np.asarray(explicit), torch_out) < 1e-5
    assert max_diff(np.asarray(tf_same), torch_out) > 1e-2
    pooled_keras = np.asarray(KerasPool()(x))
    pooled_torch = TorchPool()(xt).permute(0, 2, 3, 1).numpy()
    assert pooled_keras.shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(pooled_keras, pooled_torch)


def test_keras_model_saves_and_loads(resnet34, tmp_path):
    from keras_impl.weights import load_model, save_model

    resnet34.sync(resnet34.start)
    x, _ = make_batch(0)
    path = save_model(resnet34.keras, tmp_path / "resnet34_unet.keras")
    reloaded = load_model(path)
    assert (
        max_diff(
            np.asarray(reloaded(x, training=False)), np.asarray(resnet34.keras(x, training=False))
        )
        == 0
    )


def test_parity_command_passes_and_fails_when_broken(capsys):
    from common.cli import main

    base = ["parity", "--model", "resnet34_unet", "--base-width", "4", "--batch", "2"]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert out.count(": OK") == 2 and "keras2torch" in out and "torch2keras" in out
    assert main([*base, "--direction", "torch2keras", "--break", "activation"]) == 1
    assert "FAIL" in capsys.readouterr().out
