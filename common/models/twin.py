"""The one declared twin interface: what keras_impl/ and torch_impl/ each provide, name for name.

Every runner reaches a twin through `load_twin(name)`, and gets a trainer one way only:
`trainer_class(spec, mode, seed=...)` with a common.models.execution.ExecutionMode (compare's
workers, bench's steps and epochs, export). Besides it: export (`save_model`, `export_onnx`,
`float64_logits`), the device probe (`configure_device`), bench's thread limits and profilers
(`module("device")`) and parity (`build_model`, weights, `loss_and_gradients`). A twin's modules
are imported on first use, so a process sets its threads and the Keras backend before it asks.
`tests/models/test_twin.py` checks both twins against TWIN_API, including that their signatures
agree name for name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np

TWINS = ("keras", "torch")
# What each twin's code executes on: the Keras twin on one backend per process (KERAS_BACKEND),
# the PyTorch twin on torch alone.
TWIN_BACKENDS: dict[str, tuple[str, ...]] = {
    "keras": ("tensorflow", "jax", "torch"),
    "torch": ("torch",),
}

# Per module of a twin (`<twin>_impl/<module>.py`), the names every runner may use.
TWIN_API: dict[str, tuple[str, ...]] = {
    "model": ("build_model",),
    "steps": ("Trainer", "loss_and_gradients"),
    "train": ("TwinTrainer",),
    "weights": (
        "canonical_layers",
        "canonical_variables",
        "export_weights",
        "import_weights",
        "parameter_counts",
        "save_model",
        "load_model",
    ),
    "device": (
        "configure",
        "synchronize",
        "reset_peak_memory",
        "peak_memory_method",
        "peak_memory_mib",
        "limited_threads",
    ),  # fmt: skip
    "losses": ("get_loss", "bce", "lovasz_hinge", "lovasz_elu", "symmetric_lovasz", "bce_lovasz"),
    "export": ("EXPORTER", "export_onnx", "float64_logits"),
}


class TwinTrainer(Protocol):
    """`<twin>_impl.train.TwinTrainer`: the framework part of one unit's training (same names in
    both). `fit_epochs` calls back into the harness's EpochLoop (`loop`) every batch and epoch."""

    framework: str

    def backend(self) -> str: ...
    def versions(self) -> dict[str, str]: ...
    def get_weights(self) -> dict[str, np.ndarray]: ...
    def set_weights(self, weights: dict[str, np.ndarray]) -> None: ...
    def start_stage(self, loss: str, learning_rate: float) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def set_learning_rate(self, learning_rate: float) -> None: ...
    def fit_epochs(self, stream: Any, first: int, stop: int, session: Any) -> None: ...
    def synchronize(self) -> None: ...
    def reset_device_peak(self) -> None: ...

    device_memory_method: str | None

    def device_peak_mib(self) -> float | None: ...
    def predict_logits(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray: ...
    def train_step(self, x: np.ndarray, y: np.ndarray) -> float: ...
    def save_checkpoint(self, path: Path) -> None: ...
    def load_checkpoint(self, path: Path) -> None: ...


@dataclass(frozen=True)
class Twin:
    """One twin, reached by the names of TWIN_API only."""

    name: str

    def module(self, part: str) -> ModuleType:
        if part not in TWIN_API:
            raise KeyError(
                f"{part!r} is not a module of the twin interface ({', '.join(TWIN_API)})"
            )
        return importlib.import_module(f"{self.name}_impl.{part}")

    @property
    def trainer_class(self) -> type[TwinTrainer]:
        return self.module("train").TwinTrainer

    def build_model(self, spec: Any) -> Any:
        return self.module("model").build_model(spec)

    def configure_device(self, device: str, *, tf32: bool, cudnn_benchmark: bool):
        return self.module("device").configure(device, tf32=tf32, cudnn_benchmark=cudnn_benchmark)

    def export_weights(self, model: Any) -> dict[str, np.ndarray]:
        return self.module("weights").export_weights(model)

    def import_weights(self, model: Any, weights: dict[str, np.ndarray]) -> None:
        self.module("weights").import_weights(model, weights)

    def parameter_counts(self, model: Any) -> tuple[int, int]:
        return self.module("weights").parameter_counts(model)

    def save_model(self, model: Any, path: str | Path) -> Path:
        return self.module("weights").save_model(model, path)

    def loss_and_gradients(self, model: Any, loss: Any, x: np.ndarray, y: np.ndarray):
        return self.module("steps").loss_and_gradients(model, loss, x, y)

    def get_loss(self, name: str) -> Any:
        return self.module("losses").get_loss(name)

    def export_onnx(self, model: Any, path: str | Path) -> Path:
        return self.module("export").export_onnx(model, path)

    @property
    def onnx_exporter(self) -> str:
        return self.module("export").EXPORTER

    def float64_logits(self, model: Any, spec: Any, images: np.ndarray) -> np.ndarray:
        """The model's weights evaluated in float64, inference mode (export's exact reference)."""
        return self.module("export").float64_logits(model, spec, images)


def load_twin(name: str) -> Twin:
    """The twin named `keras` or `torch` (a subject's `twin`)."""
    if name not in TWINS:
        raise ValueError(f"unknown twin {name!r}: one of {', '.join(TWINS)}")
    return Twin(name)
