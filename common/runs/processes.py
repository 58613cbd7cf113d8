"""Worker processes: their command and environment, their log, and how a crashed one is reported.

Shared by the local scheduler (common.compare.run.orchestrate), the Ray executor, `predict` and
`export`; it imports neither of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common.core.device import device_env, numerics
from common.core.errors import DivergedError, SaltbenchError, WorkerCrashError
from common.core.io import writing
from common.core.runtime import THREAD_VARS
from common.runs import rundir
from common.runs.die_with_parent import PARENT_ENV
from common.runs.unit_state import STATE
from common.subjects.selection import get_subject

REPO_ROOT = Path(__file__).resolve().parents[2]


def worker_env(
    config: dict[str, Any], subject: str, keras_backend: str | None = None
) -> dict[str, str]:
    """The subject's worker environment: threads pinned, its Keras backend (or `keras_backend`:
    export's ONNX writer needs TensorFlow), the repo importable."""
    env = dict(os.environ)
    env.update({var: str(config["threads"]) for var in THREAD_VARS})
    env["TF_NUM_INTEROP_THREADS"] = "1"
    backend = config.get("keras_backend", "tensorflow")
    env["KERAS_BACKEND"] = keras_backend or get_subject(subject, backend).keras_backend or backend
    device = numerics(config["recipe"])["device"]
    env.update(device_env(device), SALTBENCH_DEVICE=device)  # predict --device may differ
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env[PARENT_ENV] = str(os.getpid())  # the worker stops when this process dies
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def device_probes(config: dict[str, Any], subjects: list[str]) -> list[tuple[str, dict[str, str]]]:
    """(twin, worker environment) of each subject, for common.runs.probe.check_device."""
    backend = config.get("keras_backend", "tensorflow")
    return [(get_subject(s, backend).twin, worker_env(config, s)) for s in subjects]


WORKER = "common.compare.run.worker"


def worker_command(subject: str, *args: str, module: str = WORKER) -> list[str]:
    """The worker process's command line (`module`: another runner's worker, such as export's)."""
    return [sys.executable, "-m", module, "--subject", subject, *args]


def run_worker_process(
    subject: str,
    args: list[str],
    config: dict[str, Any],
    log: Path,
    keras_backend: str | None = None,
    module: str = WORKER,
) -> subprocess.Popen:
    with writing(log):
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log, "a")  # noqa: SIM115  (closed with the process in wait_workers)
    handle.write(
        f"\n=== {time.strftime('%H:%M:%S')} {' '.join(worker_command(subject, *args, module=module))}\n"
    )
    handle.flush()
    offset = handle.tell()
    proc = subprocess.Popen(
        worker_command(subject, *args, module=module),
        env=worker_env(config, subject, keras_backend),
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    proc.log_handle = handle  # type: ignore[attr-defined]
    proc.log_path = log  # type: ignore[attr-defined]
    proc.framework = subject  # type: ignore[attr-defined]
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
        text += f"; continue the run with: saltbench compare --run {run_dir}"
    raise WorkerCrashError(text)


def join_ints(values) -> str:
    return ",".join(str(int(v)) for v in values)


def epochs_done(run_dir: Path, framework: str, fold: int, seed: int, per_unit: int) -> int:
    """Epochs one unit (subject x fold x seed) has committed, from its state.json."""
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
        state = json.loads((rundir.unit_dir(run_dir, framework, fold, seed) / STATE).read_text())
        return per_unit if state["done"] else min(per_unit, int(state["next_epoch"]))
    return 0
