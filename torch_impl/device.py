"""PyTorch twin of keras_impl/device.py; follows common.core.device (one meaning of device and numerics)."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from common.core.device import resolve

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def configure(device: str, *, tf32: bool, cudnn_benchmark: bool) -> tuple[torch.device, dict]:
    """The torch device for `device` (auto | cpu | cuda), with TF32 and cuDNN autotuning set, and
    the settings as torch reads them back."""
    resolved = resolve(device, torch.cuda.is_available(), "torch")
    torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
    torch.backends.cudnn.allow_tf32 = bool(tf32)
    torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
    if resolved == "cuda":
        torch.cuda.reset_peak_memory_stats()
    return torch.device(resolved), {
        "device": resolved,
        "device_name": torch.cuda.get_device_name() if resolved == "cuda" else "cpu",
        "torch.backends.cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "torch.backends.cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
        "torch.backends.cudnn.benchmark": torch.backends.cudnn.benchmark,
    }


def autocast(device: torch.device, precision: str):
    """Mixed precision (float32 weights, bfloat16 or float16 compute) or nothing, as the mode says."""
    if precision in AUTOCAST_DTYPES:
        return torch.autocast(device_type=device.type, dtype=AUTOCAST_DTYPES[precision])
    return contextlib.nullcontext()


def synchronize(device: torch.device) -> None:
    """Wait for the device, so a timer stopped next measures finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def limited_threads(threads: int):
    """At most `threads` intra-op threads inside (torch changes them at any time); restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def reset_peak_memory(device: torch.device) -> None:
    """Restart the allocator's peak counter (CUDA); nothing on the CPU."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_method(device: torch.device) -> str | None:
    """What peak_memory_mib reads on `device` (None on the CPU)."""
    return "torch.cuda.max_memory_allocated (reset)" if device.type == "cuda" else None


def peak_memory_mib(device: torch.device) -> float | None:
    """Allocator-level peak since configure() (torch.cuda.max_memory_allocated); None on the CPU."""
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**20


class DeviceBatches:
    """A stage's training tiles moved to the device once (NCHW); batches are gathered and
    flipped there from the common stream's indices, so no batch crosses the bus."""

    def __init__(self, stream, device: torch.device, memory_format=torch.contiguous_format):
        self.stream = stream
        self.memory_format = memory_format
        self.images = self._upload(stream.images, device)
        self.masks = self._upload(stream.masks, device)

    @staticmethod
    def _upload(array: np.ndarray, device: torch.device) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        return host.permute(0, 3, 1, 2).contiguous().to(device)

    def batch(self, epoch: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The stream's batch `index` of `epoch` (same items, same flips), NCHW on the device."""
        items, flip = self.stream.batch_indices(epoch, index)
        take = torch.from_numpy(np.asarray(items)).to(self.images.device)
        flips = torch.from_numpy(np.asarray(flip)).to(self.images.device)
        out = []
        for source in (self.images, self.masks):
            x = source.index_select(0, take)
            x = torch.where(flips[:, None, None, None], x.flip(-1), x)
            out.append(x.contiguous(memory_format=self.memory_format))
        return out[0], out[1]

    def epoch(self, epoch: int) -> Any:
        for index in range(self.stream.num_batches):
            yield self.batch(epoch, index)
