"""`saltbench compare`: set up a run, start one worker process per subject, then aggregate and report."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from common.core.cpu import machine_record
from common.core.errors import SaltbenchError
from common.runs import rundir
from common.runs.locks import ensure_free
from common.runs.processes import (
    REPO_ROOT,
    check_exit,
    epochs_done,
    join_ints,
    relay_warnings,
    run_worker_process,
)
from common.runs.schedule import record_end, record_start
from common.subjects.selection import TWINS, reference_of

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
        "subjects": frameworks,
        "folds": list(recipe["run"]["folds"]),
        "seeds": list(recipe["run"]["seeds"]),
        "threads": threads or default_threads(frameworks, parallel),
        "parallel": parallel,
        "keras_backend": recipe["run"]["keras_backend"],
        "reference": reference_of({"subjects": frameworks, "recipe": recipe}),
        "command": ["saltbench", *argv],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_record(),
        "host": {
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "system": platform.system(),
        },
        "versions": library_versions(),
        "git_commit": git_commit(),
    }


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
    if source not in TWINS:
        raise SaltbenchError(f"run.init_from must be one of {', '.join(TWINS)}, got {source!r}")
    args = ["init", str(run_dir), "--seeds", join_ints(missing)]
    proc = run_worker_process(source, args, config, run_dir / "logs" / "init.log")
    proc.wait()
    check_exit(proc, run_dir)


def training_subjects(config: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(unit folder name, worker subject, extra worker args) of every training process: the
    subjects, then with eval.noise_floor the reference's one-ulp copy (common.compare.unit.drift)."""
    from common.compare.unit.drift import FLOOR_SUFFIX, floor_reference

    subjects = [(fw, fw, []) for fw in config["subjects"]]
    reference = floor_reference(config)
    if reference:
        subjects.append((reference + FLOOR_SUFFIX, reference, ["--noise-floor"]))
    return subjects


def parallel_slots(config: dict[str, Any]) -> int:
    """How many workers train at once: as many as the cores hold at the run's threads, never
    more (a subject beyond that waits for one to finish); one when sequential."""
    if not config["parallel"]:
        return 1
    return max(1, (os.cpu_count() or 1) // max(1, int(config["threads"])))


def ensure_no_other_writer(run_dir: Path, config: dict[str, Any]) -> None:
    """Refuse, naming the holder, when a live process (say a worker left over) holds a unit folder."""
    for subject, _, _ in training_subjects(config):
        for fold, seed in rundir.run_units(config):
            ensure_free(rundir.unit_dir(run_dir, subject, fold, seed), "unit")


def train_all(run_dir: Path, config: dict[str, Any]) -> None:
    """Run each subject's worker over every unit, as many at once as the cores hold, with one
    progress bar; every start and end goes to the run's schedule (common.runs.schedule)."""
    ensure_no_other_writer(run_dir, config)
    if config["recipe"]["run"].get("executor", "local") == "ray":
        from common.compare.run.ray_executor import train_on_ray

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
                record_start(run_dir, subject, slots, int(config["threads"]))
                running.append(proc)
            time.sleep(0.5)
            for proc in running:
                relay_warnings(proc, show)
            for proc in [p for p in running if p.poll() is not None]:
                running.remove(proc)
                record_end(run_dir, proc.framework, proc.returncode)
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
            record_end(run_dir, proc.framework, proc.returncode)
        bar.close()


def curves_line(run_dir: Path) -> str:
    """Where the run's TensorBoard events go, or (once per run) that none are written."""
    from common.compare.unit import curves

    if not curves.available():
        return f"saltbench: {curves.MISSING}"
    return f"training curves: tensorboard --logdir {run_dir / curves.EVENTS_DIR}"


def run_compare(run_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) every subject x fold x seed, then aggregate, report and mark the run finished."""
    from common.compare.run.aggregate import finish_run
    from common.runs.dataset import load_run_data, run_folds

    started = time.perf_counter()
    print(f"run {config['run_id']}: {run_dir}", file=sys.stderr)
    print(curves_line(run_dir), file=sys.stderr)
    data = load_run_data(config, progress=True)
    run_folds(run_dir, config, data)
    ensure_init_weights(run_dir, config)
    try:
        train_all(run_dir, config)
    except KeyboardInterrupt:
        print(
            f"saltbench: interrupted; continue with: saltbench compare --run {run_dir}",
            file=sys.stderr,
        )
        raise
    return finish_run(run_dir, config, data, session_wall_s=time.perf_counter() - started)
