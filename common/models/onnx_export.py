"""Either twin exported to ONNX and run by ONNX Runtime: NHWC float32 tiles in, NHWC logits out.

Each twin writes its own file (`<twin>_impl/export.py`): the torch twin through `torch.onnx.export`
(the torch.export-based exporter, the default since torch 2.9), the Keras twin through Keras's own
`model.export(format="onnx")` on the TensorFlow backend (which drives tf2onnx). Both graphs take the same input (`image`, batch x 101 x 101 x 1, any
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


@contextlib.contextmanager
def quiet(*loggers: str):
    """Exporters log every pass at INFO/WARNING (missing torchvision ops, tf2onnx steps): keep errors."""
    previous = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


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
    """Export the `framework` twin ("torch" | "keras") into `folder` through its own exporter
    (`<twin>_impl/export.py`) and open it in ONNX Runtime."""
    from common.models.twin import load_twin

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    twin = load_twin(framework)
    start = time.perf_counter()
    path = twin.export_onnx(model, folder / f"from_{framework}.onnx")
    return OnnxModel.load(path, threads, time.perf_counter() - start, twin.onnx_exporter)
