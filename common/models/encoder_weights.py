"""Pretrained ResNet34 encoder weights from a local torchvision-format state dict (nothing is downloaded).

The one naming rule (common.models.spec_resnet34): torchvision's `layer{s}.{i}.` becomes `layer{s}_{i}.`,
then '.' ↔ '/' as for every torch module path; conv weight → kernel (permuted to the neutral
layout), BN weight/bias/running_mean/running_var → gamma/beta/moving_mean/moving_variance.
`fc.*` and `num_batches_tracked` are ignored. A 3-channel `conv1.weight` (ImageNet RGB) is summed
over its input channels: a grey tile repeated on R, G and B gives exactly that response.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from common.core.errors import SaltbenchError
from common.models.weights import BN_PARAMS, Weights, torch_to_neutral

TORCH_TO_BN = {torch_name: param for param, torch_name in BN_PARAMS.items()}
IGNORED = re.compile(r"^fc\.|\.num_batches_tracked$")
BLOCK = re.compile(r"^layer(\d)\.(\d+)\.")


def neutral_key(torch_key: str, bn_layers: set[str]) -> str:
    """'layer2.0.downsample.1.running_var' → 'layer2_0/downsample/1/moving_variance'."""
    path, _, param = BLOCK.sub(r"layer\1_\2.", torch_key).rpartition(".")
    layer = path.replace(".", "/")
    if layer in bn_layers:
        return f"{layer}/{TORCH_TO_BN.get(param, param)}"
    return f"{layer}/{'kernel' if param == 'weight' else param}"


def torchvision_key(key: str) -> str:
    """Inverse of neutral_key: 'layer1_0/bn1/gamma' → 'layer1.0.bn1.weight'."""
    layer, _, param = key.rpartition("/")
    torch_param = BN_PARAMS.get(param, "weight" if param == "kernel" else param)
    return re.sub(r"^layer(\d)_(\d+)/", r"layer\1.\2/", layer).replace("/", ".") + "." + torch_param


def encoder_shapes(spec) -> dict[str, tuple[int, ...]]:
    """Neutral shapes of the encoder's weights (stem and stages 1-4) for `spec`."""
    return {
        key: shape
        for key, shape in spec.weight_shapes().items()
        if key.startswith(("conv1/", "bn1/", "layer"))
    }


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A torch state dict (or {'state_dict': ...}) from a local file, as NumPy arrays."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise SaltbenchError(f"{path}: encoder weights file not found")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a foreign or corrupt file
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SaltbenchError(f"{path}: not a readable torch state dict ({reason})") from err
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(torch.is_tensor(v) for v in loaded.values()):
        raise SaltbenchError(f"{path}: expected a state dict of tensors (name → tensor)")
    return {
        key.removeprefix("module."): value.detach().float().numpy() for key, value in loaded.items()
    }


def load_encoder_weights(path: str | os.PathLike, spec) -> Weights:
    """The encoder part of `spec`'s neutral weights, read from a torchvision ResNet34 state dict."""
    state = read_state_dict(path)
    expected = encoder_shapes(spec)
    bn_layers = {key.rsplit("/", 1)[0] for key in expected if key.endswith("/gamma")}
    out: Weights = {}
    for torch_key, array in state.items():
        if IGNORED.search(torch_key):
            continue
        key = neutral_key(torch_key, bn_layers)
        if key not in expected:
            raise SaltbenchError(
                f"{path}: unexpected key {torch_key} (not part of a ResNet34 encoder)"
            )
        shape = tuple(array.shape)
        if torch_key == "conv1.weight" and array.ndim == 4 and array.shape[1] == 3:
            array = array.sum(axis=1, keepdims=True)
        value = torch_to_neutral(key.rsplit("/", 1)[1], array)
        if value.shape != tuple(expected[key]):
            raise SaltbenchError(
                f"{path}: {torch_key} has shape {shape}, which does not fit "
                f"{key} {tuple(expected[key])} of {spec.model} (base_width {spec.base_width})"
            )
        out[key] = value
    missing = sorted(set(expected) - set(out))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise SaltbenchError(f"{path}: missing key {torchvision_key(missing[0])}{more}")
    return out


def with_encoder_weights(weights: Weights, path: str | os.PathLike, spec) -> Weights:
    """A full neutral weight dict whose encoder entries come from the state dict at `path`."""
    if getattr(spec, "model", None) != "resnet34_unet":
        raise SaltbenchError(
            f"--encoder-weights needs --model resnet34_unet, not {getattr(spec, 'model', spec)!r}"
        )
    return {**weights, **load_encoder_weights(path, spec)}
