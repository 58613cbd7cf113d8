"""PyTorch twin of keras_impl/losses.py; follows common.models.losses_ref.

Every loss is loss(y_true, logits) -> scalar tensor (same argument order as the Keras twin),
inputs NCHW; Lovasz losses are per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from common.core.errors import SaltbenchError
from common.models.losses_ref import LOSS_NAMES


def _flat(y_true: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, H, W) → (N, P) float tensors of the logits' dtype."""
    n = logits.shape[0]
    return y_true.to(logits.dtype).reshape(n, -1), logits.reshape(n, -1)


def bce(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy on logits."""
    return F.binary_cross_entropy_with_logits(logits, y_true.to(logits.dtype))


def lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovasz extension w.r.t. errors sorted descending, row-wise (N, P)."""
    gts = gt_sorted.sum(dim=1, keepdim=True)
    intersection = gts - gt_sorted.cumsum(dim=1)
    union = gts + (1.0 - gt_sorted).cumsum(dim=1)
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], dim=1)


def _lovasz(y: torch.Tensor, z: torch.Tensor, elu: bool) -> torch.Tensor:
    errors = 1.0 - z * (2.0 * y - 1.0)
    # stable: equal errors keep index order, as TF's top_k does, so tied pixels get the same weights
    errors_sorted, order = torch.sort(errors, dim=1, descending=True, stable=True)
    grad = lovasz_grad(torch.gather(y, 1, order)).detach()
    weights = F.elu(errors_sorted) + 1.0 if elu else F.relu(errors_sorted)
    return (weights * grad).sum(dim=1).mean()


def lovasz_hinge(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Lovasz hinge per image, ReLU form."""
    return _lovasz(*_flat(y_true, logits), elu=False)


def lovasz_elu(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Lovasz hinge per image, ELU+1 form of the TGS kernels."""
    return _lovasz(*_flat(y_true, logits), elu=True)


def symmetric_lovasz(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """(lovasz_hinge(y, z) + lovasz_hinge(1 - y, -z)) / 2."""
    y, z = _flat(y_true, logits)
    return (_lovasz(y, z, elu=False) + _lovasz(1.0 - y, -z, elu=False)) / 2.0


def bce_lovasz(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
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
