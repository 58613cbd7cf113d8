"""Damaged files on --resume: a truncated checkpoint, history or state.json costs one epoch, not
the fold, and the unit ends like the uninterrupted run (split from test_faults.py)."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.compare.conftest import interrupted_after_epoch, saltbench, torch_fold_session
from tests.compare.test_faults import FOLD_KEYS, assert_same_fold, fold_metrics

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def partial_torch_run(smoke_run, tmp_path_factory) -> Path:
    """A PyTorch-only copy of the smoke run, stopped after epoch 2 of 3 (two checkpoints kept)."""
    from common.runs.dataset import load_run_data

    run_dir = tmp_path_factory.mktemp("partial") / "run"
    run_dir.mkdir()
    for name in ("folds.csv", "init_weights_seed0.npz"):
        shutil.copy(smoke_run / name, run_dir / name)
    config = json.loads((smoke_run / "config.json").read_text())
    config.update(frameworks=["torch"], run_id=f"{config['run_id']}-partial")
    (run_dir / "config.json").write_text(json.dumps(config))
    with interrupted_after_epoch(1):
        torch_fold_session(run_dir, config, load_run_data(config)).run()
    return run_dir


def damaged_copy(partial: Path, tmp_path: Path) -> tuple[Path, Path]:
    run_dir = tmp_path / "run"
    shutil.copytree(partial, run_dir)
    return run_dir, run_dir / "torch" / "seed0" / "fold0"


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.torch
def test_truncated_checkpoint_and_history_fall_back_one_epoch_and_end_like_the_uninterrupted_run(
    partial_torch_run, smoke_run, smoke_cache, tmp_path
):
    run_dir, fold = damaged_copy(partial_torch_run, tmp_path)
    assert sorted(p.name for p in fold.glob("ckpt_e*")) == ["ckpt_e0.pt", "ckpt_e1.pt"]
    truncate(fold / "ckpt_e1.pt")
    truncate(fold / "history.csv")
    result = saltbench("compare", "--resume", str(run_dir), cache=smoke_cache)
    warnings = [ln for ln in result.stderr.splitlines() if "saltbench: warning" in ln]
    assert warnings[0] == (
        f"torch: saltbench: warning: {fold / 'history.csv'}: unreadable (cannot parse); "
        f"rebuilt from {fold / 'state.json'}"
    )
    assert re.fullmatch(
        rf"torch: saltbench: warning: {re.escape(str(fold / 'ckpt_e1.pt'))}: unreadable \(.+\); "
        r"resuming from the checkpoint of epoch 1",
        warnings[1],
    ), warnings[1]
    assert len(warnings) == 2
    assert_same_fold(run_dir, smoke_run, "torch")
    history = pd.read_csv(fold / "history.csv")
    reference = pd.read_csv(smoke_run / "torch" / "seed0" / "fold0" / "history.csv")
    assert history["val_score"].tolist() == pytest.approx(reference["val_score"].tolist())


@pytest.mark.torch
def test_unreadable_state_falls_back_to_the_previous_commit(
    partial_torch_run, smoke_run, tmp_path, capsys
):
    from common.runs.dataset import load_run_data
    from common.runs.rundir import load_config

    run_dir, fold = damaged_copy(partial_torch_run, tmp_path)
    (fold / "state.json").write_text('{"stage": 0, "next_ep')
    config = load_config(run_dir)
    metrics = torch_fold_session(run_dir, config, load_run_data(config)).run()
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(
        f"saltbench: warning: {fold / 'state.json'}: unreadable ("
    )
    assert err.splitlines()[0].endswith(f"); resuming from {fold / 'state.prev.json'}")
    for key in FOLD_KEYS:
        assert metrics[key] == pytest.approx(fold_metrics(smoke_run, "torch")[key], abs=1e-9), key


# ---- unwritable results folder ---------------------------------------------------------------
