"""Framework-neutral weights: one documented NumPy layout both twins export to and import from.

Neutral layout (it is the Keras/NHWC layout, so the Keras adapter is the identity):
  key "<canonical layer>/<param>", canonical layer names from spec.layer_names()
  ('/' separates a block from its sub-layer; torch module paths use '.' instead).
  conv            kernel (kh, kw, in, out)   bias (out,)
  conv_transpose  kernel (kh, kw, out, in)   bias (out,)
  batch norm      gamma, beta, moving_mean, moving_variance (C,)
The one torch rule: a kernel is torch's weight permuted (2, 3, 1, 0) — conv (out, in, kh, kw) and
transposed conv (in, out, kh, kw) alike, with no spatial flip; every other array is unchanged.
torch parameter names: kernel/gamma→weight, bias/beta→bias, moving_mean→running_mean,
moving_variance→running_var (num_batches_tracked is not part of the neutral layout).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from common.core.errors import SaltbenchError
from common.core.io import atomic_write_bytes

TORCH_TO_NEUTRAL_AXES = (2, 3, 1, 0)
NEUTRAL_TO_TORCH_AXES = (3, 2, 0, 1)
CONV_PARAMS = {"kernel": "weight", "bias": "bias"}
BN_PARAMS = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}
RUNNING_STATS = ("moving_mean", "moving_variance")

Weights = dict[str, np.ndarray]


def split_key(key: str) -> tuple[str, str]:
    """'enc1_res1/bn1/gamma' → ('enc1_res1/bn1', 'gamma')."""
    layer, _, param = key.rpartition("/")
    return layer, param


def torch_module_path(layer: str) -> str:
    """Canonical layer name → torch attribute path (the single naming rule: '/' ↔ '.')."""
    return layer.replace("/", ".")


def canonical_layer(torch_path: str) -> str:
    return torch_path.replace(".", "/")


def neutral_dtype(array) -> np.ndarray:
    """The neutral dtype rule both twins export with: float64 stays float64, anything else float32."""
    array = np.asarray(array)
    return array if array.dtype == np.float64 else array.astype(np.float32, copy=False)


def torch_to_neutral(param: str, array: np.ndarray) -> np.ndarray:
    """torch array → neutral layout (only kernels move), dtype by neutral_dtype."""
    array = neutral_dtype(array)
    return (
        np.ascontiguousarray(array.transpose(TORCH_TO_NEUTRAL_AXES)) if param == "kernel" else array
    )


def neutral_to_torch(param: str, array: np.ndarray) -> np.ndarray:
    """neutral array → torch layout (inverse of torch_to_neutral)."""
    array = np.asarray(array, dtype=np.float32)
    return (
        np.ascontiguousarray(array.transpose(NEUTRAL_TO_TORCH_AXES)) if param == "kernel" else array
    )


def is_trainable(key: str) -> bool:
    """False for BN running statistics."""
    return split_key(key)[1] not in RUNNING_STATS


def check_compatible(expected: dict[str, tuple[int, ...]], weights: Weights, source: str) -> None:
    """Raise one SaltbenchError listing missing, unexpected and mis-shaped keys."""
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    wrong = [
        f"{key} {tuple(weights[key].shape)} != {tuple(shape)}"
        for key, shape in expected.items()
        if key in weights and tuple(weights[key].shape) != tuple(shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
    if extra:
        problems.append(f"unexpected {len(extra)} (e.g. {', '.join(extra[:3])})")
    if wrong:
        problems.append(f"wrong shape {len(wrong)} (e.g. {'; '.join(wrong[:3])})")
    if problems:
        raise SaltbenchError(f"{source}: weights do not fit the model: " + "; ".join(problems))


def max_abs_difference(a: Weights, b: Weights) -> float:
    """Largest element-wise difference over the keys both dicts share (shapes must agree)."""
    return max((float(np.max(np.abs(a[k] - b[k]))) for k in a.keys() & b.keys()), default=0.0)


def save_weights_npz(path: str | os.PathLike, weights: Weights) -> Path:
    """Write neutral weights atomically as an .npz (keys kept verbatim)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v, dtype=np.float32) for k, v in weights.items()})
    return atomic_write_bytes(path, buffer.getvalue())


def load_weights_npz(path: str | os.PathLike) -> Weights:
    """Read neutral weights written by save_weights_npz."""
    path = Path(path)
    if not path.is_file():
        raise SaltbenchError(f"{path}: weights file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as err:
        raise SaltbenchError(f"{path}: not a readable .npz weights file ({err})") from err


def layer_group(key: str) -> str:
    """The block a weight belongs to, for drift reports: 'enc1_res1/bn1/gamma' → 'enc1',
    'layer3_2/conv1/kernel' → 'layer3', 'head/kernel' → 'head'."""
    return key.split("/", 1)[0].split("_", 1)[0]


def relative_distance(a: Weights, b: Weights) -> dict[str, float]:
    """Relative L2 distance of two twins' trainable weights, in total and per layer group:
    ||a - b|| / ((||a|| + ||b||) / 2) over the keys both share (BN running statistics excluded).
    0 for identical weights; symmetric in a and b.
    """
    diff2: dict[str, float] = {}
    norm_a2: dict[str, float] = {}
    norm_b2: dict[str, float] = {}
    for key in sorted(a.keys() & b.keys()):
        if not is_trainable(key):
            continue
        x = np.asarray(a[key], dtype=np.float64)
        y = np.asarray(b[key], dtype=np.float64)
        for group in ("total", layer_group(key)):
            diff2[group] = diff2.get(group, 0.0) + float(np.sum((x - y) ** 2))
            norm_a2[group] = norm_a2.get(group, 0.0) + float(np.sum(x**2))
            norm_b2[group] = norm_b2.get(group, 0.0) + float(np.sum(y**2))
    return {group: _relative(diff2[group], norm_a2[group], norm_b2[group]) for group in diff2}


def _relative(diff2: float, norm_a2: float, norm_b2: float) -> float:
    scale = (np.sqrt(norm_a2) + np.sqrt(norm_b2)) / 2
    return float(np.sqrt(diff2) / scale) if scale > 0 else float(np.sqrt(diff2))
