"""Run directories: unique ids, config.json, where every artefact lives, and the finished marker."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from common.core.errors import SaltbenchError
from common.core.io import atomic_write_json, writing

CONFIG = "config.json"
METRICS = "metrics.json"
FINISHED = "FINISHED"


def new_run_id(config: dict[str, Any]) -> str:
    """Timestamp plus a short hash of the config, the pid and the clock: sortable and unique."""
    salt = json.dumps(config, sort_keys=True, default=str) + f"{os.getpid()}{time.time_ns()}"
    return time.strftime("%Y%m%d-%H%M%S") + "-" + hashlib.sha1(salt.encode()).hexdigest()[:6]


def create_run_dir(out: Path, config: dict[str, Any]) -> Path:
    """Make results/<run-id>/ (never an existing one) and write config.json into it."""
    run_id = new_run_id(config)
    run_dir = out / run_id
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        try:
            run_dir.mkdir()
        except FileExistsError as err:
            raise SaltbenchError(
                f"run directory {run_dir} already exists; not overwriting it"
            ) from err
    config["run_id"] = run_id
    atomic_write_json(run_dir / CONFIG, config)
    return run_dir


def load_config(run_dir: Path) -> dict[str, Any]:
    """config.json, a run made before the one vocabulary read with today's keys (upgrade_config)."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise SaltbenchError(f"{path}: not found; is {run_dir} a saltbench run directory?")
    try:
        return upgrade_config(json.loads(path.read_text()))
    except json.JSONDecodeError as err:
        raise SaltbenchError(f"{path}: not valid JSON ({err})") from err


def load_metrics(run_dir: Path) -> dict[str, Any]:
    """metrics.json with today's keys: an older run's `frameworks` (its subjects) is `subjects`."""
    return _renamed(json.loads((Path(run_dir) / METRICS).read_text()), OLD_KEYS)


# The older spelling of a key -> today's (a subject was once called a framework).
OLD_KEYS = {"frameworks": "subjects"}


def upgrade_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run config with today's keys: top-level `frameworks` and recipe `run.frameworks` renamed."""
    config = _renamed(config, OLD_KEYS)
    run = config.get("recipe", {}).get("run")
    if isinstance(run, dict):
        config["recipe"]["run"] = _renamed(run, OLD_KEYS)
    return config


def _renamed(mapping: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    return {
        renames.get(k, k) if renames.get(k) not in mapping else k: v for k, v in mapping.items()
    }


def is_finished(run_dir: Path) -> bool:
    return (Path(run_dir) / FINISHED).is_file()


def holds_weights(run_dir: Path) -> bool:
    """Whether any unit kept its best model (a published example keeps results, not models)."""
    return any(Path(run_dir).glob("*/seed*/fold*/model_best.npz"))


def check_trained_run(run_dir: Path, what: str) -> None:
    """Refuse, in one line, a run with no models to `what` (export, predict from): unfinished
    (with the command that continues it) or holding no weights."""
    if not holds_weights(run_dir) and (Path(run_dir) / METRICS).is_file():
        raise SaltbenchError(
            f"{run_dir}: holds no weights (a published example keeps its results, not its "
            f"models); nothing to {what}"
        )
    if not is_finished(run_dir):
        raise SaltbenchError(
            f"{run_dir}: the run has not finished; continue it with saltbench compare --run "
            f"{run_dir}"
        )


def run_seeds(config: dict[str, Any]) -> list[int]:
    """The run's seeds (recipe key run.seeds; a run made before seeds existed used train.seed)."""
    recipe = config["recipe"]
    seeds = config.get("seeds") or recipe["run"].get("seeds")
    return [int(s) for s in seeds] if seeds else [int(recipe["train"]["seed"])]


def run_units(config: dict[str, Any]) -> list[tuple[int, int]]:
    """Every independent unit of work of a run, as (fold, seed), seeds outermost.

    Each framework trains each unit in its own directory (`unit_dir`) from the seed's initial
    weights (`init_weights_path`); units share nothing else, so they can run anywhere, in any order.
    """
    return [(int(fold), seed) for seed in run_seeds(config) for fold in config["folds"]]


def unit_dir(run_dir: Path, framework: str, fold: int, seed: int) -> Path:
    """results/<run>/<framework>/seed<S>/fold<F>/: history, checkpoints, metrics of one unit."""
    return Path(run_dir) / framework / f"seed{int(seed)}" / f"fold{int(fold)}"


def init_weights_path(run_dir: Path, seed: int) -> Path:
    """The neutral initial weights both twins start from for one seed."""
    return Path(run_dir) / f"init_weights_seed{int(seed)}.npz"


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())
