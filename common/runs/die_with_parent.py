"""Workers die with their orchestrator, whatever killed it (SIGKILL included).

Linux: the kernel sends the worker SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG). Everywhere:
a daemon thread checks once a second that the parent is still the one that started the worker.
The orchestrator passes its pid in SALTBENCH_PARENT_PID, so a parent that died before the worker
got here is noticed too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

PARENT_ENV = "SALTBENCH_PARENT_PID"
PR_SET_PDEATHSIG = 1
POLL_S = 1.0


def expected_parent() -> int:
    """The orchestrator's pid as it told us, else whoever our parent is now."""
    text = os.environ.get(PARENT_ENV, "")
    return int(text) if text.isdigit() else os.getppid()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def _set_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _watch(parent: int) -> None:
    pause = threading.Event()
    while os.getppid() == parent:
        pause.wait(POLL_S)
    _die()


def die_with_parent() -> None:
    """Arrange to stop when the orchestrating parent dies; stop now if it already has."""
    parent = expected_parent()
    _set_parent_death_signal()
    if os.getppid() != parent:  # it died before the death signal was armed
        _die()
    threading.Thread(target=_watch, args=(parent,), name="saltbench-lifeline", daemon=True).start()
