"""The memory headroom of a bench run (common/bench/run/headroom.py): further copies of each
backend start only when they fit beside the measured first ones; otherwise one line, nothing timed."""

from __future__ import annotations

import os
import re

import pytest

from common.bench.run.headroom import MARGIN, check_headroom, footprint
from common.core.errors import SaltbenchError

GB = 10**9
FIRST = {"torch.1": 1 * GB, "keras-tensorflow.1": 4 * GB}
REST = ["torch.2", "keras-tensorflow.2", "torch.3", "keras-tensorflow.3"]


def test_copies_that_fit_start():
    need = MARGIN * 10 * GB  # two more copies of 1 + 4 GB
    check_headroom(FIRST, REST, copies=3, available=lambda: int(need) + 1)


def test_copies_that_do_not_fit_are_refused_naming_what_would():
    with pytest.raises(SaltbenchError) as error:
        check_headroom(FIRST, REST, copies=3, available=lambda: int(MARGIN * 6 * GB))
    line = str(error.value)
    assert "\n" not in line
    assert re.search(r"the 4 processes still to start need about 12\.5 GB", line), line
    assert "keras-tensorflow 4.0 GB, torch 1.0 GB" in line and "7.5 GB is available" in line
    assert line.endswith("Run with --processes 2 or fewer --subjects")  # one more copy fits


def test_a_backend_not_measured_counts_as_the_largest():
    """A resumed run whose first keras-jax process had finished: its copies are sized as the largest."""
    with pytest.raises(SaltbenchError, match="need about 5.0 GB"):
        check_headroom({"torch.1": 4 * GB}, ["keras-jax.2"], copies=2, available=lambda: GB)


def test_footprint_measures_a_live_process():
    assert 10**6 < footprint(os.getpid()) < 64 * GB
    assert footprint(2**22 + 12345) == 0  # no such process: nothing held
