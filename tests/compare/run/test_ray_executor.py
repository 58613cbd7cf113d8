"""`compare --executor ray`: one smoke grid on a local Ray instance, one worker killed mid-run.

A single Ray run serves both end-to-end tests (starting Ray and tracing Keras cost the most):
its metrics must equal the uninterrupted local smoke run's, and the killed unit must have been
retried by Ray from its last epoch checkpoint.
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.compare.run import ray_executor
from common.compare.run.ray_executor import StorageError, Unit, check_storage, unit_state
from common.core.errors import SaltbenchError
from tests.compare.conftest import REPO_ROOT, SMOKE_ARGS
from tests.compare.test_resume import assert_same_results

KILLED = Unit("keras", 0, 0)


def test_without_ray_the_executor_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail as if not installed
    with pytest.raises(SaltbenchError, match=re.escape("pip install 'saltbench[ray]'")):
        ray_executor.import_ray()


def test_a_node_that_cannot_see_the_run_folder_fails_in_one_line(tmp_path):
    config = {"run_id": "20260101-000000-abcdef", "data_dir": str(tmp_path)}
    with pytest.raises(StorageError) as err:
        check_storage(tmp_path / "elsewhere", config)
    message = str(err.value)
    assert "\n" not in message and "20260101-000000-abcdef" in message
    assert "every node mounts at the same path" in message


def test_a_unit_failed_for_good_is_reported_like_a_diverged_one(tmp_path):
    from common.compare.run.aggregate import unit_failures

    config = {"subjects": ["keras", "torch"], "folds": [0, 1], "seeds": [0], "recipe": {}}
    ray_executor.mark_failed(tmp_path, Unit("torch", 1, 0), "WorkerDied: exited -9")
    assert ray_executor.is_settled(tmp_path, Unit("torch", 1, 0))
    assert not ray_executor.is_settled(tmp_path, Unit("torch", 0, 0))
    (failure,) = unit_failures(tmp_path, "torch", config)
    assert failure["message"] == "torch seed 0 fold 1 failed on Ray: WorkerDied: exited -9"
    assert unit_failures(tmp_path, "keras", config) == []


def worker_pids(run_dir: Path, framework: str) -> list[int]:
    """The worker processes training in run_dir for one framework (not the Ray task around them)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, ValueError):
            continue
        if str(run_dir) in argv and "train" in argv and any(framework in a for a in argv):
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def killed_ray_run(tmp_path_factory, smoke_cache):
    """A smoke compare on local Ray whose Keras worker is SIGKILLed after its first epoch."""
    pytest.importorskip("ray")
    out = tmp_path_factory.mktemp("ray-results")
    log = out.parent / "ray-compare.stderr"
    env = {**os.environ, "SALTBENCH_CACHE": str(smoke_cache), "TF_CPP_MIN_LOG_LEVEL": "2"}
    args = ["compare", *SMOKE_ARGS, "--executor", "ray", "--out", str(out)]
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "common.cli", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        killed_at = None
        deadline = time.monotonic() + 600
        try:
            while proc.poll() is None and killed_at is None and time.monotonic() < deadline:
                run_dirs = [p for p in out.iterdir() if p.is_dir()]
                state = unit_state(run_dirs[0], KILLED) if run_dirs else {}
                pids = worker_pids(run_dirs[0], KILLED.framework) if run_dirs else []
                if state.get("next_epoch", 0) >= 1 and not state.get("done") and pids:
                    for pid in pids:
                        os.kill(pid, signal.SIGKILL)
                    killed_at = state["next_epoch"]
                time.sleep(0.01)
            returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return {"run_dir": run_dir, "killed_at": killed_at, "rc": returncode, "stderr": log.read_text()}


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.torch
def test_ray_grid_gives_the_metrics_of_the_local_run(killed_ray_run, smoke_run):
    assert killed_ray_run["rc"] == 0, killed_ray_run["stderr"][-3000:]
    run_dir = killed_ray_run["run_dir"]
    assert "ray: 2 of 2 tasks to run" in killed_ray_run["stderr"]
    for unit in (Unit("keras", 0, 0), Unit("torch", 0, 0)):
        assert unit.log(run_dir).is_file(), unit.name
    assert_same_results(smoke_run, run_dir)
    if importlib.util.find_spec("tensorboard"):  # Ray tasks write the same curves, each epoch once
        from tests.compare.curves_reader import assert_curves_match_history

        for subject in ("keras", "torch"):
            assert_curves_match_history(run_dir, subject)


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.torch
def test_a_killed_worker_is_retried_from_its_checkpoint(killed_ray_run):
    assert killed_ray_run["killed_at"] is not None, "the Keras unit finished before it was killed"
    log = KILLED.log(killed_ray_run["run_dir"]).read_text(errors="replace")
    starts = [
        int(e) for e in re.findall(r"ray task keras-fold0-seed0 .* starts at epoch (\d+)", log)
    ]
    assert starts[0] == 0 and len(starts) == 2, starts
    assert starts[1] >= killed_ray_run["killed_at"], (starts, killed_ray_run["killed_at"])
    # Each committed epoch prints one line; a retry that redid epochs would print them twice.
    epochs = re.findall(r"keras fold 0 epoch (\d+): loss", log)
    assert sorted(epochs) == sorted(set(epochs)) and len(epochs) == 3, epochs
