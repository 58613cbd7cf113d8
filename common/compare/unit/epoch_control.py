"""Framework-free epoch control shared by both twins: plateau LR decay, early stopping, best tracking."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

MIN_DELTA = (
    1e-4  # an improvement smaller than this does not count (Keras' default for both callbacks)
)


@dataclass
class StageControl:
    """What Keras' ReduceLROnPlateau + EarlyStopping + ModelCheckpoint(save_best_only) track, as plain data.

    Both twins drive the same object, so both decay and stop on the same rule; it is saved in every
    checkpoint, so a resumed run takes the same decisions as an uninterrupted one.
    """

    learning_rate: float
    factor: float = 0.5
    patience: int = 5
    min_lr: float = 0.0
    stop_patience: int = 10
    best_score: float = -math.inf
    best_epoch: int = -1
    plateau_wait: int = 0
    stop_wait: int = 0
    epochs_done: int = 0
    stopped: bool = False

    @classmethod
    def for_stage(cls, stage: dict[str, Any]) -> StageControl:
        plateau = stage.get("plateau") or {}
        return cls(
            learning_rate=float(stage["learning_rate"]),
            factor=float(plateau.get("factor", 1.0)),
            patience=int(plateau.get("patience", 10**9)),
            min_lr=float(plateau.get("min_lr", 0.0)),
            stop_patience=int(stage.get("early_stopping_patience") or 10**9),
        )

    def update(self, epoch: int, score: float) -> bool:
        """Record an epoch's validation score; returns whether it is the best so far."""
        self.epochs_done += 1
        improved = score > self.best_score + MIN_DELTA or self.best_epoch < 0
        if improved:
            self.best_score, self.best_epoch = float(score), epoch
            self.plateau_wait = self.stop_wait = 0
            return True
        self.plateau_wait += 1
        self.stop_wait += 1
        if self.plateau_wait >= self.patience:
            self.learning_rate = max(self.learning_rate * self.factor, self.min_lr)
            self.plateau_wait = 0
        if self.stop_wait >= self.stop_patience:
            self.stopped = True
        return False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageControl:
        return cls(**data)
