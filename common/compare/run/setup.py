"""Setting up or resuming a `saltbench compare` run: the recipe and data resolved and checked, the
executor and device checked, the run folder created, then trained and reported under its lock.
Nothing is written before every check has passed."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.core.errors import SaltbenchError


@dataclass(frozen=True)
class CompareRequest:
    """What `saltbench compare` was asked: a new run (recipe, profile, overrides, data, out) or the
    run folder to resume (`run`), and how to execute it."""

    recipe: str
    profile: str
    overrides: dict[str, Any]
    out: Path
    data: Path | None = None
    run: Path | None = None
    threads: int | None = None
    parallel: bool = True
    executor: str | None = None
    address: str | None = None
    cpus_per_task: float | None = None
    gpus_per_task: float | None = None
    argv: list[str] = field(default_factory=list)


def compare_run(request: CompareRequest) -> tuple[Path, dict, dict]:
    """Start (or resume) the run, train every subject and aggregate: (run folder, config, metrics)."""
    from common.compare.report.leaderboard import check_leaderboard, leaderboard_path
    from common.compare.run.orchestrate import run_compare
    from common.runs import rundir
    from common.runs.locks import FolderLock

    if request.run:
        run_dir = Path(request.run)
        config = rundir.load_config(run_dir)
        check_leaderboard(leaderboard_path(run_dir))
        with FolderLock(run_dir, "saltbench compare"):
            if rundir.is_finished(run_dir):
                raise SaltbenchError(
                    f"{run_dir} is already finished; not overwriting it "
                    "(start a new run without --run)"
                )
            from common.compare.run.ray_settings import configure_resume

            configure_resume(config, request.executor, request.address)
            return run_dir, config, run_compare(run_dir, config)
    check_leaderboard(Path(request.out) / "leaderboard.csv")
    run_dir, config = new_run(request)
    with FolderLock(run_dir, "saltbench compare"):
        return run_dir, config, run_compare(run_dir, config)


def new_run(request: CompareRequest) -> tuple[Path, dict]:
    """Resolve the recipe and data, then create the run folder with its config.json."""
    from common.compare.run.orchestrate import new_run_config
    from common.recipes.resolve import build_spec, resolve_recipe
    from common.runs import rundir

    recipe = resolve_recipe(request.recipe, request.profile, request.overrides)
    build_spec(recipe)  # a bad model field fails here, in one line, before anything is written
    frameworks = parse_frameworks(recipe["run"].get("subjects", ["keras", "torch"]))
    check_reference(recipe, frameworks)
    data_dir, source = resolve_data(request.data, recipe)
    config = new_run_config(
        recipe, data_dir, source, frameworks, request.threads, request.parallel, request.argv
    )
    configure_executor(config, request)
    check_run_device(config)  # --device cuda that a subject cannot see: one line, nothing written
    run_dir = rundir.create_run_dir(request.out, config)
    return run_dir, config


def parse_frameworks(value: str | list[str]) -> list[str]:
    """The subjects of --subjects or run.subjects (a comma-separated text or a list)."""
    from common.subjects.selection import parse_subjects

    return parse_subjects(value if isinstance(value, str) else ",".join(map(str, value)))


def check_reference(recipe: dict, frameworks: list[str]) -> None:
    from common.subjects.selection import DEFAULT_REFERENCE

    reference = recipe["run"].get("reference", DEFAULT_REFERENCE)
    if len(frameworks) > 1 and reference not in (*frameworks, DEFAULT_REFERENCE):
        raise SaltbenchError(
            f"--reference {reference}: not among the subjects {', '.join(frameworks)}"
        )


def check_run_device(config: dict) -> None:
    """Probe each subject's framework for the run's device (only `cuda` can fail)."""
    from common.core.device import numerics
    from common.runs.probe import check_device
    from common.runs.processes import device_probes

    device = numerics(config["recipe"])["device"]
    check_device(device_probes(config, config["subjects"]), device)


def configure_executor(config: dict, request: CompareRequest) -> None:
    """Ray settings of a new run; refuses Ray-only options on a local run."""
    if config["recipe"]["run"]["executor"] == "ray":
        from common.compare.run.ray_settings import configure_new_run

        configure_new_run(
            config, request.address, request.cpus_per_task, request.gpus_per_task, request.threads
        )
    elif request.address or request.cpus_per_task or request.gpus_per_task:
        raise SaltbenchError("--address, --cpus-per-task and --gpus-per-task need --executor ray")


def resolve_data(data: Path | None, recipe: dict) -> tuple[Path, str]:
    """The user's folder (checked) or the cached synthetic dataset (generated on first use)."""
    from common.core.errors import DataError

    if data is None:
        from common.runs.dataset import ensure_synthetic

        params = recipe["data"]["synthetic"]
        print(
            f"using synthetic data ({params['n_train']} train / {params['n_test']} test tiles, "
            f"seed {params['seed']})",
            file=sys.stderr,
        )
        return ensure_synthetic(params), "synthetic"
    from common.core.kaggle import check_dataset

    problems = check_dataset(data)
    if problems:
        more = f" (and {problems.total - 1} more problems)" if problems.total > 1 else ""
        first = problems[0] if str(data) in problems[0] else f"{data}: {problems[0]}"
        raise DataError(first + more)
    return data, "user"
