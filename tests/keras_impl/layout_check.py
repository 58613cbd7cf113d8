"""Run as a script under a Keras backend: the Keras twin built NHWC and NCHW from the same weights,
one forward pass and three optimiser steps on one batch; prints the differences as JSON."""

from __future__ import annotations

import json
import sys

import numpy as np

from common.core.runtime import select_keras_backend


def forward(model, x) -> np.ndarray:
    """Inference logits from an eager call (no traced predict function to build)."""
    import keras

    return keras.ops.convert_to_numpy(model(x, training=False))


def layout_differences(steps: int = 3) -> dict:
    from common.models.execution import ExecutionMode
    from common.models.spec import ResUNetSpec
    from keras_impl.train import TwinTrainer

    spec = ResUNetSpec(attention="scse", dropout=0.0)  # dropout off: one mask is layout-bound
    nhwc = TwinTrainer(spec, ExecutionMode(), seed=1)
    nchw = TwinTrainer(spec, ExecutionMode(layout="nchw"), seed=2)
    nchw.set_weights(nhwc.get_weights())
    rng = np.random.default_rng(0)
    x = rng.random((4, spec.input_size, spec.input_size, 1), np.float32)
    y = (rng.random(x.shape) > 0.5).astype(np.float32)
    logits = [forward(t.model, x) for t in (nhwc, nchw)]
    control = TwinTrainer(spec, ExecutionMode(layout="nchw"), seed=2)  # its own weights
    control_logits = forward(control.model, x)
    losses = {"nhwc": [], "nchw": []}
    for name, trainer in (("nhwc", nhwc), ("nchw", nchw)):
        trainer.start_stage("bce", 1e-3)
        losses[name] = [float(trainer.train_step(x, y)) for _ in range(steps)]
    a, b = nhwc.get_weights(), nchw.get_weights()
    distance = np.sqrt(sum(float(np.sum((a[k] - b[k]) ** 2)) for k in a))
    size = np.sqrt(sum(float(np.sum(a[k] ** 2)) for k in a))
    return {
        "layout": nchw.model.get_layer("enc1_conv").data_format,
        "logits_shape": [list(v.shape) for v in logits],
        "logits_max_abs": float(np.abs(logits[0] - logits[1]).max()),
        "control_logits_max_abs": float(np.abs(logits[0] - control_logits).max()),
        "losses": losses,
        "weights_rel_l2": distance / size,
    }


if __name__ == "__main__":
    select_keras_backend(sys.argv[1])
    print("LAYOUT " + json.dumps(layout_differences()))
