"""The ResNet34 U-Net spec (common/models/spec_resnet34.py): geometry, names, counts, FLOPs, validation."""

import argparse

import pytest

from common.core.errors import SaltbenchError
from common.models.spec import MODEL_SPECS, add_spec_arguments, spec_from_args, spec_from_dict
from common.models.spec_resnet34 import ResNet34UNetSpec

# torchvision's resnet34 has 21,797,672 parameters; without fc (512*1000 + 1000) and with a
# one-channel stem (64 * 2 * 7 * 7 fewer) its encoder keeps 21,278,400 trainable ones.
RESNET34_ENCODER_TRAINABLE = 21_797_672 - 513_000 - 6_272


def encoder_trainable(spec: ResNet34UNetSpec) -> int:
    total = 0
    for key, shape in spec.weight_shapes().items():
        layer, param = key.rsplit("/", 1)
        if layer.startswith(("conv1", "bn1", "layer")) and param not in (
            "moving_mean",
            "moving_variance",
        ):
            size = 1
            for dim in shape:
                size *= dim
            total += size
    return total


def test_default_encoder_is_resnet34_sized():
    assert encoder_trainable(ResNet34UNetSpec()) == RESNET34_ENCODER_TRAINABLE


def test_geometry_of_a_101_tile():
    spec = ResNet34UNetSpec()
    assert spec.padding == (13, 14)
    assert [spec.stage_size(s) for s in range(5)] == [64, 32, 16, 8, 4]
    assert [spec.stage_width(s) for s in range(5)] == [64, 64, 128, 256, 512]
    assert [spec.decoder_size(level) for level in (1, 2, 3, 4)] == [8, 16, 32, 64]
    assert spec.decoder_inputs(1) == (512, 256) and spec.decoder_inputs(4) == (256, 64)
    head = spec.layers()[-1]
    assert (head.name, head.in_size, head.out_size, head.out_channels) == ("head", 64, 128, 1)


def test_layer_names_blocks_and_downsamples():
    names = ResNet34UNetSpec().layer_names()
    assert len(names) == len(set(names))
    convs = [
        n
        for n in names
        if n.startswith(("conv1", "layer")) and "/bn" not in n and not n.endswith("/1")
    ]
    assert len(convs) == 1 + 2 * (3 + 4 + 6 + 3) + 3  # stem, two per BasicBlock, three projections
    downsamples = sorted(n.split("/")[0] for n in names if n.endswith("downsample/0"))
    assert downsamples == ["layer2_0", "layer3_0", "layer4_0"]
    assert names[:2] == ["conv1", "bn1"] and "layer4_2/bn2" in names


def test_attention_adds_decoder_layers_and_encoder_convs_have_no_bias():
    plain, scse = ResNet34UNetSpec(attention="none"), ResNet34UNetSpec(attention="scse")
    extra = set(scse.layer_names()) - set(plain.layer_names())
    assert extra == {
        f"dec{d}/att/{p}" for d in (1, 2, 3, 4) for p in ("squeeze", "excite", "spatial")
    }
    shapes = scse.weight_shapes()
    assert "layer1_0/conv1/bias" not in shapes and "conv1/bias" not in shapes
    assert shapes["dec1/up/kernel"] == (2, 2, 128, 512) and shapes["dec1/up/bias"] == (128,)
    assert shapes["dec1/att/squeeze/kernel"] == (1, 1, 256, 16)


def test_reduced_width_shrinks_everything():
    small = ResNet34UNetSpec(base_width=8)
    assert small.decoder_width == 32
    assert small.parameter_count() < ResNet34UNetSpec().parameter_count() / 40
    assert small.flops_per_image() < ResNet34UNetSpec().flops_per_image() / 40
    assert small.parameter_count(trainable_only=True) < small.parameter_count()


@pytest.mark.torch
@pytest.mark.parametrize("attention", ["none", "scse"])
def test_flops_match_torch_flop_counter(attention):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from torch_impl.model import build_model

    spec = ResNet34UNetSpec(base_width=4, attention=attention)
    model = build_model(spec).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(2, 1, 101, 101))
    assert counter.get_total_flops() == 2 * spec.flops_per_image()


@pytest.mark.torch
def test_torch_weight_shapes_match_spec():
    pytest.importorskip("torch")
    from torch_impl.model import build_model
    from torch_impl.weights import export_weights, parameter_counts

    spec = ResNet34UNetSpec(base_width=4, activation="mish", attention="se")
    model = build_model(spec)
    assert {k: v.shape for k, v in export_weights(model).items()} == spec.weight_shapes()
    assert parameter_counts(model) == (
        spec.parameter_count(),
        spec.parameter_count(trainable_only=True),
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"activation": "gelu"}, "activation 'gelu'"),
        ({"attention": "cbam"}, "attention 'cbam'"),
        ({"base_width": 7}, "base_width must be a positive even integer"),
        ({"base_width": 0}, "base_width"),
        ({"dropout": 1.0}, "dropout"),
        ({"padded_size": 112}, "multiple of 32"),
        ({"padded_size": 96}, "padded_size 96 < input_size 101"),
        ({"padded_size": 352}, "reflect padding"),
        ({"pad_mode": "wrap"}, "pad_mode 'wrap'"),
        ({"bn_momentum": 1.0}, "bn_momentum"),
    ],
)
def test_invalid_specs_say_what_is_wrong(fields, message):
    with pytest.raises(SaltbenchError, match="invalid resnet34_unet spec") as err:
        ResNet34UNetSpec(**fields)
    assert message in str(err.value)


def test_constant_padding_allows_large_pads():
    assert ResNet34UNetSpec(padded_size=352, pad_mode="constant").padding == (125, 126)


def test_dict_round_trip_and_registry():
    spec = ResNet34UNetSpec(base_width=16, activation="swish", attention="se", pad_mode="constant")
    data = spec.to_dict()
    assert data["model"] == "resnet34_unet" and MODEL_SPECS["resnet34_unet"] is ResNet34UNetSpec
    assert spec_from_dict(data) == spec
    with pytest.raises(SaltbenchError, match="start_neurons"):
        spec_from_dict({**data, "start_neurons": 16})
    with pytest.raises(SaltbenchError, match="not 'resnet34_unet'"):
        ResNet34UNetSpec.from_dict({**data, "model": "resunet"})


def test_spec_from_cli_arguments():
    parser = argparse.ArgumentParser()
    add_spec_arguments(parser)
    args = parser.parse_args(
        ["--model", "resnet34_unet", "--base-width", "8", "--attention", "none"]
    )
    assert spec_from_args(args) == ResNet34UNetSpec(base_width=8, attention="none")
