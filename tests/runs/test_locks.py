"""common.runs.locks: one writer per folder; a killed holder never blocks the next one."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from common.core.errors import BusyError
from common.runs.locks import FolderLock, ensure_free
from tests.compare.conftest import REPO_ROOT

HOLD = textwrap.dedent(
    """
    import sys, time
    from common.runs.locks import FolderLock
    lock = FolderLock(sys.argv[1], "test holder").acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def holder(tmp_path):
    """A live process holding tmp_path/run's lock."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "run")],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_held_folder_is_refused_naming_its_holder(holder, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(BusyError) as err:
        FolderLock(run, "second").acquire()
    assert re.fullmatch(
        rf"{re.escape(str(run))} is in use by pid {holder.pid} on {re.escape(socket.gethostname())} "
        r"\(test holder, since \d\d:\d\d:\d\d\); not starting a second writer",
        str(err.value),
    ), str(err.value)
    with pytest.raises(BusyError):
        ensure_free(run, "probe")


def test_a_lock_left_by_a_killed_process_never_blocks(holder, tmp_path):
    run = tmp_path / "run"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (run / ".lock.holder").is_file()  # the note outlives its writer; the lock does not
    with FolderLock(run, "next"):
        assert json.loads((run / ".lock.holder").read_text())["pid"] == os.getpid()
    assert not (run / ".lock.holder").exists()
    ensure_free(run, "probe")


def test_one_process_cannot_hold_a_folder_twice(tmp_path):
    with FolderLock(tmp_path, "first"), pytest.raises(BusyError, match="first"):
        FolderLock(tmp_path, "second").acquire()
