"""The harness epoch of the model benchmarks: the real training loop (the twin's fit_epochs over
the common batch stream, with the competition metric) around a benchmark runner."""

from __future__ import annotations

import time

import numpy as np

from common.bench.steps import ModelRunner


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
        from common.core.stream import derive_seed

        self.twin.reseed(derive_seed(0, 0, epoch, 7))
        self.twin.set_learning_rate(self.learning_rate)
        self._start = time.perf_counter()
        return self.learning_rate

    def batch_done(self, loss: float) -> None:
        del loss

    def end_epoch(self, epoch: int, train_loss: float, images: int) -> bool:
        from common.core.metric import score_at_threshold

        self.epoch_seconds.append(time.perf_counter() - self._start)
        self.scores.append(float(score_at_threshold(self.val_masks, self.val_logits, 0.0)))
        return False


def real_twin_trainer(runner: ModelRunner):
    """The harness's TwinTrainer (keras_impl/torch_impl train.py) wrapped around the runner's model,
    or None when the harness is not installed."""
    from common.models.twin import load_twin

    try:
        TwinTrainer = load_twin(runner.variant.framework).trainer_class  # noqa: N806
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
    `fit` over a PyDataset with callbacks) on common.core.stream.BatchStream (gather + hflip), and the
    competition metric at epoch end. Otherwise the same stream and metric around the bare step.
    Like the harness (one fit_epochs call per recipe stage), each `run` is ONE call over
    `epochs_per_call` epochs; `loop_seconds()` are its epochs after the first, timed as the
    harness times train images/s (the first epoch of a stage is the harness's warm-up).
    Not included: validation inference (that is the inference benchmark) and checkpoint files.
    """

    epochs_per_call = 2  # the first is the warm-up of the call, as in a run; keeps --quick short

    def __init__(self, runner: ModelRunner, batch: int, n_batches: int, seed: int = 0):
        from common.core.stream import BatchStream

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
            f"{loop} over common.core.stream.BatchStream (gather + hflip) + competition metric on "
            "epoch/4 validation tiles (precomputed logits; no validation inference, no checkpoints), "
            f"{self.epochs_per_call} epochs per call as the harness calls it once per stage; epochs "
            "after the first of each call timed as the run's train images/s"
        )

    def _metric(self) -> float:
        from common.core.metric import score_at_threshold

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
