"""Keras twin of torch_impl/export.py: the twin written to ONNX, and evaluated in float64."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from common.core.errors import SaltbenchError
from common.models.onnx_export import INPUT_NAME, OPSET, quiet

EXPORTER = "keras export (tf2onnx)"


def export_onnx(model: keras.Model, path: str | Path) -> Path:
    """Write the twin as ONNX through Keras's own export (TensorFlow backend: tf2onnx)."""
    if keras.backend.backend() != "tensorflow":
        raise SaltbenchError(
            f"ONNX export of the Keras twin runs on the tensorflow backend (this process has "
            f"{keras.backend.backend()}); use KERAS_BACKEND=tensorflow"
        )
    import tensorflow as tf

    path = Path(path)
    signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME)]
    with quiet("tf2onnx", "absl"):
        model.export(
            str(path), format="onnx", input_signature=signature, opset_version=OPSET, verbose=False
        )
    return path


def float64_logits(model: keras.Model, spec, images: np.ndarray) -> np.ndarray:
    """The model's weights evaluated in float64, inference mode, NHWC: the twin rebuilt from
    `spec` under a float64 policy, the weights imported into it."""
    from keras_impl.model import build_model
    from keras_impl.weights import export_weights, import_weights

    weights = export_weights(model)
    policy, floatx = keras.config.dtype_policy(), keras.config.floatx()
    keras.config.set_dtype_policy("float64")
    keras.config.set_floatx("float64")
    try:
        double = build_model(spec)
        import_weights(double, weights)
        x = np.asarray(images, np.float64)
        out = [keras.ops.convert_to_numpy(double(x[i : i + 32], training=False))
               for i in range(0, len(x), 32)]  # fmt: skip
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)
    return np.concatenate(out).astype(np.float64)
