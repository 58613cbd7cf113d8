"""Atomic file writes and locked appends, so a crash or a concurrent run never leaves half a file."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock
import numpy as np
import pandas as pd

from common.core.errors import CorruptFileError, DamagedTableError, OutputError

# What a truncated, damaged or missing file raises when numpy, torch or json reads it.
UNREADABLE = (OSError, EOFError, ValueError, KeyError, RuntimeError, zipfile.BadZipFile)


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Turn a failed write (read-only folder, disk full, ...) into one OutputError line naming `path`."""
    try:
        yield
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from err


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: object) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_write_csv(path: str | os.PathLike, df: pd.DataFrame) -> Path:
    return atomic_write_text(path, df.to_csv(index=False))


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """An exclusive OS lock on `path`.lock (waits for it), held for the duration of the block."""
    lock_path = Path(f"{path}.lock")
    with writing(lock_path):
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(lock_path))
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def first_bad_csv_line(path: Path) -> tuple[int | None, str, str]:
    """(1-based line, reason, its text) of the first record the csv module cannot read or whose
    field count differs from the header's; (None, "", "") when every record reads."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n"), strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for record in reader:
            if header is None:
                header = record
            elif record and len(record) != len(header):
                reason = f"{len(record)} fields, the header has {len(header)}"
                return start, reason, lines[start - 1]
            start = reader.line_num + 1
    except csv.Error as err:
        return start, str(err), lines[start - 1] if start <= len(lines) else ""
    return None, "", ""


def read_csv_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV of text cells; DamagedTableError (one line naming the file and its bad line) when
    it cannot be parsed."""
    path = Path(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as err:
        line, reason, text = first_bad_csv_line(path)
        raise DamagedTableError(path, line, reason or str(err).strip(), text) from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def check_csv_table(path: str | os.PathLike) -> None:
    """Raise DamagedTableError now if `path` exists and cannot be parsed (before an hour's work)."""
    path = Path(path)
    if path.is_file() and path.stat().st_size > 0:
        read_csv_table(path)


def append_csv_rows(
    path: str | os.PathLike,
    rows: pd.DataFrame,
    unless: Callable[[pd.DataFrame], bool] | None = None,
    renamed: dict[str, str] | None = None,
) -> Path:
    """Append rows to a CSV under a lock, rewriting it atomically (columns are unioned).

    `unless(existing)`, checked under the same lock, skips the append (say, rows already there);
    `renamed` (old column -> today's) gives the existing rows today's column names first.
    """
    path = Path(path)
    with file_lock(path):
        if path.exists() and path.stat().st_size > 0:
            existing = renamed_columns(read_csv_table(path), renamed or {})
            if unless is not None and unless(existing):
                return path
            rows = pd.concat([existing, rows.astype(str)])
        return atomic_write_csv(path, rows)


def renamed_columns(table: pd.DataFrame, renamed: dict[str, str]) -> pd.DataFrame:
    """`table` with each old column under today's name (where today's is not there already)."""
    return table.rename(
        columns={old: new for old, new in renamed.items() if new not in table.columns}
    )


def save_neutral(path: Path, weights: dict[str, np.ndarray]) -> None:
    """Framework-neutral weights (common.models.weights layout) as an atomically written .npz."""
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    atomic_write_bytes(path, buffer.getvalue())


def load_neutral(path: Path) -> dict[str, np.ndarray]:
    """Weights saved by save_neutral; CorruptFileError (naming the file) when it cannot be read."""
    try:
        with np.load(path) as npz:
            return {key: npz[key] for key in npz.files}
    except UNREADABLE as err:
        raise CorruptFileError(path, err) from err


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Named arrays as an atomically written, compressed .npz."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
