"""`saltbench compare`: train both twins on the same folds with one recipe and report side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.cli_args import add_run_option, add_threads_option, check_threads
from common.errors import SaltbenchError
from common.recipes import DEFAULT_PROFILE, DEFAULT_RECIPE, parse_override, recipe_names
from common.spec import MODEL_SPECS

DEFAULT_OUT = Path("results/runs")  # git-ignored: a run changes no tracked file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="train Keras and PyTorch twins on the same folds and compare score and speed",
        description="Train the Keras and the PyTorch twin (or any subjects: --frameworks) on the "
        "same folds with one recipe, then "
        "write results/<run-id>/ (report.md, metrics.json, submissions, plots) and append to "
        "results/runs/leaderboard.csv. Without --data, a synthetic dataset is generated once into the cache.",
    )
    parser.add_argument(
        "--data", type=Path, help="Kaggle-layout folder (default: built-in synthetic data)"
    )
    parser.add_argument("--folds", help="comma-separated fold indices (default: the profile's)")
    parser.add_argument(
        "--seeds",
        help="comma-separated seeds, each a repeat of every fold (default: train.seed, one repeat)",
    )
    parser.add_argument(
        "--frameworks",
        help="comma-separated subjects (recipe key run.frameworks; default keras,torch): torch, "
        "torch-compile, keras-tf, keras-tf-xla, keras-jax, keras-torch, or keras (Keras on "
        "--keras-backend); each means what the `saltbench bench` variant of that name means",
    )
    parser.add_argument(
        "--reference",
        help="the subject every other one is paired with (recipe key run.reference; default torch)",
    )
    parser.add_argument(
        "--model",
        choices=sorted(MODEL_SPECS),
        help="model from the spec registry (default: the recipe's; resunet for seed000)",
    )
    parser.add_argument(
        "--recipe",
        default=DEFAULT_RECIPE,
        help=f"one of {', '.join(recipe_names())} (default {DEFAULT_RECIPE})",
    )
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="smoke | quick | full (default quick); seed000 also has cpu (real tiles on a 2-core "
        "CPU, fold 0, about an hour) and verdict (real tiles, all 5 folds, the framework-level "
        "verdict, about 109 minutes on 2 cores)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any recipe value by dotted key, e.g. stages.bce.epochs=3 "
        "(repeatable; values parse as JSON)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder of runs and their leaderboard.csv (default {DEFAULT_OUT}, git-ignored)",
    )
    add_run_option(parser, "continue the interrupted run in RUN_DIR", old="--resume")
    add_threads_option(
        parser,
        "cores / subjects when subjects run at once, else all cores; at most cores / threads "
        "subjects train at once, the rest wait",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="run the subjects one after the other instead of as many at once as the cores hold",
    )
    parser.add_argument(
        "--keras-backend",
        choices=("tensorflow", "torch", "jax"),
        help="Keras backend (default: the recipe's, tensorflow)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        help="where every subject trains (recipe key run.device; default auto: CUDA when the "
        "subject's framework sees one, else the CPU); cuda without a visible device is an error",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16", "auto"),
        help="train.precision for every subject alike: fp32, bf16 mixed precision "
        "(bfloat16 compute, float32 weights and loss), or auto: bf16 where the device computes it "
        "natively (CUDA, or a CPU with avx512_bf16 / amx_bf16 / bf16), else fp32",
    )
    parser.add_argument(
        "--noise-floor",
        action="store_true",
        help="eval.noise_floor: each unit also trains a copy of the reference (torch) whose "
        "initial weights are one ulp up, so the report can set the twins' drift and score "
        "difference beside what round-off alone produces",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="where the framework x fold x seed units run: local subprocesses or Ray tasks "
        "(recipe key run.executor; default local; ray needs the saltbench[ray] extra)",
    )
    parser.add_argument(
        "--address",
        help="with --executor ray: the Ray cluster to join (default: start a local instance)",
    )
    parser.add_argument(
        "--cpus-per-task",
        type=int,
        help="with --executor ray: CPUs each task requests = its worker's threads (default 1)",
    )
    parser.add_argument(
        "--gpus-per-task", type=float, help="with --executor ray: GPUs each task requests"
    )
    parser.set_defaults(func=run)


def recipe_overrides(args: argparse.Namespace) -> dict:
    from common.harness.worker import parse_ints

    overrides = dict(parse_override(text) for text in args.overrides)
    if args.folds:
        overrides["run.folds"] = parse_ints(args.folds, [], "folds")
    if args.seeds:
        overrides["run.seeds"] = parse_ints(args.seeds, [], "seeds")
    if args.model:
        overrides["model.name"] = args.model
    if args.keras_backend:
        overrides["run.keras_backend"] = args.keras_backend
    if args.frameworks:
        overrides["run.frameworks"] = parse_frameworks(args.frameworks)
    if args.reference:
        overrides["run.reference"] = args.reference
    if args.executor:
        overrides["run.executor"] = args.executor
    if args.device:
        overrides["run.device"] = args.device
    if args.precision:
        overrides["train.precision"] = args.precision
    if args.noise_floor:
        overrides["eval.noise_floor"] = True
    return overrides


def parse_frameworks(value: str | list[str]) -> list[str]:
    """The subjects of --frameworks or run.frameworks (a comma-separated text or a list)."""
    from common.harness.subjects import parse_subjects

    return parse_subjects(value if isinstance(value, str) else ",".join(map(str, value)))


def check_reference(recipe: dict, frameworks: list[str]) -> None:
    reference = recipe["run"].get("reference", "torch")
    if len(frameworks) > 1 and reference not in frameworks and reference != "torch":
        raise SaltbenchError(
            f"--reference {reference}: not among the subjects {', '.join(frameworks)}"
        )


def run(args: argparse.Namespace) -> int:
    from common.harness import rundir
    from common.harness.leaderboard import check_leaderboard, leaderboard_path
    from common.harness.locks import FolderLock

    check_threads(args.threads)
    if args.run:
        run_dir = Path(args.run)
        config = rundir.load_config(run_dir)
        check_leaderboard(leaderboard_path(run_dir))
        with FolderLock(run_dir, "saltbench compare"):
            if rundir.is_finished(run_dir):
                raise SaltbenchError(
                    f"{run_dir} is already finished; not overwriting it "
                    "(start a new run without --run)"
                )
            from common.harness.ray_settings import configure_resume

            configure_resume(config, args.executor, args.address)
            return train_and_report(run_dir, config)
    check_leaderboard(Path(args.out) / "leaderboard.csv")
    run_dir, config = new_run(args)
    with FolderLock(run_dir, "saltbench compare"):
        return train_and_report(run_dir, config)


def train_and_report(run_dir: Path, config: dict) -> int:
    """Train, aggregate and print the summary; a diverged framework ends in one error line."""
    from common.errors import DivergedError
    from common.harness.orchestrate import run_compare
    from common.harness.report import failure_line, summary_text

    metrics = run_compare(run_dir, config)
    report = run_dir / "report.md"
    if metrics["frameworks"]:
        print(
            f"\nrun {config['run_id']} {'ended' if metrics.get('failed') else 'finished'}: {report}\n"
        )
        print(summary_text(run_dir, failures=False))
    if metrics.get("failed"):
        raise DivergedError(failure_line(metrics, report))
    if metrics.get("leaderboard_problem"):
        raise SaltbenchError(metrics["leaderboard_problem"])
    return 0


def new_run(args: argparse.Namespace) -> tuple[Path, dict]:
    """Resolve the recipe and data, then create the run folder with its config.json."""
    from common.harness import rundir
    from common.harness.orchestrate import new_run_config
    from common.harness.worker import build_spec
    from common.recipes import resolve_recipe

    recipe = resolve_recipe(args.recipe, args.profile, recipe_overrides(args))
    build_spec(recipe)  # a bad model field fails here, in one line, before anything is written
    frameworks = parse_frameworks(recipe["run"].get("frameworks", ["keras", "torch"]))
    check_reference(recipe, frameworks)
    data_dir, source = resolve_data(args.data, recipe)
    config = new_run_config(
        recipe,
        data_dir,
        source,
        frameworks,
        args.threads,
        not args.sequential,
        sys.argv[1:],
    )
    configure_executor(config, args)
    check_run_device(config)  # --device cuda that a subject cannot see: one line, nothing written
    run_dir = rundir.create_run_dir(args.out, config)
    return run_dir, config


def check_run_device(config: dict) -> None:
    """Probe each subject's framework for the run's device (only `cuda` can fail)."""
    from common.device import numerics
    from common.harness.probe import check_device
    from common.harness.processes import device_probes

    device = numerics(config["recipe"])["device"]
    check_device(device_probes(config, config["frameworks"]), device)


def configure_executor(config: dict, args: argparse.Namespace) -> None:
    """Ray settings of a new run; refuses Ray-only options on a local run."""
    if config["recipe"]["run"]["executor"] == "ray":
        from common.harness.ray_settings import configure_new_run

        configure_new_run(
            config, args.address, args.cpus_per_task, args.gpus_per_task, args.threads
        )
    elif args.address or args.cpus_per_task or args.gpus_per_task:
        raise SaltbenchError("--address, --cpus-per-task and --gpus-per-task need --executor ray")


def resolve_data(data: Path | None, recipe: dict) -> tuple[Path, str]:
    """The user's folder (checked) or the cached synthetic dataset (generated on first use)."""
    from common.errors import DataError

    if data is None:
        from common.harness.data import ensure_synthetic

        params = recipe["data"]["synthetic"]
        print(
            f"using synthetic data ({params['n_train']} train / {params['n_test']} test tiles, "
            f"seed {params['seed']})",
            file=sys.stderr,
        )
        return ensure_synthetic(params), "synthetic"
    from common.kaggle import check_dataset

    problems = check_dataset(data)
    if problems:
        more = f" (and {problems.total - 1} more problems)" if problems.total > 1 else ""
        first = problems[0] if str(data) in problems[0] else f"{data}: {problems[0]}"
        raise DataError(first + more)
    return data, "user"
