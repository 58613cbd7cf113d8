"""Process-level settings that must happen before a framework is imported: Keras backend, threads, log noise."""

from __future__ import annotations

import os
import sys

KERAS_BACKENDS = ("tensorflow", "torch", "jax")
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def select_keras_backend(name: str = "tensorflow") -> None:
    """Set KERAS_BACKEND; refuses when keras was already imported with another backend."""
    if name not in KERAS_BACKENDS:
        raise ValueError(f"unknown Keras backend {name!r}; choose from {', '.join(KERAS_BACKENDS)}")
    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") != name:
        raise RuntimeError("keras is already imported with another backend; use a fresh process")
    os.environ["KERAS_BACKEND"] = name
    quiet_tensorflow()


def pin_threads(n: int | None) -> int:
    """Pin intra-op threads for every library through the environment; returns the count in force."""
    count = n or os.cpu_count() or 1
    for var in THREAD_VARS:
        os.environ[var] = str(count)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    return count
