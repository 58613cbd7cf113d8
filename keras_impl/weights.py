"""Keras twin of torch_impl/weights.py; follows common.models.weights (neutral layout = Keras layout)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import keras
import numpy as np

from common.core.errors import SaltbenchError
from common.models.weights import BN_PARAMS, CONV_PARAMS, Weights, check_compatible, neutral_dtype
from keras_impl import layers as _custom_layers  # noqa: F401  (registers the custom objects)
from keras_impl.layers import SharedMaskDropout


def _walk(layer, prefix: str):
    """Yield (canonical name, primitive layer) for every weight-bearing layer under `layer`."""
    if hasattr(layer, "sublayers"):
        for name, sub in layer.sublayers().items():
            yield from _walk(sub, f"{prefix}/{name}")
    elif layer.weights and not isinstance(layer, SharedMaskDropout):  # a step counter, no weights
        yield prefix, layer


def canonical_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """Canonical layer name → Keras layer (Conv2D, Conv2DTranspose or BatchNormalization)."""
    found = {}
    for layer in model.layers:
        for name, primitive in _walk(layer, layer.name):
            found[name] = primitive
    return found


def canonical_variables(model: keras.Model) -> dict[str, keras.Variable]:
    """Neutral key → Keras variable, BN running statistics included."""
    out = {}
    for name, layer in canonical_layers(model).items():
        params = BN_PARAMS if isinstance(layer, keras.layers.BatchNormalization) else CONV_PARAMS
        for param in params:
            variable = getattr(layer, param)
            if variable is not None:  # convolutions built with use_bias=False have no bias
                out[f"{name}/{param}"] = variable
    return out


def export_weights(model: keras.Model) -> Weights:
    """All weights as a neutral NumPy dict (identity layout on the Keras side)."""
    return {
        key: np.array(neutral_dtype(keras.ops.convert_to_numpy(var)))
        for key, var in canonical_variables(model).items()
    }


def import_weights(model: keras.Model, weights: Weights) -> None:
    """Load a neutral dict; every key must match a weight of the model with the same shape."""
    variables = canonical_variables(model)
    check_compatible({k: tuple(v.shape) for k, v in variables.items()}, weights, "keras import")
    for key, var in variables.items():
        var.assign(np.asarray(weights[key], dtype=np.float32))


def parameter_counts(model: keras.Model) -> tuple[int, int]:
    """(all weights incl. BN running statistics, trainable weights)."""
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    total = sum(int(np.prod(v.shape)) for v in canonical_variables(model).values())
    return total, trainable


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save in Keras' native .keras format, atomically (custom layers are registered)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise SaltbenchError(f"{path}: a Keras model file must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a .keras file written by save_model (uncompiled: wrap it in a Trainer to train)."""
    path = Path(path)
    if not path.is_file():
        raise SaltbenchError(f"{path}: Keras model file not found")
    return keras.saving.load_model(path, compile=False)
