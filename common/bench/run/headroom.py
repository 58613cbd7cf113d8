"""Memory headroom of a bench run. Every process stays resident until its last timed round, so
`--processes N` holds N copies of each backend at once; the first copies are measured after their
start-up, and the rest start only if that many more fit in the memory now available. Otherwise
the run is refused before any round is timed: the OOM killer would end a process mid-run and its
variants would vanish from the results."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from common.bench.run.processes import backend_of
from common.core.errors import SaltbenchError

MARGIN = 1.25  # a process grows past its start-up size in its timed rounds (the epoch's loader)
GB = 1e9


def footprint(pid: int) -> int:
    """Bytes a process and its children hold alone (USS; RSS where USS is not readable)."""
    import psutil

    total = 0
    with contextlib.suppress(psutil.Error):
        parent = psutil.Process(pid)
        for proc in [parent, *parent.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                try:
                    total += proc.memory_full_info().uss
                except psutil.AccessDenied:
                    total += proc.memory_info().rss
    return total


def available_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def check_headroom(
    measured: dict[str, int],
    to_start: list[str],
    copies: int,
    available: Callable[[], int] = available_bytes,
) -> None:
    """Refuse (one line) when `to_start` (process names), each as large as the measured process of
    its backend (`measured`: name -> bytes), would not fit in the available memory with MARGIN."""
    sizes: dict[str, int] = {}
    for name, size in measured.items():
        sizes[backend_of(name)] = max(size, sizes.get(backend_of(name), 0))
    if not to_start or not sizes:
        return
    largest = max(sizes.values())
    need = MARGIN * sum(sizes.get(backend_of(name), largest) for name in to_start)
    free = available()
    if need <= free:
        return
    fits = 1 + int(free // (MARGIN * sum(sizes.values())))  # need > free >= 0: the sum is > 0
    each = ", ".join(f"{backend} {size / GB:.1f} GB" for backend, size in sorted(sizes.items()))
    raise SaltbenchError(
        f"--processes {copies}: the {len(to_start)} processes still to start need about "
        f"{need / GB:.1f} GB (each as large as its backend's first: {each}, x{MARGIN:g} for its "
        f"rounds) but {free / GB:.1f} GB is available; nothing was timed. Run with "
        f"--processes {min(fits, copies - 1)} or fewer --subjects"
    )
