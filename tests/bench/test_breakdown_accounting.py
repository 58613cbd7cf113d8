"""The breakdown's accounting: classes plus unattributed are the profiled step, never more."""

from __future__ import annotations

import pytest

from common.bench.breakdown.accounting import account
from common.bench.breakdown.classes import CLASS_IDS, UNATTRIBUTED


def test_classes_plus_unattributed_equal_the_profiled_step():
    result = account("v", "train", "p", {"conv_fwd": 30.0, "batchnorm": 12.0}, 3, 60.0, 18.0)
    rows = result.rows()
    assert [r["class"] for r in rows] == list(CLASS_IDS)
    assert sum(r["ms_per_step"] for r in rows) == pytest.approx(result.profiled_ms) == 20.0
    assert result.class_ms[UNATTRIBUTED] == pytest.approx(6.0)
    assert result.coverage == pytest.approx(0.7) and result.unprofiled_ms == pytest.approx(18.0)
    assert sum(r["pct_of_step"] for r in rows) == pytest.approx(100.0)


def test_ops_that_overlap_leave_nothing_unattributed_and_say_so():
    result = account("v", "train", "p", {"conv_fwd": 50.0, "other": 20.0}, 1, 60.0, None)
    assert result.class_ms[UNATTRIBUTED] == 0.0 and "overlapped" in result.note


def test_an_unknown_class_is_refused():
    with pytest.raises(ValueError, match="not operation classes"):
        account("v", "train", "p", {"convolution": 1.0}, 1, 2.0, None)
