"""The decoded-array cache of a Kaggle TGS folder, keyed by the folder's content."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from common.core.io import atomic_write_bytes
from common.core.kaggle_png import SIZE
from common.core.paths import cache_dir

CACHE_VERSION = 1
CSV_FILES = ("train.csv", "depths.csv", "sample_submission.csv")
PNG_DIRS = ("train/images", "train/masks", "test/images")


def fingerprint(root) -> str:
    """Hash of the folder's content: CSV bytes, and every PNG's name, size and mtime."""
    root = Path(root)
    digest = hashlib.sha256(f"saltbench-kaggle-v{CACHE_VERSION}".encode())
    for name in CSV_FILES:
        path = root / name
        digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"<missing>"))
    for folder in PNG_DIRS:
        digest.update(folder.encode())
        if (root / folder).is_dir():
            entries = sorted(os.scandir(root / folder), key=lambda e: e.name)
            for entry in entries:
                stat = entry.stat()
                digest.update(f"{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cache_path(root) -> Path:
    """Where the decoded arrays of this folder's current content are cached."""
    return cache_dir() / "datasets" / f"tgs-{fingerprint(root)[:32]}.npz"


def save_cache(path: Path, arrays: dict) -> None:
    packed = dict(arrays)
    packed["masks"] = np.packbits(arrays["masks"].reshape(len(arrays["masks"]), -1), axis=1)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **packed)
    atomic_write_bytes(path, buffer.getvalue())


def load_cache(path: Path) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        n = len(arrays["train_ids"])
        bits = np.unpackbits(arrays["masks"], axis=1, count=SIZE * SIZE)
        arrays["masks"] = bits.reshape(n, SIZE, SIZE).astype(bool)
        return arrays
    except (OSError, ValueError, KeyError, EOFError):
        return None  # unreadable or stale format: rebuild it
