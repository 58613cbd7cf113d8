"""Shared fixtures. The real TGS subset lives at ../shared/tgs-salt and is optional."""

import os
from pathlib import Path

import pytest

from tests.compare.conftest import SMOKE_ARGS, saltbench

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "tgs-salt"


# The session runs several test modules share. Under pytest-xdist (`make test` runs two workers)
# every test that uses one goes to the same worker, so each run is made once; a test that uses
# none goes with its module's run if its module has one (module-scoped fixtures made once), else
# with its module. Before xdist's own hook reads the marks (tryfirst).
SHARED_RUNS = ("smoke_run_two_seeds", "nway_run", "smoke_run")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    def shared(item) -> str | None:
        return next((name for name in SHARED_RUNS if name in item.fixturenames), None)

    def module(item) -> str:
        return item.nodeid.split("::", 1)[0]

    of_module: dict[str, str] = {}
    for item in items:
        if shared(item):
            of_module.setdefault(module(item), shared(item))
    for item in items:
        group = shared(item) or of_module.get(module(item)) or module(item)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real TGS subset; tests that use it skip cleanly where it is absent."""
    if not (REAL_DATA_DIR / "train.csv").is_file():
        pytest.skip(f"real TGS data not found at {REAL_DATA_DIR}")
    return REAL_DATA_DIR


# The one smoke compare run (keras + torch) that harness and export tests share; its helpers live
# in tests/compare/conftest.py.
@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


NWAY_SUBJECTS = ["torch", "keras-tf", "keras-jax"]
# Three subjects (Keras on JAX is what the GPU machine runs: tests/compare/test_device.py predicts
# and exports from this run) and the reference's one-ulp copy (the noise floor), one stage of two epochs and
# dropout (so the copy's dropout seeds are exercised): --threads 1 on a 2-core machine means two
# workers at a time, so the later ones wait for a slot.
NWAY_ARGS = [*SMOKE_ARGS, "--subjects", ",".join(NWAY_SUBJECTS), "--noise-floor",
             "--set", "stages.lovasz.epochs=0", "--set", "model.dropout=0.25"]  # fmt: skip


@pytest.fixture(scope="session")
def nway_run(tmp_path_factory, smoke_cache) -> tuple[Path, str]:
    """One uninterrupted N-way smoke compare; (run directory, its stdout)."""
    out = tmp_path_factory.mktemp("results_nway")
    result = saltbench("compare", *NWAY_ARGS, "--out", str(out), cache=smoke_cache)
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir, result.stdout


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, smoke_cache) -> Path:
    """One uninterrupted smoke compare (keras + torch); returns its run directory."""
    out = tmp_path_factory.mktemp("results")
    saltbench("compare", *SMOKE_ARGS, "--out", str(out), cache=smoke_cache)
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir
