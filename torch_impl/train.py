"""PyTorch twin of keras_impl/train.py; follows common.recipes.resolve (a plain loop over the common stream)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch

FRAMEWORK = "torch"


class TwinTrainer:
    """The PyTorch side of a fold: build, loop epochs over the common stream, predict, checkpoint."""

    framework = FRAMEWORK

    def __init__(self, spec, mode, *, seed: int, exact_twins: bool = False) -> None:
        """`mode`: the common.models.execution.ExecutionMode (device, precision, compile, layout,
        threads); `exact_twins`: both twins update with one Adam rule and one dropout mask."""
        _pin_backend_threads(mode.threads)
        from common.core.device import resolve_precision
        from torch_impl.device import configure

        self.mode = mode
        self.device, self.numerics = configure(
            mode.device, tf32=mode.tf32, cudnn_benchmark=mode.cudnn_benchmark
        )
        precision, why = resolve_precision(mode.precision, self.device.type)
        self.numerics["precision"] = self.precision = precision
        self.numerics["precision_choice"] = why
        # exact-twin mode: torch's Adam rule in both twins (the spec carries the shared masks)
        self.optimizer = "adam_matched" if exact_twins else "adam"
        self.numerics["exact_twins"] = bool(exact_twins)
        self.jit_compile = self.numerics["jit_compile"] = bool(mode.jit_compile)
        torch.manual_seed(seed)
        from torch_impl.model import build_model

        self.spec = spec
        self.model = build_model(spec).to(self.device)
        if mode.layout == "nhwc":  # NHWC memory, as Keras computes; same weights, round-off apart
            self.model = self.model.to(memory_format=torch.channels_last)
        self.trainer = None

    def backend(self) -> str:
        return "torch"

    def versions(self) -> dict[str, str]:
        return {"torch": torch.__version__, "numpy": np.__version__}

    def get_weights(self) -> dict[str, np.ndarray]:
        from torch_impl.weights import export_weights

        return export_weights(self.model)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        from torch_impl.weights import import_weights

        import_weights(self.model, weights)

    def start_stage(self, loss: str, learning_rate: float) -> None:
        """A fresh optimiser and loss for a recipe stage (under torch.compile when jit_compile)."""
        from torch_impl.steps import Trainer

        self.trainer = Trainer(
            self.model,
            loss=loss,
            optimizer=self.optimizer,
            learning_rate=learning_rate,
            precision=self.precision,
            jit_compile=self.jit_compile,
        )

    def reseed(self, seed: int) -> None:
        """Seed torch's generator (dropout) from `seed`, so an epoch's masks depend on the epoch alone."""
        torch.manual_seed(seed)
        from torch_impl.layers import SharedMaskDropout, mask_counter_start

        for module in self.model.modules():  # exact-twin dropout: the counter starts at the seed
            if isinstance(module, SharedMaskDropout):
                module.counter.fill_(mask_counter_start(seed))

    def set_learning_rate(self, learning_rate: float) -> None:
        self.trainer.learning_rate = learning_rate

    def fit_epochs(self, stream, first: int, stop: int, session) -> None:
        """Epochs first..stop-1 of the stream, one optimiser step per batch; the session may stop early.

        On a GPU the stage's tiles go to the device once (DeviceBatches) and batches are
        gathered there; on the CPU the NumPy batches are used as they are.
        """
        from torch_impl.device import DeviceBatches, synchronize

        on_device = None
        if self.device.type != "cpu":
            on_device = DeviceBatches(stream, self.device, self.trainer.memory_format)
        for epoch in range(first, stop):
            session.begin_epoch(epoch, stream.num_batches)
            losses = []
            if on_device is None:
                batches = ((x, y, self.trainer.train_step) for x, y in stream.epoch(epoch))
            else:
                batches = ((x, y, self.trainer.train_step_nchw) for x, y in on_device.epoch(epoch))
            for x, y, step in batches:
                losses.append(step(x, y))
                session.batch_done(float(np.mean(losses)))
            synchronize(self.device)  # the epoch's clock stops on finished device work
            if session.end_epoch(epoch, float(np.mean(losses)), stream.images_per_epoch):
                break

    def synchronize(self) -> None:
        """Wait for this trainer's device, so a clock stopped next measures finished work."""
        from torch_impl.device import synchronize

        synchronize(self.device)

    def reset_device_peak(self) -> None:
        """Restart the device allocator's peak counter (a bench memory window opens)."""
        from torch_impl.device import reset_peak_memory

        reset_peak_memory(self.device)

    @property
    def device_memory_method(self) -> str | None:
        from torch_impl.device import peak_memory_method

        return peak_memory_method(self.device)

    def device_peak_mib(self) -> float | None:
        """Allocator-level peak device memory of this unit (None on the CPU)."""
        from torch_impl.device import peak_memory_mib

        return peak_memory_mib(self.device)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One bare optimiser step of the current stage (the harness's overhead probe)."""
        return self.trainer.train_step(x, y)

    def predict_logits(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Inference-mode logits, NHWC (the stage's Trainer when there is one)."""
        if self.trainer is None:
            from torch_impl.steps import Trainer

            self.trainer = Trainer(self.model, precision=self.precision)
        return np.asarray(self.trainer.predict_logits(images, batch_size=batch_size), np.float32)

    def save_checkpoint(self, path: Path) -> None:
        """Model state (BN statistics included) and the optimiser state."""
        import io

        from common.core.io import atomic_write_bytes

        buffer = io.BytesIO()
        state = {"model": self.model.state_dict(), "optimizer": self.trainer.optimizer.state_dict()}
        torch.save(state, buffer)
        atomic_write_bytes(Path(f"{path}.pt"), buffer.getvalue())

    def load_checkpoint(self, path: Path) -> None:
        state = torch.load(f"{path}.pt", map_location="cpu", weights_only=True)
        self.model.load_state_dict(state["model"])
        self.trainer.optimizer.load_state_dict(state["optimizer"])


def _pin_backend_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # already set by an earlier fold in this process
        torch.set_num_interop_threads(1)
