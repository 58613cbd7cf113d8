"""Keras twin of torch_impl/model.py; follows common.models.spec.ResUNetSpec (functional model, NHWC, logits)."""

from __future__ import annotations

import keras
from keras import layers

from common.models.spec import LEVELS, ResUNetSpec
from keras_impl.layers import (
    ResidualBlock,
    batch_norm,
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
    x, skips = inputs, {}
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
        x = layers.Concatenate(name=f"dec{level}_cat")([up, skips[level]])
        x = dropout(spec.dropout, spec.dropout_masks, 8 - level, f"dec{level}_drop")(x)
        x = _stage(x, spec, f"dec{level}", f)
    logits = layers.Conv2D(1, 1, name="head")(x)
    return keras.Model(inputs, logits, name=spec.model)


BUILDERS = {"resunet": build_resunet, "resnet34_unet": build_resnet34_unet}


def build_model(spec: ResUNetSpec | None = None) -> keras.Model:
    """Build the model the spec names (a dict entry per architecture); emits NHWC logits."""
    spec = spec or ResUNetSpec()
    return BUILDERS[spec.model](spec)
