"""Keras twin of torch_impl/model.py; follows common.models.spec.ResUNetSpec (functional model, NHWC, logits)."""

from __future__ import annotations

from contextlib import contextmanager

import keras
from keras import layers

from common.models.spec import LEVELS, ResUNetSpec
from keras_impl.layers import (
    ResidualBlock,
    batch_norm,
    channel_axis,
    conv3x3,
    dropout,
    make_activation,
    make_attention,
)
from keras_impl.resnet34_unet import build_resnet34_unet


def _stage(x, spec: ResUNetSpec, prefix: str, filters: int):
    """conv3x3 → residual → residual → BN → activation, layers named '<prefix>_...'."""
    x = conv3x3(filters, f"{prefix}_conv")(x)
    for i in (1, 2):
        x = ResidualBlock(
            filters,
            spec.activation,
            spec.keras_bn_momentum,
            spec.bn_epsilon,
            name=f"{prefix}_res{i}",
        )(x)
    x = batch_norm(spec.keras_bn_momentum, spec.bn_epsilon, f"{prefix}_bn")(x)
    return make_activation(spec.activation, f"{prefix}_act")(x)


def build_resunet(spec: ResUNetSpec) -> keras.Model:
    """The seed-000 ResUNet (common.models.spec): 101→50→25→12→6 and back, one logit channel, no sigmoid."""
    inputs = keras.Input((spec.input_size, spec.input_size, 1), name="image")
    nchw = keras.config.image_data_format() == "channels_first"
    # NCHW inside, NHWC at the edges: the stream, the losses and predict see one layout
    x = layers.Permute((3, 1, 2), name="to_nchw")(inputs) if nchw else inputs
    skips = {}
    for level in LEVELS:
        f = spec.filters(level)
        x = _stage(x, spec, f"enc{level}", f)
        attention = make_attention(spec.attention, f, spec.se_hidden(f), f"enc{level}_att")
        if attention is not None:
            x = attention(x)
        skips[level] = x
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
        x = dropout(spec.dropout_rate(level), spec.dropout_masks, level - 1, f"enc{level}_drop")(x)
    x = _stage(x, spec, "mid", spec.filters(5))
    for level in reversed(LEVELS):
        f = spec.filters(level)
        up = layers.Conv2DTranspose(
            f, 3, strides=2, padding=spec.up_padding(level), name=f"dec{level}_up"
        )(x)
        x = layers.Concatenate(axis=channel_axis(), name=f"dec{level}_cat")([up, skips[level]])
        x = dropout(spec.dropout, spec.dropout_masks, 8 - level, f"dec{level}_drop")(x)
        x = _stage(x, spec, f"dec{level}", f)
    logits = layers.Conv2D(1, 1, name="head")(x)
    if nchw:
        logits = layers.Permute((2, 3, 1), name="to_nhwc")(logits)
    return keras.Model(inputs, logits, name=spec.model)


BUILDERS = {"resunet": build_resunet, "resnet34_unet": build_resnet34_unet}


DATA_FORMATS = ("channels_last", "channels_first")
NCHW_MODELS = ("resunet",)  # the architectures built in channels_first too


@contextmanager
def image_data_format(data_format: str):
    """Keras's image_data_format set to `data_format` while layers are made, then restored."""
    before = keras.config.image_data_format()
    keras.config.set_image_data_format(data_format)
    try:
        yield
    finally:
        keras.config.set_image_data_format(before)


def build_model(spec: ResUNetSpec | None = None, data_format: str = "channels_last") -> keras.Model:
    """Build the model the spec names (a dict entry per architecture); takes and emits NHWC.

    `data_format` "channels_first" computes NCHW inside (the layout the torch backend's kernels
    take, so Keras on torch transposes nothing); the same weights, round-off apart."""
    spec = spec or ResUNetSpec()
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"data_format must be one of {', '.join(DATA_FORMATS)}, got {data_format!r}"
        )
    if data_format == "channels_first" and spec.model not in NCHW_MODELS:
        raise ValueError(
            f"model {spec.model!r} is built channels_last only (NCHW: {', '.join(NCHW_MODELS)})"
        )
    with image_data_format(data_format):
        return BUILDERS[spec.model](spec)
