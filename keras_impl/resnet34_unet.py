"""Keras twin of torch_impl/resnet34_unet.py; follows common.models.spec_resnet34.ResNet34UNetSpec (keras.ops only).

Strided convolutions and the stem pool pad symmetrically (torchvision's rule) with an explicit
ops.pad and then run 'valid', instead of TF 'same', whose stride-2 padding is asymmetric.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from common.models.spec_resnet34 import DECODER_LEVELS, STAGE_BLOCKS, ResNet34UNetSpec
from keras_impl.layers import PACKAGE, batch_norm, make_activation, make_attention


def _pad_hw(x, before: int, after: int, mode: str = "constant", value: float = 0.0):
    """Pad the two spatial axes of an NHWC tensor."""
    widths = [[0, 0], [before, after], [before, after], [0, 0]]
    if mode == "constant":
        return ops.pad(x, widths, mode="constant", constant_values=value)
    return ops.pad(x, widths, mode=mode)


def _strided_side(side, stride: int):
    return None if side is None else -(-side // stride)


@keras.saving.register_keras_serializable(package=PACKAGE)
class TilePad(layers.Layer):
    """Pad each spatial axis by (before, after) pixels: 'reflect' or 'constant' zeros."""

    def __init__(self, before, after, mode="reflect", **kwargs):
        super().__init__(**kwargs)
        self.before, self.after, self.mode = before, after, mode

    def call(self, x):
        return _pad_hw(x, self.before, self.after, self.mode)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        grow = self.before + self.after
        return n, None if h is None else h + grow, None if w is None else w + grow, c

    def get_config(self):
        return {
            **super().get_config(),
            "before": self.before,
            "after": self.after,
            "mode": self.mode,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class TileCrop(layers.Layer):
    """Cut the `size` x `size` window starting at (`before`, `before`) back out."""

    def __init__(self, before, size, **kwargs):
        super().__init__(**kwargs)
        self.before, self.size = before, size

    def call(self, x):
        start, stop = self.before, self.before + self.size
        return x[:, start:stop, start:stop, :]

    def compute_output_shape(self, input_shape):
        return input_shape[0], self.size, self.size, input_shape[3]

    def get_config(self):
        return {**super().get_config(), "before": self.before, "size": self.size}


@keras.saving.register_keras_serializable(package=PACKAGE)
class StemPool(layers.Layer):
    """3x3 stride-2 max-pool with one -inf pixel of padding on every side (torchvision's stem)."""

    def call(self, x):
        return ops.max_pool(_pad_hw(x, 1, 1, value=float("-inf")), 3, strides=2, padding="valid")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return n, _strided_side(h, 2), _strided_side(w, 2), c


def _conv(filters: int, kernel: int, stride: int, name: str, use_bias: bool = False):
    """A conv that is 'same' at stride 1 and 'valid' (after an explicit symmetric pad) otherwise."""
    padding = "same" if stride == 1 else "valid"
    return layers.Conv2D(
        filters, kernel, strides=stride, padding=padding, use_bias=use_bias, name=name
    )


@keras.saving.register_keras_serializable(package=PACKAGE)
class BasicBlock(layers.Layer):
    """ResNet BasicBlock: conv3x3(stride) → BN → act → conv3x3 → BN, plus shortcut, then act.

    The shortcut is a 1x1 conv + BN (`downsample/0`, `downsample/1`) when stride or width changes.
    """

    def __init__(
        self,
        in_channels,
        filters,
        stride=1,
        activation="relu",
        bn_momentum=0.9,
        bn_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_channels, self.filters, self.stride = in_channels, filters, stride
        self.activation, self.bn_momentum, self.bn_epsilon = activation, bn_momentum, bn_epsilon
        self.conv1 = _conv(filters, 3, stride, "conv1")
        self.bn1 = batch_norm(bn_momentum, bn_epsilon, "bn1")
        self.act1 = make_activation(activation, "act1")
        self.conv2 = _conv(filters, 3, 1, "conv2")
        self.bn2 = batch_norm(bn_momentum, bn_epsilon, "bn2")
        self.act2 = make_activation(activation, "act2")
        self.down_conv = self.down_bn = None
        if stride != 1 or in_channels != filters:
            self.down_conv = _conv(filters, 1, stride, "down_conv")
            self.down_bn = batch_norm(bn_momentum, bn_epsilon, "down_bn")

    def sublayers(self) -> dict[str, layers.Layer]:
        """Weight-bearing sub-layers by the tail of their canonical names."""
        found = {"conv1": self.conv1, "bn1": self.bn1, "conv2": self.conv2, "bn2": self.bn2}
        if self.down_conv is not None:
            found.update({"downsample/0": self.down_conv, "downsample/1": self.down_bn})
        return found

    def build(self, input_shape):
        out_shape = (*input_shape[:-1], self.filters)
        self.conv1.build(input_shape)
        for layer in (self.bn1, self.conv2, self.bn2):
            layer.build(out_shape)
        if self.down_conv is not None:
            self.down_conv.build(input_shape)
            self.down_bn.build(out_shape)

    def call(self, x, training=None):
        pad = 1 if self.stride != 1 else 0
        y = self.conv1(_pad_hw(x, pad, pad) if pad else x)
        y = self.act1(self.bn1(y, training=training))
        y = self.bn2(self.conv2(y), training=training)
        shortcut = x
        if self.down_conv is not None:
            shortcut = self.down_bn(self.down_conv(x), training=training)
        return self.act2(y + shortcut)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        s = self.stride
        return n, _strided_side(h, s), _strided_side(w, s), self.filters

    def get_config(self):
        return {
            **super().get_config(),
            "in_channels": self.in_channels,
            "filters": self.filters,
            "stride": self.stride,
            "activation": self.activation,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class DecoderBlock(layers.Layer):
    """U-Net block: 2x2 stride-2 transposed conv of the deep path ∥ 1x1 conv of the skip → act → BN → attention.

    Called on [deep, skip].
    """

    def __init__(
        self,
        deep_channels,
        skip_channels,
        filters,
        activation="relu",
        attention="scse",
        se_hidden=16,
        bn_momentum=0.9,
        bn_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.deep_channels, self.skip_channels, self.filters = deep_channels, skip_channels, filters
        self.activation, self.attention, self.se_hidden = activation, attention, se_hidden
        self.bn_momentum, self.bn_epsilon = bn_momentum, bn_epsilon
        self.up = layers.Conv2DTranspose(filters // 2, 2, strides=2, padding="valid", name="up")
        self.skip = layers.Conv2D(filters // 2, 1, name="skip")
        self.act = make_activation(activation, "act")
        self.bn = batch_norm(bn_momentum, bn_epsilon, "bn")
        self.att = make_attention(attention, filters, se_hidden, "att")

    def sublayers(self) -> dict[str, layers.Layer]:
        found = {"up": self.up, "skip": self.skip, "bn": self.bn}
        if self.att is not None:
            found["att"] = self.att
        return found

    def build(self, input_shape):
        deep_shape, skip_shape = input_shape
        out_shape = (*skip_shape[:-1], self.filters)
        self.up.build(deep_shape)
        self.skip.build(skip_shape)
        self.bn.build(out_shape)
        if self.att is not None:
            self.att.build(out_shape)

    def call(self, inputs, training=None):
        deep, skip = inputs
        x = ops.concatenate([self.up(deep), self.skip(skip)], axis=-1)
        x = self.bn(self.act(x), training=training)
        return x if self.att is None else self.att(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[1][:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "deep_channels": self.deep_channels,
            "skip_channels": self.skip_channels,
            "filters": self.filters,
            "activation": self.activation,
            "attention": self.attention,
            "se_hidden": self.se_hidden,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
        }


def _encode(x, spec: ResNet34UNetSpec) -> list:
    """Features of the stem (after its activation) and of stages 1..4."""
    momentum, epsilon = spec.keras_bn_momentum, spec.bn_epsilon
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = _conv(spec.stage_width(0), 7, 2, "conv1")(x)
    x = make_activation(spec.activation, "act1")(batch_norm(momentum, epsilon, "bn1")(x))
    features = [x]
    x = StemPool(name="pool")(x)
    for stage, blocks in enumerate(STAGE_BLOCKS, start=1):
        for block in range(blocks):
            cin = spec.stage_width(stage if block else stage - 1)
            stride = spec.stage_stride(stage) if block == 0 else 1
            x = BasicBlock(
                cin,
                spec.stage_width(stage),
                stride,
                spec.activation,
                momentum,
                epsilon,
                name=f"layer{stage}_{block}",
            )(x)
        features.append(x)
    return features


def build_resnet34_unet(spec: ResNet34UNetSpec) -> keras.Model:
    """The seed-002 ResNet34 U-Net (common.models.spec_resnet34): 101x101 in, 101x101 logits out (NHWC)."""
    inputs = keras.Input((spec.input_size, spec.input_size, 1), name="image")
    before, after = spec.padding
    features = _encode(TilePad(before, after, spec.pad_mode, name="pad")(inputs), spec)
    x = features[4]
    for level in DECODER_LEVELS:
        deep, skip = spec.decoder_inputs(level)
        width = spec.decoder_width
        x = DecoderBlock(
            deep,
            skip,
            width,
            spec.activation,
            spec.attention,
            spec.se_hidden(width),
            spec.keras_bn_momentum,
            spec.bn_epsilon,
            name=f"dec{level}",
        )([x, features[4 - level]])
    x = layers.Dropout(spec.dropout, name="head_drop")(x)
    x = layers.Conv2DTranspose(1, 2, strides=2, padding="valid", name="head")(x)
    logits = TileCrop(before, spec.input_size, name="crop")(x)
    return keras.Model(inputs, logits, name=spec.model)
