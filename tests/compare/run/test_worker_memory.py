"""Each unit a worker trains starts from a clean framework state: its peak memory is its own.

Tiny units in one worker: before, Keras on TensorFlow kept about 170-235 MiB a unit (1409,
1649, 1875, 2108 MiB over four smoke-size units; PyTorch flat), which neither clear_session nor
gc gave back, so the report's memory ratio measured the leak. Now every unit runs in a fresh
worker process of its own."""

import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]
TOLERANCE_MIB = 60  # unit-to-unit noise measured here: under 15 MiB; the leak: ~170 a unit


def test_peak_rss_stays_flat_unit_over_unit_and_the_ratio_is_paired_over_units(smoke_run_two_seeds):
    """The two-seed smoke run (shared with tests/compare/test_compare.py): the leak added ~170 MiB
    a unit, so two units already tell it from the noise."""
    run_dir, _ = smoke_run_two_seeds
    for framework in ("keras", "torch"):
        peaks = [
            json.loads(
                (run_dir / framework / f"seed{s}" / "fold0" / "fold_metrics.json").read_text()
            )["peak_rss_mib"]
            for s in (0, 1)
        ]
        assert abs(peaks[1] - peaks[0]) <= TOLERANCE_MIB, (framework, peaks)
    memory = json.loads((run_dir / "metrics.json").read_text())["pairs"]["keras"]["memory_ratio"]
    assert memory["n"] == 2 and memory["estimate"] > 0  # its interval needs MIN_RUNS (3) units
    assert memory["low"] is None and memory["high"] is None
