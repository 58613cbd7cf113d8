"""The model benchmarks' steps: a variant's twin built through its one constructor, one synced step."""

from __future__ import annotations

import contextlib
import os

import numpy as np

from common.bench.timing.settings import BenchSettings
from common.models.execution import ExecutionMode
from common.models.spec import ResUNetSpec
from common.models.twin import load_twin
from common.subjects.table import EPOCH_NOT_IN_QUICK, Variant


def make_batch(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random NHWC batch: images in [0, 1] and 0/1 float masks (speed does not depend on content)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 101, 101, 1), dtype=np.float32)
    y = (x > 0.5).astype(np.float32)
    return x, y


# The step every benchmark times: the stage a compare unit starts with (BCE, Adam at this LR).
BENCH_LOSS = "bce"
BENCH_LEARNING_RATE = 1e-3


class ModelRunner:
    """One variant's trainer (the twin's TwinTrainer, or an exported graph in ONNX Runtime) and
    the device its steps wait for."""

    def __init__(self, variant: Variant, trainer, device: str):
        self.variant = variant
        self.trainer = trainer
        self.device = device
        self._sync = getattr(trainer, "synchronize", lambda: None)
        self.numerics: dict = dict(getattr(trainer, "numerics", {}))  # as the framework reads them

    @property
    def memory_counter(self):
        """The trainer's device-memory peak counter (a twin's TwinTrainer), None for ONNX Runtime."""
        return self.trainer if hasattr(self.trainer, "reset_device_peak") else None

    def limited_threads(self, threads: int):
        """A context with at most `threads` intra-op threads where the framework can change them."""
        if self.variant.runtime != "native":
            return contextlib.nullcontext()
        return load_twin(self.variant.framework).module("device").limited_threads(threads)

    def train(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimiser step; the loss comes back to the host, which waits for the device."""
        loss = float(self.trainer.train_step(x, y))
        self._sync()
        return loss

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode logits as NumPy (host copy = synchronised)."""
        logits = self.trainer.predict_logits(x, batch_size=len(x))
        self._sync()
        return logits


def _asked_device() -> str:
    """`saltbench bench --device` (the runner passes it on): auto | cpu | cuda."""
    return os.environ.get("SALTBENCH_DEVICE", "auto")


def variant_mode(variant: Variant, threads: int) -> ExecutionMode:
    """The execution mode of a variant: the bench's device, the variant's numerics and compile
    mode, TF32 off and cuDNN's autotuner off as in compare's default recipe."""
    return ExecutionMode(
        device=_asked_device(),
        precision=variant.precision,
        jit_compile=variant.jit_compile,
        layout=variant.layout,
        threads=threads,
    )


def _twin_of(variant: Variant):
    """The variant's twin, imported after this process's Keras backend is set to the variant's."""
    if variant.keras_backend:
        from common.core.runtime import select_keras_backend

        select_keras_backend(variant.keras_backend)
    return load_twin(variant.framework)


def build_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    """The variant's twin built as compare builds a unit's (one TwinTrainer constructor), seed 0,
    at the first stage's loss and learning rate."""
    trainer = _twin_of(variant).trainer_class(spec, variant_mode(variant, threads), seed=0)
    trainer.start_stage(BENCH_LOSS, BENCH_LEARNING_RATE)
    return ModelRunner(variant, trainer, _device_name(trainer.device))


def _device_name(device) -> str:
    """'cpu' | 'cuda' from a twin's device (a torch.device or Keras's string)."""
    return str(getattr(device, "type", device))


def skip_reason(variant: Variant, operation: str, settings: BenchSettings) -> str | None:
    """Why `variant` cannot (or should not) run `operation` in this process, else None."""
    not_applicable = variant.not_applicable_reason(operation)
    if not_applicable:
        return f"{variant.name} {operation}: {not_applicable}"
    missing = variant.missing_dependency()
    if missing:
        return f"{variant.name}: {missing}"
    if variant.models and settings.model not in variant.models:
        return f"{variant.name}: builds {', '.join(variant.models)} only, not {settings.model}"
    active = os.environ.get("KERAS_BACKEND", "tensorflow")
    if variant.keras_backend and variant.keras_backend != active:
        return (
            f"{variant.name} needs KERAS_BACKEND={variant.keras_backend} (this process has {active}); "
            "`saltbench bench` runs each backend in its own process"
        )
    if variant.gpu_only and _device_for(variant) == "cpu":
        return (
            f"{variant.name}: {variant.precision} mixed precision is GPU-only (no CUDA device here)"
        )
    if settings.quick and operation == "epoch":
        return f"{variant.name} epoch: {EPOCH_NOT_IN_QUICK}"
    if settings.quick and variant.quick_skip_reason(operation):
        return f"{variant.name} {operation}: {variant.quick_skip_reason(operation)}"
    return None


def _device_for(variant: Variant) -> str:
    """Where the variant's twin computes in this process ('cpu' | 'cuda'), before it is built."""
    device, _ = _twin_of(variant).configure_device(
        _asked_device(), tf32=False, cudnn_benchmark=False
    )
    return _device_name(device)
