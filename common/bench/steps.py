"""Backend-specific step helpers for the model benchmarks: build a variant, run one synced step."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from common.bench.settings import BenchSettings, SideReport
from common.bench.variants import HARNESS_VARIANTS, ONNX_SOURCES, Variant, get_variant
from common.spec import ResUNetSpec


def make_batch(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random NHWC batch: images in [0, 1] and 0/1 float masks (speed does not depend on content)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 101, 101, 1), dtype=np.float32)
    y = (x > 0.5).astype(np.float32)
    return x, y


class ModelRunner:
    """One variant's Trainer plus the context (autocast, memory format) its steps run under."""

    def __init__(
        self, variant: Variant, trainer, device: str, context: Callable = contextlib.nullcontext
    ):
        self.variant = variant
        self.trainer = trainer
        self.device = device
        self._context = context
        self._sync = _synchronizer(variant, device)
        self.numerics: dict = {}  # TF32 / cuDNN / matmul precision as the framework reads them

    def train(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimiser step; the loss comes back to the host, which waits for the device."""
        with self._context():
            loss = float(self.trainer.train_step(x, y))
        self._sync()
        return loss

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode logits as NumPy (host copy = synchronised)."""
        with self._context():
            logits = self.trainer.predict_logits(x, batch_size=len(x))
        self._sync()
        return logits


def _synchronizer(variant: Variant, device: str) -> Callable[[], None]:
    """Explicit device sync for torch on CUDA (results already come back to host as NumPy/float)."""
    if variant.backend == "torch" and device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


# --- torch twin -------------------------------------------------------------------------------
def _asked_device() -> str:
    """`saltbench bench --device` (the runner passes it on): auto | cpu | cuda."""
    return os.environ.get("SALTBENCH_DEVICE", "auto")


def _torch_device() -> str:
    import torch

    from common.device import resolve

    return resolve(_asked_device(), torch.cuda.is_available(), "torch")


def _torch_autocast(variant: Variant, device: str) -> Callable:
    import torch

    if variant.precision == "fp32":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if variant.precision == "bf16" else torch.float16
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    return lambda: torch.autocast(device_type=device_type, dtype=dtype)


def build_torch_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    import torch

    from torch_impl.device import configure
    from torch_impl.model import build_model
    from torch_impl.steps import Trainer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = _torch_device()
    _, numerics = configure(device, tf32=False, cudnn_benchmark=False)  # as compare runs it
    model = build_model(spec).to(device)
    if variant.channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainer = Trainer(model, jit_compile=variant.jit_compile)
    if variant.precision != "fp32":
        forward = trainer.forward
        trainer.forward = lambda inputs: forward(inputs).float()  # NumPy has no bf16: fp32 logits
    if variant.precision == "fp16":
        trainer = ScaledTrainer(trainer)
    runner = ModelRunner(variant, trainer, device, _torch_autocast(variant, device))
    runner.numerics = numerics
    return runner


class ScaledTrainer:
    """fp16 training step with torch.amp.GradScaler around the twin Trainer's model and optimiser."""

    def __init__(self, trainer):
        import torch

        self.trainer = trainer
        self.scaler = torch.amp.GradScaler("cuda")

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        from torch_impl.steps import to_nchw

        t = self.trainer
        t.model.train()
        t.optimizer.zero_grad(set_to_none=True)
        loss = t.loss_fn(to_nchw(y, t.device), t.forward(to_nchw(x, t.device)))
        self.scaler.scale(loss).backward()
        self.scaler.step(t.optimizer)
        self.scaler.update()
        return float(loss.detach())

    def predict_logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        return self.trainer.predict_logits(x, batch_size)


# --- Keras twin -------------------------------------------------------------------------------
def _keras_device(backend: str) -> str:
    from common.device import resolve

    if backend == "tensorflow":
        import tensorflow as tf

        visible = bool(tf.config.list_physical_devices("GPU"))
        return resolve(_asked_device(), visible, "Keras on tensorflow")
    if backend == "jax":
        import jax

        return resolve(_asked_device(), jax.default_backend() == "gpu", "Keras on jax")
    return _torch_device()


def _pin_keras_threads(backend: str, threads: int) -> None:
    if backend == "tensorflow":
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # already initialised: env vars did it
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)


def build_keras_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    from common.runtime import select_keras_backend

    select_keras_backend(variant.backend)
    _pin_keras_threads(variant.backend, threads)
    import keras

    from keras_impl.model import build_model
    from keras_impl.steps import Trainer

    policy = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}[
        variant.precision
    ]
    from keras_impl.device import configure

    device = _keras_device(variant.backend)
    _, numerics = configure(device, tf32=False, cudnn_benchmark=False)  # as compare runs it
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = build_model(spec)
        trainer = Trainer(model, jit_compile=variant.jit_compile)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    runner = ModelRunner(variant, trainer, device)
    runner.numerics = numerics
    return runner


def build_runner(variant: Variant, spec: ResUNetSpec, threads: int) -> ModelRunner:
    if variant.framework == "torch":
        return build_torch_runner(variant, spec, threads)
    return build_keras_runner(variant, spec, threads)


def skip_reason(variant: Variant, operation: str, settings: BenchSettings) -> str | None:
    """Why `variant` cannot (or should not) run `operation` in this process, else None."""
    not_applicable = variant.not_applicable_reason(operation)
    if not_applicable:
        return f"{variant.name} {operation}: {not_applicable}"
    missing = variant.missing_dependency()
    if missing:
        return f"{variant.name}: {missing}"
    active = os.environ.get("KERAS_BACKEND", "tensorflow")
    if variant.keras_backend and variant.keras_backend != active:
        return (
            f"{variant.name} needs KERAS_BACKEND={variant.keras_backend} (this process has {active}); "
            "`saltbench bench` runs each backend in its own process"
        )
    if variant.gpu_only and _device_for(variant) == "cpu":
        return (
            f"{variant.name}: {variant.precision} mixed precision is GPU-only (no CUDA device here)"
        )
    if settings.quick and variant.quick_skip_reason(operation):
        return f"{variant.name} {operation}: {variant.quick_skip_reason(operation)}"
    return None


def _device_for(variant: Variant) -> str:
    return _torch_device() if variant.framework == "torch" else _keras_device(variant.backend)


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
        from common.bench.onnx_export import export_twin

        source = self.get(get_variant(ONNX_SOURCES[variant.name]))
        if self._onnx_dir is None:
            self._onnx_dir = tempfile.TemporaryDirectory(prefix="saltbench-onnx-")
        model = export_twin(
            variant.framework, source.trainer.model, self._onnx_dir.name, self.settings.threads
        )
        return ModelRunner(variant, model, model.device)

    def first_call(self, variant: Variant, operation: str, fn: Callable[[], object]) -> float:
        """Run `fn` once, untimed by pytest-benchmark: tracing / compilation happens here."""
        from common.memory import MemoryWindow

        key = (variant.name, operation)
        if key not in self.first_call_s:
            window = MemoryWindow(variant.backend, _device_for(variant)).start()
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
        from common.bench.roofline import measure_roofline

        key = "cuda" if device.startswith("cuda") else "cpu"
        if key not in self.report.rooflines and (shared := self._shared(key)) is not None:
            self.report.rooflines[key] = shared
        if key not in self.report.rooflines:
            self.report.rooflines[key] = measure_roofline(self.settings.threads, key).to_dict()
        return self.report.rooflines[key]

    def publish(self, path: Path, process: str) -> None:
        """Measure the roofline of every device this process's variants run on; write it to `path`
        for the run's other processes (atomically: they may look for it at any time)."""
        from common.io import atomic_write_json

        for device in sorted({b["device"] for b in self.report.builds.values()} or {"cpu"}):
            self.get(device)
        atomic_write_json(path, {"rooflines": self.report.rooflines, "process": process})


def _blob_masks(n: int, seed: int) -> np.ndarray:
    """Disc-shaped masks of random centre and radius (about a third empty), bool NHWC."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:101, :101]
    cy, cx = rng.uniform(0, 101, (2, n, 1, 1))
    radius = rng.uniform(0, 40, (n, 1, 1)) * (rng.random((n, 1, 1)) > 0.35)
    return ((yy - cy) ** 2 + (xx - cx) ** 2 < radius**2)[..., None]


class BenchSession:
    """The three calls a twin's real epoch loop makes on its fold session, minus checkpoint writing:
    reseed + LR at epoch start, per-batch progress, the competition metric at epoch end.
    Each epoch is timed like FoldSession times it (end of begin_epoch to start of end_epoch)."""

    def __init__(self, twin, val_masks: np.ndarray, val_logits: np.ndarray, learning_rate: float):
        self.twin = twin
        self.val_masks = val_masks
        self.val_logits = val_logits
        self.learning_rate = learning_rate
        self.scores: list[float] = []
        self.epoch_seconds: list[float] = []
        self._start = 0.0

    def begin_epoch(self, epoch: int, num_batches: int) -> float:
        from common.stream import derive_seed

        self.twin.reseed(derive_seed(0, 0, epoch, 7))
        self.twin.set_learning_rate(self.learning_rate)
        self._start = time.perf_counter()
        return self.learning_rate

    def batch_done(self, loss: float) -> None:
        del loss

    def end_epoch(self, epoch: int, train_loss: float, images: int) -> bool:
        from common.metric import score_at_threshold

        self.epoch_seconds.append(time.perf_counter() - self._start)
        self.scores.append(float(score_at_threshold(self.val_masks, self.val_logits, 0.0)))
        return False


def real_twin_trainer(runner: ModelRunner):
    """The harness's TwinTrainer (keras_impl/torch_impl train.py) wrapped around the runner's model,
    or None when the harness is not installed."""
    try:
        if runner.variant.framework == "torch":
            from torch_impl.train import TwinTrainer
        else:
            from keras_impl.train import TwinTrainer
    except ImportError:
        return None
    twin = object.__new__(TwinTrainer)  # share the already built and traced model
    twin.spec, twin.model, twin.trainer = None, runner.trainer.model, runner.trainer
    if runner.variant.framework == "torch":  # the device the runner built its model on
        import torch

        twin.device, twin.precision = torch.device(runner.device), runner.variant.precision
    else:
        twin.device, twin.precision = runner.device, runner.variant.precision
    return twin


class HarnessEpoch:
    """Training epochs the way the harness runs them, on a stream of `n_batches` batches.

    With the harness installed: its real loop (TwinTrainer.fit_epochs: the torch loop, or Keras
    `fit` over a PyDataset with callbacks) on common.stream.BatchStream (gather + hflip), and the
    competition metric at epoch end. Otherwise the same stream and metric around the bare step.
    Like the harness (one fit_epochs call per recipe stage), each `run` is ONE call over
    `epochs_per_call` epochs; `loop_seconds()` are its epochs after the first, timed as the
    harness times train images/s (the first epoch of a stage is the harness's warm-up).
    Not included: validation inference (that is the inference benchmark) and checkpoint files.
    """

    epochs_per_call = 2  # the first is the warm-up of the call, as in a run; keeps --quick short

    def __init__(self, runner: ModelRunner, batch: int, n_batches: int, seed: int = 0):
        from common.stream import BatchStream

        n = batch * n_batches
        rng = np.random.default_rng(seed)
        images = rng.random((n, 101, 101, 1), dtype=np.float32)
        self.runner = runner
        self.stream = BatchStream(images, _blob_masks(n, seed), batch, seed, hflip=True)
        n_val = max(1, n // 4)
        self.val_masks = _blob_masks(n_val, seed + 1)
        self.val_logits = rng.normal(size=(n_val, 101, 101, 1)).astype(np.float32)
        self.twin = real_twin_trainer(runner)
        if self.twin is not None:
            lr = runner.trainer.learning_rate
            self.session = BenchSession(self.twin, self.val_masks, self.val_logits, lr)
        self._epoch = 0
        self._seconds: list[float] = []

    @property
    def description(self) -> str:
        if self.twin is not None:
            loop = f"{self.runner.variant.framework}_impl.train.TwinTrainer.fit_epochs"
        else:
            loop = "bare-step loop (harness train.py not installed)"
        return (
            f"{loop} over common.stream.BatchStream (gather + hflip) + competition metric on "
            "epoch/4 validation tiles (precomputed logits; no validation inference, no checkpoints), "
            f"{self.epochs_per_call} epochs per call as the harness calls it once per stage; epochs "
            "after the first of each call timed as the run's train images/s"
        )

    def _metric(self) -> float:
        from common.metric import score_at_threshold

        return float(score_at_threshold(self.val_masks, self.val_logits, 0.0))

    def run(self) -> None:
        """One call of the real loop over `epochs_per_call` epochs (or the fallback loop)."""
        first, self._epoch = self._epoch, self._epoch + self.epochs_per_call
        if self.twin is not None:
            self.session.epoch_seconds.clear()
            self.twin.fit_epochs(self.stream, first, self._epoch, self.session)
            self._seconds.extend(self.session.epoch_seconds[1:])
            return
        for epoch in range(first, self._epoch):
            start = time.perf_counter()
            for x, y in self.stream.epoch(epoch):
                self.runner.train(x, y)
            self._metric()
            if epoch > first:
                self._seconds.append(time.perf_counter() - start)

    def loop_seconds(self) -> list[float]:
        """Seconds of each timed epoch (not the first of a call) since the last `reset`."""
        return list(self._seconds)

    def reset(self) -> None:
        self._seconds = []

    def harness_only_seconds(self, repeats: int = 5) -> float:
        """Median time of the epoch's non-step work alone (batches + flips + metric)."""
        times = []
        for rep in range(repeats):
            start = time.perf_counter()
            for _batch in self.stream.epoch(1000 + rep):
                pass
            self._metric()
            times.append(time.perf_counter() - start)
        return float(np.median(times))


@contextlib.contextmanager
def _one_torch_thread(active: bool):
    """Warm-up runs beside the other processes' start-up: torch's OpenMP threads spin-wait badly
    on an oversubscribed core (a step 10x slower here), so its untimed first calls use one thread;
    the thread count the timed rounds use is restored afterwards."""
    if not active:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def warm_up(cache: RunnerCache, settings: BenchSettings, contended: bool = True) -> None:
    """Every untimed piece of start-up work, up front: build (and export) each variant, its first
    train and inference call (tracing, compiling), the first harness epoch. `contended`: other
    processes start up at the same time (torch then warms up on one thread)."""
    for variant in settings.variants:
        torch_backed = contended and variant.backend == "torch" and variant.runtime == "native"
        for operation in ("train", "infer"):
            if skip_reason(variant, operation, settings):
                continue
            runner = cache.get(variant)
            x, y = make_batch(settings.batch(operation))
            step = partial(runner.train, x, y) if operation == "train" else partial(runner.infer, x)
            with _one_torch_thread(torch_backed):
                cache.first_call(variant, operation, step)
        if variant.name in HARNESS_VARIANTS and not skip_reason(variant, "epoch", settings):
            with _one_torch_thread(torch_backed):
                cache.harness_epoch(variant)
