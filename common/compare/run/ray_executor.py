"""`compare --executor ray`: every framework x fold x seed unit of a run as one Ray task.

Each task runs the same worker as a local run (`run_worker_process`, one framework per process,
threads pinned to the task's CPU request) on one unit, inside the run folder. The run folder stays
the single source of truth, so on a cluster it must be on a filesystem every node mounts at the same
path; each task checks that before it starts. A worker that dies is retried by Ray (`max_retries`)
and resumes from the unit's last epoch checkpoint, like `--resume`; a unit that fails for good is
marked failed (failed.json) once the rest of the grid has finished, and reported like a diverged unit.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from common.compare.run.ray_settings import check_settings, import_ray, settings_of
from common.core.errors import DivergedError, SaltbenchError
from common.runs import rundir

CLUSTER_DOC = "README, 'Running the grid on a cluster'"


class StorageError(SaltbenchError):
    """A Ray node cannot see the run folder or the data: the setup is wrong, retrying cannot help."""


class WorkerDied(RuntimeError):
    """A unit's worker process ended abnormally (killed, crashed); Ray retries the task."""


class UnitFailed(RuntimeError):
    """A unit's worker refused to go on with a saltbench error (exit 2); retrying cannot help."""


@dataclass(frozen=True)
class Unit:
    """One independent piece of the grid: a framework on one fold from one seed."""

    framework: str
    fold: int
    seed: int

    @property
    def name(self) -> str:
        return f"{self.framework}-fold{self.fold}-seed{self.seed}"

    def worker_args(self, run_dir: Path) -> list[str]:
        return ["train", str(run_dir), "--folds", str(self.fold), "--seeds", str(self.seed)]

    def directory(self, run_dir: Path) -> Path:
        return rundir.unit_dir(run_dir, self.framework, self.fold, self.seed)

    def log(self, run_dir: Path) -> Path:
        return Path(run_dir) / "logs" / f"{self.name}.log"


def grid_units(config: dict[str, Any]) -> list[Unit]:
    """Every framework x (fold, seed) unit of the run, frameworks innermost so both twins of a unit
    run together (their twin-drift files are then paired and deleted early)."""
    return [
        Unit(fw, fold, seed) for fold, seed in rundir.run_units(config) for fw in config["subjects"]
    ]


def is_settled(run_dir: Path, unit: Unit) -> bool:
    """Finished, or failed for good (failed.json): nothing is left for a task to do."""
    from common.compare.unit.divergence import FAILED

    done = bool(unit_state(run_dir, unit).get("done"))
    return done or (unit.directory(run_dir) / FAILED).is_file()


def mark_failed(run_dir: Path, unit: Unit, reason: str) -> None:
    """Record a unit whose task failed for good in failed.json, as a diverged unit is recorded."""
    from common.compare.unit.divergence import FAILED
    from common.core.io import atomic_write_json

    message = f"{unit.framework} seed {unit.seed} fold {unit.fold} failed on Ray: {reason}"
    record = {"framework": unit.framework, "seed": unit.seed, "fold": unit.fold}
    atomic_write_json(
        unit.directory(run_dir) / FAILED, {**record, "what": "ray task failed", "message": message}
    )


def unit_state(run_dir: Path, unit: Unit) -> dict[str, Any]:
    from common.runs.unit_state import STATE

    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        return json.loads((unit.directory(run_dir) / STATE).read_text())
    return {}


# ---- inside the Ray task -------------------------------------------------------------------
def check_storage(run_dir: Path, config: dict[str, Any]) -> None:
    """The task's node must see this run's config.json and its data folder, at the driver's paths."""
    path = Path(run_dir) / rundir.CONFIG
    try:
        seen = json.loads(path.read_text()).get("run_id")
    except (OSError, ValueError):
        seen = None
    where = f"Ray node {socket.gethostname()}"
    if seen != config["run_id"]:
        raise StorageError(
            f"{where} cannot read run {config['run_id']} at {path}: the run folder must be on a "
            f"filesystem every node mounts at the same path (see {CLUSTER_DOC})"
        )
    if not Path(config["data_dir"]).is_dir():
        raise StorageError(
            f"{where} cannot see the data folder {config['data_dir']}: it must be on a filesystem "
            f"every node mounts at the same path (see {CLUSTER_DOC})"
        )


def run_unit(run_dir: str, config: dict[str, Any], unit: Unit) -> dict[str, Any]:
    """The Ray task: train one unit with the run's worker command; raises so Ray can retry."""
    from common.runs.processes import how_it_ended, last_message, run_worker_process

    check_storage(Path(run_dir), config)
    log = unit.log(Path(run_dir))
    log.parent.mkdir(parents=True, exist_ok=True)
    resume_at = unit_state(Path(run_dir), unit).get("next_epoch", 0)
    with open(log, "a") as handle:
        handle.write(
            f"\n=== {time.strftime('%H:%M:%S')} ray task {unit.name} on {socket.gethostname()} "
            f"pid {os.getpid()} nice {os.nice(0)}: starts at epoch {resume_at}\n"
        )
    proc = run_worker_process(unit.framework, unit.worker_args(Path(run_dir)), config, log)
    proc.wait()
    proc.log_handle.close()
    if proc.returncode == DivergedError.exit_code:  # a result: failed.json says where it blew up
        return {"unit": unit.name, "host": socket.gethostname(), "diverged": True}
    if proc.returncode == 2:
        raise UnitFailed(f"{unit.name} failed; see {log}: {last_message(log, proc.log_start)}")
    if proc.returncode != 0:
        with open(log, "a") as handle:
            handle.write(f"=== worker exited {proc.returncode}; Ray retries the task if it may\n")
        raise WorkerDied(
            f"{unit.name} worker {how_it_ended(proc.returncode)}; last message in {log}: "
            f"{last_message(log, proc.log_start)}"
        )
    return {"unit": unit.name, "host": socket.gethostname()}


# ---- the driver ----------------------------------------------------------------------------
@contextlib.contextmanager
def ray_session(settings: dict[str, Any]) -> Iterator[Any]:
    """Join the cluster at settings['address'], or start a local instance sized to this machine."""
    from common.runs.processes import REPO_ROOT

    ray = import_ray(joining=bool(settings["address"]))
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    options: dict[str, Any] = {
        "runtime_env": {"env_vars": {"PYTHONPATH": path}},  # workers import this checkout
        "log_to_driver": False,
        "configure_logging": False,
        "namespace": "saltbench",
    }
    if settings["address"]:
        options["address"] = settings["address"]
    else:  # "local": always a new instance, never one another `ray start` left on this machine
        options.update(address="local", num_cpus=os.cpu_count() or 1, dashboard_host="127.0.0.1")
    try:
        context = ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = settings["address"] or "a local instance"
        raise SaltbenchError(f"cannot start Ray on {where}: {err}") from err
    try:
        yield context
    finally:
        ray.shutdown()


def train_on_ray(run_dir: Path, config: dict[str, Any]) -> None:
    """Run every unfinished unit of the grid as a Ray task, with one progress bar over the grid."""
    settings = settings_of(config)
    check_settings(settings)
    units = grid_units(config)
    todo = [u for u in units if not is_settled(run_dir, u)]
    with ray_session(settings) as context:
        url = getattr(context, "dashboard_url", None)
        dashboard = f"dashboard http://{url}" if url else "no dashboard (it needs ray[default])"
        print(
            f"ray: {len(todo)} of {len(units)} tasks to run on {_cluster_cpus()} CPUs; {dashboard}",
            file=sys.stderr,
        )
        failed = _run_grid(run_dir, config, settings, units, todo)
    for unit, reason in failed.items():  # reported like a diverged unit: loudly, never a result
        mark_failed(run_dir, unit, reason)


def _cluster_cpus() -> int:
    import ray

    return int(ray.cluster_resources().get("CPU", 0))


def _run_grid(
    run_dir: Path,
    config: dict[str, Any],
    settings: dict[str, Any],
    units: list[Unit],
    todo: list[Unit],
) -> dict[Unit, str]:
    """Submit the tasks, follow them to the end; returns {unit: reason} of those that failed."""
    import ray

    task = ray.remote(run_unit).options(
        num_cpus=settings["cpus_per_task"],
        num_gpus=settings["gpus_per_task"],
        max_retries=settings["max_retries"],
        retry_exceptions=[WorkerDied],
    )
    config = {**config, "threads": settings["cpus_per_task"]}
    started = time.time()
    pending = {task.remote(str(run_dir), config, unit): unit for unit in todo}
    failed: dict[Unit, str] = {}
    diverged = 0
    bar = tqdm(
        total=len(units),
        initial=len(units) - len(todo),
        desc="grid",
        unit="task",
        file=sys.stderr,
        mininterval=1.0,
    )
    shown = ""
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=1.0)
            for ref in ready:
                unit = pending.pop(ref)
                reason = _outcome(ray, ref)
                if reason:
                    failed[unit] = reason
                elif not unit_state(run_dir, unit).get("done"):
                    diverged += 1  # its worker wrote failed.json
                bar.update(1)
            running = sum(_has_started(run_dir, u, started) for u in pending.values())
            status = f"running {running} failed {len(failed) + diverged}"
            if status != shown:
                bar.set_postfix_str(status)
                shown = status
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        bar.close()
    return failed


def _outcome(ray, ref) -> str | None:
    """None for a finished task, else why it failed; a storage error stops the whole grid."""
    try:
        ray.get(ref)
    except StorageError as err:  # Ray's task error is also an instance of the task's exception
        raise StorageError(_message(err)) from None
    except (UnitFailed, WorkerDied) as err:
        return _message(err)
    except ray.exceptions.RayError as err:
        return f"{type(err).__name__}: {_message(err)}"
    return None


def _message(err: BaseException) -> str:
    """The task's own message, without the remote traceback Ray wraps it in."""
    cause = getattr(err, "cause", None) or err
    text = str(cause.args[0]) if cause.args else str(cause)
    return text.strip().splitlines()[0] if text.strip() else type(cause).__name__


def _has_started(run_dir: Path, unit: Unit, since: float) -> bool:
    with contextlib.suppress(OSError):
        return unit.log(run_dir).stat().st_mtime >= since
    return False
