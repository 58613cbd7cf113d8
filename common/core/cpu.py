"""What the CPU computes natively, read from the OS (no framework import): bf16 support above all.

bf16 mixed precision only pays where the CPU has bf16 instructions (AVX512_BF16, AMX-BF16 on x86;
BF16 on Arm). Elsewhere the frameworks emulate it in software: on an AVX2-only AMD EPYC,
`saltbench bench` measured torch-bf16 training at 1.4 img/s against 13.6 for fp32.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import platform
from dataclasses import dataclass
from pathlib import Path

# CPU feature flags (as /proc/cpuinfo spells them) that mean bf16 arithmetic in hardware.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
CPUINFO = Path("/proc/cpuinfo")
# oneDNN's ISA cap (torch and TensorFlow compute through oneDNN on x86): a cap below AVX-512 hides
# the AVX-512 and AMX units from both, so a capped CPU is, to them, one without those flags.
ISA_CAP_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")
BELOW_AVX512 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2")
CAPPED_PREFIXES = ("avx512", "amx")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name and feature flags; flags are empty where the OS does not list them."""

    model: str
    flags: frozenset[str]
    source: str  # where the flags came from, for messages
    mhz: float | None = None  # the first processor's 'cpu MHz' where the OS lists it
    family: str = ""  # x86 'cpu family' and 'model' numbers: a bare "AMD EPYC" needs them
    model_number: str = ""
    isa_cap: str = ""  # e.g. "ONEDNN_MAX_CPU_ISA=AVX2" where a cap removed flags

    @property
    def bf16_flags(self) -> list[str]:
        return [flag for flag in NATIVE_BF16_FLAGS if flag in self.flags]

    @property
    def native_bf16(self) -> bool:
        return bool(self.bf16_flags)

    @property
    def has_avx512(self) -> bool:
        return "avx512f" in self.flags

    def bf16_note(self) -> str:
        """One phrase for reports: native (and why) or emulated (and why)."""
        if self.native_bf16:
            return f"native bf16 ({', '.join(self.bf16_flags)})"
        if self.isa_cap:
            return f"emulated bf16 ({self.isa_cap} hides the CPU's AVX-512 and AMX units)"
        if not self.flags:
            return f"bf16 treated as emulated (no CPU flags readable from {self.source})"
        return f"emulated bf16 (no {'/'.join(NATIVE_BF16_FLAGS)} flag in {self.source})"


def parse_cpuinfo(text: str, source: str = str(CPUINFO)) -> CpuInfo:
    """Model name and flags of the first processor in a /proc/cpuinfo text (x86 'flags', Arm 'Features')."""
    model, flags, mhz, numbers = "", frozenset(), None, {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in ("model name", "hardware") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
        elif key in ("cpu family", "model") and key not in numbers:
            numbers[key] = value.strip()
        elif key == "cpu mhz" and mhz is None:
            with contextlib.suppress(ValueError):
                mhz = float(value)
    return CpuInfo(
        model or platform.processor() or "unknown CPU",
        flags,
        source,
        mhz,
        numbers.get("cpu family", ""),
        numbers.get("model", ""),
    )


def isa_capped(info: CpuInfo, environ=os.environ) -> CpuInfo:
    """`info` as oneDNN sees it under an ISA cap below AVX-512: without the AVX-512 and AMX flags."""
    for name in ISA_CAP_VARIABLES:
        value = environ.get(name, "").strip().upper()
        if value in BELOW_AVX512:
            hidden = {flag for flag in info.flags if flag.startswith(CAPPED_PREFIXES)}
            if not hidden:
                return info
            return dataclasses.replace(info, flags=info.flags - hidden, isa_cap=f"{name}={value}")
    return info


@functools.cache
def cpu_info() -> CpuInfo:
    """This machine's CPU as the frameworks use it (an ISA cap applied); where /proc/cpuinfo is
    absent (macOS, Windows) no flags, so no native bf16."""
    try:
        return isa_capped(parse_cpuinfo(CPUINFO.read_text(errors="replace")))
    except OSError:
        return CpuInfo(platform.processor() or "unknown CPU", frozenset(), CPUINFO.as_posix())


def machine_record(info: CpuInfo | None = None) -> dict:
    """What a run records of the machine it ran on: CPU model (with family/model numbers), cores,
    and whether bf16 is native; the report's Answer block names it."""
    info = info or cpu_info()
    return {
        "cpu_model": info.model,
        "cpu_family": info.family,
        "cpu_model_number": info.model_number,
        "cpus": os.cpu_count(),
        "native_bf16": info.native_bf16,
        "bf16_flags": info.bf16_flags,
        "avx512": info.has_avx512,
        "amx": sorted(f for f in info.flags if f.startswith("amx")),
        "isa_cap": info.isa_cap,
    }


def machine_line(machine: dict | None) -> str:
    """'AMD EPYC (family 26, model 2), 2 cores, bf16 native (avx512_bf16)' or 'not recorded'."""
    if not machine:
        return "machine not recorded (run made before machines were recorded)"
    numbers = ""
    if machine.get("cpu_family"):
        numbers = f" (family {machine['cpu_family']}, model {machine.get('cpu_model_number', '?')})"
    bf16 = (
        f"bf16 native ({', '.join(machine['bf16_flags'])})"
        if machine.get("native_bf16")
        else "no native bf16"
    )
    cap = f" ({machine['isa_cap']})" if machine.get("isa_cap") else ""
    return f"{machine['cpu_model']}{numbers}, {machine['cpus']} cores, {bf16}{cap}"


FP32_LANES = (("avx512f", 16), ("avx2", 8), ("avx", 8), ("sse2", 4), ("asimd", 4))  # widest first
MAX_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")


def clock_ghz(info: CpuInfo | None = None) -> tuple[float, str] | None:
    """The CPU clock and where it was read: the cpufreq maximum, else /proc/cpuinfo's 'cpu MHz'."""
    try:
        return int(MAX_FREQ.read_text()) / 1e6, "cpufreq cpuinfo_max_freq"
    except (OSError, ValueError):
        pass
    mhz = (info or cpu_info()).mhz
    return None if mhz is None else (mhz / 1e3, "/proc/cpuinfo cpu MHz")


def fma_peak(threads: int, info: CpuInfo | None = None, clock=None) -> dict | None:
    """fp32 FMA peak of `threads` cores from clock and vector width, one FMA unit per core (the
    OS does not say how many a core has, so this is a lower bound); None where unreadable."""
    info = info or cpu_info()
    lanes = next((n for flag, n in FP32_LANES if flag in info.flags), None)
    clock = clock or clock_ghz(info)
    if lanes is None or clock is None or threads < 1:
        return None
    ghz, source = clock
    gflops = threads * ghz * lanes * 2.0
    how = (
        f"FMA peak = {threads} core(s) x {ghz:.2f} GHz ({source}) x {lanes} fp32 lanes x 2 FLOP, "
        "one FMA unit per core assumed (a lower bound)"
    )
    return {"gflops": gflops, "how": how}
