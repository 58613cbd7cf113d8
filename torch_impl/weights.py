"""PyTorch twin of keras_impl/weights.py; follows common.models.weights (kernels permuted (2, 3, 1, 0))."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common.core.errors import SaltbenchError
from common.core.io import atomic_write_bytes
from common.models.spec import spec_from_dict
from common.models.weights import (
    BN_PARAMS,
    CONV_PARAMS,
    Weights,
    canonical_layer,
    check_compatible,
    neutral_to_torch,
    torch_to_neutral,
)

PRIMITIVES = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)


def canonical_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Canonical layer name → torch module (Conv2d, ConvTranspose2d or BatchNorm2d)."""
    return {
        canonical_layer(path): module
        for path, module in model.named_modules()
        if isinstance(module, PRIMITIVES)
    }


def canonical_variables(model: nn.Module) -> dict[str, torch.Tensor]:
    """Neutral key → torch parameter or buffer (in torch layout), BN running statistics included."""
    out = {}
    for name, module in canonical_layers(model).items():
        params = BN_PARAMS if isinstance(module, nn.BatchNorm2d) else CONV_PARAMS
        for param, torch_name in params.items():
            tensor = getattr(module, torch_name)
            if tensor is not None:  # convolutions built with bias=False have no bias
                out[f"{name}/{param}"] = tensor
    return out


def export_weights(model: nn.Module) -> Weights:
    """All weights as a neutral NumPy dict."""
    return {
        key: torch_to_neutral(key.rsplit("/", 1)[1], tensor.detach().cpu().numpy())
        for key, tensor in canonical_variables(model).items()
    }


def import_weights(model: nn.Module, weights: Weights) -> None:
    """Load a neutral dict; every key must match a weight of the model with the same shape."""
    variables = canonical_variables(model)
    expected = {
        key: tuple(torch_to_neutral(key.rsplit("/", 1)[1], np.zeros(t.shape, np.float32)).shape)
        for key, t in variables.items()
    }
    check_compatible(expected, weights, "torch import")
    with torch.no_grad():
        for key, tensor in variables.items():
            array = neutral_to_torch(key.rsplit("/", 1)[1], weights[key])
            tensor.copy_(torch.from_numpy(array).to(tensor.device))


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """(all weights incl. BN running statistics, trainable weights)."""
    total = sum(t.numel() for t in canonical_variables(model).values())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save the spec and the state_dict (torch's native format), atomically."""
    buffer = io.BytesIO()
    torch.save({"spec": model.spec.to_dict(), "state_dict": model.state_dict()}, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_model(path: str | os.PathLike) -> nn.Module:
    """Rebuild the model from the saved spec and load its state_dict."""
    from torch_impl.model import build_model

    path = Path(path)
    if not path.is_file():
        raise SaltbenchError(f"{path}: torch model file not found")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(spec_from_dict(saved["spec"]))
        model.load_state_dict(saved["state_dict"])
    except (RuntimeError, KeyError, TypeError, EOFError) as err:
        raise SaltbenchError(f"{path}: not a saltbench torch model file ({err})") from err
    return model
