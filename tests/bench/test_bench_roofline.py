"""Roofline references and the training-step FLOPs convention (forward FLOPs are checked in test_spec)."""

import pytest

from common.bench.timing.roofline import measure_roofline, percent_of_peak

pytestmark = pytest.mark.torch


def test_roofline_reports_positive_rates_and_restores_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    roof = measure_roofline(threads=1, size=128, repeats=1)
    assert roof.matmul_gflops > 0 and roof.conv_gflops > 0
    assert roof.threads == 1 and roof.device == "cpu" and roof.matmul_size == 128
    assert roof.shapes["fp32"]["matmul"] <= 128 and set(roof.shapes) == {"fp32", *roof.half}
    assert torch.get_num_threads() == before
    assert percent_of_peak(50.0, 200.0) == 25.0


def test_training_step_costs_about_three_forwards_by_flop_counter():
    """The 3x-forward convention of the benchmarks, checked on the torch twin with FlopCounterMode."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from common.models.spec import ResUNetSpec
    from common.subjects.table import TRAIN_FLOPS_FACTOR
    from torch_impl.model import build_model

    spec = ResUNetSpec(start_neurons=2)
    model = build_model(spec)
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.zeros(1, 1, 101, 101)).sum().backward()
    measured = counter.get_total_flops() / spec.flops_per_image()
    # the first conv needs no input gradient, so a step is a little under 3 forwards
    assert TRAIN_FLOPS_FACTOR * 0.95 < measured <= TRAIN_FLOPS_FACTOR + 1e-9


def test_a_reference_too_slow_for_the_call_budget_is_shrunk_and_named():
    """bf16 without native support runs a 2048² matmul at ~0.3 GFLOP/s (a minute a call): the
    reference shrinks until a call fits the budget, and its description says so."""
    from common.bench.timing.roofline import CALL_BUDGET_S, describe, fitted, shrunk

    cube = lambda n: 2.0 * n**3  # noqa: E731
    # a fast precision keeps the full size; 256² in 0.1 s (0.34 GFLOP/s) must shrink
    assert fitted(2048, 256, probe_seconds=1e-4, cost=cube) == 2048
    slow = fitted(2048, 256, probe_seconds=0.1, cost=cube)
    rate = cube(256) / 0.1
    assert 256 <= slow < 2048 and cube(slow) / rate <= CALL_BUDGET_S
    assert cube(slow / 0.8) / rate > CALL_BUDGET_S  # the largest step that fits, not any
    roof = {"matmul_size": 2048, "shapes": {"bf16": {"matmul": slow, "conv": 32, "conv_large": 4}}}
    assert f"torch.mm {slow}² (bf16), shrunk from 2048²" in describe(roof, "matmul", "bf16")
    assert "batch 4 (bf16), shrunk from batch 32" in describe(roof, "conv_large", "bf16")
    assert describe(roof, "conv", "bf16") == "3x3 conv 25x25x64→64, batch 32 (bf16)"
    assert describe({"matmul_size": 2048}, "matmul") == "torch.mm 2048² (fp32)"
    assert shrunk(roof, "conv_large", "bf16") and not shrunk(roof, "conv", "bf16")
    assert not shrunk(roof, "matmul", "fp32") and not shrunk(roof, "fma_peak", "bf16")
