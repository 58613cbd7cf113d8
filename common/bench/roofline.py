"""Roofline references measured in the benchmark's own process: fp32 matmul and a conv-shaped GEMM."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

MATMUL_SIZE = 2048
# The mid-level 3x3 convolution of ResUNet-16 at batch 32 (25x25, 64 -> 64 channels): the shape
# most of the model's FLOPs look like, run as a real convolution.
CONV_SHAPE = {"batch": 32, "side": 25, "channels": 64, "kernel": 3}


@dataclass(frozen=True)
class Roofline:
    """Best-of-N GFLOP/s of the references, with how they were measured."""

    matmul_gflops: float
    conv_gflops: float
    threads: int
    device: str
    library: str
    matmul_size: int

    def to_dict(self) -> dict:
        return asdict(self)


def _best_seconds(fn, repeats: int, sync) -> float:
    """Fastest of `repeats` timed calls after one warm-up call (peak, not typical)."""
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def _torch_sync(device: str):
    import torch

    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def matmul_gflops(size: int = MATMUL_SIZE, repeats: int = 5, device: str = "cpu") -> float:
    """fp32 GFLOP/s of a square (size x size) matmul with torch (TF32 off on GPUs)."""
    import torch

    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=gen).to(device)
    b = torch.rand(size, size, generator=gen).to(device)
    seconds = _best_seconds(lambda: torch.mm(a, b), repeats, _torch_sync(device))
    return 2.0 * size**3 / seconds / 1e9


def conv_gflops(repeats: int = 3, device: str = "cpu", shape: dict | None = None) -> float:
    """fp32 GFLOP/s of a 3x3 'same' convolution shaped like the model's middle layers."""
    import torch
    import torch.nn.functional as F

    s = shape or CONV_SHAPE
    n, side, c, k = s["batch"], s["side"], s["channels"], s["kernel"]
    if device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n, c, side, side, generator=gen).to(device)
    w = torch.rand(c, c, k, k, generator=gen).to(device)
    with torch.no_grad():
        seconds = _best_seconds(
            lambda: F.conv2d(x, w, padding=k // 2), repeats, _torch_sync(device)
        )
    return 2.0 * n * side * side * c * c * k * k / seconds / 1e9


def measure_roofline(
    threads: int, device: str = "cpu", size: int = MATMUL_SIZE, repeats: int = 5
) -> Roofline:
    """Both references with `threads` intra-op threads (restores torch's previous setting)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        mm = matmul_gflops(size, repeats, device)
        conv = conv_gflops(max(1, repeats // 2), device)
    finally:
        torch.set_num_threads(previous)
    return Roofline(mm, conv, threads, device, f"torch {torch.__version__}", size)


def percent_of_peak(achieved_gflops: float, peak_gflops: float) -> float:
    return 100.0 * achieved_gflops / peak_gflops if peak_gflops > 0 else float("nan")
