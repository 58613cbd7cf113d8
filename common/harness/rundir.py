"""Run directories: unique ids, config.json, where every artefact lives, and the finished marker."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from common.errors import SaltbenchError
from common.io import atomic_write_json

FRAMEWORKS = ("keras", "torch")
CONFIG = "config.json"
METRICS = "metrics.json"
FINISHED = "FINISHED"


def new_run_id(config: dict[str, Any]) -> str:
    """Timestamp plus a short hash of the config, the pid and the clock: sortable and unique."""
    salt = json.dumps(config, sort_keys=True, default=str) + f"{os.getpid()}{time.time_ns()}"
    return time.strftime("%Y%m%d-%H%M%S") + "-" + hashlib.sha1(salt.encode()).hexdigest()[:6]


def create_run_dir(out: Path, config: dict[str, Any]) -> Path:
    """Make results/<run-id>/ (never an existing one) and write config.json into it."""
    out.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id(config)
    run_dir = out / run_id
    try:
        run_dir.mkdir()
    except FileExistsError as err:
        raise SaltbenchError(f"run directory {run_dir} already exists; not overwriting it") from err
    config["run_id"] = run_id
    atomic_write_json(run_dir / CONFIG, config)
    return run_dir


def load_config(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise SaltbenchError(f"{path}: not found; is {run_dir} a saltbench run directory?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SaltbenchError(f"{path}: not valid JSON ({err})") from err


def is_finished(run_dir: Path) -> bool:
    return (Path(run_dir) / FINISHED).is_file()


def fold_dir(run_dir: Path, framework: str, fold: int) -> Path:
    return Path(run_dir) / framework / f"fold{fold}"


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())
