"""A killed run (SIGKILL included) resumes from its last completed epoch and ends with the same metrics."""

import importlib.util
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.compare.conftest import (
    SMOKE_ARGS,
    gone_within,
    interrupted_after_epoch,
    saltbench,
    start_compare,
    the_run_dir,
    torch_fold_session,
)
from tests.compare.curves_reader import assert_curves_match_history

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]


def fold_state(run_dir: Path, framework: str) -> dict:
    try:
        return json.loads((run_dir / framework / "seed0" / "fold0" / "state.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def worker_pids(run_dir: Path) -> list[int]:
    """The workers holding a fold of the run (from the notes beside the fold locks)."""
    pids = []
    for note in run_dir.glob("*/seed*/fold*/.lock.holder"):
        try:
            pids.append(json.loads(note.read_text())["pid"])
        except (FileNotFoundError, json.JSONDecodeError):
            continue
    return pids


def kill_when(proc: subprocess.Popen, run_dir, condition, timeout: float = 600) -> bool:
    """SIGKILL the compare process alone once condition() holds; its workers must die with it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            workers = worker_pids(run_dir())
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            assert workers, "no worker was holding a fold"
            assert all(gone_within(pid, 5.0) for pid in workers), "a worker outlived compare"
            return True
        time.sleep(0.01)
    proc.wait()
    return False


def assert_same_results(a: Path, b: Path) -> None:
    ma = json.loads((a / "metrics.json").read_text())["subjects"]
    mb = json.loads((b / "metrics.json").read_text())["subjects"]
    for fw in ("keras", "torch"):
        fa, fb = ma[fw]["folds"][0], mb[fw]["folds"][0]
        for key in ("score", "threshold", "score_at_0", "epochs", "best_epoch"):
            assert fa[key] == pytest.approx(fb[key], abs=1e-9), (fw, key)
        ha = pd.read_csv(a / fw / "seed0" / "fold0" / "history.csv")
        hb = pd.read_csv(b / fw / "seed0" / "fold0" / "history.csv")
        np.testing.assert_allclose(ha["train_loss"], hb["train_loss"], rtol=1e-6, err_msg=fw)
        np.testing.assert_allclose(ha["val_score"], hb["val_score"], atol=1e-9, err_msg=fw)
        with np.load(a / f"oof_{fw}.npz") as oa, np.load(b / f"oof_{fw}.npz") as ob:
            np.testing.assert_allclose(
                oa["logits"].astype(float), ob["logits"].astype(float), atol=1e-2, err_msg=fw
            )
    assert (a / "submission_ensemble.csv").read_text() == (
        b / "submission_ensemble.csv"
    ).read_text()


def test_sigkill_mid_run_then_resume_matches_the_uninterrupted_run(
    smoke_run, smoke_cache, tmp_path
):
    out = tmp_path / "results"
    proc = start_compare([*SMOKE_ARGS, "--sequential", "--out", str(out)], smoke_cache)

    def run_dir() -> Path | None:
        return the_run_dir(out)

    # Kill 1: Keras has committed epoch 1 of 2 in stage 1 (resume needs its optimiser state).
    killed = kill_when(
        proc,
        run_dir,
        lambda: run_dir() and fold_state(run_dir(), "keras").get("next_epoch", 0) >= 1,
    )
    assert killed, "the run finished before it could be killed"
    state = fold_state(run_dir(), "keras")
    assert not state["done"] and not (run_dir() / "metrics.json").exists()
    # Kill 2 (best effort: PyTorch's smoke epochs take a fraction of a second): PyTorch mid-run.
    proc = start_compare(["--resume", str(run_dir())], smoke_cache)
    kill_when(
        proc,
        run_dir,
        lambda: (
            fold_state(run_dir(), "torch").get("next_epoch", 0) >= 1
            and not fold_state(run_dir(), "torch").get("done")
        ),
    )
    saltbench("compare", "--resume", str(run_dir()), cache=smoke_cache)
    assert_same_results(smoke_run, run_dir())
    if importlib.util.find_spec("tensorboard"):  # the curves continue without duplicate steps
        for subject in ("keras", "torch"):
            assert_curves_match_history(run_dir(), subject)


@pytest.mark.torch
def test_torch_fold_session_resumes_exactly_in_process(tmp_path, smoke_run):
    """Interrupt a PyTorch fold right after epoch 0 is committed; a new process-like session finishes it."""
    import shutil

    from common.runs.dataset import load_run_data
    from common.runs.rundir import load_config

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("config.json", "folds.csv", "init_weights_seed0.npz"):
        shutil.copy(smoke_run / name, run_dir / name)
    config = load_config(run_dir)
    data = load_run_data(config)
    with interrupted_after_epoch(0):
        torch_fold_session(run_dir, config, data).run()
    assert fold_state(run_dir, "torch")["next_epoch"] == 1
    resumed = torch_fold_session(run_dir, config, data).run()
    reference = json.loads(
        (smoke_run / "torch" / "seed0" / "fold0" / "fold_metrics.json").read_text()
    )
    for key in ("score", "threshold", "score_at_0", "epochs", "best_epoch"):
        assert resumed[key] == pytest.approx(reference[key], abs=1e-9), key
