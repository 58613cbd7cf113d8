"""Shared end-to-end runs for the harness tests: one smoke compare on tiny synthetic data, both frameworks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Identical settings for every run these tests compare: 1 thread per framework makes CPU results exact.
SMOKE_ARGS = ["--profile", "smoke", "--threads", "1"]


def saltbench(*args: str, cache: Path, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process (as a user would), with its own cache folder."""
    env = {**os.environ, "SALTBENCH_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2"}
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


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, smoke_cache) -> Path:
    """One uninterrupted smoke compare (keras + torch); returns its run directory."""
    out = tmp_path_factory.mktemp("results")
    saltbench("compare", *SMOKE_ARGS, "--out", str(out), cache=smoke_cache)
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir
