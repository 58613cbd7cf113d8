"""The costs besides speed in `saltbench bench`: memory per operation, the ceiling % of peak
divides by, paired ratios, compile break-even."""

from __future__ import annotations

import time

import numpy as np
import pytest

from common.bench.report import summary as S
from common.bench.report.breakeven import NEVER, break_even
from common.bench.timing.roofline import Roofline, ceiling_for
from common.bench.timing.rounds import timed_rounds
from common.bench.timing.suite import throughput_info
from common.bench.timing.turns import NoTurns
from common.core.memory import MIB, SAMPLE_HZ, MemoryWindow
from tests.bench.test_bench_summary import SKIPS, _bench, merged_run

EXTRA_MIB = 256


class FakeBenchmark:
    """pytest-benchmark's pedantic as --benchmark-disable would not: every round, setup first."""

    stats = None

    def pedantic(self, target, setup, rounds, warmup_rounds, iterations):
        for _ in range(warmup_rounds + rounds):
            setup()
            target()


def step(extra_mib: int = 0, base_mib: int = 32) -> None:
    """A fake training step: a working buffer, plus `extra_mib` more, each touched and held for
    10 sampling periods (a real step lasts that long; a shorter one can fall between samples when
    another process shares the CPU)."""
    buffers = [np.ones(base_mib * MIB // 8)]
    if extra_mib:
        buffers.append(np.ones(extra_mib * MIB // 8))
    assert sum(b.sum() for b in buffers) > 0
    time.sleep(10 / SAMPLE_HZ)


def working_set(fn, sampling: bool) -> float:
    window = MemoryWindow(force_sampling=sampling)
    times = timed_rounds(FakeBenchmark(), fn, 3, 1, NoTurns(), "train", window)
    return times["memory"].working_set_mib


@pytest.mark.parametrize("sampling", [False, True], ids=["hwm-reset", "sampled"])
def test_a_known_extra_buffer_shows_in_the_working_set(sampling):
    plain = working_set(step, sampling)
    heavier = working_set(lambda: step(EXTRA_MIB), sampling)
    assert heavier - plain == pytest.approx(EXTRA_MIB, rel=0.2)


@pytest.mark.parametrize("sampling", [False, True], ids=["hwm-reset", "sampled"])
def test_a_variant_after_a_heavier_one_does_not_inherit_its_peak(sampling):
    alone = working_set(step, sampling)
    working_set(lambda: step(4 * EXTRA_MIB), sampling)  # the heavier variant, same process
    after = working_set(step, sampling)
    assert after == pytest.approx(alone, abs=0.2 * 32 + 8)
    assert after < EXTRA_MIB


def roofline(matmul: float, conv: float, bf16: dict | None = None) -> dict:
    return Roofline(matmul, conv, 2, "cpu", "torch", 2048, conv_large_gflops=conv / 2,
                    fma_peak_gflops=None, half={"bf16": bf16 or {}}).to_dict()  # fmt: skip


def row_info(times: dict, roof: dict, precision: str = "fp32") -> dict:
    info = throughput_info(times, 32, 3e9, roof, precision)
    return {k: info[k] for k in ("ceiling_gflops", "ceiling_source", "pct_of_peak")}


def test_the_ceiling_is_the_highest_reference_and_fp32_rows_stay_under_it():
    """A conv reference above the matmul one becomes the ceiling; the percentages follow it."""
    roof = roofline(matmul=100.0, conv=200.0, bf16={"matmul": 800.0, "conv": 300.0})
    assert roof["ceiling_source"] == "conv" and roof["ceiling_gflops"] == 200.0
    assert ceiling_for(roof, "bf16") == (800.0, "matmul (bf16)")
    times = {"median": 0.5, "q1": 0.5, "q3": 0.5, "min": 0.5, "max": 0.5, "timed": True}
    merged = merged_run()
    fast = _bench("torch-channels-last", "train", 32, 0.5, **row_info(times, roof))
    bf16 = _bench("torch-bf16", "train", 32, 0.5, **row_info(times, roof, "bf16"))
    merged["benchmarks"] += [fast, bf16]
    summary = S.summarize(merged, SKIPS).set_index("variant")
    # 64 img/s x 3 GFLOP = 192 GFLOP/s: 192 % of the matmul, 96 % of the conv ceiling
    assert summary.loc["torch-channels-last", "train_pct_of_peak"] == pytest.approx(96.0)
    assert summary.loc["torch-channels-last", "train_ceiling"] == "conv (fp32)"
    assert summary.loc["torch-bf16", "train_pct_of_peak"] == pytest.approx(24.0)  # of 800
    fp32 = summary[summary["precision"] == "fp32"]
    assert (fp32["train_pct_of_peak"].dropna() <= 100.0).all()


def test_ratios_come_from_paired_rounds_and_one_process_gives_no_interval():
    """The rounds of one process pair give the ratio; its interval needs processes
    (tests/bench/test_bench_summary.py has two)."""
    merged = merged_run()
    for bench in merged["benchmarks"]:
        info = bench["extra_info"]
        if info["operation"] == "train":
            slow = info["variant"] == "keras-tf"
            info["round_seconds"] = [2.0, 2.2, 1.8] if slow else [1.0, 1.0, 1.0]
            info["round_turns"] = [1, 3, 5] if slow else [0, 2, 4]
            info["process"] = "keras-tensorflow" if slow else "torch"
    summary = S.summarize(merged, SKIPS).set_index("variant")
    row = summary.loc["keras-tf"]
    assert row["train_ratio_n"] == 1 and row["train_ratio_rounds"] == 3
    assert row["train_ratio_adjacent"] and np.isnan(row["train_ratio_lo"])
    assert row["train_ratio_to_torch_eager"] == pytest.approx(0.5, rel=0.05)


def test_break_even_counts_the_steps_after_which_compiling_pays():
    # compile 10 s (10.5 - 0.5), 0.5 s a step against 1 s: even after 20 steps, ahead at 21
    assert break_even(10.5, 0.5, 1.0, 1.0)["break_even_steps"] == 21
    assert break_even(10.5, 0.5, 1.0, 1.0)["compile_s"] == 10.0
    assert break_even(10.5, 1.5, 1.0, 1.0)["break_even_steps"] == NEVER  # slower per step
    assert break_even(0.6, 0.5, 3.0, 1.0)["break_even_steps"] == 1  # less to trace, faster
