"""common.core.cpu: native bf16 is read from the CPU's flags, and anything unreadable counts as emulated."""

from common.core.cpu import (
    CpuInfo,
    cpu_info,
    isa_capped,
    machine_line,
    machine_record,
    parse_cpuinfo,
)

AVX512_BF16 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni
processor\t: 1
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni
"""
AVX2_ONLY = """processor\t: 0
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse2 avx avx2 fma
"""
SAPPHIRE_RAPIDS = "model name\t: Intel Xeon\nflags\t\t: avx2 avx512f amx_tile amx_bf16 amx_int8\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


def test_avx512_bf16_and_amx_and_arm_bf16_are_native():
    for text, flag in ((AVX512_BF16, "avx512_bf16"), (SAPPHIRE_RAPIDS, "amx_bf16"), (ARM, "bf16")):
        info = parse_cpuinfo(text)
        assert info.native_bf16 and flag in info.bf16_flags
        assert info.bf16_note().startswith("native bf16")


def test_avx2_only_is_emulated_and_named():
    info = parse_cpuinfo(AVX2_ONLY)
    assert info.model == "AMD EPYC 7B12"
    assert not info.native_bf16 and not info.has_avx512
    assert "emulated" in info.bf16_note() and "/proc/cpuinfo" in info.bf16_note()


def test_no_flags_counts_as_emulated():
    info = CpuInfo("Apple M2", frozenset(), "/proc/cpuinfo")
    assert not info.native_bf16
    assert "emulated" in info.bf16_note()


def test_this_machine_is_described():
    info = cpu_info()
    assert info.model
    assert info.native_bf16 == any(f in info.flags for f in ("avx512_bf16", "amx_bf16", "bf16"))


def test_an_isa_cap_below_avx512_hides_avx512_and_amx_and_is_named():
    info = parse_cpuinfo(SAPPHIRE_RAPIDS)
    capped = isa_capped(info, {"ONEDNN_MAX_CPU_ISA": "avx2"})
    assert info.native_bf16 and info.has_avx512
    assert not capped.native_bf16 and not capped.has_avx512 and "avx2" in capped.flags
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in capped.bf16_note()
    assert machine_line(machine_record(capped)).endswith("no native bf16 (ONEDNN_MAX_CPU_ISA=AVX2)")


def test_a_cap_at_or_above_avx512_or_on_a_cpu_without_it_changes_nothing():
    info = parse_cpuinfo(SAPPHIRE_RAPIDS)
    assert isa_capped(info, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}) == info
    assert isa_capped(info, {}) == info
    avx2 = parse_cpuinfo(AVX2_ONLY)
    assert isa_capped(avx2, {"DNNL_MAX_CPU_ISA": "AVX2"}) == avx2
