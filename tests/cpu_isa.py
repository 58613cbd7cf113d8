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
