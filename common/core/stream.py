"""One deterministic batch stream for both twins: order and flips depend only on (seed, epoch, batch index)."""

from __future__ import annotations

import numpy as np


def derive_seed(*parts: int) -> int:
    """A 32-bit seed mixed from integer parts (recipe seed, fold, stage, epoch...)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class BatchStream:
    """Training batches as NHWC NumPy arrays: shuffled order and horizontal flips drawn per epoch from a seed.

    Nothing is stateful: `batch(epoch, index)` can be asked in any order and always answers the same,
    which is what makes resuming a killed run exact and lets Keras and PyTorch see identical batches.
    """

    def __init__(
        self,
        images: np.ndarray,
        masks: np.ndarray,
        batch_size: int,
        seed: int,
        *,
        hflip: bool = True,
        drop_last: bool = True,
    ) -> None:
        if len(images) != len(masks):
            raise ValueError(f"images ({len(images)}) and masks ({len(masks)}) differ in length")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.images = images
        self.masks = masks
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.hflip = hflip
        self.drop_last = drop_last and len(images) >= batch_size

    def __len__(self) -> int:
        return self.num_batches

    @property
    def num_batches(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def images_per_epoch(self) -> int:
        return min(len(self.images), self.num_batches * self.batch_size)

    def epoch_plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(order, flip) for an epoch: a permutation of the items and one flip decision per item."""
        rng = np.random.default_rng(derive_seed(self.seed, epoch))
        order = rng.permutation(len(self.images))
        flip = (
            rng.random(len(self.images)) < 0.5 if self.hflip else np.zeros(len(self.images), bool)
        )
        return order, flip

    def batch_indices(self, epoch: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Item indices and flip flags of batch `index` in `epoch`."""
        if not 0 <= index < self.num_batches:
            raise IndexError(f"batch {index} out of range 0..{self.num_batches - 1}")
        order, flip = self.epoch_plan(epoch)
        sl = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return order[sl], flip[order[sl]]

    def batch(self, epoch: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(x float32 NHWC, y float32 0/1 NHWC) for batch `index` of `epoch`."""
        items, flip = self.batch_indices(epoch, index)
        x = np.array(self.images[items], dtype=np.float32)
        y = np.array(self.masks[items], dtype=np.float32)
        x[flip] = x[flip, :, ::-1]
        y[flip] = y[flip, :, ::-1]
        return x, y

    def epoch(self, epoch: int, start: int = 0):
        """Iterate the batches of `epoch` from batch `start` on."""
        for index in range(start, self.num_batches):
            yield self.batch(epoch, index)
