"""What the CPU computes natively, read from the OS (no framework import): bf16 support above all.

bf16 mixed precision only pays where the CPU has bf16 instructions (AVX512_BF16, AMX-BF16 on x86;
BF16 on Arm). Elsewhere the frameworks emulate it in software: on an AVX2-only AMD EPYC,
`saltbench bench` measured torch-bf16 training at 1.4 img/s against 13.6 for fp32.
"""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass
from pathlib import Path

# CPU feature flags (as /proc/cpuinfo spells them) that mean bf16 arithmetic in hardware.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name and feature flags; flags are empty where the OS does not list them."""

    model: str
    flags: frozenset[str]
    source: str  # where the flags came from, for messages

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
        if not self.flags:
            return f"bf16 treated as emulated (no CPU flags readable from {self.source})"
        return f"emulated bf16 (no {'/'.join(NATIVE_BF16_FLAGS)} flag in {self.source})"


def parse_cpuinfo(text: str, source: str = str(CPUINFO)) -> CpuInfo:
    """Model name and flags of the first processor in a /proc/cpuinfo text (x86 'flags', Arm 'Features')."""
    model, flags = "", frozenset()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in ("model name", "hardware") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
    return CpuInfo(model or platform.processor() or "unknown CPU", flags, source)


@functools.cache
def cpu_info() -> CpuInfo:
    """This machine's CPU; where /proc/cpuinfo is absent (macOS, Windows) no flags, so no native bf16."""
    try:
        return parse_cpuinfo(CPUINFO.read_text(errors="replace"))
    except OSError:
        return CpuInfo(platform.processor() or "unknown CPU", frozenset(), CPUINFO.as_posix())
