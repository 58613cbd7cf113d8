"""Shared fixtures. The real TGS subset lives at ../shared/tgs-salt and is optional."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "tgs-salt"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real TGS subset; tests that use it skip cleanly where it is absent."""
    if not (REAL_DATA_DIR / "train.csv").is_file():
        pytest.skip(f"real TGS data not found at {REAL_DATA_DIR}")
    return REAL_DATA_DIR
