"""One subject x unit (fold, seed): staged training with per-epoch checkpoints (exact resume), then
OOF evaluation.

The twins' train.py modules supply a `TwinTrainer` (declared in common.models.twin: build, one
training epoch loop, prediction, native checkpoints); everything else follows the same rules for
every subject and lives in four modules with one job each: this one runs the stages and restores
the committed weights; common.runs.unit_state keeps the unit's state, history and checkpoint files; `epoch_loop` is what
a twin's loop calls every epoch and batch (schedule, validation, checkpoints, drift); `evaluate`
scores the trained unit.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from common.compare.unit.curves import UnitCurves, unit_events_dir, unit_hparams
from common.compare.unit.epoch_control import StageControl
from common.compare.unit.epoch_loop import EpochLoop
from common.compare.unit.evaluate import evaluate_unit
from common.core.errors import CorruptFileError, DivergedError, warn
from common.core.io import UNREADABLE, load_neutral, save_neutral
from common.core.memory import MemoryWindow
from common.core.stream import BatchStream, derive_seed
from common.models.schedules import snapshots_to_average
from common.models.twin import TwinTrainer
from common.runs import dataset as rundata
from common.runs import rundir
from common.runs.locks import FolderLock
from common.runs.unit_state import FOLD_METRICS, UnitState, fresh_state


class FoldSession:
    """Trains and evaluates one subject on one unit inside a run directory, resuming where it stopped."""

    def __init__(
        self,
        run_dir: Path,
        config: dict[str, Any],
        fold: int,
        trainer: TwinTrainer,
        data: rundata.RunData,
        *,
        seed: int | None = None,
        progress: bool = True,
        perturb_init=None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.perturb_init = perturb_init  # the noise-floor copy: initial weights moved one ulp
        self.config = config
        self.recipe = config["recipe"]
        self.fold = fold
        self.trainer = trainer
        self.data = data
        self.progress = progress
        # The unit's seed drives its batch stream and dropout (its init weights come from the run).
        self.seed = int(self.recipe["train"]["seed"]) if seed is None else int(seed)
        self.dir = rundir.unit_dir(self.run_dir, trainer.framework, fold, self.seed)
        self.dir.mkdir(parents=True, exist_ok=True)
        folds = rundata.run_folds(self.run_dir, config, data)
        self.train_idx, self.val_idx = rundata.fold_indices(folds, data.train_ids, fold)
        self.val_images = data.images[self.val_idx]
        self.val_masks = data.masks[self.val_idx]
        self.store = UnitState(self.dir)
        framework = trainer.framework
        self.curves = UnitCurves(
            unit_events_dir(self.run_dir, framework, fold, self.seed),
            unit_hparams(config, framework, fold, self.seed),
        )
        self.control: StageControl | None = None
        self.loop = EpochLoop(self)

    @property
    def state(self) -> dict[str, Any]:
        return self.store.state

    def run(self) -> dict[str, Any]:
        """Train every remaining stage, evaluate, and return the unit's metrics.

        Holds the unit folder's lock throughout: a second process on this unit is refused.
        """
        with FolderLock(self.dir, f"{self.trainer.framework} worker, fold {self.fold}"):
            self.memory = MemoryWindow().start()  # the unit's peak RSS (evaluate_unit reads it)
            self.store.load()
            if self.state.get("failed"):
                raise DivergedError(self.state["failed"]["message"])
            if self.state["done"]:
                with contextlib.suppress(*UNREADABLE):
                    return json.loads((self.dir / FOLD_METRICS).read_text())
                warn(f"{self.dir / FOLD_METRICS}: unreadable; evaluating the fold again")
            self._restore()
            self.curves.start(self.store.history)  # the committed epochs, each once
            try:
                stages = self.recipe["stages"]
                while self.state["stage"] < len(stages):
                    self._run_stage(self.state["stage"], stages[self.state["stage"]])
            finally:
                self.curves.close()
            return evaluate_unit(self)

    def validate(self) -> tuple[float, np.ndarray]:
        """The epoch's validation score (logit 0, no TTA) and the logits it was computed from."""
        from common.core.metric import score_at_threshold

        batch = int(self.recipe["eval"]["batch_size"])
        logits = self.trainer.predict_logits(self.val_images, batch)
        return float(score_at_threshold(self.val_masks, logits, 0.0)), logits

    # ---- restoring the committed weights -----------------------------------------------------
    def _restore(self) -> None:
        """Load the committed weights; a damaged file falls back to the commit before it."""
        while True:
            try:
                return self._restore_committed()
            except CorruptFileError as err:
                if not self.state["checkpoint"] and not self.state["stage_best"]:
                    raise  # the run's initial weights: nothing earlier to fall back to
                earlier = self.store.earlier()
                if earlier is None:
                    warn(f"{err}; no earlier checkpoint left, training this fold from the start")
                    self.store.roll_back(fresh_state())
                else:
                    warn(f"{err}; resuming from the checkpoint of epoch {earlier['next_epoch']}")
                    self.store.roll_back(earlier)
                self.control = None

    def _restore_committed(self) -> None:
        stage = self.state["stage"]
        if self.state["checkpoint"]:
            spec = self.recipe["stages"][stage]
            self.control = StageControl.from_dict(self.state["control"])
            self.trainer.start_stage(spec["loss"], self.control.learning_rate)
            path = self.dir / self.state["checkpoint"]
            try:
                self.trainer.load_checkpoint(path)
            except UNREADABLE as err:
                named = next(iter(sorted(self.dir.glob(f"{path.name}.*"))), path)
                raise CorruptFileError(named, err) from err
            if self.state["best"]:
                load_neutral(self.dir / self.state["best"])  # read it now: damaged, fall back now
        elif self.state["stage_best"]:
            self.trainer.set_weights(load_neutral(self.dir / self.state["stage_best"][-1]))
        else:
            weights = load_neutral(rundir.init_weights_path(self.run_dir, self.seed))
            self.trainer.set_weights(self.perturb_init(weights) if self.perturb_init else weights)

    # ---- the stages --------------------------------------------------------------------------
    def _run_stage(self, index: int, stage: dict[str, Any]) -> None:
        if self.control is None:
            self.control = StageControl.for_stage(stage)
            self.trainer.start_stage(stage["loss"], self.control.learning_rate)
        remaining = int(stage["epochs"]) - self.control.epochs_done
        if remaining > 0 and not self.control.stopped:
            subset = rundata.stage_subset(
                self.data.masks, self.train_idx, stage.get("exclude_coverage_below")
            )
            stream = BatchStream(
                self.data.images[subset],
                self.data.masks[subset],
                int(self.recipe["train"]["batch_size"]),
                derive_seed(self.seed, self.fold, index),
                hflip=bool(self.recipe["train"]["hflip"]),
            )
            first = self.state["next_epoch"]
            self.loop.stage_first_epoch = first if self.control.epochs_done == 0 else -1
            self.trainer.fit_epochs(stream, first, first + remaining, self.loop)
            self.loop.close_bar()
            self._probe_bare_steps(stream, stage["name"])
        self._end_stage()

    def _probe_bare_steps(self, stream: BatchStream, stage_name: str) -> None:
        """Time a short burst of bare training steps at this stage's settings (model, loss, batch,
        threads), then put the weights back; _end_stage reloads the stage's best weights from disk
        and the next stage gets a fresh optimiser, so the run's results do not depend on the probe."""
        from common.compare.unit.step_timing import time_bare_steps

        weights = self.trainer.get_weights()
        batches = (stream.batch(e, i) for e in range(10**6) for i in range(stream.num_batches))
        probe = time_bare_steps(self.trainer.train_step, batches)
        self.trainer.set_weights(weights)
        probes = [p for p in self.state.get("step_probes", []) if p["stage"] != stage_name]
        self.state["step_probes"] = [*probes, {"stage": stage_name, **probe}]

    def _end_stage(self) -> None:
        """Keep the stage's best weights (the kernels reload the best model between stages).

        A snapshot-ensembling stage (cosine cycles) keeps its last snapshot instead: its
        evaluation averages the snapshots, not the best single epoch.
        """
        stage = self.recipe["stages"][self.state["stage"]]
        snapshots = self.state.setdefault("snapshots", [])
        if snapshots_to_average(stage.get("schedule")) and snapshots:
            self.trainer.set_weights(load_neutral(self.dir / snapshots[-1]))
            self.state["stage_best"].append(snapshots[-1])
        elif self.state["best"]:
            self.trainer.set_weights(load_neutral(self.dir / self.state["best"]))
            self.state["stage_best"].append(self.state["best"])
        else:  # a stage with no epochs: carry the current weights on
            name = f"best_e{self.state['next_epoch']}_s{self.state['stage']}.npz"
            save_neutral(self.dir / name, self.trainer.get_weights())
            self.state["stage_best"].append(name)
        self.state.update(stage=self.state["stage"] + 1, control=None, checkpoint=None, best=None)
        self.control = None
        self.store.commit()
