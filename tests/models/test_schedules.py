"""LR schedules and snapshot points (common/models/schedules.py)."""

import math

import numpy as np
import pytest

from common.core.errors import SaltbenchError
from common.models.schedules import (
    cycle_ends,
    learning_rate_at,
    snapshots_to_average,
    validate_schedule,
)

ONE_CYCLE = {"kind": "one_cycle", "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0}
CYCLES = {"kind": "cosine_cycles", "cycles": 3, "min_lr_factor": 0.1, "snapshots": 2}


def test_constant_without_schedule():
    assert learning_rate_at(None, 0.01, 3.7, 10) == 0.01


def test_one_cycle_rises_to_peak_then_anneals():
    lrs = [learning_rate_at(ONE_CYCLE, 1.0, t, 8) for t in np.linspace(0, 8, 81)]
    peak = int(np.argmax(lrs))
    assert lrs[0] == pytest.approx(0.1) and max(lrs) == pytest.approx(1.0)
    assert np.linspace(0, 8, 81)[peak] == pytest.approx(2.0)  # pct_start of 8 epochs
    assert all(np.diff(lrs[: peak + 1]) >= 0) and all(np.diff(lrs[peak:]) <= 0)
    assert lrs[-1] == pytest.approx(0.001)


def test_one_cycle_phases_are_half_cosines():
    """OneCycleLR's 'cos' shape: halfway through warm-up the LR is halfway between start and peak."""
    assert learning_rate_at(ONE_CYCLE, 1.0, 1.0, 8) == pytest.approx((0.1 + 1.0) / 2)
    assert learning_rate_at(ONE_CYCLE, 1.0, 5.0, 8) == pytest.approx((1.0 + 0.001) / 2)


def test_cosine_cycles_restart_and_snapshot_at_cycle_ends():
    assert cycle_ends(CYCLES, 9) == [3, 6, 9]
    assert cycle_ends(CYCLES, 10) == [3, 7, 10]
    assert cycle_ends(None, 9) == [] and cycle_ends(ONE_CYCLE, 9) == []
    for begin in (0, 3, 6):
        assert learning_rate_at(CYCLES, 1.0, begin, 9) == pytest.approx(1.0)  # warm restart
        mid = learning_rate_at(CYCLES, 1.0, begin + 1.5, 9)
        assert mid == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 2)) / 2)
        assert learning_rate_at(CYCLES, 1.0, begin + 2.999, 9) == pytest.approx(0.1, abs=1e-4)
    assert snapshots_to_average(CYCLES) == 2 and snapshots_to_average(None) == 0


@pytest.mark.parametrize(
    "schedule, message",
    [
        ({"kind": "step"}, "kind one of"),
        ({"kind": "cosine_cycles", "cycles": 5}, "cycles must be an integer from 1 to"),
        ({"kind": "cosine_cycles", "cycles": 2, "snapshots": 3}, "snapshots must be"),
        ({"kind": "one_cycle", "pct_start": 1.5}, "pct_start"),
        ({"kind": "one_cycle", "warmup": 2}, "unknown field(s) warmup"),
    ],
)
def test_bad_schedules_name_the_key(schedule, message):
    with pytest.raises(SaltbenchError, match="stages.lovasz.schedule") as err:
        validate_schedule({"name": "lovasz", "epochs": 4, "schedule": schedule})
    assert message in str(err.value)
