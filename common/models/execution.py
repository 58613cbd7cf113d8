"""The execution mode a twin is built under: where and how it computes, never what it computes.

Both twins' `TwinTrainer(spec, mode, seed=...)` take one; it is the only way compare, bench,
export and the probes get a trainer, so a subject trained by `compare` and timed by `bench` is
the same object built the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from common.core.device import DEVICES, PRECISIONS

# fp16 (autocast with loss scaling) is a bench-only, GPU-only precision; recipes take PRECISIONS.
MODE_PRECISIONS = (*PRECISIONS, "fp16")
# Memory layout of the activations: "native" is each twin as its users run it (PyTorch NCHW,
# Keras NHWC); "nhwc" puts both in NHWC (torch.channels_last); "nchw" puts both in NCHW (Keras
# image_data_format "channels_first"). Same weights and math; only speed and round-off change.
LAYOUTS = ("native", "nhwc", "nchw")


@dataclass(frozen=True)
class ExecutionMode:
    """Device, numerics, compilation, memory layout and threads of one twin's process."""

    device: str = "cpu"  # auto | cpu | cuda (the twin resolves auto against what it sees)
    precision: str = "fp32"  # fp32 | bf16 | fp16 | auto (mixed: float32 weights and loss)
    jit_compile: bool = False  # torch.compile for the PyTorch twin; XLA / jax.jit for Keras
    layout: str = "native"  # one of LAYOUTS
    threads: int = 1  # intra-op threads of the framework
    tf32: bool = False
    cudnn_benchmark: bool = False

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.precision not in MODE_PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(MODE_PRECISIONS)}, got {self.precision!r}"
            )
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if int(self.threads) < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads!r}")

    def with_device(self, device: str | None) -> ExecutionMode:
        """The same mode on `device` (None keeps this one)."""
        return self if not device else replace(self, device=device)


def mode_of_run(recipe: dict[str, Any], *, threads: int, jit_compile: bool) -> ExecutionMode:
    """A compare unit's mode: the recipe's device and numerics, the subject's compile mode."""
    from common.core.device import numerics

    settings = numerics(recipe)
    return ExecutionMode(
        device=settings["device"],
        precision=settings["precision"],
        jit_compile=bool(jit_compile),
        layout="nhwc" if recipe["train"].get("channels_last", False) else "native",
        threads=int(threads),
        tf32=settings["tf32"],
        cudnn_benchmark=settings["cudnn_benchmark"],
    )
