"""`saltbench bench --sweep`: parsing, slopes per doubling, and a tiny sweep end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from common.bench.run.config import BenchConfig
from common.bench.sweep.points import point_config
from common.bench.sweep.scaling import parse_sweep, slope_per_doubling, slopes
from common.core.errors import SaltbenchError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("batch", "expected AXIS=V1,V2"),
        ("depth=1,2", "AXIS one of batch, width, threads"),
        ("batch=1,x", "whole numbers"),
        ("batch=4", "at least two distinct values"),
        ("batch=0,2", "at least two distinct values"),
        ("threads=1,64", "oversubscribe"),
    ],
)
def test_a_bad_sweep_is_one_clear_line(text, message):
    with pytest.raises(SaltbenchError, match=message):
        parse_sweep(text, cpus=2)


def test_points_are_sorted_and_change_one_setting_each():
    assert parse_sweep("batch=8,1,2", cpus=2) == ("batch", [1, 2, 8])
    base = BenchConfig(variants=["torch-eager"])
    point = point_config(base, "batch", 8)
    assert (point.train_batch, point.infer_batch, point.width) == (8, 8, 16)
    assert (
        point_config(base, "width", 32).width == 32
        and point_config(base, "threads", 1).threads == 1
    )
    assert "not test_epoch_overhead" in point.extra_pytest_args and point.rounds == 5


def test_slope_is_the_factor_per_doubling():
    assert slope_per_doubling([1, 2, 4, 8], [10, 20, 40, 80]) == pytest.approx(2.0)
    assert slope_per_doubling([1, 2, 4], [1.0, 0.5, 0.25]) == pytest.approx(0.5)
    table = pd.DataFrame({"variant": ["a"] * 3, "value": [1, 2, 4],
                          "train_img_s": [10.0, 20.0, 40.0], "infer_img_s": [5.0, 5.0, 5.0],
                          "train_working_set_mib": [100.0, 200.0, 400.0],
                          "train_first_call_working_set_mib": [1.0, 1.0, 1.0],
                          "train_peak_rss_mib": [1000.0, 1100.0, 1210.0]})  # fmt: skip
    row = slopes(table).iloc[0]
    assert row["train time/image"] == pytest.approx(0.5)  # twice the speed: half the time
    assert row["infer time/image"] == pytest.approx(1.0)
    assert row["train working set"] == pytest.approx(2.0)
    assert row["train peak RSS"] == pytest.approx(1.1)


@pytest.mark.slow
@pytest.mark.torch
def test_a_tiny_batch_sweep_writes_the_csv_plot_and_slopes(tmp_path, capsys):
    from common.cli import main

    argv = ["bench", "--sweep", "batch=1,2", "--subjects", "torch-eager", "--width", "2",
            "--rounds", "2", "--warmup", "0", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "scaling_batch.csv")
    assert list(table["value"]) == [1, 2] and set(table["variant"]) == {"torch-eager"}
    assert (table["train_img_s"] > 0).all() and (table["train_peak_rss_mib"] > 0).all()
    assert (tmp_path / "scaling_batch.png").read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "scaling_batch.md").read_text()
    assert "## Per doubling of batch" in md and "| torch-eager | × " in md
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "sweep.json").read_text())["points"] == [1, 2]
    # resuming a finished sweep re-reads its points instead of timing them again
    assert main(["bench", "--resume", str(run), "--out", str(tmp_path)]) == 0
    assert "Per doubling of batch" in capsys.readouterr().out
