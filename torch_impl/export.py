"""PyTorch twin of keras_impl/export.py: the twin written to ONNX, and evaluated in float64."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from common.models.onnx_export import INPUT_NAME, OPSET, quiet

EXPORTER = "torch.onnx.export (dynamo)"
TILE = 101  # the sample input's side; the batch dimension is dynamic


class NHWC(torch.nn.Module):
    """The twin behind an NHWC boundary, so its graph has the Keras twin's signature."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.inner(image.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def export_onnx(model: torch.nn.Module, path: str | Path) -> Path:
    """Write the twin (inference mode) as ONNX with a dynamic batch dimension."""
    path = Path(path)
    was_training = model.training
    model.eval()
    sample = torch.zeros(2, TILE, TILE, 1, device=next(model.parameters()).device)
    try:
        with quiet("torch.onnx", "torch.export", "onnxscript"), torch.no_grad():
            torch.onnx.export(
                NHWC(model).eval(),
                (sample,),
                str(path),
                input_names=[INPUT_NAME],
                output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                opset_version=OPSET,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
    finally:
        model.train(was_training)
    return path


def float64_logits(model: torch.nn.Module, spec, images: np.ndarray) -> np.ndarray:
    """The model's weights evaluated in float64, inference mode, NHWC (`spec` unused: the model
    is copied as it is)."""
    del spec
    double = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        nchw = torch.from_numpy(np.asarray(images, np.float64)).permute(0, 3, 1, 2)
        out = torch.cat([double(nchw[i : i + 32]) for i in range(0, len(nchw), 32)])
    return out.permute(0, 2, 3, 1).numpy()
