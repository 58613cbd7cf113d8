"""common.models.spec: validation, canonical names, weight shapes, FLOPs, (de)serialisation."""

import argparse

import pytest

from common.core.errors import SaltbenchError
from common.models.spec import (
    MODEL_SPECS,
    ResUNetSpec,
    add_spec_arguments,
    conv_out_size,
    conv_transpose_out_size,
    spec_from_args,
    spec_from_dict,
)


def test_sizes_follow_design():
    spec = ResUNetSpec()
    assert spec.level_sizes() == [101, 50, 25, 12, 6]
    assert [spec.up_padding(level) for level in (4, 3, 2, 1)] == ["same", "valid", "same", "valid"]
    assert conv_transpose_out_size(6, "same") == 12 and conv_transpose_out_size(12, "valid") == 25
    assert conv_transpose_out_size(25, "same") == 50 and conv_transpose_out_size(50, "valid") == 101
    assert conv_out_size(101, "same", stride=2) == 51 and conv_out_size(101, "valid", 2, 3) == 50


def test_batch_norm_momentum_is_converted_once():
    spec = ResUNetSpec(bn_momentum=0.9, bn_epsilon=1e-5)
    assert spec.keras_bn_momentum == 0.9
    assert spec.torch_bn_momentum == pytest.approx(0.1)


@pytest.mark.parametrize(
    "field, value",
    [
        ("activation", "gelu"),
        ("attention", "cbam"),
        ("start_neurons", 0),
        ("dropout", 1.0),
        ("bn_momentum", 1.0),
        ("input_size", 128),
        ("se_reduction", 0),
    ],
)
def test_invalid_spec_is_one_clear_error(field, value):
    with pytest.raises(SaltbenchError, match=field):
        ResUNetSpec(**{field: value})


def test_layer_names_are_unique_and_attention_adds_layers():
    plain, scse = ResUNetSpec(), ResUNetSpec(attention="scse")
    names = plain.layer_names()
    assert len(names) == len(set(names))
    assert names[0] == "enc1_conv" and names[-1] == "head"
    assert "enc1_res1/bn1" in names and "dec1_up" in names
    extra = set(scse.layer_names()) - set(names)
    assert extra == {
        f"enc{i}_att/{p}" for i in (1, 2, 3, 4) for p in ("squeeze", "excite", "spatial")
    }


def test_weight_shapes_use_the_neutral_layout():
    shapes = ResUNetSpec(start_neurons=4).weight_shapes()
    assert shapes["enc1_conv/kernel"] == (3, 3, 1, 4)
    assert shapes["dec4_up/kernel"] == (3, 3, 32, 64)  # (kh, kw, out, in)
    assert shapes["dec4_conv/kernel"] == (3, 3, 64, 32)
    assert shapes["mid_bn/moving_variance"] == (64,)
    assert shapes["head/kernel"] == (1, 1, 4, 1)


def test_parameter_count_grows_with_width_and_attention():
    small, default = ResUNetSpec(start_neurons=4), ResUNetSpec()
    assert small.parameter_count() < default.parameter_count()
    assert ResUNetSpec(attention="se").parameter_count() > default.parameter_count()
    stats = sum(s[0] * 2 for k, s in default.weight_shapes().items() if k.endswith("/gamma"))
    assert default.parameter_count() - default.parameter_count(trainable_only=True) == stats


def test_flops_match_design_figure():
    assert ResUNetSpec().flops_per_image() / 1e9 == pytest.approx(2.17, abs=0.01)


@pytest.mark.torch
@pytest.mark.parametrize("attention", ["none", "scse"])
def test_flops_match_torch_flop_counter(attention):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from torch_impl.model import build_model

    spec = ResUNetSpec(start_neurons=4, attention=attention)
    model = build_model(spec).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(2, 1, 101, 101))
    # the counter also counts the SE/scSE 1x1 convs and the head; nothing element-wise
    assert counter.get_total_flops() == 2 * spec.flops_per_image()


def test_dict_round_trip_and_registry():
    spec = ResUNetSpec(activation="mish", attention="se", start_neurons=8)
    data = spec.to_dict()
    assert data["model"] == "resunet" and MODEL_SPECS["resunet"] is ResUNetSpec
    assert spec_from_dict(data) == spec
    with pytest.raises(SaltbenchError, match="unknown model"):
        spec_from_dict({**data, "model": "vgg"})
    with pytest.raises(SaltbenchError, match="colour"):
        spec_from_dict({**data, "colour": "red"})


def test_spec_from_cli_arguments_keeps_defaults():
    parser = argparse.ArgumentParser()
    add_spec_arguments(parser)
    spec = spec_from_args(parser.parse_args(["--activation", "swish", "--start-neurons", "8"]))
    assert spec == ResUNetSpec(activation="swish", start_neurons=8)
