"""Backend-specific step helpers for the model benchmarks: build a variant, run one synced step."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import numpy as np

from common.bench.settings import BenchSettings
from common.models.spec import ResUNetSpec
from common.models.twin import load_twin
from common.subjects.table import EPOCH_NOT_IN_QUICK, Variant


def make_batch(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random NHWC batch: images in [0, 1] and 0/1 float masks (speed does not depend on content)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 101, 101, 1), dtype=np.float32)
    y = (x > 0.5).astype(np.float32)
    return x, y


class ModelRunner:
    """One variant's Trainer plus the context (autocast, memory format) its steps run under."""

    def __init__(
        self, variant: Variant, trainer, device: str, context: Callable = contextlib.nullcontext
    ):
        self.variant = variant
        self.trainer = trainer
        self.device = device
        self._context = context
        self._sync = _synchronizer(variant, device)
        self.numerics: dict = {}  # TF32 / cuDNN / matmul precision as the framework reads them

    def train(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimiser step; the loss comes back to the host, which waits for the device."""
        with self._context():
            loss = float(self.trainer.train_step(x, y))
        self._sync()
        return loss

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode logits as NumPy (host copy = synchronised)."""
        with self._context():
            logits = self.trainer.predict_logits(x, batch_size=len(x))
        self._sync()
        return logits


def _synchronizer(variant: Variant, device: str) -> Callable[[], None]:
    """Explicit device sync for torch on CUDA (results already come back to host as NumPy/float)."""
    if variant.backend == "torch" and device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


# --- torch twin -------------------------------------------------------------------------------
def _asked_device() -> str:
    """`saltbench bench --device` (the runner passes it on): auto | cpu | cuda."""
    return os.environ.get("SALTBENCH_DEVICE", "auto")


def _torch_device() -> str:
    import torch

    from common.core.device import resolve

    return resolve(_asked_device(), torch.cuda.is_available(), "torch")


def _torch_autocast(variant: Variant, device: str) -> Callable:
    import torch

    if variant.precision == "fp32":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if variant.precision == "bf16" else torch.float16
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    return lambda: torch.autocast(device_type=device_type, dtype=dtype)


def build_torch_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    import torch

    twin = load_twin("torch")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = _torch_device()
    _, numerics = twin.configure_device(device, tf32=False, cudnn_benchmark=False)  # as compare
    model = twin.build_model(spec).to(device)
    if variant.channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainer = twin.step_trainer(model, jit_compile=variant.jit_compile)
    if variant.precision != "fp32":
        forward = trainer.forward
        trainer.forward = lambda inputs: forward(inputs).float()  # NumPy has no bf16: fp32 logits
    if variant.precision == "fp16":
        trainer = ScaledTrainer(trainer)
    runner = ModelRunner(variant, trainer, device, _torch_autocast(variant, device))
    runner.numerics = numerics
    return runner


class ScaledTrainer:
    """fp16 training step with torch.amp.GradScaler around the twin Trainer's model and optimiser."""

    def __init__(self, trainer):
        import torch

        self.trainer = trainer
        self.scaler = torch.amp.GradScaler("cuda")

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        from torch_impl.steps import to_nchw

        t = self.trainer
        t.model.train()
        t.optimizer.zero_grad(set_to_none=True)
        loss = t.loss_fn(to_nchw(y, t.device), t.forward(to_nchw(x, t.device)))
        self.scaler.scale(loss).backward()
        self.scaler.step(t.optimizer)
        self.scaler.update()
        return float(loss.detach())

    def predict_logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        return self.trainer.predict_logits(x, batch_size)


# --- Keras twin -------------------------------------------------------------------------------
def _keras_device(backend: str) -> str:
    from common.core.device import resolve

    if backend == "tensorflow":
        import tensorflow as tf

        visible = bool(tf.config.list_physical_devices("GPU"))
        return resolve(_asked_device(), visible, "Keras on tensorflow")
    if backend == "jax":
        import jax

        return resolve(_asked_device(), jax.default_backend() == "gpu", "Keras on jax")
    return _torch_device()


def _pin_keras_threads(backend: str, threads: int) -> None:
    if backend == "tensorflow":
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # already initialised: env vars did it
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)


def build_keras_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    from common.core.runtime import select_keras_backend

    select_keras_backend(variant.backend)
    _pin_keras_threads(variant.backend, threads)
    import keras

    twin = load_twin("keras")
    policy = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}[
        variant.precision
    ]
    device = _keras_device(variant.backend)
    _, numerics = twin.configure_device(device, tf32=False, cudnn_benchmark=False)  # as compare
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = twin.build_model(spec)
        trainer = twin.step_trainer(model, jit_compile=variant.jit_compile)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    runner = ModelRunner(variant, trainer, device)
    runner.numerics = numerics
    return runner


def build_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    if variant.framework == "torch":
        return build_torch_runner(variant, spec, threads)
    return build_keras_runner(variant, spec, threads)


def skip_reason(variant: Variant, operation: str, settings: BenchSettings) -> str | None:
    """Why `variant` cannot (or should not) run `operation` in this process, else None."""
    not_applicable = variant.not_applicable_reason(operation)
    if not_applicable:
        return f"{variant.name} {operation}: {not_applicable}"
    missing = variant.missing_dependency()
    if missing:
        return f"{variant.name}: {missing}"
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
    return _torch_device() if variant.framework == "torch" else _keras_device(variant.backend)
