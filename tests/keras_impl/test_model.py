"""The Keras twin built channels_first (layout "nchw", bench's keras-torch-nchw) is the same
model as the channels_last one: from the same weights, the same logits and the same steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.models.execution import ExecutionMode

pytestmark = pytest.mark.keras
CHECK = Path(__file__).with_name("layout_check.py")
ROOT = Path(__file__).resolve().parents[2]


def differences(backend: str) -> dict:
    """layout_check.py's JSON, in a fresh process under `backend` (KERAS_BACKEND is per process)."""
    done = subprocess.run(
        [sys.executable, str(CHECK), backend], capture_output=True, text=True, cwd=ROOT,
        timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("LAYOUT "))
    return json.loads(line.removeprefix("LAYOUT "))


def test_channels_first_twin_gives_the_same_logits_and_steps():
    """On the torch backend, the one whose kernels take NCHW (bench's keras-torch-nchw)."""
    d = differences("torch")
    assert d["layout"] == "channels_first"
    assert d["logits_shape"][0] == d["logits_shape"][1]  # NHWC in and out either way
    # round-off apart; the same model with its own weights is far off, so the check can fail
    assert d["logits_max_abs"] < 1e-4 < d["control_logits_max_abs"]
    for a, b in zip(d["losses"]["nhwc"], d["losses"]["nchw"], strict=True):
        assert abs(a - b) <= 1e-3 * abs(a)
    # three Adam steps: a weight whose gradient is ~0 moves by ±lr on round-off alone
    assert d["weights_rel_l2"] < 0.05


def test_layout_is_validated_and_exact_twins_refuse_nchw():
    with pytest.raises(ValueError, match="layout must be one of"):
        ExecutionMode(layout="nhcw")
    from common.models.spec import ResUNetSpec
    from keras_impl.train import TwinTrainer

    with pytest.raises(ValueError, match="shared dropout masks"):
        TwinTrainer(ResUNetSpec(dropout_masks="shared"), ExecutionMode(layout="nchw"), seed=0)
