"""Roofline references and the training-step FLOPs convention (forward FLOPs are checked in test_spec)."""

import pytest

from common.bench.roofline import measure_roofline, percent_of_peak

pytestmark = pytest.mark.torch


def test_roofline_reports_positive_rates_and_restores_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    roof = measure_roofline(threads=1, size=128, repeats=1)
    assert roof.matmul_gflops > 0 and roof.conv_gflops > 0
    assert roof.threads == 1 and roof.device == "cpu" and roof.matmul_size == 128
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
