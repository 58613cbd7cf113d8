"""TensorBoard events of every unit (common/compare/unit/curves.py), read back with TensorBoard's
own event reader: the same per-epoch values as history.csv, each epoch once, hparams and drift."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from common.compare.unit import curves
from tests.compare.conftest import REPO_ROOT
from tests.compare.curves_reader import assert_curves_match_history, read_scalars

pytest.importorskip("tensorboard", reason="the curves need the tensorboard extra")


def test_every_subject_writes_its_history_as_events(smoke_run):
    for subject in ("keras", "torch"):
        scalars = assert_curves_match_history(smoke_run, subject)
        if subject != "torch":  # the reference has no drift from itself
            assert [step for step, _ in scalars["drift/weights_total"]] == sorted(
                pd.read_csv(smoke_run / f"drift_{subject}.csv")["epoch"].tolist()
            )


def test_the_hparams_name_the_run(smoke_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    accumulator = EventAccumulator(str(curves.unit_events_dir(smoke_run, "keras", 0, 0)))
    accumulator.Reload()
    content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    hparams = {k: v.string_value or v.number_value for k, v in start.hparams.items()}
    assert hparams["subject"] == "keras" and hparams["profile"] == "smoke"
    assert hparams["recipe"] and hparams["precision"] == "fp32"


def test_a_restart_rewrites_the_committed_epochs_once(tmp_path):
    rows = [{"epoch": e, "train_loss": 1.0 / (e + 1), "val_score": 0.1 * e, "lr": 1e-3,
             "train_img_s": 100.0} for e in range(4)]  # fmt: skip
    unit = curves.UnitCurves(tmp_path / "u", {"subject": "torch"})
    unit.start([])
    for row in rows:  # a process that wrote 4 epochs, then died with 2 committed
        unit.epoch(row)
    unit.close()
    again = curves.UnitCurves(tmp_path / "u", {"subject": "torch"})
    again.start(rows[:2])
    again.epoch(rows[2])
    again.close()
    assert [s for s, _ in read_scalars(tmp_path / "u")["val/score"]] == [0, 1, 2]


def test_without_the_extra_the_run_says_so_once(monkeypatch, tmp_path):
    from common.compare.run.orchestrate import curves_line

    assert "tensorboard --logdir" in curves_line(tmp_path)
    monkeypatch.setattr(curves, "available", lambda: False)
    assert "pip install 'saltbench[tensorboard]'" in curves_line(tmp_path)
    unit = curves.UnitCurves(tmp_path / "u", {})
    unit.start([{"epoch": 0}])  # writes nothing and needs nothing
    assert not (tmp_path / "u").exists()


def test_writing_events_imports_no_tensorflow(tmp_path):
    """A torch worker writes its curves without TensorFlow in the process (its memory and start-up
    would otherwise be the harness's, not PyTorch's); the control shows TensorBoard's default would
    import it."""
    write = (
        "import sys; from common.compare.unit import curves; "
        f"u = curves.UnitCurves({str(tmp_path / 'u')!r}, {{'subject': 'torch'}}); u.start([]); "
        "u.epoch({'epoch': 0, 'train_loss': 1, 'val_score': 0, 'lr': 1, 'train_img_s': 1}); "
        "u.close(); print('tensorflow' in sys.modules)"
    )
    default = (
        "import sys; from tensorboard.compat import tf; tf.io; print('tensorflow' in sys.modules)"
    )
    seen = {
        name: subprocess.run(
            [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.split()[-1]
        for name, code in (("curves", write), ("default", default))
    }
    assert seen == {"curves": "False", "default": "True"}
