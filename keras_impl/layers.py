"""Keras twin of torch_impl/layers.py; follows common.models.spec.ResUNetSpec (keras.ops only, any backend)."""

from __future__ import annotations

import keras
from keras import layers, ops

PACKAGE = "saltbench"


@keras.saving.register_keras_serializable(package=PACKAGE)
class Swish(layers.Layer):
    """x * sigmoid(x)."""

    def call(self, x):
        return x * ops.sigmoid(x)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Mish(layers.Layer):
    """x * tanh(softplus(x))."""

    def call(self, x):
        return x * ops.tanh(ops.softplus(x))


def make_activation(name: str, layer_name: str | None = None) -> layers.Layer:
    """The spec's activation as a layer: relu | swish | mish."""
    if name == "relu":
        return layers.ReLU(name=layer_name)
    if name == "swish":
        return Swish(name=layer_name)
    if name == "mish":
        return Mish(name=layer_name)
    raise ValueError(f"unknown activation {name!r}")


def data_format_of(data_format: str | None = None) -> str:
    """`data_format`, or Keras's image_data_format where None (as Keras's own layers read it)."""
    return data_format or keras.config.image_data_format()


def channel_axis(data_format: str | None = None) -> int:
    """The channel axis of NHWC (channels_last) or NCHW (channels_first) activations."""
    return 1 if data_format_of(data_format) == "channels_first" else -1


def with_channels(shape, channels: int, data_format: str) -> tuple:
    """`shape` with its channel dimension set to `channels`."""
    if data_format == "channels_first":
        return (shape[0], channels, *shape[2:])
    return (*shape[:-1], channels)


def conv3x3(filters: int, name: str, data_format: str | None = None) -> layers.Conv2D:
    """3x3 'same' convolution with bias."""
    return layers.Conv2D(filters, 3, padding="same", data_format=data_format, name=name)


def batch_norm(
    momentum: float, epsilon: float, name: str, data_format: str | None = None
) -> layers.BatchNormalization:
    return layers.BatchNormalization(
        axis=channel_axis(data_format), momentum=momentum, epsilon=epsilon, name=name
    )


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResidualBlock(layers.Layer):
    """Pre-activation residual block: BN → act → conv3x3 → BN → act → conv3x3, plus identity."""

    def __init__(
        self, filters, activation="relu", bn_momentum=0.99, bn_epsilon=1e-3, data_format=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.filters = filters
        self.activation = activation
        self.bn_momentum = bn_momentum
        self.bn_epsilon = bn_epsilon
        self.data_format = fmt = data_format_of(data_format)
        self.bn1 = batch_norm(bn_momentum, bn_epsilon, "bn1", fmt)
        self.act1 = make_activation(activation, "act1")
        self.conv1 = conv3x3(filters, "conv1", fmt)
        self.bn2 = batch_norm(bn_momentum, bn_epsilon, "bn2", fmt)
        self.act2 = make_activation(activation, "act2")
        self.conv2 = conv3x3(filters, "conv2", fmt)

    def sublayers(self) -> dict[str, layers.Layer]:
        """Weight-bearing sub-layers by attribute name (the tail of their canonical names)."""
        return {"bn1": self.bn1, "conv1": self.conv1, "bn2": self.bn2, "conv2": self.conv2}

    def build(self, input_shape):
        self.bn1.build(input_shape)
        self.conv1.build(input_shape)
        out_shape = with_channels(input_shape, self.filters, self.data_format)
        self.bn2.build(out_shape)
        self.conv2.build(out_shape)

    def call(self, x, training=None):
        y = self.conv1(self.act1(self.bn1(x, training=training)))
        y = self.conv2(self.act2(self.bn2(y, training=training)))
        return x + y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "activation": self.activation,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "data_format": self.data_format,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class SqueezeExcite(layers.Layer):
    """Channel squeeze-and-excitation: x * sigmoid(excite(relu(squeeze(mean_hw(x)))))."""

    def __init__(self, channels, hidden, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.hidden = hidden
        self.data_format = fmt = data_format_of(data_format)
        self.squeeze = layers.Conv2D(hidden, 1, data_format=fmt, name="squeeze")
        self.excite = layers.Conv2D(channels, 1, data_format=fmt, name="excite")

    def sublayers(self) -> dict[str, layers.Layer]:
        return {"squeeze": self.squeeze, "excite": self.excite}

    def build(self, input_shape):
        self.squeeze.build(with_channels((None, 1, 1, 1), self.channels, self.data_format))
        self.excite.build(with_channels((None, 1, 1, 1), self.hidden, self.data_format))

    def channel_gate(self, x):
        spatial = (2, 3) if self.data_format == "channels_first" else (1, 2)
        pooled = ops.mean(x, axis=spatial, keepdims=True)
        return ops.sigmoid(self.excite(ops.relu(self.squeeze(pooled))))

    def call(self, x):
        return x * self.channel_gate(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "hidden": self.hidden,
            "data_format": self.data_format,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class SCSE(SqueezeExcite):
    """Concurrent spatial and channel SE: x * channel_gate + x * sigmoid(spatial(x))."""

    def __init__(self, channels, hidden, data_format=None, **kwargs):
        super().__init__(channels, hidden, data_format, **kwargs)
        self.spatial = layers.Conv2D(1, 1, data_format=self.data_format, name="spatial")

    def sublayers(self) -> dict[str, layers.Layer]:
        return {**super().sublayers(), "spatial": self.spatial}

    def build(self, input_shape):
        super().build(input_shape)
        self.spatial.build(input_shape)

    def call(self, x):
        return x * self.channel_gate(x) + x * ops.sigmoid(self.spatial(x))


def make_attention(kind: str, channels: int, hidden: int, name: str) -> layers.Layer | None:
    """The spec's attention after an encoder level: none | se | scse."""
    if kind == "none":
        return None
    cls = SqueezeExcite if kind == "se" else SCSE
    return cls(channels, hidden, name=name)


# ---- exact-twin dropout: the same masks as torch_impl.layers.SharedMaskDropout -----------------
# A counter-based hash rather than masks drawn outside and fed in: each twin stays an ordinary
# model (a layer with a step counter, no extra inputs to `fit`), and the mask is a pure function
# of (counter, layer, element) computed with int32 ops whose results the frameworks define alike:
# wrapping multiply, arithmetic right shift, xor, and. Constants stay below 2**31.
HASH_MULTIPLIER = 0x045D9F3B
LAYER_MULTIPLIER = 0x0019660D
MASK_BITS = 23


def mask_counter_start(seed: int) -> int:
    """The epoch seed as the counter's first value (int32, non-negative), alike in both twins."""
    return int(seed) % 2**31


def mix32(x):
    """A 32-bit integer hash (xor-shift-multiply), on int32 tensors."""
    for _ in range(2):
        x = ops.bitwise_xor(x, ops.right_shift(x, 16))
        x = ops.multiply(x, HASH_MULTIPLIER)
    return ops.bitwise_xor(x, ops.right_shift(x, 16))


def keep_mask(shape, counter, layer_index: int, rate: float):
    """1 where an NHWC element is kept: hash(counter, layer, element index) >= rate * 2**23."""
    count = 1
    for dim in shape:
        count = count * dim
    index = ops.reshape(ops.arange(count, dtype="int32"), shape)
    key = mix32(ops.add(ops.multiply(ops.cast(counter, "int32"), LAYER_MULTIPLIER), layer_index))
    bits = ops.bitwise_and(mix32(ops.bitwise_xor(index, key)), (1 << MASK_BITS) - 1)
    return ops.greater_equal(bits, int(rate * (1 << MASK_BITS)))


@keras.saving.register_keras_serializable(package=PACKAGE)
class SharedMaskDropout(layers.Layer):
    """Dropout whose mask both twins compute identically (see keep_mask); `counter` advances by one
    per training call and is set from the epoch's seed by TwinTrainer.reseed."""

    def __init__(self, rate: float, layer_index: int, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.layer_index = int(layer_index)
        self.counter = self.add_weight(
            shape=(), dtype="int32", initializer="zeros", trainable=False, name="mask_counter"
        )

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        keep = keep_mask(ops.shape(x), self.counter, self.layer_index, self.rate)
        self.counter.assign(self.counter + 1)
        return x * ops.cast(keep, x.dtype) * (1.0 / (1.0 - self.rate))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "layer_index": self.layer_index}


def dropout(rate: float, masks: str, layer_index: int, name: str) -> layers.Layer:
    """The spec's dropout: Keras's own, or the exact twins' shared masks."""
    if masks == "shared":
        return SharedMaskDropout(rate, layer_index, name=name)
    return layers.Dropout(rate, name=name)
