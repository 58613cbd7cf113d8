"""TensorFlow op types (the TF profiler's framework op stats) to operation classes: Keras on TF.

Keras 3 builds batch norm, dropout and the loss from plain ops (Mul, SquaredDifference, Select…),
so an op's type alone cannot say what it serves. Its scoped name can: an op inside a layer of the
model spec (`resunet_1/enc3_res2_1/bn1_1/SquaredDifference`, Keras's `_1` suffixes dropped) goes
to that layer's kind (conv, conv_transpose, bn), backward when it sits under `gradient_tape/`.
Ops outside the spec's layers go by their scope (dropout, loss, optimizer), then by their type.
Under XLA (keras-tf-xla) TF runs whole clusters (_XlaRun): those are `fused`.
"""

from __future__ import annotations

import re

LAYER_KIND_CLASS = {"conv": "conv_fwd", "conv_transpose": "tconv_fwd", "bn": "batchnorm"}
BACKWARD = {"conv_fwd": "conv_bwd", "tconv_fwd": "tconv_bwd"}

SCOPE_WORDS: tuple[tuple[str, str], ...] = (  # first match wins; a word of a scope segment
    ("dropout", "dropout"),  # stateless_dropout
    ("drop", "dropout"),  # the spec's dropout layers: enc1_drop
    ("loss", "loss"),  # compile_loss
    ("adam", "optimizer"),
    ("pool", "pooling"),  # enc1_pool
    ("pooling2d", "pooling"),  # max_pooling2d
)

TF_OPS: dict[str, str] = {
    "Relu": "activation",
    "ReluGrad": "activation",
    "Sigmoid": "activation",
    "SigmoidGrad": "activation",
    "Tanh": "activation",
    "TanhGrad": "activation",
    "Softplus": "activation",
    "SoftplusGrad": "activation",
    "MaxPool": "pooling",
    "MaxPoolGrad": "pooling",
    "_MklNativeMaxPool": "pooling",
    "_MklNativeMaxPoolGrad": "pooling",
    "Mean": "pooling",
    "ConcatV2": "elementwise",
    "AddV2": "elementwise",
    "AddN": "elementwise",
    "Add": "elementwise",
    "Mul": "elementwise",
    "Sub": "elementwise",
    "RealDiv": "elementwise",
    "SelectV2": "elementwise",
    "Sum": "elementwise",
    "StatelessRandomUniformV2": "dropout",
    "ResourceApplyAdam": "optimizer",
    "AssignVariableOp": "optimizer",
    "AssignAddVariableOp": "optimizer",
    "AssignSubVariableOp": "optimizer",
    "ReadVariableOp": "optimizer",
    "Transpose": "layout",
    "Cast": "layout",
    "Reshape": "layout",
    "Slice": "layout",
    "StridedSlice": "layout",
    "Tile": "layout",
    "Identity": "layout",
    "_MklToTf": "layout",
    "_MklNativeToTf": "layout",
    "_XlaRun": "fused",
    "_XlaCompile": "fused",
    "XlaLaunch": "fused",
}
LAYOUT_IN_LAYERS = {"Transpose", "Cast", "_MklToTf", "_MklNativeToTf"}
_SUFFIX = re.compile(r"_\d+$")


def scope_path(op_name: str) -> list[str]:
    """The op's scope segments with Keras's uniquifying `_N` suffixes removed."""
    return [_SUFFIX.sub("", part) for part in op_name.split("/")]


def layer_kind(op_name: str, layer_kinds: dict[str, str]) -> str | None:
    """The kind of the innermost spec layer (`enc3_res2/bn1` or `enc1_conv`) the op belongs to;
    each segment is tried as written, then without a uniquifying `_N` suffix (`enc3_res2_1`)."""
    raw = op_name.split("/")
    stripped = scope_path(op_name)
    for i in range(len(raw) - 1, -1, -1):
        for width in (2, 1):  # nested names (block/layer) before top-level ones
            for parts in (raw, stripped):
                name = "/".join(parts[max(i - width + 1, 0) : i + 1])
                if name in layer_kinds:
                    return layer_kinds[name]
    return None


def layer_class(kind: str | None, backward: bool, layout: bool) -> str | None:
    """The class of an op inside a spec layer of `kind` (None outside one): real reorders and
    casts stay layout, anything else is the layer's work, its backward under the gradient."""
    if kind not in LAYER_KIND_CLASS:
        return None
    if layout:
        return "layout"
    found = LAYER_KIND_CLASS[kind]
    return BACKWARD.get(found, found) if backward else found


def classify(op_type: str, op_name: str, layer_kinds: dict[str, str]) -> str:
    """The class of one TF op: by its spec layer, else its scope, else its type."""
    backward = op_name.startswith("gradient_tape/") or "/gradient_tape/" in op_name
    kind = layer_kind(op_name, layer_kinds)
    in_layer = layer_class(kind, backward, op_type in LAYOUT_IN_LAYERS)
    if in_layer is not None:
        return in_layer
    by_scope = scope_class(op_name)
    if by_scope is not None:
        return by_scope
    if "Conv2D" in op_type:  # oneDNN's conv fused with a following add, named by the add
        return "conv_bwd" if backward else "conv_fwd"
    return TF_OPS.get(op_type, "other")


def scope_class(op_name: str) -> str | None:
    """The class a scope word names (dropout, loss, adam, pool), if any."""
    words = {word for part in scope_path(op_name.lower()) for word in part.split("_")}
    return next((class_id for word, class_id in SCOPE_WORDS if word in words), None)
