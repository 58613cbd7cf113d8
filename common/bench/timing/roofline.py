"""Roofline references measured in the benchmark's own process, and the ceiling % of peak divides by.

The ceiling is the highest rate the run can show the hardware reaching: a square matmul and two
3x3 convolutions (one shaped like the model's middle layers, one large enough to saturate), all
with the benchmark's threads, and where the CPU's clock and vector width are readable, the FMA
peak computed from them (a lower bound: one FMA unit per core, since the OS does not say how many
there are). A reference a precision computes slowly (bf16 on a CPU without native bf16 runs at
0.3 GFLOP/s, where one 2048² matmul takes a minute) is shrunk until a call fits CALL_BUDGET_S, and
the shape it ran at is recorded and named. The highest of these is the ceiling, and the summary names which one it was, so no
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
_FULL_BATCH = {"conv": CONV_SHAPE["batch"], "conv_large": LARGE_CONV_SHAPE["batch"]}
REFERENCES = {
    "matmul": "torch.mm {size}² ({precision})",
    "conv": "3x3 conv 25x25x64→64, batch {batch} ({precision})",
    "conv_large": "3x3 conv 50x50x128→128, batch {batch} ({precision})",
}
# At most this long a call: fp32 references take 0.1-0.2 s on one core of every CPU measured, so
# only a precision the CPU emulates is shrunk (with the smallest probe first, to see how slow it is).
CALL_BUDGET_S = 1.0
PROBE_MATMUL_SIZE = 256


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
    # precision -> {"matmul": size, "conv": batch, "conv_large": batch}: the shapes that ran
    shapes: dict = field(default_factory=dict)

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


def _ran(roofline: dict, name: str, precision: str) -> tuple[int, int]:
    """(the size or batch reference `name` ran at in `precision`, its full one)."""
    ran = (roofline.get("shapes") or {}).get(precision, {})
    full = roofline.get("matmul_size", MATMUL_SIZE) if name == "matmul" else _FULL_BATCH[name]
    return ran.get(name, full), full


def shrunk(roofline: dict, name: str, precision: str = "fp32") -> bool:
    """Whether reference `name` ran smaller than its full shape, to fit the call budget."""
    if name not in REFERENCES:
        return False
    ran, full = _ran(roofline, name, precision)
    return ran < full


def describe(roofline: dict, name: str, precision: str = "fp32") -> str:
    """Words for one reference of a roofline dict."""
    if name == "fma_peak":
        return roofline.get("fma_peak_how") or "FMA peak"
    if name not in REFERENCES:
        return name
    ran, full = _ran(roofline, name, precision)
    text = REFERENCES[name].format(size=ran, batch=ran, precision=precision)
    if shrunk(roofline, name, precision):
        was = f"{full}²" if name == "matmul" else f"batch {full}"
        text += f", shrunk from {was} to fit {CALL_BUDGET_S:g} s"
    return text


def _one_call_seconds(fn, sync) -> float:
    """Seconds of one call after one untimed call (a probe, not a measurement)."""
    fn()
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def fitted(full: int, smallest: int, probe_seconds: float, cost) -> int:
    """The largest size in [smallest, full] whose call should fit CALL_BUDGET_S, given that a call
    of size `smallest` took `probe_seconds` and a call of size n costs cost(n) FLOPs."""
    rate = cost(smallest) / max(probe_seconds, 1e-9)
    size = full
    while size > smallest and cost(size) / rate > CALL_BUDGET_S:
        size = max(smallest, int(size * 0.8))
    return size


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


def _matmul_call(size: int, device: str, precision: str):
    import torch

    gen = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=gen).to(device, _dtype(precision))
    b = torch.rand(size, size, generator=gen).to(device, _dtype(precision))
    return lambda: torch.mm(a, b)


def matmul_gflops(
    size: int = MATMUL_SIZE, repeats: int = 5, device: str = "cpu", precision: str = "fp32"
) -> float:
    """GFLOP/s of a square (size x size) matmul with torch (TF32 off on GPUs)."""
    import torch

    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
    seconds = _best_seconds(_matmul_call(size, device, precision), repeats, _torch_sync(device))
    return 2.0 * size**3 / seconds / 1e9


def matmul_size_in_budget(size: int, device: str, precision: str) -> int:
    """The matmul size to measure at: `size`, or smaller where a call of it would outlast the budget."""
    probe = min(size, PROBE_MATMUL_SIZE)
    seconds = _one_call_seconds(_matmul_call(probe, device, precision), _torch_sync(device))
    return fitted(size, probe, seconds, lambda n: 2.0 * n**3)


def _conv_flops(shape: dict) -> float:
    side, c, k = shape["side"], shape["channels"], shape["kernel"]
    return 2.0 * shape["batch"] * side * side * c * c * k * k


def _conv_call(shape: dict, device: str, precision: str):
    import torch
    import torch.nn.functional as F

    n, side, c, k = shape["batch"], shape["side"], shape["channels"], shape["kernel"]
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n, c, side, side, generator=gen).to(device, _dtype(precision))
    w = torch.rand(c, c, k, k, generator=gen).to(device, _dtype(precision))

    def call():
        with torch.no_grad():
            return F.conv2d(x, w, padding=k // 2)

    return call


def conv_gflops(
    repeats: int = 3, device: str = "cpu", shape: dict | None = None, precision: str = "fp32"
) -> float:
    """GFLOP/s of a 3x3 'same' convolution (default: shaped like the model's middle layers)."""
    import torch

    s = shape or CONV_SHAPE
    if device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
    seconds = _best_seconds(_conv_call(s, device, precision), repeats, _torch_sync(device))
    return _conv_flops(s) / seconds / 1e9


def conv_batch_in_budget(shape: dict, device: str, precision: str) -> int:
    """The batch to measure `shape` at: its own, or smaller where a call would outlast the budget."""
    probe = {**shape, "batch": 1}
    seconds = _one_call_seconds(_conv_call(probe, device, precision), _torch_sync(device))
    return fitted(shape["batch"], 1, seconds, lambda n: _conv_flops({**shape, "batch": n}))


def references(
    size: int, repeats: int, device: str, precision: str
) -> tuple[dict[str, float], dict[str, int]]:
    """The matmul and both convolutions in one precision, each in the call budget: (GFLOP/s by
    reference, the shape each ran at: matmul size, convolution batch)."""
    conv_repeats = max(1, repeats // 2)
    ran = {"matmul": matmul_size_in_budget(size, device, precision)}
    rates = {"matmul": matmul_gflops(ran["matmul"], repeats, device, precision)}
    for name, shape in (("conv", CONV_SHAPE), ("conv_large", LARGE_CONV_SHAPE)):
        ran[name] = conv_batch_in_budget(shape, device, precision)
        rates[name] = conv_gflops(conv_repeats, device, {**shape, "batch": ran[name]}, precision)
    return rates, ran


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
        precisions = ("fp32", *(half_precisions(device) if half else ()))
        measured = {p: references(size, repeats, device, p) for p in precisions}
    finally:
        torch.set_num_threads(previous)
    peak = fma_peak(threads) if device == "cpu" else None
    fp32 = measured["fp32"][0]
    return Roofline(
        fp32["matmul"], fp32["conv"], threads, device, f"torch {torch.__version__}", size,
        conv_large_gflops=fp32["conv_large"],
        fma_peak_gflops=None if peak is None else peak["gflops"],
        fma_peak_how="" if peak is None else peak["how"],
        half={p: rates for p, (rates, _) in measured.items() if p != "fp32"},
        shapes={p: ran for p, (_, ran) in measured.items()},
    )  # fmt: skip


def percent_of_peak(achieved_gflops: float, peak_gflops: float) -> float:
    return 100.0 * achieved_gflops / peak_gflops if peak_gflops > 0 else float("nan")
