"""Shared end-to-end runs for the harness tests: one smoke compare on tiny synthetic data, both frameworks."""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Identical settings for every run these tests compare: 1 thread per framework makes CPU results exact.
SMOKE_ARGS = ["--profile", "smoke", "--threads", "1"]


@contextlib.contextmanager
def interrupted_after_epoch(epoch: int):
    """Inside, a fold's loop stops with KeyboardInterrupt right after committing `epoch` (as a
    kill between epochs would); the block must end that way, and the loop is restored after."""
    from common.compare.unit import epoch_loop

    original = epoch_loop.EpochLoop.end_epoch

    def end_then_die(self, at, loss, images):
        stop = original(self, at, loss, images)
        if at == epoch:
            raise KeyboardInterrupt
        return stop

    epoch_loop.EpochLoop.end_epoch = end_then_die
    try:
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        epoch_loop.EpochLoop.end_epoch = original


def torch_fold_session(run_dir: Path, config: dict, data):
    """Fold 0, seed 0 of `run_dir` on the PyTorch twin with one thread, without progress bars."""
    from common.compare.unit import fold as foldmod
    from common.runs.twin_process import make_twin
    from torch_impl.train import TwinTrainer

    trainer = make_twin(TwinTrainer, config, 1, seed=0)
    return foldmod.FoldSession(run_dir, config, 0, trainer, data, progress=False)


def saltbench(
    *args: str, cache: Path, check: bool = True, env: dict | None = None, **kw
) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process (as a user would), with its own cache folder (env: additions)."""
    env = {**os.environ, "SALTBENCH_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "common.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        **kw,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"saltbench {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def predict_submission(run_dir: Path, cache: Path, out: Path) -> pd.DataFrame:
    """`saltbench predict` of a finished run onto its own data folder: checked valid and in
    sample_submission order; returns the written CSV."""
    data_dir = json.loads((run_dir / "config.json").read_text())["data_dir"]
    result = saltbench(
        "predict", "--run", str(run_dir), "--data", data_dir, "--out", str(out), cache=cache
    )
    assert "valid" in result.stdout
    sample = pd.read_csv(f"{data_dir}/sample_submission.csv", dtype=str)
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["id"].tolist() == sample["id"].tolist()
    return written


def the_run_dir(out: Path) -> Path | None:
    """The one run folder a compare writes under `out` (None until it exists)."""
    dirs = [p for p in out.iterdir() if p.is_dir()] if out.is_dir() else []
    return dirs[0] if dirs else None


def start_compare(args: list[str], cache: Path) -> subprocess.Popen:
    """`saltbench compare ARGS` in the background, output discarded (for kill/resume tests)."""
    env = {**os.environ, "SALTBENCH_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "common.cli", "compare", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def alive(pid: int) -> bool:
    """Whether a process runs; a zombie nobody reaped yet is gone once its last thread has exited."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            zombie = stat.read().rsplit(") ", 1)[1][0] == "Z"
        return not zombie or len(os.listdir(f"/proc/{pid}/task")) > 1
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def smoke_run_two_seeds(tmp_path_factory, smoke_cache) -> tuple[Path, str]:
    """A smoke compare with --seeds 0,1 (one stage, to stay cheap); (run directory, its stdout)."""
    out = tmp_path_factory.mktemp("results_seeds")
    args = [*SMOKE_ARGS, "--seeds", "0,1", "--set", "stages.lovasz.epochs=0", "--out", str(out)]
    result = saltbench("compare", *args, cache=smoke_cache)
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir, result.stdout
