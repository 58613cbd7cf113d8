"""Per-process caches of the model benchmarks: each variant's runner (built once, first calls
measured once, with their memory), the roofline, and the untimed start-up work (warm_up)."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from common.bench.timing.harness_epoch import HarnessEpoch
from common.bench.timing.settings import BenchSettings, SideReport
from common.bench.timing.steps import ModelRunner, build_runner, make_batch, skip_reason
from common.subjects.table import HARNESS_VARIANTS, ONNX_SOURCES, Variant, get_variant


class RunnerCache:
    """Builds each variant once per process; build time and device go to the side report."""

    def __init__(self, settings: BenchSettings, report: SideReport):
        self.settings = settings
        self.report = report
        self.spec = settings.spec()
        self._runners: dict[str, ModelRunner] = {}
        self._onnx_dir: tempfile.TemporaryDirectory | None = None
        self._epochs: dict[str, tuple[HarnessEpoch, float]] = {}
        self.medians: dict[tuple[str, str], float] = {}
        self.first_call_s: dict[tuple[str, str], float] = {}
        self.first_call_memory: dict[tuple[str, str], object] = {}  # MemoryPeak of the first call

    def get(self, variant: Variant) -> ModelRunner:
        if variant.name not in self._runners:
            start = time.perf_counter()
            if variant.runtime == "onnxruntime":
                runner = self._onnx_runner(variant)
            else:
                runner = build_runner(variant, self.spec, self.settings.threads)
            self.report.builds[variant.name] = {
                "build_s": time.perf_counter() - start,
                "device": runner.device,
                "numerics": getattr(runner, "numerics", {}),
                **(runner.trainer.describe() if variant.runtime == "onnxruntime" else {}),
            }
            self._runners[variant.name] = runner
        return self._runners[variant.name]

    def _onnx_runner(self, variant: Variant) -> ModelRunner:
        """The same process's native twin (built once, shared) exported to ONNX, in ONNX Runtime."""
        from common.models.onnx_export import export_twin

        source = self.get(get_variant(ONNX_SOURCES[variant.name]))
        if self._onnx_dir is None:
            self._onnx_dir = tempfile.TemporaryDirectory(prefix="saltbench-onnx-")
        model = export_twin(
            variant.framework, source.trainer.model, self._onnx_dir.name, self.settings.threads
        )
        return ModelRunner(variant, model, model.device)

    def first_call(self, variant: Variant, operation: str, fn: Callable[[], object]) -> float:
        """Run `fn` once, untimed by pytest-benchmark: tracing / compilation happens here."""
        from common.core.memory import MemoryWindow

        key = (variant.name, operation)
        if key not in self.first_call_s:
            window = MemoryWindow(self.get(variant).memory_counter).start()
            start = time.perf_counter()
            fn()
            self.first_call_s[key] = time.perf_counter() - start
            self.first_call_memory[key] = window.stop()
        return self.first_call_s[key]

    def harness_epoch(self, variant: Variant) -> tuple[HarnessEpoch, float]:
        """The variant's harness epoch and its first (untimed) run's seconds: Keras `fit` traces
        its own train function there."""
        if variant.name not in self._epochs:
            runner = self.get(variant)
            epoch = HarnessEpoch(runner, self.settings.train_batch, self.settings.epoch_batches)
            start = time.perf_counter()
            epoch.run()
            self._epochs[variant.name] = (epoch, time.perf_counter() - start)
        return self._epochs[variant.name]

    def close(self) -> None:
        self._epochs.clear()
        self._runners.clear()
        if self._onnx_dir is not None:
            self._onnx_dir.cleanup()


class RooflineCache:
    """fp32 matmul and conv references, measured once per device with the benchmark's thread count,
    or taken from the side report of the run's first process (`shared`) when it measured them."""

    def __init__(self, settings: BenchSettings, report: SideReport, shared: Path | None = None):
        self.settings = settings
        self.report = report
        self.shared = shared

    def _shared(self, key: str) -> dict | None:
        if self.shared is None or not self.shared.is_file():
            return None
        data = json.loads(self.shared.read_text())
        roofline = data.get("rooflines", {}).get(key)
        if roofline is None or roofline.get("threads") != self.settings.threads:
            return None
        return {**roofline, "measured_in": data.get("process", self.shared.name.split(".")[0])}

    def get(self, device: str) -> dict:
        from common.bench.timing.roofline import measure_roofline

        key = "cuda" if device.startswith("cuda") else "cpu"
        if key not in self.report.rooflines and (shared := self._shared(key)) is not None:
            self.report.rooflines[key] = shared
        if key not in self.report.rooflines:
            self.report.rooflines[key] = measure_roofline(self.settings.threads, key).to_dict()
        return self.report.rooflines[key]

    def publish(self, path: Path, process: str) -> None:
        """Measure the roofline of every device this process's variants run on; write it to `path`
        for the run's other processes (atomically: they may look for it at any time)."""
        from common.core.io import atomic_write_json

        for device in sorted({b["device"] for b in self.report.builds.values()} or {"cpu"}):
            self.get(device)
        atomic_write_json(path, {"rooflines": self.report.rooflines, "process": process})


def warm_up(cache: RunnerCache, settings: BenchSettings, contended: bool = True) -> None:
    """Every untimed piece of start-up work, up front: build (and export) each variant, its first
    train and inference call (tracing, compiling), the first harness epoch. `contended`: other
    processes start up at the same time: a framework that can change its thread count (torch)
    then warms up on one, as its OpenMP threads spin-wait badly on an oversubscribed core (a step
    10x slower here); the timed rounds get their thread count back."""
    for variant in settings.variants:
        for operation in ("train", "infer"):
            if skip_reason(variant, operation, settings):
                continue
            runner = cache.get(variant)
            x, y = make_batch(settings.batch(operation))
            step = partial(runner.train, x, y) if operation == "train" else partial(runner.infer, x)
            with runner.limited_threads(1) if contended else contextlib.nullcontext():
                cache.first_call(variant, operation, step)
        if variant.name in HARNESS_VARIANTS and not skip_reason(variant, "epoch", settings):
            runner = cache.get(variant)
            with runner.limited_threads(1) if contended else contextlib.nullcontext():
                cache.harness_epoch(variant)
