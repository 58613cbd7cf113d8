"""The slowest CPU CI meets, emulated on any x86 CPU: AVX2 only, no native bf16 (AMD EPYC Zen 3).

Tests whose running time depends on the CPU's vector units run their subprocesses under these
settings, so their limits are proven on the worst case on every machine, not only where it is
the machine at hand: oneDNN (torch and TensorFlow) stops at AVX2, torch's own kernels dispatch
to their AVX2 builds, and XLA (JAX) compiles for AVX2."""

import platform

AVX2_ONLY = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
}
EMULATED = platform.machine() in ("x86_64", "AMD64")  # elsewhere the settings mean nothing


def avx2_only(env: dict[str, str]) -> dict[str, str]:
    """`env` with the AVX2-only settings (XLA flags already in `env` kept beside them)."""
    flags = " ".join(f for f in (env.get("XLA_FLAGS", ""), AVX2_ONLY["XLA_FLAGS"]) if f)
    return {**env, **AVX2_ONLY, "XLA_FLAGS": flags}


def tensorflow_bf16_blocked_by_cap() -> bool:
    """Whether this process runs under an ISA cap below AVX-512 on a CPU that has AVX-512.

    TensorFlow chooses oneDNN's bf16 kernels from the CPU's own avx512f flag (cpuid), and the cap
    leaves oneDNN no bf16 kernel for it ("could not create a primitive descriptor"); a real
    AVX2-only CPU has no avx512f, so TensorFlow runs bf16 on its Eigen kernels there instead. Only
    the emulation meets this."""
    from common.core.cpu import CPUINFO, cpu_info, parse_cpuinfo

    try:
        raw = parse_cpuinfo(CPUINFO.read_text(errors="replace"))
    except OSError:
        return False
    return bool(cpu_info().isa_cap) and raw.has_avx512


TF_BF16_SKIP_REASON = (
    "emulated AVX2 CPU: TensorFlow picks oneDNN bf16 from the CPU's avx512f flag, which the ISA "
    "cap takes from oneDNN; a real AVX2-only CPU runs TensorFlow bf16 on Eigen"
)
