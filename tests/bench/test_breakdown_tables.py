"""The name-to-class tables of `bench --breakdown` (common/bench/breakdown/): every entry is a class,
and the rules a table alone cannot say (layer scopes, transposed convolutions, fusions) hold."""

from __future__ import annotations

import pytest

from common.bench.breakdown import onnx_profile, tf_table, torch_table, xla_table
from common.bench.breakdown.classes import OP_CLASSES
from common.models.spec import ResUNetSpec

SPEC = ResUNetSpec(start_neurons=4)
KINDS = {layer.name: layer.kind for layer in SPEC.layers()}


@pytest.mark.parametrize(
    "table",
    [
        torch_table.TORCH_OPS,
        tf_table.TF_OPS,
        xla_table.XLA_PRIMITIVES,
        xla_table.HLO_OPCODES,
        onnx_profile.ONNX_OPS,
    ],  # fmt: skip
)
def test_every_table_entry_is_an_operation_class(table):
    assert set(table.values()) <= set(OP_CLASSES)


@pytest.mark.parametrize(
    ("name", "transposed", "expected"),
    [
        ("aten::conv2d", False, "conv_fwd"),
        ("aten::conv_transpose2d", True, "tconv_fwd"),
        ("autograd::engine::evaluate_function: ConvolutionBackward0", False, "conv_bwd"),
        ("autograd::engine::evaluate_function: ConvolutionBackward0", True, "tconv_bwd"),
        ("autograd::engine::evaluate_function: NativeBatchNormBackward0", False, "batchnorm"),
        ("aten::clamp_min", False, "activation"),
        ("Optimizer.step#Adam.step", False, "optimizer"),
        ("aten::_foreach_mul_", False, "optimizer"),
        ("aten::permute", False, "layout"),
        ("aten::some_new_op", False, "other"),
    ],
)
def test_torch_names(name, transposed, expected):
    assert torch_table.classify(name, transposed) == expected


@pytest.mark.parametrize(
    ("op_type", "op_name", "expected"),
    [
        ("SquaredDifference", "resunet_1/enc3_res2_1/bn1_1/moments/SquaredDifference", "batchnorm"),
        ("Tile", "gradient_tape/resunet_1/enc2_res2_1/bn1_1/moments/Tile_1", "batchnorm"),
        ("_MklNativeFusedConv2D", "resunet_1/enc1_conv_1/convolution", "conv_fwd"),
        ("_MklNativeConv2DBackpropFilter", "gradient_tape/resunet_1/enc1_conv_1/convolution/Conv2DBackpropFilter", "conv_bwd"),
        ("_MklNativeConv2DBackpropInput", "resunet_1/dec4_up_1/conv_transpose/conv2d_transpose", "tconv_fwd"),
        ("_MklNativeConv2D", "gradient_tape/resunet_1/dec4_up_1/conv_transpose/Conv2D", "tconv_bwd"),
        ("_MklNativeFusedConv2D", "resunet_1/enc1_res2_1/add", "conv_fwd"),
        ("StatelessRandomUniformV2", "resunet_1/dec1_drop_1/stateless_dropout/x", "dropout"),
        ("Softplus", "compile_loss/bce/Softplus", "loss"),
        ("Sqrt", "adam/Sqrt_19", "optimizer"),
        ("ReluGrad", "gradient_tape/resunet_1/enc1_res1_1/act1_1/ReluGrad", "activation"),
        ("Transpose", "resunet_1/enc1_conv_1/Transpose", "layout"),
        ("Frobnicate", "resunet_1/x", "other"),
    ],
)  # fmt: skip
def test_tensorflow_ops_by_layer_scope_then_scope_then_type(op_type, op_name, expected):
    assert tf_table.classify(op_type, op_name, KINDS) == expected


@pytest.mark.parametrize(
    ("op_name", "expected"),
    [
        ("jit(train_step)/transpose(jvp(dec1_res2))/conv2/conv_general_dilated", "conv_bwd"),
        ("jit(train_step)/jvp(enc1_conv)/conv_general_dilated", "conv_fwd"),
        (
            "jit(train_step)/transpose(jvp(dec4_up))/conv_transpose/conv_general_dilated",
            "tconv_bwd",
        ),
        ("jit(train_step)/jvp(enc1_res1)/bn1/rsqrt", "batchnorm"),
        ("jit(train_step)/jvp(dec1_drop)/jit(_bernoulli)/jit(_uniform)/add", "dropout"),
        ("jit(train_step)/transpose(jvp(dec2_cat))/split", "elementwise"),
        ("jit(train_step)/transpose(jvp(enc1_pool))/select_and_scatter", "pooling"),
        ("resunet_1/enc1_res1_1/bn1_1/moments/mean", "batchnorm"),  # TF under XLA
        ("gradient_tape/resunet_1/enc1_conv_1/convolution/Conv2DBackpropInput", "conv_bwd"),
    ],
)
def test_xla_metadata_names(op_name, expected):
    assert xla_table.classify_op_name(op_name, KINDS) == expected


HLO = """HloModule jit_train_step

%fused_computation.1 (param_0.1: f32[4,101,101,4]) -> f32[4,101,101,4] {
  %param_0.1 = f32[4,101,101,4]{3,2,1,0} parameter(0)
  ROOT %convolution.5 = f32[4,101,101,4]{3,2,1,0} convolution(%param_0.1, %param_0.1), metadata={op_name="jit(train_step)/jvp(enc1_res1)/conv1/conv_general_dilated"}
}

%fused_computation.2 (param_0.2: f32[4]) -> f32[4] {
  %param_0.2 = f32[4]{0} parameter(0)
  ROOT %copy.9 = f32[4]{0} transpose(%param_0.2), dimensions={0}
}

%body.3 (p: f32[4]) -> f32[4] {
  %p = f32[4]{0} parameter(0)
  ROOT %add.77 = f32[4]{0} add(%p, %p), metadata={op_name="jit(train_step)/jvp(dec1_drop)/add"}
}

ENTRY %main.10 (x: f32[4,101,101,4]) -> f32[4] {
  %x = f32[4,101,101,4]{3,2,1,0} parameter(0)
  %fusion.1 = f32[4,101,101,4]{3,2,1,0} fusion(%x), kind=kOutput, calls=%fused_computation.1
  %fusion.2 = f32[4]{0} fusion(%x), kind=kLoop, calls=%fused_computation.2
  %convolution.93 = f32[4,3,3,4]{3,2,1,0} convolution(%x, %x), window={size=101x101}
  %convolution.94 = f32[3,3,4,8]{3,2,1,0} convolution(%x, %x), window={size=50x50}
  ROOT %while.4 = f32[4]{0} while(%x), body=%body.3
}
"""


def test_an_xla_module_classifies_its_entry_instructions():
    kernels = {"conv": {(1, 3, 3, 4)}, "conv_transpose": {(3, 3, 4, 8)}}  # sorted kernel dims
    classifier = xla_table.XlaClassifier(HLO, KINDS, kernels)
    assert classifier.classify("fusion.1") == "conv_fwd"  # the convolution it fuses
    assert classifier.classify("fusion.2") == "layout"  # no metadata: by what it fuses
    assert classifier.classify("convolution.93") == "conv_bwd"  # lost metadata: a weight gradient
    assert (
        classifier.classify("convolution.94") == "tconv_bwd"
    )  # dec1_up's kernel shape (3, 3, 4, 8)
    assert classifier.classify("add.77") is None  # a loop body's: the while's event spans it
    assert classifier.classify("ThunkExecutor::Execute") is None


def test_a_weight_gradient_shape_both_kinds_share_stays_a_convolution():
    """In the ResUNet every transposed kernel (3, 3, c, 2c) has an encoder twin of the same dims."""
    kernels = xla_table.spec_kernels(SPEC)
    assert kernels["conv_transpose"] <= kernels["conv"]
    classifier = xla_table.XlaClassifier(HLO, KINDS, kernels)
    assert classifier.classify("convolution.94") == "conv_bwd"


def test_onnx_runtime_node_events_leave_out_the_first_run():
    def node(op: str, ts: float, dur: float) -> dict:
        return {"cat": "Node", "name": f"n_{op}_kernel_time", "ts": ts, "dur": dur,
                "args": {"op_name": op}}  # fmt: skip

    events = [
        {"cat": "Session", "name": "model_run", "ts": 0, "dur": 100},
        node("Conv", 10, 50_000),  # the first run's: left out
        {"cat": "Session", "name": "model_run", "ts": 200, "dur": 100},
        node("FusedConv", 210, 2_000), node("ReorderInput", 220, 500),
        node("ConvTranspose", 230, 1_000), node("Frobnicate", 240, 100),
        {"cat": "Node", "name": "n_Conv_fence_before", "ts": 250, "dur": 9_000,
         "args": {"op_name": "Conv"}},
    ]  # fmt: skip
    assert onnx_profile.node_totals(events, 1) == {
        "conv_fwd": 2.0, "layout": 0.5, "tconv_fwd": 1.0, "other": 0.1
    }  # fmt: skip
