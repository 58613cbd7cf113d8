"""The divergence guard both twins share: a non-finite loss or weight stops that framework's unit.

One rule for both frameworks, applied by FoldSession: every batch loss the twin hands to
`batch_done` must be finite (both twins hand a running mean, so a NaN step stays visible), and
every weight must be finite at each epoch end. The first violation raises `DivergedError` with one
line naming framework, seed, fold, stage, epoch, batch and learning rate; `failed.json` records it.

Fault injection (tests only): SALTBENCH_INJECT_NAN="<framework>:<epoch>" (epoch counted from 1)
poisons the weights as that epoch begins, so the guard must catch the NaN the next step produces.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from common.core.errors import DivergedError

FAILED = "failed.json"
INJECT_ENV = "SALTBENCH_INJECT_NAN"


@dataclass(frozen=True)
class Divergence:
    """Where training blew up; `message` is the line the user sees."""

    framework: str
    seed: int
    fold: int
    stage: str
    epoch: int  # counted from 1, as in the progress lines
    batch: int  # counted from 1; 0 means "at the epoch end"
    batches: int
    learning_rate: float
    what: str

    @property
    def message(self) -> str:
        where = f"batch {self.batch}/{self.batches}" if self.batch else "epoch end"
        return (
            f"{self.framework} seed {self.seed} fold {self.fold} diverged: {self.what} in stage "
            f"{self.stage}, "
            f"epoch {self.epoch}, {where}, learning rate {self.learning_rate:.3g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}


def is_finite_loss(loss: float) -> bool:
    return math.isfinite(loss)


def first_nonfinite_weight(weights: dict[str, np.ndarray]) -> str | None:
    """The name of the first weight array holding a NaN or an infinity (None when all are finite)."""
    for name, array in weights.items():
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return name
    return None


def raise_diverged(divergence: Divergence) -> None:
    raise DivergedError(divergence.message)


def injected_nan_epoch(framework: str) -> int | None:
    """The epoch (from 1) at which a test asked to poison this framework's weights, if any."""
    text = os.environ.get(INJECT_ENV, "")
    name, _, epoch = text.partition(":")
    return int(epoch) if name == framework and epoch.isdigit() else None


def poisoned(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same weights with every float array set to NaN (fault injection)."""
    return {k: np.full_like(v, np.nan) if v.dtype.kind == "f" else v for k, v in weights.items()}
