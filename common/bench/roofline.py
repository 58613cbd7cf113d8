"""Roofline references measured in the benchmark's own process, and the ceiling % of peak divides by.

The ceiling is the highest rate the run can show the hardware reaching: a square matmul and two
3x3 convolutions (one shaped like the model's middle layers, one large enough to saturate), all
with the benchmark's threads, and where the CPU's clock and vector width are readable, the FMA
peak computed from them (a lower bound: one FMA unit per core, since the OS does not say how many
there are). The highest of these is the ceiling, and the summary names which one it was, so no
fp32 row can read above 100 % because one reference happened to be slow on this CPU. bf16 rows
are divided by a bf16 ceiling measured the same way (matmul and convolutions in bf16).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

MATMUL_SIZE = 2048
# The mid-level 3x3 convolution of ResUNet-16 at batch 32 (25x25, 64 -> 64 channels): the shape
# most of the model's FLOPs look like, run as a real convolution.
CONV_SHAPE = {"batch": 32, "side": 25, "channels": 64, "kernel": 3}
# A 3x3 convolution big enough to saturate the vector units (about 24 GFLOP a call).
LARGE_CONV_SHAPE = {"batch": 32, "side": 50, "channels": 128, "kernel": 3}
REFERENCES = {
    "matmul": "torch.mm {size}² ({precision})",
    "conv": "3x3 conv 25x25x64→64, batch 32 ({precision})",
    "conv_large": "3x3 conv 50x50x128→128, batch 32 ({precision})",
}


@dataclass(frozen=True)
class Roofline:
    """Best-of-N GFLOP/s of the references, the ceilings picked from them, and how they were found."""

    matmul_gflops: float
    conv_gflops: float
    threads: int
    device: str
    library: str
    matmul_size: int
    conv_large_gflops: float = math.nan
    fma_peak_gflops: float | None = None
    fma_peak_how: str = ""
    half: dict = field(default_factory=dict)  # precision -> {"matmul": .., "conv": .., ...}

    @property
    def candidates(self) -> dict[str, float | None]:
        """The fp32 rates the ceiling is the highest of (None or NaN where not measured)."""
        return {"matmul": self.matmul_gflops, "conv": self.conv_gflops,
                "conv_large": self.conv_large_gflops, "fma_peak": self.fma_peak_gflops}  # fmt: skip

    def to_dict(self) -> dict:
        """The references, and per precision its ceiling with the measured rates it was picked from."""
        out = asdict(self)
        out["ceilings"] = {
            precision: ceiling_entry(rates)
            for precision, rates in {"fp32": self.candidates, **self.half}.items()
        }
        fp32 = out["ceilings"]["fp32"]
        out.update(ceiling_gflops=fp32["gflops"], ceiling_source=fp32["source"])
        return out


def ceiling_entry(candidates: dict[str, float | None]) -> dict:
    """{"gflops", "source", "candidates"}: the highest measured rate, its name, all measured."""
    measured = {k: v for k, v in candidates.items() if v is not None and not math.isnan(v)}
    name, value = pick_ceiling(measured)
    return {"gflops": value, "source": name, "candidates": measured}


def pick_ceiling(measured: dict[str, float]) -> tuple[str, float]:
    """(name, GFLOP/s) of the highest measured rate; ("none", nan) when there is none."""
    if not measured:
        return "none", math.nan
    name = max(measured, key=measured.get)
    return name, measured[name]


def ceiling_for(roofline: dict, precision: str) -> tuple[float, str]:
    """The ceiling a row of `precision` is divided by and a phrase saying which reference it is."""
    ceilings = roofline.get("ceilings") or {}
    entry = ceilings.get(precision) or ceilings.get("fp32")
    if entry is None:  # a side report from before the ceilings: the fp32 matmul alone
        return roofline["matmul_gflops"], "matmul (fp32)"
    used = precision if precision in ceilings else "fp32"
    return entry["gflops"], f"{entry['source']} ({used})"


def describe(roofline: dict, name: str, precision: str = "fp32") -> str:
    """Words for one reference of a roofline dict."""
    if name == "fma_peak":
        return roofline.get("fma_peak_how") or "FMA peak"
    if name not in REFERENCES:
        return name
    return REFERENCES[name].format(
        size=roofline.get("matmul_size", MATMUL_SIZE), precision=precision
    )


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


def _dtype(precision: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def matmul_gflops(
    size: int = MATMUL_SIZE, repeats: int = 5, device: str = "cpu", precision: str = "fp32"
) -> float:
    """GFLOP/s of a square (size x size) matmul with torch (TF32 off on GPUs)."""
    import torch

    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=gen).to(device, _dtype(precision))
    b = torch.rand(size, size, generator=gen).to(device, _dtype(precision))
    seconds = _best_seconds(lambda: torch.mm(a, b), repeats, _torch_sync(device))
    return 2.0 * size**3 / seconds / 1e9


def conv_gflops(
    repeats: int = 3, device: str = "cpu", shape: dict | None = None, precision: str = "fp32"
) -> float:
    """GFLOP/s of a 3x3 'same' convolution (default: shaped like the model's middle layers)."""
    import torch
    import torch.nn.functional as F

    s = shape or CONV_SHAPE
    n, side, c, k = s["batch"], s["side"], s["channels"], s["kernel"]
    if device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n, c, side, side, generator=gen).to(device, _dtype(precision))
    w = torch.rand(c, c, k, k, generator=gen).to(device, _dtype(precision))
    with torch.no_grad():
        seconds = _best_seconds(
            lambda: F.conv2d(x, w, padding=k // 2), repeats, _torch_sync(device)
        )
    return 2.0 * n * side * side * c * c * k * k / seconds / 1e9


def references(size: int, repeats: int, device: str, precision: str) -> dict[str, float]:
    """The matmul and both convolutions in one precision."""
    conv_repeats = max(1, repeats // 2)
    return {
        "matmul": matmul_gflops(size, repeats, device, precision),
        "conv": conv_gflops(conv_repeats, device, CONV_SHAPE, precision),
        "conv_large": conv_gflops(conv_repeats, device, LARGE_CONV_SHAPE, precision),
    }


def half_precisions(device: str) -> tuple[str, ...]:
    """Reduced precisions with a ceiling of their own: bf16 everywhere, fp16 on GPUs."""
    return ("bf16", "fp16") if device.startswith("cuda") else ("bf16",)


def measure_roofline(
    threads: int,
    device: str = "cpu",
    size: int = MATMUL_SIZE,
    repeats: int = 5,
    half: bool = True,
) -> Roofline:
    """Every reference with `threads` intra-op threads (restores torch's previous setting)."""
    import torch

    from common.core.cpu import fma_peak

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fp32 = references(size, repeats, device, "fp32")
        precisions = half_precisions(device) if half else ()
        reduced = {p: references(size, repeats, device, p) for p in precisions}
    finally:
        torch.set_num_threads(previous)
    peak = fma_peak(threads) if device == "cpu" else None
    return Roofline(
        fp32["matmul"], fp32["conv"], threads, device, f"torch {torch.__version__}", size,
        conv_large_gflops=fp32["conv_large"],
        fma_peak_gflops=None if peak is None else peak["gflops"],
        fma_peak_how="" if peak is None else peak["how"],
        half=reduced,
    )  # fmt: skip


def percent_of_peak(achieved_gflops: float, peak_gflops: float) -> float:
    return 100.0 * achieved_gflops / peak_gflops if peak_gflops > 0 else float("nan")
