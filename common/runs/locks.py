"""One writer per folder: an OS lock (filelock, flock on POSIX) that the kernel drops when its holder dies.

The orchestrator holds the run folder's lock for a whole `compare`; each worker holds the lock of
every framework x fold folder it trains. Beside each lock a small JSON note says who holds it, for
the refusal message only: the lock itself, never the note, decides.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import filelock

from common.core.errors import BusyError, OutputError

LOCK = ".lock"
HOLDER = ".lock.holder"


def holder_text(directory: Path) -> str:
    """'pid 123 on host (saltbench compare, since 10:42:05)', or 'another process' without a note."""
    try:
        note = json.loads((Path(directory) / HOLDER).read_text())
        return f"pid {note['pid']} on {note['host']} ({note['role']}, since {note['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


class FolderLock:
    """An exclusive, non-blocking lock on `directory`; a held lock raises BusyError naming its holder."""

    def __init__(self, directory: Path, role: str) -> None:
        self.directory = Path(directory)
        self.role = role
        self._lock = filelock.FileLock(str(self.directory / LOCK), timeout=0)

    def acquire(self) -> FolderLock:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except filelock.Timeout:
            raise BusyError(
                f"{self.directory} is in use by {holder_text(self.directory)}; "
                "not starting a second writer"
            ) from None
        except OSError as err:
            raise OutputError(f"{self.directory}: cannot write its lock ({err.strerror})") from None
        self._write_note()
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                (self.directory / HOLDER).unlink(missing_ok=True)
            self._lock.release(force=True)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def _write_note(self) -> None:
        note = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "role": self.role,
            "since": time.strftime("%H:%M:%S"),
            "argv": sys.argv,
        }
        with contextlib.suppress(OSError):  # the note only informs; the lock is what counts
            (self.directory / HOLDER).write_text(json.dumps(note) + "\n")


def ensure_free(directory: Path, role: str) -> None:
    """Refuse (BusyError) when a live process holds `directory`'s lock; take nothing."""
    if (Path(directory) / LOCK).exists():
        FolderLock(directory, role).acquire().release()
