"""One framework x fold: staged training with per-epoch checkpoints (exact resume), then OOF evaluation.

The twins' train.py modules supply a `TwinTrainer` (the framework part: build, one training epoch loop,
prediction, native checkpoints); everything else — data, stages, LR/early-stopping decisions, history,
checkpoints' bookkeeping, evaluation — lives here, so both frameworks follow the same rules.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from common.errors import CorruptFileError, DivergedError, warn
from common.harness import data as rundata
from common.harness import guard, rundir
from common.harness.control import StageControl
from common.harness.evaluate import inference_throughput, predict_tta, search_on_logits
from common.harness.honesty import (
    DEFAULT_TARGETS,
    cross_fitted_score,
    is_true,
    step_throughput,
    time_to_targets,
    timed_rows,
)
from common.harness.locks import FolderLock
from common.io import (
    UNREADABLE,
    atomic_write_csv,
    atomic_write_json,
    load_neutral,
    save_arrays,
    save_neutral,
)
from common.postprocess import area_grid
from common.recipes import threshold_grid
from common.schedules import cycle_ends, learning_rate_at, snapshots_to_average
from common.stream import BatchStream, derive_seed

STATE = "state.json"
# The commit before state.json: the fallback when the files state.json names are damaged.
PREV_STATE = "state.prev.json"
HISTORY = "history.csv"
OPTIONAL_HISTORY_COLUMNS = ("wall_seconds",)  # empty in rows written before the column existed
FOLD_METRICS = "fold_metrics.json"
BEST_MODEL = "model_best.npz"


class TwinTrainer(Protocol):
    """What keras_impl/train.py and torch_impl/train.py each provide (same names in both)."""

    framework: str

    def backend(self) -> str: ...
    def versions(self) -> dict[str, str]: ...
    def get_weights(self) -> dict[str, np.ndarray]: ...
    def set_weights(self, weights: dict[str, np.ndarray]) -> None: ...
    def start_stage(self, loss: str, learning_rate: float) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def set_learning_rate(self, learning_rate: float) -> None: ...
    def fit_epochs(
        self, stream: BatchStream, first: int, stop: int, session: FoldSession
    ) -> None: ...
    def predict_logits(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray: ...
    def train_step(self, x: np.ndarray, y: np.ndarray) -> float: ...
    def save_checkpoint(self, path: Path) -> None: ...
    def load_checkpoint(self, path: Path) -> None: ...


class FoldSession:
    """Trains and evaluates one framework on one fold inside a run directory, resuming where it stopped."""

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
        self.state = self._fresh_state()
        self.history: list[dict[str, Any]] = []
        self._committed: dict[str, Any] | None = None
        self.control: StageControl | None = None
        self._bar: tqdm | None = None
        self._epoch_start = 0.0
        self._fresh_process = True

    # ---- state -----------------------------------------------------------------------------
    @staticmethod
    def _fresh_state() -> dict[str, Any]:
        return {
            "stage": 0,
            "next_epoch": 0,
            "control": None,
            "checkpoint": None,
            "best": None,
            "stage_best": [],
            "done": False,
            "wall_s": 0.0,
            "snapshots": [],
            "history": [],
        }

    def _read_state(self, name: str) -> dict[str, Any]:
        path = self.dir / name
        try:
            state = json.loads(path.read_text())
            for key in ("stage", "next_epoch", "checkpoint", "best", "stage_best", "done"):
                state[key]  # noqa: B018  (a state without its keys is damaged)
        except (*UNREADABLE, TypeError) as err:
            raise CorruptFileError(path, err) from err
        return state

    def _load_state(self) -> dict[str, Any]:
        """state.json, else (damaged) the commit before it, else (none readable) a fresh start."""
        names = [n for n in (STATE, PREV_STATE) if (self.dir / n).is_file()]
        for k, name in enumerate(names):
            try:
                state = self._read_state(name)
                self._state_file = name
                return state
            except CorruptFileError as err:
                if k + 1 < len(names):
                    warn(f"{err}; resuming from {self.dir / names[k + 1]}")
                else:
                    warn(f"{err}; no earlier state left, training this fold from the start")
        return self._fresh_state()

    def _load_history(self) -> list[dict[str, Any]]:
        """The history committed with the state (older runs: history.csv), cut at the state's epoch."""
        path = self.dir / HISTORY
        rows = self.state.get("history")
        if rows is None:  # a state written before history moved into it
            try:
                rows = pd.read_csv(path).to_dict("records") if path.is_file() else []
            except (*UNREADABLE, pd.errors.ParserError) as err:
                warn(f"{CorruptFileError(path, err)}; its epochs are lost")
                rows = []
        elif path.is_file() and not _history_readable(path, len(rows)):
            source = self.dir / getattr(self, "_state_file", STATE)
            warn(f"{CorruptFileError(path, 'cannot parse')}; rebuilt from {source}")
            atomic_write_csv(path, pd.DataFrame(rows))
        return [r for r in rows if int(r["epoch"]) < self.state["next_epoch"]]

    def _commit(self) -> None:
        """Write history, the previous state, then state.json (the commit point); drop unused files.

        The previous commit stays loadable (its state and checkpoint are kept), so a damaged
        checkpoint costs one epoch, not the fold.
        """
        self.state["history"] = self.history
        atomic_write_csv(self.dir / HISTORY, pd.DataFrame(self.history))
        previous = self._committed
        if previous is not None:
            atomic_write_json(self.dir / PREV_STATE, previous)
        atomic_write_json(self.dir / STATE, self.state)
        self._committed = json.loads(json.dumps(self.state, default=str))
        keep = {name for state in (previous or {}, self.state) for name in _referenced(state)}
        keep = {name.split(".")[0] for name in keep}  # checkpoints carry the twin's suffix
        for path in [*self.dir.glob("ckpt_e*"), *self.dir.glob("best_e*.npz")]:
            if path.name.split(".")[0] not in keep:
                path.unlink(missing_ok=True)

    # ---- the run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train every remaining stage, evaluate, and return the fold metrics.

        Holds the fold folder's lock throughout: a second process on this fold is refused.
        """
        with FolderLock(self.dir, f"{self.trainer.framework} worker, fold {self.fold}"):
            self.state = self._load_state()
            self.history = self._load_history()
            self._committed = json.loads(json.dumps(self.state, default=str))
            if self.state.get("failed"):
                raise DivergedError(self.state["failed"]["message"])
            if self.state["done"]:
                with contextlib.suppress(*UNREADABLE):
                    return json.loads((self.dir / FOLD_METRICS).read_text())
                warn(f"{self.dir / FOLD_METRICS}: unreadable; evaluating the fold again")
            self._restore()
            stages = self.recipe["stages"]
            while self.state["stage"] < len(stages):
                self._run_stage(self.state["stage"], stages[self.state["stage"]])
            return self._evaluate()

    def _restore(self) -> None:
        """Load the committed weights; a damaged file falls back to the commit before it."""
        while True:
            try:
                return self._restore_committed()
            except CorruptFileError as err:
                if not self.state["checkpoint"] and not self.state["stage_best"]:
                    raise  # the run's initial weights: nothing earlier to fall back to
                earlier = self._earlier_state()
                if earlier is None:
                    warn(f"{err}; no earlier checkpoint left, training this fold from the start")
                    self.state = self._fresh_state()
                else:
                    warn(f"{err}; resuming from the checkpoint of epoch {earlier['next_epoch']}")
                    self.state = earlier
                self.history = [r for r in self.history if r["epoch"] < self.state["next_epoch"]]
                self._committed = json.loads(json.dumps(self.state, default=str))
                self.control = None

    def _earlier_state(self) -> dict[str, Any] | None:
        """The commit before the current state, when it is readable and older."""
        with contextlib.suppress(CorruptFileError):
            if (self.dir / PREV_STATE).is_file():
                earlier = self._read_state(PREV_STATE)
                if earlier["next_epoch"] < self.state["next_epoch"] or (
                    earlier["stage"] < self.state["stage"]
                ):
                    return earlier
        return None

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
            self._stage_first_epoch = first if self.control.epochs_done == 0 else -1
            self.trainer.fit_epochs(stream, first, first + remaining, self)
            self._close_bar()
            self._probe_bare_steps(stream, stage["name"])
        self._end_stage()

    def _probe_bare_steps(self, stream: BatchStream, stage_name: str) -> None:
        """Time a short burst of bare training steps at this stage's settings (model, loss, batch,
        threads), then put the weights back; _end_stage reloads the stage's best weights from disk
        and the next stage gets a fresh optimiser, so the run's results do not depend on the probe."""
        from common.harness.honesty import time_bare_steps

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
        self._commit()

    # ---- called by the twins' epoch loops --------------------------------------------------
    def begin_epoch(self, epoch: int, num_batches: int) -> float:
        """Reseed dropout from (seed, fold, epoch), open the progress bar; returns the epoch's LR."""
        self.trainer.reseed(derive_seed(self.seed, self.fold, epoch, 7))
        self._batches, self._batch = max(int(num_batches), 1), 0
        self._epoch_lr = self._lr = self._scheduled_lr(0)
        self.trainer.set_learning_rate(self._epoch_lr)
        self._epoch = epoch
        if guard.injected_nan_epoch(self.trainer.framework) == epoch + 1:
            self.trainer.set_weights(guard.poisoned(self.trainer.get_weights()))
        stage = self.recipe["stages"][self.state["stage"]]
        self._close_bar()
        self._bar = tqdm(
            total=num_batches,
            desc=f"{self.trainer.framework} seed {self.seed} fold {self.fold} {stage['name']} "
            f"epoch {epoch + 1}",
            disable=not self.progress,
            leave=False,
            mininterval=2.0,
        )
        self._epoch_start = time.perf_counter()
        return self._epoch_lr

    def _scheduled_lr(self, batch: int) -> float:
        """The stage schedule's LR before `batch` of the current epoch (plateau LR when none)."""
        stage = self.recipe["stages"][self.state["stage"]]
        if stage.get("schedule") is None:
            return self.control.learning_rate
        position = self.control.epochs_done + batch / self._batches
        return learning_rate_at(
            stage["schedule"], float(stage["learning_rate"]), position, int(stage["epochs"])
        )

    def batch_done(self, loss: float) -> None:
        """Count a step (loss: the epoch's running mean so far); a non-finite loss stops the fold."""
        stage = self.recipe["stages"][self.state["stage"]]
        self._batch = getattr(self, "_batch", 0) + 1
        if not math.isfinite(loss):
            self._diverged(f"training loss {loss}", self._batch)
        if stage.get("schedule") is not None and self._batch < getattr(self, "_batches", 0):
            self._lr = self._scheduled_lr(self._batch)
            self.trainer.set_learning_rate(self._lr)
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def end_epoch(self, epoch: int, train_loss: float, images: int) -> bool:
        """Validate, decide (best/LR/stop), checkpoint; returns True when training should stop."""
        train_seconds = time.perf_counter() - self._epoch_start
        lr = getattr(self, "_epoch_lr", self.control.learning_rate)
        self._epoch = epoch
        if not math.isfinite(train_loss):
            self._diverged(f"training loss {train_loss}", 0)
        weights = self.trainer.get_weights()
        bad = guard.first_nonfinite_weight(weights)
        if bad is not None:
            self._diverged(f"non-finite weight {bad}", 0)
        logits = self.trainer.predict_logits(
            self.val_images, int(self.recipe["eval"]["batch_size"])
        )
        from common.metric import score_at_threshold

        score = float(score_at_threshold(self.val_masks, logits, 0.0))
        self._record_drift(epoch, logits)
        improved = self.control.update(epoch, score)
        if improved:
            self.state["best"] = f"best_e{epoch}.npz"
            save_neutral(self.dir / self.state["best"], weights)
        stage = self.recipe["stages"][self.state["stage"]]
        if self.control.epochs_done in cycle_ends(stage.get("schedule"), int(stage["epochs"])):
            snapshot = f"snap_s{self.state['stage']}_e{epoch}.npz"
            save_neutral(self.dir / snapshot, weights)
            self.state.setdefault("snapshots", []).append(snapshot)
        checkpoint = f"ckpt_e{epoch}"
        self.trainer.save_checkpoint(self.dir / checkpoint)
        stage = self.recipe["stages"][self.state["stage"]]
        warmup = self._fresh_process or epoch == self._stage_first_epoch
        self._fresh_process = False
        epoch_wall = time.perf_counter() - self._epoch_start
        self.history.append(
            {
                "epoch": epoch,
                "stage": stage["name"],
                "loss_name": stage["loss"],
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
                "wall_seconds": self.state["wall_s"] + epoch_wall,
            }
        )
        self.state.update(
            next_epoch=epoch + 1, control=self.control.to_dict(), checkpoint=checkpoint
        )
        self.state["wall_s"] += epoch_wall
        self._epoch_start = time.perf_counter()
        self._commit()
        if self._bar is not None:
            self._bar.write(
                f"{self.trainer.framework} fold {self.fold} epoch {epoch + 1}: loss {train_loss:.4f} "
                f"val score {score:.4f} lr {lr:.2g}{' *' if improved else ''} (seed {self.seed})"
            )
        stop = self.control.stopped
        return stop

    def _diverged(self, what: str, batch: int) -> None:
        """Record the unit as failed (failed.json, state.json) and stop it with one line."""
        self._close_bar()
        stage = self.recipe["stages"][self.state["stage"]]
        divergence = guard.Divergence(
            framework=self.trainer.framework,
            seed=self.seed,
            fold=self.fold,
            stage=stage["name"],
            epoch=int(getattr(self, "_epoch", self.state["next_epoch"])) + 1,
            batch=int(batch),
            batches=int(getattr(self, "_batches", 0)),
            learning_rate=float(getattr(self, "_lr", self.control.learning_rate)),
            what=what,
        )
        atomic_write_json(self.dir / guard.FAILED, divergence.to_dict())
        committed = self._committed or self.state
        atomic_write_json(self.dir / STATE, {**committed, "failed": divergence.to_dict()})
        raise DivergedError(divergence.message)

    def _record_drift(self, epoch: int, val_logits: np.ndarray) -> None:
        """Leave this epoch's weights and validation masks for the twin drift (common.harness.drift)."""
        from common.harness.drift import drift_pairs, record_epoch

        record_epoch(
            self.run_dir,
            self.trainer.framework,
            self.fold,
            self.seed,
            epoch,
            self.recipe["stages"][self.state["stage"]]["name"],
            self.trainer.get_weights(),
            val_logits,
            drift_pairs(self.config),
        )

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # ---- evaluation ------------------------------------------------------------------------
    def _evaluate(self) -> dict[str, Any]:
        started = time.perf_counter()
        save_neutral(self.dir / BEST_MODEL, self.trainer.get_weights())
        batch = int(self.recipe["eval"]["batch_size"])
        predict = lambda x: self.trainer.predict_logits(x, batch)  # noqa: E731
        tta = self.recipe["eval"]["tta"]
        snapshots = self._ensemble_snapshots()
        val_logits, test_logits = self._ensemble_logits(predict, tta, snapshots)
        grid, areas = threshold_grid(self.recipe), area_grid(self.recipe)
        result = search_on_logits(self.val_masks, val_logits, grid, areas)
        honest = cross_fitted_score(self.val_masks, val_logits, grid, seed=self.seed, areas=areas)
        targets = self.recipe["eval"].get("targets", DEFAULT_TARGETS)
        speed = inference_throughput(
            predict, self.val_images if len(self.val_images) >= 16 else self.data.images
        )
        save_arrays(
            self.dir / "oof.npz",
            ids=np.array([self.data.train_ids[i] for i in self.val_idx]),
            logits=val_logits.astype(np.float16),
        )
        save_arrays(
            self.dir / "test.npz",
            ids=np.array(self.data.test_ids),
            logits=test_logits.astype(np.float16),
        )
        self.state["wall_s"] += time.perf_counter() - started
        metrics = {
            "framework": self.trainer.framework,
            "backend": self.trainer.backend(),
            "fold": self.fold,
            "seed": self.seed,
            **result,
            **speed,
            **train_throughput(self.history),
            **step_throughput(self.history, self.state.get("step_probes", [])),
            "step_probes": self.state.get("step_probes", []),
            "score_cross_fitted": honest["score"],
            "thresholds_cross_fitted": honest["thresholds"],
            "min_areas_cross_fitted": honest["min_areas"],
            "time_to_target": time_to_targets(self.history, targets),
            "epochs": len(self.history),
            "snapshots": len(snapshots),
            "best_epoch": int(self.history_best_epoch()),
            "n_train": int(len(self.train_idx)),
            "n_val": int(len(self.val_idx)),
            "wall_s": float(self.state["wall_s"]),
            "threads": self.config.get("threads"),
            "versions": self.trainer.versions(),
            "numerics": getattr(self.trainer, "numerics", {}),
            "device_peak_mib": getattr(self.trainer, "device_peak_mib", lambda: None)(),
        }
        atomic_write_json(self.dir / FOLD_METRICS, metrics)
        self.state["done"] = True
        atomic_write_json(self.dir / STATE, self.state)
        for path in [self.dir / PREV_STATE, *self.dir.glob("ckpt_e*")]:  # no resume needs them now
            path.unlink(missing_ok=True)
        return metrics

    def _ensemble_snapshots(self) -> list[str]:
        """The last K snapshots of the final stage when it ensembles them (else none)."""
        keep = snapshots_to_average(self.recipe["stages"][-1].get("schedule"))
        snapshots = self.state.get("snapshots", [])
        return snapshots[-keep:] if keep and snapshots else []

    def _ensemble_logits(self, predict, tta, snapshots: list[str]):
        """(validation, test) TTA logits: of the current weights, or the mean over the snapshots.

        The last snapshot is loaded last, so it is the model saved and timed afterwards.
        """
        if not snapshots:
            return (
                predict_tta(predict, self.val_images, tta),
                predict_tta(predict, self.data.test_images, tta),
            )
        val_sum = test_sum = 0.0
        for name in snapshots:
            self.trainer.set_weights(load_neutral(self.dir / name))
            val_sum = val_sum + predict_tta(predict, self.val_images, tta).astype(np.float64)
            test_sum = test_sum + predict_tta(predict, self.data.test_images, tta).astype(
                np.float64
            )
        k = len(snapshots)
        return (val_sum / k).astype(np.float32), (test_sum / k).astype(np.float32)

    def history_best_epoch(self) -> int:
        best = [r["epoch"] for r in self.history if is_true(r["best"])]
        return best[-1] if best else -1


def train_throughput(history: list[dict[str, Any]]) -> dict[str, float]:
    """Training images/s over the epochs that were not warm-up (first of a stage or of a process)."""
    rows = timed_rows(history)
    seconds = sum(float(r["train_seconds"]) for r in rows)
    images = sum(int(r["images"]) for r in rows)
    return {
        "train_img_s": images / seconds if seconds else float("nan"),
        "train_epochs_timed": len(rows),
    }


def _history_readable(path: Path, committed_rows: int) -> bool:
    """Parses, has no empty cell and at least the committed rows (a truncated file fails this)."""
    try:
        history = pd.read_csv(path) if path.stat().st_size else pd.DataFrame()
    except (*UNREADABLE, pd.errors.ParserError, pd.errors.EmptyDataError):
        return False
    required = history.drop(columns=list(OPTIONAL_HISTORY_COLUMNS), errors="ignore")
    return len(history) >= committed_rows and bool(required.notna().all().all())


def _referenced(state: dict[str, Any]) -> list[str]:
    """The checkpoint and weight files a committed state needs."""
    return [
        n for n in (state.get("checkpoint"), state.get("best"), *state.get("stage_best", [])) if n
    ]


def unit_is_done(run_dir: Path, framework: str, fold: int, seed: int) -> bool:
    path = rundir.unit_dir(run_dir, framework, fold, seed) / STATE
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        return bool(json.loads(path.read_text())["done"])
    return False
