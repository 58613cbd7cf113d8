"""Keras twin of torch_impl/steps.py; follows common.models.spec.ResUNetSpec (NHWC NumPy at the boundary)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from common.core.errors import SaltbenchError
from common.models.weights import Weights
from keras_impl.losses import get_loss
from keras_impl.weights import canonical_variables

ADAM_EPSILON = 1e-7  # both twins; Keras applies it before bias correction, torch after (README: exact-twin mode)


@keras.saving.register_keras_serializable(package="saltbench")
class MatchedAdam(keras.optimizers.Adam):
    """Adam in torch's order, for exact-twin mode (recipe train.exact_twins).

    Why it exists: Keras's Adam folds the bias corrections into the step size and adds epsilon to
    the uncorrected sqrt(v), torch adds epsilon after correcting v, so with the same epsilon Keras's
    effective epsilon is eps / sqrt(1 - beta2**t), about 30x torch's at step 1 (README: exact-twin mode).
    This is torch.optim.Adam's rule, written with keras.ops:
        m <- m + (1 - b1) (g - m);  v <- b2 v + (1 - b2) g^2
        p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        # convert_to_tensor with the dtype: a cast of the Python float would pass through float32
        # (0.999 -> 0.99900001), which alone moves a float64 update by 6e-6 relative.
        beta_1 = ops.convert_to_tensor(self.beta_1, dtype=dtype)
        beta_2 = ops.convert_to_tensor(self.beta_2, dtype=dtype)
        correction1 = 1 - ops.power(beta_1, step)
        correction2 = 1 - ops.power(beta_2, step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign(
            v,
            ops.add(
                ops.multiply(v, self.beta_2), ops.multiply(ops.square(gradient), 1 - self.beta_2)
            ),
        )
        denom = ops.add(ops.divide(ops.sqrt(v), ops.sqrt(correction2)), self.epsilon)
        self.assign_sub(variable, ops.multiply(ops.divide(m, denom), ops.divide(lr, correction1)))


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """'adam' (Keras's own), 'adam_matched' (torch's order, exact-twin mode) or 'sgd' (plain)."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate, epsilon=ADAM_EPSILON)
    if name == "adam_matched":
        return MatchedAdam(learning_rate=learning_rate, epsilon=ADAM_EPSILON)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate)
    raise SaltbenchError(f"unknown optimizer {name!r}; choose from adam, adam_matched, sgd")


class Trainer:
    """Compiles the model (so model.fit works too) and runs single optimiser steps on NumPy batches."""

    def __init__(
        self, model, loss="bce", optimizer="adam", learning_rate=1e-3, *, jit_compile=False
    ):
        self.model = model
        self.loss_name = loss
        self.optimizer = make_optimizer(optimizer, learning_rate)
        model.compile(optimizer=self.optimizer, loss=get_loss(loss), jit_compile=jit_compile)

    @property
    def learning_rate(self) -> float:
        return float(keras.ops.convert_to_numpy(self.optimizer.learning_rate))

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.optimizer.learning_rate = float(value)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimiser step on an NHWC batch (training mode); returns the batch loss."""
        loss = self.model.train_on_batch(np.asarray(x, np.float32), np.asarray(y, np.float32))
        return float(np.asarray(loss).reshape(-1)[0])

    def predict_logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Logits (N, H, W, 1) in inference mode."""
        x = np.asarray(x, np.float32)
        chunks = [
            np.asarray(self.model.predict_on_batch(x[i : i + batch_size]))
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, *x.shape[1:3], 1), np.float32)


def loss_and_gradients(model, loss, x: np.ndarray, y: np.ndarray) -> tuple[float, Weights]:
    """Training-mode loss and the gradient of every trainable weight, keyed in the neutral layout.

    Works under the tensorflow and torch Keras backends (parity checks use it).
    """
    loss_fn = get_loss(loss) if isinstance(loss, str) else loss
    dtype = model.trainable_variables[0].dtype
    x = keras.ops.convert_to_tensor(np.asarray(x), dtype=dtype)
    y = keras.ops.convert_to_tensor(np.asarray(y), dtype=dtype)
    keys = {id(v): k for k, v in canonical_variables(model).items()}
    variables = model.trainable_variables
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss_fn(y, model(x, training=True))
        grads = tape.gradient(value, [v.value for v in variables])
    elif backend == "torch":
        import torch

        value = loss_fn(y, model(x, training=True))
        grads = torch.autograd.grad(value, [v.value for v in variables])
    else:
        raise SaltbenchError(
            f"loss_and_gradients supports the tensorflow and torch backends, not {backend}"
        )
    out = {
        keys[id(v)]: np.asarray(keras.ops.convert_to_numpy(g))
        for v, g in zip(variables, grads, strict=True)
    }
    return float(keras.ops.convert_to_numpy(value)), out
