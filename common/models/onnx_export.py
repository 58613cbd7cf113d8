"""Either twin exported to ONNX and run by ONNX Runtime: NHWC float32 tiles in, NHWC logits out.

The torch twin goes through `torch.onnx.export` (the torch.export-based exporter, the default since
torch 2.9), the Keras twin through Keras's own `model.export(format="onnx")` on the TensorFlow
backend (which drives tf2onnx). Both graphs take the same input (`image`, batch x 101 x 101 x 1, any
batch) so one session class runs either, and the two files can be compared with each other.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.core.errors import SaltbenchError

INPUT_NAME = "image"
OPSET = 18  # both exporters support it; one opset for both files
PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")  # never a remote (Azure) provider


def _nhwc_wrapper(model):
    """The torch twin behind an NHWC boundary, so its graph has the Keras twin's signature."""
    import torch

    class NHWC(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.inner(image.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)

    return NHWC(model).eval()


@contextlib.contextmanager
def _quiet(*loggers: str):
    """Exporters log every pass at INFO/WARNING (missing torchvision ops, tf2onnx steps): keep errors."""
    previous = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def export_torch(model, path: str | Path, tile: int = 101) -> Path:
    """Write the torch twin (inference mode) as ONNX with a dynamic batch dimension."""
    import torch

    path = Path(path)
    was_training = model.training
    model.eval()
    sample = torch.zeros(2, tile, tile, 1, device=next(model.parameters()).device)
    try:
        with _quiet("torch.onnx", "torch.export", "onnxscript"), torch.no_grad():
            torch.onnx.export(
                _nhwc_wrapper(model),
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


def export_keras(model, path: str | Path) -> Path:
    """Write the Keras twin as ONNX through Keras's own export (TensorFlow backend: tf2onnx)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise SaltbenchError(
            f"ONNX export of the Keras twin runs on the tensorflow backend (this process has "
            f"{keras.backend.backend()}); use KERAS_BACKEND=tensorflow"
        )
    import tensorflow as tf

    path = Path(path)
    signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME)]
    with _quiet("tf2onnx", "absl"):
        model.export(
            str(path), format="onnx", input_signature=signature, opset_version=OPSET, verbose=False
        )
    return path


def session_options(threads: int):
    """ONNX Runtime pinned like every other benchmark process: `threads` intra-op, 1 inter-op."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return options


@dataclass
class OnnxModel:
    """An exported twin in an ONNX Runtime session; predict_logits mirrors the twins' Trainers."""

    path: Path
    session: object
    export_s: float
    exporter: str

    @classmethod
    def load(cls, path: str | Path, threads: int, export_s: float = 0.0, exporter: str = ""):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise SaltbenchError(f"{path}: ONNX file not found")
        providers = [p for p in PROVIDERS if p in ort.get_available_providers()]
        session = ort.InferenceSession(str(path), session_options(threads), providers=providers)
        return cls(path, session, export_s, exporter)

    @property
    def provider(self) -> str:
        return self.session.get_providers()[0]

    @property
    def device(self) -> str:
        return "cuda" if self.provider == "CUDAExecutionProvider" else "cpu"

    @property
    def producer(self) -> str:
        return self.session.get_modelmeta().producer_name

    def predict_logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Logits (N, H, W, 1) of NHWC tiles."""
        x = np.ascontiguousarray(x, np.float32)
        output = self.session.get_outputs()[0].name
        chunks = [
            self.session.run([output], {INPUT_NAME: x[i : i + batch_size]})[0]
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, *x.shape[1:3], 1), np.float32)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        raise SaltbenchError("an ONNX Runtime model is inference-only: there is no training step")

    def describe(self) -> dict:
        """What the side report records about this model."""
        return {
            "exporter": self.exporter,
            "producer": self.producer,
            "provider": self.provider,
            "opset": OPSET,
            "export_s": self.export_s,
            "onnx_bytes": self.path.stat().st_size,
        }


def export_twin(framework: str, model, folder: str | Path, threads: int) -> OnnxModel:
    """Export the `framework` twin ("torch" | "keras") into `folder` and open it in ONNX Runtime."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if framework == "torch":
        path, exporter = (
            export_torch(model, folder / "from_torch.onnx"),
            "torch.onnx.export (dynamo)",
        )
    elif framework == "keras":
        path, exporter = export_keras(model, folder / "from_keras.onnx"), "keras export (tf2onnx)"
    else:
        raise SaltbenchError(f"unknown framework {framework!r}; choose torch or keras")
    return OnnxModel.load(path, threads, time.perf_counter() - start, exporter)
