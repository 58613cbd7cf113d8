"""Where saltbench keeps caches: $SALTBENCH_CACHE, else ~/.cache/saltbench."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root (decoded datasets, the default synthetic dataset); created on demand."""
    root = Path(os.environ.get("SALTBENCH_CACHE") or Path.home() / ".cache" / "saltbench")
    root.mkdir(parents=True, exist_ok=True)
    return root
