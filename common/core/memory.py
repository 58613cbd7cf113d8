"""Peak memory of one operation in a process that may run other, heavier ones before it.

CPU: the resident-set high-water mark over a window (the timed rounds of one benchmark, one
training unit) and that peak minus the resident size at the window's start: the operation's
working set. Linux lets a process reset its own high-water mark (`/proc/self/clear_refs`, "5"),
so the kernel's exact peak of *this window* is read back (`VmHWM`); where that is not possible a
background thread samples the resident size at 200 Hz (psutil) and keeps the maximum. Either way
an operation never inherits the peak of whatever ran before it in the same process.

CUDA: the framework allocator's own peak (torch `max_memory_allocated`, TF
`get_memory_info()['peak']`, JAX `peak_bytes_in_use`), reset at the window's start where the
framework can reset it (JAX cannot: its figure is the process's peak so far).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MIB = 1024 * 1024
CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")
SAMPLE_HZ = 200
METHOD_TEXT = {
    "hwm-reset": "kernel high-water mark of the window (VmHWM after resetting it via "
    "/proc/self/clear_refs): exact, no sampling",
    "sampled": f"resident size sampled at {SAMPLE_HZ} Hz by a background thread (psutil)",
}


def _status_kib(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def resident_bytes() -> int:
    """This process's resident set size now."""
    kib = _status_kib("VmRSS")
    if kib is not None:
        return kib * 1024
    import psutil

    return psutil.Process().memory_info().rss


def release_free_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the OS (glibc `malloc_trim`), so
    the resident size at a window's start is live memory, not what an earlier operation freed
    and the allocator kept: otherwise a variant after a heavier one would reuse that memory and
    show a working set too small."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, looked up once per process (find_library runs ldconfig); None elsewhere."""
    with contextlib.suppress(OSError, AttributeError, TypeError):  # not glibc: nothing to trim
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    return None


def reset_high_water_mark() -> bool:
    """Reset the kernel's peak-RSS counter of this process; False where the OS does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


class _Sampler(threading.Thread):
    """Keeps the highest resident size seen, SAMPLE_HZ times a second, until stopped."""

    def __init__(self):
        super().__init__(daemon=True, name="saltbench-rss-sampler")
        import psutil

        self._process = psutil.Process()
        self._halt = threading.Event()
        self.peak = self._process.memory_info().rss

    def run(self) -> None:
        while not self._halt.wait(1.0 / SAMPLE_HZ):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return max(self.peak, self._process.memory_info().rss)


@dataclass
class MemoryPeak:
    """What one window used: MiB resident at its start, its peak, the difference, and how measured."""

    before_mib: float
    peak_mib: float
    method: str
    device_peak_mib: float | None = None
    device_method: str | None = None

    @property
    def working_set_mib(self) -> float:
        return max(0.0, self.peak_mib - self.before_mib)

    def to_info(self, prefix: str = "") -> dict:
        return {
            f"{prefix}rss_before_mib": self.before_mib,
            f"{prefix}peak_rss_mib": self.peak_mib,
            f"{prefix}working_set_mib": self.working_set_mib,
            f"{prefix}memory_method": self.method,
            f"{prefix}device_peak_mib": self.device_peak_mib,
            f"{prefix}device_memory_method": self.device_method,
        }


class MemoryWindow:
    """`start()` ... `stop()` -> MemoryPeak of what ran in between (also a context manager).
    Windows follow one another, never nest: the kernel keeps one high-water mark per process."""

    def __init__(self, counter: DeviceCounter | None = None, force_sampling: bool = False):
        """`counter`: the device allocator's peak (a twin's TwinTrainer), None for RSS alone."""
        self.counter, self.force_sampling = counter, force_sampling
        self._sampler: _Sampler | None = None
        self._before = 0
        self.started = False
        self.result: MemoryPeak | None = None

    def start(self) -> MemoryWindow:
        self.started = True
        if self.counter is not None:
            with contextlib.suppress(Exception):  # a counter that cannot reset says so at stop
                self.counter.reset_device_peak()
        release_free_memory()
        self._before = resident_bytes()
        if self.force_sampling or not reset_high_water_mark():
            self._sampler = _Sampler()
            self._sampler.start()
        return self

    def stop(self) -> MemoryPeak:
        if self._sampler is not None:
            peak, method = self._sampler.stop(), "sampled"
        else:
            peak, method = _status_kib("VmHWM") * 1024, "hwm-reset"
        device_peak, device_method = _device_peak(self.counter)
        self.result = MemoryPeak(
            self._before / MIB, max(peak, self._before) / MIB, method, device_peak, device_method
        )
        return self.result

    def __enter__(self) -> MemoryWindow:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class DeviceCounter(Protocol):
    """A device allocator's peak counter: what a twin's TwinTrainer offers."""

    device_memory_method: str | None

    def reset_device_peak(self) -> None: ...
    def device_peak_mib(self) -> float | None: ...


def _device_peak(counter: DeviceCounter | None) -> tuple[float | None, str | None]:
    """(peak MiB, what the figure is) of the counter's device, (None, None) on the CPU."""
    if counter is None:
        return None, None
    try:
        return counter.device_peak_mib(), counter.device_memory_method
    except Exception as error:  # noqa: BLE001 (reported, not fatal: CPU figures still stand)
        return None, f"unavailable ({type(error).__name__})"
