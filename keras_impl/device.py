"""Keras twin of torch_impl/device.py; follows common.core.device (one meaning of device and numerics)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from common.core.device import resolve
from common.core.runtime import select_keras_backend

select_keras_backend(os.environ.get("KERAS_BACKEND", "tensorflow"))

import keras  # noqa: E402  (the backend is chosen above)

POLICY = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}  # fp16: loss-scaled


def configure(device: str, *, tf32: bool, cudnn_benchmark: bool) -> tuple[str, dict[str, Any]]:
    """'cuda' or 'cpu' for `device` on this process's Keras backend, with TF32 set the same way as
    the torch twin sets it, and the settings as the backend reads them back. (Where a GPU should
    not be used, the harness hides it from the process before any import: common.core.device.)"""
    backend = keras.backend.backend()
    settings: dict[str, Any] = {"keras_backend": backend}
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        tf.config.experimental.enable_tensor_float_32_execution(bool(tf32))
        settings["tf.config.experimental.tensor_float_32_execution_enabled"] = (
            tf.config.experimental.tensor_float_32_execution_enabled()
        )
        settings["cudnn_benchmark"] = "n/a (TensorFlow picks its own convolution algorithms)"
        visible, name = bool(gpus), gpus[0].name if gpus else "cpu"
    elif backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "tensorfloat32" if tf32 else "highest")
        settings["jax_default_matmul_precision"] = jax.config.jax_default_matmul_precision
        settings["cudnn_benchmark"] = "n/a (XLA autotunes its own convolutions)"
        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        visible, name = bool(gpus), gpus[0].device_kind if gpus else "cpu"
    else:  # the torch backend: torch's own switches, set as the torch twin sets them
        import torch

        torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
        torch.backends.cudnn.allow_tf32 = bool(tf32)
        torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
        settings.update({
            "torch.backends.cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "torch.backends.cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "torch.backends.cudnn.benchmark": torch.backends.cudnn.benchmark,
        })  # fmt: skip
        visible = torch.cuda.is_available()
        name = torch.cuda.get_device_name() if visible else "cpu"
    resolved = resolve(device, visible, f"Keras on {backend}")
    settings.update(device=resolved, device_name=name if resolved == "cuda" else "cpu")
    return resolved, settings


@contextlib.contextmanager
def precision_policy(precision: str):
    """Build layers under Keras's mixed policy for bf16 / fp16 (half compute, float32 variables;
    `compile` wraps the optimiser in a LossScaleOptimizer for mixed_float16)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(POLICY[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def synchronize(device: str) -> None:
    """Wait for the device: Keras returns host values (the loss, logits as NumPy), so the clocks
    already stop on finished work; JAX's asynchronous dispatch is drained explicitly."""
    if device == "cuda" and keras.backend.backend() == "jax":
        import jax

        (jax.device_put(0.0) + 0).block_until_ready()
    elif device == "cuda" and keras.backend.backend() == "torch":
        import torch

        torch.cuda.synchronize()


@contextlib.contextmanager
def limited_threads(threads: int):
    """At most `threads` intra-op threads inside where the backend can change them (torch);
    TensorFlow's and XLA's pools are fixed once created, so elsewhere nothing changes."""
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def reset_peak_memory(device: str) -> None:
    """Restart the allocator's peak counter where the backend can (TensorFlow, torch; JAX keeps
    a process peak); nothing on the CPU."""
    if device != "cuda":
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("GPU:0")
    elif backend == "torch":
        import torch

        torch.cuda.reset_peak_memory_stats()


PEAK_MEMORY_METHODS = {
    "tensorflow": "tf get_memory_info('GPU:0')['peak'] (reset)",
    "jax": "jax peak_bytes_in_use (process peak, no reset)",
    "torch": "torch.cuda.max_memory_allocated (reset)",
}


def peak_memory_method(device: str) -> str | None:
    """What peak_memory_mib reads on `device` under this backend (None on the CPU)."""
    return PEAK_MEMORY_METHODS[keras.backend.backend()] if device == "cuda" else None


def peak_memory_mib(device: str) -> float | None:
    """Allocator-level peak device memory (TF get_memory_info, JAX peak_bytes_in_use, torch
    max_memory_allocated); None on the CPU."""
    if device != "cuda":
        return None
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    if backend == "jax":
        import jax

        stats = jax.devices("gpu")[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use", float("nan")) / 2**20
    import torch

    return torch.cuda.max_memory_allocated() / 2**20
