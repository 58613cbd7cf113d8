"""The harness epoch of the model benchmarks: the real training loop (the twin's fit_epochs over
the common batch stream, with the competition metric) around a benchmark runner."""

from __future__ import annotations

import time

import numpy as np

from common.bench.timing.steps import BENCH_LEARNING_RATE, ModelRunner


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


class HarnessEpoch:
    """Training epochs the way the harness runs them, on a stream of `n_batches` batches.

    The runner's own TwinTrainer (the one constructor compare uses) runs its real loop
    (`fit_epochs`: the torch loop, or Keras `fit` over a PyDataset with callbacks) on
    common.core.stream.BatchStream (gather + hflip), with the competition metric at epoch end.
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
        self.twin = runner.trainer
        self.session = BenchSession(self.twin, self.val_masks, self.val_logits, BENCH_LEARNING_RATE)
        self._epoch = 0
        self._seconds: list[float] = []

    @property
    def description(self) -> str:
        return (
            f"{self.runner.variant.framework}_impl.train.TwinTrainer.fit_epochs over "
            "common.core.stream.BatchStream (gather + hflip) + competition metric on "
            "epoch/4 validation tiles (precomputed logits; no validation inference, no checkpoints), "
            f"{self.epochs_per_call} epochs per call as the harness calls it once per stage; epochs "
            "after the first of each call timed as the run's train images/s"
        )

    def run(self) -> None:
        """One call of the real loop over `epochs_per_call` epochs."""
        first, self._epoch = self._epoch, self._epoch + self.epochs_per_call
        self.session.epoch_seconds.clear()
        self.twin.fit_epochs(self.stream, first, self._epoch, self.session)
        self._seconds.extend(self.session.epoch_seconds[1:])

    def loop_seconds(self) -> list[float]:
        """Seconds of each timed epoch (not the first of a call) since the last `reset`."""
        return list(self._seconds)

    def reset(self) -> None:
        self._seconds = []

    def harness_only_seconds(self, repeats: int = 5) -> float:
        """Median time of the epoch's non-step work alone (batches + flips + metric)."""
        from common.core.metric import score_at_threshold

        times = []
        for rep in range(repeats):
            start = time.perf_counter()
            for _batch in self.stream.epoch(1000 + rep):
                pass
            score_at_threshold(self.val_masks, self.val_logits, 0.0)
            times.append(time.perf_counter() - start)
        return float(np.median(times))
