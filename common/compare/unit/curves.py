"""TensorBoard event files of a unit's epochs, in RUN/tensorboard/<subject>/seed<s>-fold<f>/: the
rows of history.csv as they are committed, written with TensorBoard's own event-file writer (no
TensorFlow, torch or JAX import), so every subject's curves overlay in one `tensorboard --logdir`.

A unit that starts (fresh or resumed) rewrites its folder from its committed history first: the
events of epochs a killed process wrote but never committed go, and no epoch appears twice. Without
the `tensorboard` extra nothing is written (the orchestrator says so once).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
import types
from pathlib import Path
from typing import Any

EVENTS_DIR = "tensorboard"
# scalar tag -> history.csv column (the same values, never recomputed)
SCALARS = {
    "train/loss": "train_loss",
    "val/score": "val_score",
    "train/learning_rate": "lr",
    "train/images_per_s": "train_img_s",
}
HPARAMS = ("recipe", "profile", "subject", "precision", "device", "fold", "seed")
MISSING = "no TensorBoard events: the `tensorboard` extra is not installed (pip install 'saltbench[tensorboard]')"  # fmt: skip


def available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def event_file_writer(folder: Path, suffix: str):
    """TensorBoard's event-file writer on its own stub of TF's file API: its `compat.notf` switch,
    set before first use, keeps it from importing TensorFlow (seconds and ~1 GB in a torch worker,
    which its memory figure would carry)."""
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    return EventFileWriter(str(folder), flush_secs=5, filename_suffix=suffix)


def unit_events_dir(run_dir: Path, subject: str, fold: int, seed: int) -> Path:
    return Path(run_dir) / EVENTS_DIR / subject / f"seed{seed}-fold{fold}"


class UnitCurves:
    """One unit's event file: `start(history)` rewrites the committed epochs, `epoch(row)` adds one."""

    def __init__(self, folder: Path, hparams: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.hparams = hparams
        self.writer = None

    def start(self, history: list[dict[str, Any]]) -> None:
        if not available():
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.writer = event_file_writer(self.folder, ".unit")
        self._write_hparams()
        for row in history:
            self.epoch(row, flush=False)
        self.writer.flush()

    def epoch(self, row: dict[str, Any], flush: bool = True) -> None:
        """The committed epoch `row` (a history.csv row) as one step of every scalar."""
        if self.writer is None:
            return
        values = {tag: float(row[key]) for tag, key in SCALARS.items()}
        self.writer.add_event(scalar_event(values, int(row["epoch"])))
        if flush:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _write_hparams(self) -> None:
        from tensorboard.compat.proto import event_pb2
        from tensorboard.plugins.hparams import summary_v2 as hp

        config = hp.hparams_config_pb(
            hparams=[hp.HParam(name) for name in self.hparams],
            metrics=[hp.Metric(tag) for tag in SCALARS],
        )
        for summary in (config, hp.hparams_pb(self.hparams, trial_id=str(self.folder))):
            self.writer.add_event(event_pb2.Event(wall_time=time.time(), summary=summary))


def scalar_event(values: dict[str, float], step: int):
    """One event holding every scalar of a step."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    summary = summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in values.items()]
    )
    return event_pb2.Event(wall_time=time.time(), step=step, summary=summary)


def unit_hparams(config: dict[str, Any], subject: str, fold: int, seed: int) -> dict[str, Any]:
    """What TensorBoard's HParams view compares runs by: recipe, profile, subject, numerics, unit."""
    recipe = config["recipe"]
    return {
        "recipe": str(recipe.get("recipe", "")),
        "profile": str(recipe.get("profile", "")),
        "subject": subject,
        "precision": str(recipe["train"].get("precision", "fp32")),
        "device": str(recipe["run"].get("device", "auto")),
        "fold": int(fold),
        "seed": int(seed),
    }


def write_drift_curves(run_dir: Path, pairs: list[tuple[str, str, str]]) -> None:
    """Each pair's drift from the reference per epoch (RUN/<folder>.csv, as the report reads it)
    as `drift/*` scalars in the subject's unit folders; rewritten whole at every aggregation."""
    if not available():
        return
    import pandas as pd

    for folder, subject, _reference in pairs:
        path = Path(run_dir) / f"{folder}.csv"
        if not path.is_file() or not path.stat().st_size:
            continue
        table = pd.read_csv(path)
        for (seed, fold), rows in table.groupby(["seed", "fold"]):
            target = unit_events_dir(run_dir, subject, int(fold), int(seed))
            target.mkdir(parents=True, exist_ok=True)
            for old in target.glob("*.drift"):
                old.unlink()
            writer = event_file_writer(target, ".drift")
            for _, row in rows.sort_values("epoch").iterrows():
                values = {f"drift/{key}": float(row[key]) for key in DRIFT_COLUMNS if key in row}
                writer.add_event(scalar_event(values, int(row["epoch"])))
            writer.close()


DRIFT_COLUMNS = ("weights_total", "mask_iou")
