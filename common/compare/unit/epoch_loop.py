"""The calls a twin's epoch loop makes on its unit (`fit_epochs(stream, first, stop, loop)`):
reseed and LR at an epoch's start, the LR schedule and the divergence guard per batch, and at
its end validation, the LR/early-stopping decision, checkpoints, drift files and the history."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from common.compare.unit import divergence as guard
from common.core.errors import DivergedError
from common.core.io import atomic_write_json, save_neutral
from common.core.stream import derive_seed
from common.models.schedules import cycle_ends, learning_rate_at
from common.runs.unit_state import STATE

# `session` below is the unit's common.compare.unit.fold.FoldSession (not imported: fold imports this).
FoldSession = Any


class EpochLoop:
    """Both twins follow the same rules here: the twin only runs the steps in between."""

    def __init__(self, session: FoldSession) -> None:
        self.session = session
        self.trainer = session.trainer
        self.recipe = session.recipe
        self.store = session.store
        self.bar: tqdm | None = None
        self.epoch_start = 0.0
        self.fresh_process = True  # the first epoch this process trains is a warm-up
        self.stage_first_epoch = -1  # the epoch a stage starts at (a warm-up too)
        self.epoch: int | None = None  # None until the first epoch of this process begins
        self.batch = self.batches = 0
        self.epoch_lr: float | None = None
        self.lr: float | None = None

    @property
    def stage(self) -> dict[str, Any]:
        return self.recipe["stages"][self.store.state["stage"]]

    def begin_epoch(self, epoch: int, num_batches: int) -> float:
        """Reseed dropout from (seed, fold, epoch), open the progress bar; returns the epoch's LR."""
        s = self.session
        self.trainer.reseed(derive_seed(s.seed, s.fold, epoch, 7))
        self.batches, self.batch = max(int(num_batches), 1), 0
        self.epoch_lr = self.lr = self.scheduled_lr(0)
        self.trainer.set_learning_rate(self.epoch_lr)
        self.epoch = epoch
        if guard.injected_nan_epoch(self.trainer.framework) == epoch + 1:
            self.trainer.set_weights(guard.poisoned(self.trainer.get_weights()))
        self.close_bar()
        self.bar = tqdm(
            total=num_batches,
            desc=f"{self.trainer.framework} seed {s.seed} fold {s.fold} {self.stage['name']} "
            f"epoch {epoch + 1}",
            disable=not s.progress,
            leave=False,
            mininterval=2.0,
        )
        self.epoch_start = time.perf_counter()
        return self.epoch_lr

    def scheduled_lr(self, batch: int) -> float:
        """The stage schedule's LR before `batch` of the current epoch (plateau LR when none)."""
        stage, control = self.stage, self.session.control
        if stage.get("schedule") is None:
            return control.learning_rate
        position = control.epochs_done + batch / self.batches
        return learning_rate_at(
            stage["schedule"], float(stage["learning_rate"]), position, int(stage["epochs"])
        )

    def batch_done(self, loss: float) -> None:
        """Count a step (loss: the epoch's running mean so far); a non-finite loss stops the unit."""
        self.batch += 1
        if not math.isfinite(loss):
            self.diverged(f"training loss {loss}", self.batch)
        if self.stage.get("schedule") is not None and self.batch < self.batches:
            self.lr = self.scheduled_lr(self.batch)
            self.trainer.set_learning_rate(self.lr)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def end_epoch(self, epoch: int, train_loss: float, images: int) -> bool:
        """Validate, decide (best/LR/stop), checkpoint; returns True when training should stop."""
        train_seconds = time.perf_counter() - self.epoch_start
        control, state, directory = self.session.control, self.store.state, self.store.dir
        lr = control.learning_rate if self.epoch_lr is None else self.epoch_lr
        self.epoch = epoch
        if not math.isfinite(train_loss):
            self.diverged(f"training loss {train_loss}", 0)
        weights = self.trainer.get_weights()
        bad = guard.first_nonfinite_weight(weights)
        if bad is not None:
            self.diverged(f"non-finite weight {bad}", 0)
        score, logits = self.session.validate()
        self.record_drift(epoch, logits, weights)
        improved = control.update(epoch, score)
        if improved:
            state["best"] = f"best_e{epoch}.npz"
            save_neutral(directory / state["best"], weights)
        if control.epochs_done in cycle_ends(self.stage.get("schedule"), int(self.stage["epochs"])):
            snapshot = f"snap_s{state['stage']}_e{epoch}.npz"
            save_neutral(directory / snapshot, weights)
            state.setdefault("snapshots", []).append(snapshot)
        checkpoint = f"ckpt_e{epoch}"
        self.trainer.save_checkpoint(directory / checkpoint)
        warmup = self.fresh_process or epoch == self.stage_first_epoch
        self.fresh_process = False
        epoch_wall = time.perf_counter() - self.epoch_start
        self.store.history.append(
            {
                "epoch": epoch,
                "stage": self.stage["name"],
                "loss_name": self.stage["loss"],
                "lr": lr,
                "train_loss": float(train_loss),
                "val_score": score,
                "best": improved,
                "train_seconds": train_seconds,
                "images": images,
                "train_img_s": images / max(train_seconds, 1e-9),
                "warmup": warmup,
                # The unit's wall clock so far: training, validation and checkpoints of every
                # epoch up to this one (process start-up and the throughput probes excluded).
                "wall_seconds": state["wall_s"] + epoch_wall,
            }
        )
        state.update(next_epoch=epoch + 1, control=control.to_dict(), checkpoint=checkpoint)
        state["wall_s"] += epoch_wall
        self.epoch_start = time.perf_counter()
        self.store.commit()
        self.session.curves.epoch(self.store.history[-1])  # TensorBoard: the committed row
        self.report(epoch, train_loss, score, lr, improved)
        return control.stopped

    def report(self, epoch: int, loss: float, score: float, lr: float, improved: bool) -> None:
        if self.bar is not None:
            s = self.session
            self.bar.write(
                f"{self.trainer.framework} fold {s.fold} epoch {epoch + 1}: loss {loss:.4f} "
                f"val score {score:.4f} lr {lr:.2g}{' *' if improved else ''} (seed {s.seed})"
            )

    def diverged(self, what: str, batch: int) -> None:
        """Record the unit as failed (failed.json, state.json) and stop it with one line."""
        self.close_bar()
        s = self.session
        divergence = guard.Divergence(
            framework=self.trainer.framework,
            seed=s.seed,
            fold=s.fold,
            stage=self.stage["name"],
            epoch=int(self.store.state["next_epoch"] if self.epoch is None else self.epoch) + 1,
            batch=int(batch),
            batches=int(self.batches),
            learning_rate=float(s.control.learning_rate if self.lr is None else self.lr),
            what=what,
        )
        directory = self.store.dir
        atomic_write_json(directory / guard.FAILED, divergence.to_dict())
        committed = self.store.committed or self.store.state
        atomic_write_json(directory / STATE, {**committed, "failed": divergence.to_dict()})
        raise DivergedError(divergence.message)

    def record_drift(self, epoch: int, val_logits: np.ndarray, weights) -> None:
        """Leave this epoch's weights and validation masks for the twin drift (common.compare.unit.drift)."""
        from common.compare.unit.drift import drift_pairs, record_epoch

        s = self.session
        record_epoch(
            s.run_dir, self.trainer.framework, s.fold, s.seed, epoch, self.stage["name"],
            weights, val_logits, drift_pairs(s.config),
        )  # fmt: skip

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
