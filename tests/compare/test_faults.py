"""Fault injection on the smoke profile: runs fail loudly, never fight, and keep what they finished.

Each case asserts the exact line the user sees and that completed results are untouched.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.compare.conftest import REPO_ROOT, SMOKE_ARGS, gone_within, saltbench, start_compare

pytestmark = [pytest.mark.slow]

FOLD_KEYS = ("score", "threshold", "score_at_0", "epochs", "best_epoch")


def only_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def last_line(text: str) -> str:
    return [ln for ln in text.splitlines() if ln.strip()][-1]


def fold_metrics(run_dir: Path, framework: str) -> dict:
    return json.loads((run_dir / framework / "seed0" / "fold0" / "fold_metrics.json").read_text())


def assert_same_fold(a: Path, b: Path, framework: str) -> None:
    ma, mb = fold_metrics(a, framework), fold_metrics(b, framework)
    for key in FOLD_KEYS:
        assert ma[key] == pytest.approx(mb[key], abs=1e-9), (framework, key)


def failure_line(run_dir: Path, framework: str) -> str:
    """What compare must print last for a run whose only failure is `framework` fold 0."""
    failed = json.loads((run_dir / framework / "seed0" / "fold0" / "failed.json").read_text())
    return (
        f"saltbench: error: {failed['message']} (no score, leaderboard row or submission for "
        f"{framework}; see {run_dir / 'report.md'})"
    )


# ---- divergence ------------------------------------------------------------------------------
@pytest.mark.torch
def test_torch_diverging_under_a_huge_lr_is_one_line_and_no_result(smoke_cache, tmp_path):
    """The issue's reproduction: lr 1e12 makes the PyTorch loss NaN in the first epoch."""
    out = tmp_path / "results"
    result = saltbench(
        "compare",
        *SMOKE_ARGS,
        "--frameworks",
        "torch",
        "--set",
        "stages.bce.learning_rate=1e12",
        "--set",
        "model.dropout=0.0",
        "--out",
        str(out),
        cache=smoke_cache,
        check=False,
    )
    run_dir = only_run(out)
    failed = json.loads((run_dir / "torch" / "seed0" / "fold0" / "failed.json").read_text())
    assert result.returncode == 3, result.stderr[-2000:]
    assert failed["message"] == (
        f"torch seed 0 fold 0 diverged: training loss nan in stage bce, epoch 1, "
        f"batch {failed['batch']}/2, learning rate 1e+12"
    )
    assert last_line(result.stderr) == failure_line(run_dir, "torch")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["subjects"] == {} and list(metrics["failed"]) == ["torch"]
    assert not list(run_dir.glob("submission_*.csv")) and not (out / "leaderboard.csv").exists()
    report = (run_dir / "report.md").read_text()
    assert "## Failed" in report and failed["message"] in report
    assert "finished" not in result.stdout


@pytest.mark.keras
@pytest.mark.torch
def test_keras_nan_at_epoch_2_fails_keras_alone_and_torch_results_stand(
    smoke_run, smoke_cache, tmp_path
):
    out = tmp_path / "results"
    result = saltbench(
        "compare",
        *SMOKE_ARGS,
        "--out",
        str(out),
        cache=smoke_cache,
        check=False,
        env={"SALTBENCH_INJECT_NAN": "keras:2"},
    )
    run_dir = only_run(out)
    assert result.returncode == 3, result.stderr[-2000:]
    assert last_line(result.stderr) == failure_line(run_dir, "keras")
    lr = smoke_run_lr(smoke_run)
    assert json.loads((run_dir / "keras" / "seed0" / "fold0" / "failed.json").read_text())[
        "message"
    ] == (
        f"keras seed 0 fold 0 diverged: training loss nan in stage bce, epoch 2, batch 1/2, "
        f"learning rate {lr:.3g}"
    )
    history = pd.read_csv(run_dir / "keras" / "seed0" / "fold0" / "history.csv")
    assert history["epoch"].tolist() == [0]  # the epoch before the NaN is kept, nothing after it
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert list(metrics["subjects"]) == ["torch"] and list(metrics["failed"]) == ["keras"]
    assert "ensemble" not in metrics
    assert_same_fold(run_dir, smoke_run, "torch")
    assert (run_dir / "submission_torch.csv").read_text() == (
        smoke_run / "submission_torch.csv"
    ).read_text()
    assert not (run_dir / "submission_keras.csv").exists()
    assert not (run_dir / "submission_ensemble.csv").exists()
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["twin"]) == {"torch"}
    assert "Keras failed" in (run_dir / "report.md").read_text()


def smoke_run_lr(run_dir: Path) -> float:
    config = json.loads((run_dir / "config.json").read_text())
    return float(config["recipe"]["stages"][0]["learning_rate"])


# ---- orphans and second writers --------------------------------------------------------------
def holder(directory: Path) -> dict:
    try:
        return json.loads((directory / ".lock.holder").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def wait_for(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def busy_line(directory: Path, pid: int) -> str:
    note = holder(directory)
    assert note["pid"] == pid, note
    return (
        f"saltbench: error: {directory} is in use by pid {pid} on {socket.gethostname()} "
        f"({note['role']}, since {note['since']}); not starting a second writer"
    )


@pytest.mark.torch
def test_a_killed_worker_is_one_line_naming_unit_last_message_and_resume(smoke_cache, tmp_path):
    """SIGKILL the worker alone (as the OOM killer would): compare ends with exit 4 (not a user
    error) and one line naming the unit, the log's last real message (not a progress-bar
    fragment) and the --resume that continues the run."""
    out = tmp_path / "results"
    long = ["--set", "stages.bce.epochs=40", "--set", "stages.bce.early_stopping_patience=100"]
    env = {**os.environ, "SALTBENCH_CACHE": str(smoke_cache), "TF_CPP_MIN_LOG_LEVEL": "2"}
    compare = subprocess.Popen(
        [sys.executable, "-m", "common.cli", "compare", *SMOKE_ARGS, "--subjects", "torch",
         *long, "--out", str(out)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: out.is_dir() and any(out.iterdir()), "the run folder")
        run_dir = only_run(out)
        fold = run_dir / "torch" / "seed0" / "fold0"
        wait_for(lambda: (fold / "state.json").is_file(), "the first committed epoch")
        os.kill(holder(fold)["pid"], signal.SIGKILL)
        _, stderr = compare.communicate(timeout=120)
    finally:
        compare.kill()
    assert compare.returncode == 4
    line = last_line(stderr)
    log = run_dir / "logs" / "torch.log"
    pattern = (
        rf"saltbench: error: torch worker was killed by SIGKILL \(exit -9\) in unit torch seed 0 "
        rf"fold 0, (\d+) of 41 epochs committed; last message in {re.escape(str(log))}: "
        rf"(.+); continue the run with: saltbench compare --run {re.escape(str(run_dir))}"
    )
    match = re.fullmatch(pattern, line)
    assert match, line
    committed = json.loads((fold / "state.json").read_text())["next_epoch"]
    assert int(match[1]) == committed >= 1
    assert match[2].startswith("torch fold 0 epoch ") and "it/s]" not in match[2]


@pytest.mark.torch
def test_sigkilled_orchestrator_takes_its_worker_along_and_a_live_run_is_never_resumed_twice(
    smoke_cache, tmp_path
):
    out = tmp_path / "results"
    long = ["--set", "stages.bce.epochs=40", "--set", "stages.bce.early_stopping_patience=100"]
    compare = start_compare(
        [*SMOKE_ARGS, "--subjects", "torch", *long, "--out", str(out)], smoke_cache
    )
    try:
        wait_for(lambda: out.is_dir() and any(out.iterdir()), "the run folder")
        run_dir = only_run(out)
        fold = run_dir / "torch" / "seed0" / "fold0"
        wait_for(lambda: (fold / "state.json").is_file(), "the first committed epoch")
        worker = holder(fold)["pid"]
        # A second compare on the live run is refused, naming the orchestrator.
        refused = saltbench("compare", "--resume", str(run_dir), cache=smoke_cache, check=False)
        assert refused.returncode == 2
        assert last_line(refused.stderr) == busy_line(run_dir, compare.pid)
        # SIGKILL the orchestrator alone: its worker follows within seconds.
        os.kill(compare.pid, signal.SIGKILL)
        compare.wait()
        assert gone_within(worker, 5.0), "the worker outlived its orchestrator"
        # A worker that is still alive (say, left by a crash elsewhere) blocks a resume by its fold.
        from common.runs.locks import FolderLock

        with FolderLock(fold, "test standing in for a live worker"):
            refused = saltbench("compare", "--resume", str(run_dir), cache=smoke_cache, check=False)
            assert refused.returncode == 2
            assert last_line(refused.stderr) == busy_line(fold, os.getpid())
        # The locks the killed processes left never block: a resume takes both and trains on.
        epochs = json.loads((fold / "state.json").read_text())["next_epoch"]
        compare = start_compare(["--resume", str(run_dir)], smoke_cache)
        wait_for(lambda: holder(run_dir).get("pid") == compare.pid, "the resumed orchestrator")
        wait_for(
            lambda: json.loads((fold / "state.json").read_text())["next_epoch"] > epochs,
            "a resumed epoch",
        )
    finally:
        if compare.poll() is None:
            os.kill(compare.pid, signal.SIGKILL)
            compare.wait()
    worker = holder(fold).get("pid")
    assert worker is None or gone_within(worker, 5.0)


# ---- damaged files -------------------------------------------------------------------------


def read_only(folder: Path, argv: list[str]) -> list[str]:
    """argv run with `folder` read-only: chmod for a normal user; a read-only bind mount for root."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return argv
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", str(folder), *argv]


def test_read_only_results_folder_is_one_line_and_leaves_the_results_alone(
    smoke_run, smoke_cache, tmp_path
):
    out = tmp_path / "results"
    shutil.copytree(smoke_run.parent, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    argv = [sys.executable, "-m", "common.cli", "compare", *SMOKE_ARGS, "--out", str(out)]
    env = {**os.environ, "SALTBENCH_CACHE": str(smoke_cache)}
    try:
        result = subprocess.run(
            read_only(out, argv),
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        out.chmod(0o755)
    reason = "Read-only file system" if os.geteuid() == 0 else "Permission denied"
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"saltbench: error: {out}: cannot write ({reason})"
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
