"""NumPy references (float64) of every training loss; both twins are tested against these.

All losses take (y_true, logits) of equal shape (N, H, W, 1) or (N, H, W) and return a scalar.
Lovasz losses are computed per image and averaged over the batch (Berman et al., 2018).
"""

from __future__ import annotations

import numpy as np

LOSS_NAMES = ("bce", "lovasz_hinge", "lovasz_elu", "symmetric_lovasz", "bce_lovasz")


def _flat(y_true: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    z = np.asarray(logits, dtype=np.float64)
    if y.shape != z.shape:
        raise ValueError(f"y_true shape {y.shape} != logits shape {z.shape}")
    return y.reshape(len(y), -1), z.reshape(len(z), -1)


def bce(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Mean binary cross-entropy on logits: max(z,0) - z*y + log(1 + exp(-|z|))."""
    y, z = _flat(y_true, logits)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def lovasz_grad(gt_sorted: np.ndarray) -> np.ndarray:
    """Gradient of the Lovasz extension of the Jaccard loss w.r.t. errors sorted descending."""
    gts = gt_sorted.sum()
    intersection = gts - np.cumsum(gt_sorted)
    union = gts + np.cumsum(1.0 - gt_sorted)
    jaccard = 1.0 - intersection / union
    jaccard[1:] = jaccard[1:] - jaccard[:-1]
    return jaccard


def _lovasz_image(labels: np.ndarray, logits: np.ndarray, elu: bool) -> float:
    errors = 1.0 - logits * (2.0 * labels - 1.0)
    order = np.argsort(-errors, kind="stable")
    errors_sorted = errors[order]
    weights = (
        np.where(errors_sorted > 0, errors_sorted, np.expm1(errors_sorted)) + 1
        if elu
        else np.maximum(errors_sorted, 0)
    )
    return float(np.dot(weights, lovasz_grad(labels[order])))


def lovasz_hinge(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Lovasz hinge per image, ReLU form: dot(relu(errors_sorted), lovasz_grad)."""
    y, z = _flat(y_true, logits)
    return float(np.mean([_lovasz_image(y[i], z[i], elu=False) for i in range(len(y))]))


def lovasz_elu(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Lovasz hinge per image, ELU+1 form of the TGS kernels: dot(elu(errors_sorted) + 1, grad)."""
    y, z = _flat(y_true, logits)
    return float(np.mean([_lovasz_image(y[i], z[i], elu=True) for i in range(len(y))]))


def symmetric_lovasz(y_true: np.ndarray, logits: np.ndarray) -> float:
    """(lovasz_hinge(y, z) + lovasz_hinge(1 - y, -z)) / 2: salt and background both count."""
    y = np.asarray(y_true, dtype=np.float64)
    z = np.asarray(logits, dtype=np.float64)
    return (lovasz_hinge(y, z) + lovasz_hinge(1.0 - y, -z)) / 2


def bce_lovasz(y_true: np.ndarray, logits: np.ndarray) -> float:
    """BCE + Lovasz hinge (equal weights), the mix used between the two seed stages."""
    return bce(y_true, logits) + lovasz_hinge(y_true, logits)


REFERENCES = {
    "bce": bce,
    "lovasz_hinge": lovasz_hinge,
    "lovasz_elu": lovasz_elu,
    "symmetric_lovasz": symmetric_lovasz,
    "bce_lovasz": bce_lovasz,
}
