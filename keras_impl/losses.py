"""Keras twin of torch_impl/losses.py; follows common.models.losses_ref (keras.ops only, any backend).

Every loss is loss(y_true, logits) -> scalar, inputs NHWC; Lovasz losses are per image.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from common.core.errors import SaltbenchError
from common.models.losses_ref import LOSS_NAMES

PACKAGE = "saltbench"


def _flat(y_true, logits):
    """(N, H, W, 1) → (N, P) float tensors of the logits' dtype."""
    pixels = math.prod(logits.shape[1:])
    y = ops.reshape(ops.cast(y_true, logits.dtype), (-1, pixels))
    return y, ops.reshape(logits, (-1, pixels))


@keras.saving.register_keras_serializable(package=PACKAGE)
def bce(y_true, logits):
    """Mean binary cross-entropy on logits: softplus(z) - z*y (smooth at z = 0, unlike a relu/abs form)."""
    y, z = _flat(y_true, logits)
    return ops.mean(ops.softplus(z) - z * y)


def lovasz_grad(gt_sorted):
    """Gradient of the Lovasz extension w.r.t. errors sorted descending, row-wise (N, P)."""
    gts = ops.sum(gt_sorted, axis=1, keepdims=True)
    intersection = gts - ops.cumsum(gt_sorted, axis=1)
    union = gts + ops.cumsum(1.0 - gt_sorted, axis=1)
    jaccard = 1.0 - intersection / union
    return ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=1)


def _lovasz(y, z, elu: bool):
    errors = 1.0 - z * (2.0 * y - 1.0)
    # top_k puts the lower index first among equal errors, like the stable sorts of the twins
    errors_sorted, order = ops.top_k(errors, k=errors.shape[1], sorted=True)
    grad = ops.stop_gradient(lovasz_grad(ops.take_along_axis(y, order, axis=1)))
    weights = ops.elu(errors_sorted) + 1.0 if elu else ops.relu(errors_sorted)
    return ops.mean(ops.sum(weights * grad, axis=1))


@keras.saving.register_keras_serializable(package=PACKAGE)
def lovasz_hinge(y_true, logits):
    """Lovasz hinge per image, ReLU form."""
    return _lovasz(*_flat(y_true, logits), elu=False)


@keras.saving.register_keras_serializable(package=PACKAGE)
def lovasz_elu(y_true, logits):
    """Lovasz hinge per image, ELU+1 form of the TGS kernels."""
    return _lovasz(*_flat(y_true, logits), elu=True)


@keras.saving.register_keras_serializable(package=PACKAGE)
def symmetric_lovasz(y_true, logits):
    """(lovasz_hinge(y, z) + lovasz_hinge(1 - y, -z)) / 2."""
    y, z = _flat(y_true, logits)
    return (_lovasz(y, z, elu=False) + _lovasz(1.0 - y, -z, elu=False)) / 2.0


@keras.saving.register_keras_serializable(package=PACKAGE)
def bce_lovasz(y_true, logits):
    """BCE + Lovasz hinge, equal weights."""
    return bce(y_true, logits) + lovasz_hinge(y_true, logits)


LOSSES = {
    "bce": bce,
    "lovasz_hinge": lovasz_hinge,
    "lovasz_elu": lovasz_elu,
    "symmetric_lovasz": symmetric_lovasz,
    "bce_lovasz": bce_lovasz,
}
assert tuple(LOSSES) == LOSS_NAMES


def get_loss(name: str):
    """The loss function called `name` (see common.models.losses_ref.LOSS_NAMES)."""
    if name not in LOSSES:
        raise SaltbenchError(f"unknown loss {name!r}; choose from {', '.join(LOSS_NAMES)}")
    return LOSSES[name]
