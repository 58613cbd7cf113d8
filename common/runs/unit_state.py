"""One unit's committed state on disk: state.json (the commit point), the commit before it, the
history, and the checkpoint files a commit needs. Damaged files fall back to the commit before."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from common.core.errors import CorruptFileError, warn
from common.core.io import UNREADABLE, atomic_write_csv, atomic_write_json

STATE = "state.json"
# The commit before state.json: the fallback when the files state.json names are damaged.
PREV_STATE = "state.prev.json"
HISTORY = "history.csv"
OPTIONAL_HISTORY_COLUMNS = ("wall_seconds",)  # empty in rows written before the column existed
FOLD_METRICS = "fold_metrics.json"
BEST_MODEL = "model_best.npz"
REQUIRED_KEYS = ("stage", "next_epoch", "checkpoint", "best", "stage_best", "done")


def fresh_state() -> dict[str, Any]:
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


class UnitState:
    """The state and history of one unit folder, loaded, committed and rolled back as one."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.state = fresh_state()
        self.history: list[dict[str, Any]] = []
        self.committed: dict[str, Any] | None = None
        self.source = STATE  # the file the state was read from

    def read(self, name: str) -> dict[str, Any]:
        path = self.dir / name
        try:
            state = json.loads(path.read_text())
            for key in REQUIRED_KEYS:
                state[key]  # noqa: B018  (a state without its keys is damaged)
        except (*UNREADABLE, TypeError) as err:
            raise CorruptFileError(path, err) from err
        return state

    def load(self) -> None:
        """state.json, else (damaged) the commit before it, else (none readable) a fresh start;
        then the history committed with it."""
        self.state = self._load_state()
        self.history = self._load_history()
        self.mark_committed()

    def _load_state(self) -> dict[str, Any]:
        names = [n for n in (STATE, PREV_STATE) if (self.dir / n).is_file()]
        for k, name in enumerate(names):
            try:
                state = self.read(name)
                self.source = name
                return state
            except CorruptFileError as err:
                if k + 1 < len(names):
                    warn(f"{err}; resuming from {self.dir / names[k + 1]}")
                else:
                    warn(f"{err}; no earlier state left, training this fold from the start")
        return fresh_state()

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
        elif path.is_file() and not history_readable(path, len(rows)):
            warn(f"{CorruptFileError(path, 'cannot parse')}; rebuilt from {self.dir / self.source}")
            atomic_write_csv(path, pd.DataFrame(rows))
        return [r for r in rows if int(r["epoch"]) < self.state["next_epoch"]]

    def mark_committed(self) -> None:
        self.committed = json.loads(json.dumps(self.state, default=str))

    def commit(self) -> None:
        """Write history, the previous state, then state.json (the commit point); drop unused files.

        The previous commit stays loadable (its state and checkpoint are kept), so a damaged
        checkpoint costs one epoch, not the fold.
        """
        self.state["history"] = self.history
        atomic_write_csv(self.dir / HISTORY, pd.DataFrame(self.history))
        previous = self.committed
        if previous is not None:
            atomic_write_json(self.dir / PREV_STATE, previous)
        atomic_write_json(self.dir / STATE, self.state)
        self.mark_committed()
        keep = {name for state in (previous or {}, self.state) for name in referenced(state)}
        keep = {name.split(".")[0] for name in keep}  # checkpoints carry the twin's suffix
        for path in [*self.dir.glob("ckpt_e*"), *self.dir.glob("best_e*.npz")]:
            if path.name.split(".")[0] not in keep:
                path.unlink(missing_ok=True)

    def earlier(self) -> dict[str, Any] | None:
        """The commit before the current state, when it is readable and older."""
        with contextlib.suppress(CorruptFileError):
            if (self.dir / PREV_STATE).is_file():
                earlier = self.read(PREV_STATE)
                if earlier["next_epoch"] < self.state["next_epoch"] or (
                    earlier["stage"] < self.state["stage"]
                ):
                    return earlier
        return None

    def roll_back(self, state: dict[str, Any]) -> None:
        """Continue from `state` (an earlier commit, or a fresh start): later epochs are dropped."""
        self.state = state
        self.history = [r for r in self.history if r["epoch"] < state["next_epoch"]]
        self.mark_committed()

    def finish(self) -> None:
        """Mark the unit done; no resume needs the previous state or the checkpoints any more."""
        self.state["done"] = True
        atomic_write_json(self.dir / STATE, self.state)
        for path in [self.dir / PREV_STATE, *self.dir.glob("ckpt_e*")]:
            path.unlink(missing_ok=True)


def history_readable(path: Path, committed_rows: int) -> bool:
    """Parses, has no empty cell and at least the committed rows (a truncated file fails this)."""
    try:
        history = pd.read_csv(path) if path.stat().st_size else pd.DataFrame()
    except (*UNREADABLE, pd.errors.ParserError, pd.errors.EmptyDataError):
        return False
    required = history.drop(columns=list(OPTIONAL_HISTORY_COLUMNS), errors="ignore")
    return len(history) >= committed_rows and bool(required.notna().all().all())


def referenced(state: dict[str, Any]) -> list[str]:
    """The checkpoint and weight files a committed state needs."""
    return [
        n for n in (state.get("checkpoint"), state.get("best"), *state.get("stage_best", [])) if n
    ]
