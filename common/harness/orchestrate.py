"""`saltbench compare`: set up a run, start one worker process per framework, then aggregate and report."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from common.device import device_env, numerics
from common.errors import DivergedError, SaltbenchError, WorkerCrashError
from common.harness import rundir
from common.harness.fold import STATE
from common.harness.lifeline import PARENT_ENV
from common.harness.locks import ensure_free
from common.io import writing
from common.runtime import THREAD_VARS

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("numpy", "pandas", "keras", "tensorflow", "torch", "jax")


def library_versions() -> dict[str, str]:
    """Installed versions, read from package metadata (no framework import)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    return None


def default_threads(frameworks: list[str], parallel: bool) -> int:
    cores = os.cpu_count() or 1
    return max(1, cores // len(frameworks)) if parallel else cores


def new_run_config(
    recipe: dict[str, Any],
    data_dir: Path,
    data_source: str,
    frameworks: list[str],
    threads: int | None,
    parallel: bool,
    argv: list[str],
) -> dict[str, Any]:
    """Everything needed to rerun: the resolved recipe, data, frameworks, folds, threads, versions."""
    return {
        "recipe": recipe,
        "data_dir": str(Path(data_dir).resolve()),
        "data_source": data_source,
        "frameworks": frameworks,
        "folds": list(recipe["run"]["folds"]),
        "seeds": list(recipe["run"]["seeds"]),
        "threads": threads or default_threads(frameworks, parallel),
        "parallel": parallel,
        "keras_backend": recipe["run"]["keras_backend"],
        "command": ["saltbench", *argv],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "system": platform.system(),
        },
        "versions": library_versions(),
        "git_commit": git_commit(),
    }


def worker_env(config: dict[str, Any]) -> dict[str, str]:
    """The child's environment: threads pinned, Keras backend chosen, the repo importable."""
    env = dict(os.environ)
    env.update({var: str(config["threads"]) for var in THREAD_VARS})
    env["TF_NUM_INTEROP_THREADS"] = "1"
    env["KERAS_BACKEND"] = config["keras_backend"]
    device = numerics(config["recipe"])["device"]
    env.update(device_env(device), SALTBENCH_DEVICE=device)  # predict --device may differ
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env[PARENT_ENV] = str(os.getpid())  # the worker stops when this process dies
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def worker_command(framework: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "common.harness.worker", "--framework", framework, *args]


def run_worker_process(
    framework: str,
    args: list[str],
    config: dict[str, Any],
    log: Path,
) -> subprocess.Popen:
    with writing(log):
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log, "a")  # noqa: SIM115  (closed with the process in wait_workers)
    handle.write(
        f"\n=== {time.strftime('%H:%M:%S')} {' '.join(worker_command(framework, *args))}\n"
    )
    handle.flush()
    offset = handle.tell()
    proc = subprocess.Popen(
        worker_command(framework, *args),
        env=worker_env(config),
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    proc.log_handle = handle  # type: ignore[attr-defined]
    proc.log_path = log  # type: ignore[attr-defined]
    proc.framework = framework  # type: ignore[attr-defined]
    proc.log_offset = offset  # type: ignore[attr-defined]
    proc.log_start = offset  # type: ignore[attr-defined]
    return proc


WARNING = "saltbench: warning: "


def relay_warnings(proc: subprocess.Popen, write=None) -> None:
    """Show the user the worker's new one-line warnings (its log holds everything else)."""
    write = write or (lambda line: print(line, file=sys.stderr))
    with contextlib.suppress(OSError), open(proc.log_path, "rb") as log:
        log.seek(proc.log_offset)
        text = log.read()
        complete = text.rfind(b"\n") + 1
        proc.log_offset += complete
        for line in text[:complete].decode(errors="replace").splitlines():
            if line.startswith(WARNING):
                write(f"{proc.framework}: {line}")


# A tqdm bar or fragment of one ("... epoch 29:   0%|          | 0/12 [00:00<?, ?it/s]").
PROGRESS = re.compile(r"\d+%\||\|\s*\d+/\d+\s*\[|\d+(\.\d+)?(it|s)/(s|it)\]")


def last_message(path: Path, start: int = 0) -> str:
    """The log's last real line from byte `start` on: progress bars and command headers skipped."""
    with contextlib.suppress(OSError), open(path, "rb") as log:
        log.seek(start)
        text = log.read().decode(errors="replace")
        for line in reversed(re.split(r"[\r\n]+", text)):
            line = line.strip()
            if line and not PROGRESS.search(line) and not line.startswith("=== "):
                return line
    return "(nothing but progress bars)"


def how_it_ended(returncode: int) -> str:
    """'was killed by SIGKILL (exit -9)' or 'failed (exit 1)'."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name} (exit {returncode})"
    return f"failed (exit {returncode})"


def running_unit(run_dir: Path, config: dict[str, Any], framework: str) -> str:
    """The first unit of the framework not done yet (a worker trains its units in run order)."""
    per_unit = sum(int(s["epochs"]) for s in config["recipe"]["stages"])
    for fold, seed in rundir.run_units(config):
        done = epochs_done(run_dir, framework, fold, seed, per_unit)
        if done < per_unit:
            return f"{framework} seed {seed} fold {fold}, {done} of {per_unit} epochs committed"
    return f"{framework}, after its last unit"


def check_exit(
    proc: subprocess.Popen, run_dir: Path | None = None, config: dict[str, Any] | None = None
) -> None:
    """Raise on a crashed worker; a diverged one (failed.json written) is a result, not a crash.

    A worker's own user error (exit 2) stays a user error; anything else (a signal, a traceback)
    is a WorkerCrashError naming the unit, the log's last real message and, for a training run
    (`run_dir` given), the --resume that continues it.
    """
    proc.log_handle.close()
    if proc.returncode in (0, DivergedError.exit_code):
        return
    message = last_message(proc.log_path, getattr(proc, "log_start", 0))
    if proc.returncode == SaltbenchError.exit_code:
        raise SaltbenchError(f"{proc.framework} worker: {message} (log: {proc.log_path})")
    what = f"{proc.framework} worker {how_it_ended(proc.returncode)}"
    if run_dir is not None and config is not None:
        what += f" in unit {running_unit(run_dir, config, proc.framework)}"
    text = f"{what}; last message in {proc.log_path}: {message}"
    if run_dir is not None:
        text += f"; continue the run with: saltbench compare --resume {run_dir}"
    raise WorkerCrashError(text)


def ensure_init_weights(run_dir: Path, config: dict[str, Any]) -> None:
    """Build one twin per seed and save its initial weights; both twins start from them."""
    missing = [
        s for s in rundir.run_seeds(config) if not rundir.init_weights_path(run_dir, s).is_file()
    ]
    if not missing:
        return
    # Always the recipe's source twin, even when it is not compared: a keras-only run then starts
    # from the same weights as the keras column of a two-framework run.
    source = config["recipe"]["run"]["init_from"]
    if source not in rundir.FRAMEWORKS:
        raise SaltbenchError(
            f"run.init_from must be one of {', '.join(rundir.FRAMEWORKS)}, got {source!r}"
        )
    args = ["init", str(run_dir), "--seeds", join_ints(missing)]
    proc = run_worker_process(source, args, config, run_dir / "logs" / "init.log")
    proc.wait()
    check_exit(proc, run_dir)


def join_ints(values) -> str:
    return ",".join(str(int(v)) for v in values)


def epochs_done(run_dir: Path, framework: str, fold: int, seed: int, per_unit: int) -> int:
    """Epochs one unit (framework x fold x seed) has committed, from its state.json."""
    import json

    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
        state = json.loads((rundir.unit_dir(run_dir, framework, fold, seed) / STATE).read_text())
        return per_unit if state["done"] else min(per_unit, int(state["next_epoch"]))
    return 0


def training_subjects(config: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(subject, framework, extra worker args) of every training process: the frameworks, then
    with eval.noise_floor the reference's one-ulp copy (common.harness.drift)."""
    from common.harness.drift import FLOOR_SUFFIX, floor_reference

    subjects = [(fw, fw, []) for fw in config["frameworks"]]
    reference = floor_reference(config)
    if reference:
        subjects.append((reference + FLOOR_SUFFIX, reference, ["--noise-floor"]))
    return subjects


def parallel_slots(config: dict[str, Any]) -> int:
    """How many workers train at once: the frameworks together (as always when parallel), and an
    extra subject (the noise-floor copy) only where the cores have room at the run's threads;
    otherwise it waits for a framework to finish."""
    if not config["parallel"]:
        return 1
    room = (os.cpu_count() or 1) // max(1, int(config["threads"]))
    return max(len(config["frameworks"]), room)


def ensure_no_other_writer(run_dir: Path, config: dict[str, Any]) -> None:
    """Refuse, naming the holder, when a live process (say a worker left over) holds a unit folder."""
    for subject, _, _ in training_subjects(config):
        for fold, seed in rundir.run_units(config):
            ensure_free(rundir.unit_dir(run_dir, subject, fold, seed), "unit")


def train_all(run_dir: Path, config: dict[str, Any]) -> None:
    """Run each framework's worker over every unit (at once when parallel) with one progress bar."""
    ensure_no_other_writer(run_dir, config)
    if config["recipe"]["run"].get("executor", "local") == "ray":
        from common.harness.ray_executor import train_on_ray

        return train_on_ray(run_dir, config)
    units = rundir.run_units(config)
    unit_args = [
        "--folds",
        join_ints(config["folds"]),
        "--seeds",
        join_ints(rundir.run_seeds(config)),
    ]
    per_unit = sum(int(s["epochs"]) for s in config["recipe"]["stages"])
    pending = training_subjects(config)
    subjects = [subject for subject, _, _ in pending]
    total = per_unit * len(units) * len(subjects)
    slots = parallel_slots(config)
    running: list[subprocess.Popen] = []
    bar = tqdm(total=total, desc="compare", unit="epoch", file=sys.stderr, mininterval=1.0)
    shown = ""

    def show(line: str) -> None:
        tqdm.write(line, file=sys.stderr)

    try:
        while pending or running:
            if pending and len(running) < slots:
                subject, framework, extra = pending.pop(0)
                args = ["train", str(run_dir), *unit_args, *extra]
                log = run_dir / "logs" / f"{subject}.log"
                proc = run_worker_process(framework, args, config, log)
                proc.framework = subject  # type: ignore[attr-defined]
                running.append(proc)
            time.sleep(0.5)
            for proc in running:
                relay_warnings(proc, show)
            for proc in [p for p in running if p.poll() is not None]:
                running.remove(proc)
                relay_warnings(proc, show)
                check_exit(proc, run_dir, config)
            done = sum(
                epochs_done(run_dir, subject, fold, seed, per_unit)
                for subject in subjects
                for fold, seed in units
            )
            status = " ".join(f"{p.framework}:running" for p in running)
            if status != shown:
                bar.set_postfix_str(status, refresh=False)
                shown = status
            if done != bar.n:
                bar.update(done - bar.n)
    finally:
        for proc in running:
            proc.kill()
            proc.wait()
            proc.log_handle.close()
        bar.close()


def run_compare(run_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) every framework x fold x seed, then aggregate, report and mark the run finished."""
    from common.harness.aggregate import finish_run
    from common.harness.data import load_run_data, run_folds

    started = time.perf_counter()
    print(f"run {config['run_id']}: {run_dir}", file=sys.stderr)
    data = load_run_data(config, progress=True)
    run_folds(run_dir, config, data)
    ensure_init_weights(run_dir, config)
    try:
        train_all(run_dir, config)
    except KeyboardInterrupt:
        print(
            f"saltbench: interrupted; continue with: saltbench compare --resume {run_dir}",
            file=sys.stderr,
        )
        raise
    return finish_run(run_dir, config, data, session_wall_s=time.perf_counter() - started)
