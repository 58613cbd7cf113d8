"""`saltbench compare`: train both twins on the same folds with one recipe and report side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.cli_args import (
    add_device_option,
    add_run_option,
    add_subjects_option,
    add_threads_option,
    check_threads,
    subject_list,
)
from common.core.errors import SaltbenchError
from common.models.spec import MODEL_SPECS
from common.recipes.resolve import DEFAULT_PROFILE, DEFAULT_RECIPE, parse_override, recipe_names

DEFAULT_OUT = Path("results/runs")  # git-ignored: a run changes no tracked file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="train Keras and PyTorch twins on the same folds and compare score and speed",
        description="Train the Keras and the PyTorch twin (or any subjects: --subjects) on the "
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
    add_subjects_option(
        parser,
        "comma-separated subjects (recipe key run.subjects; default keras,torch): torch, "
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
        "CPU, fold 0, about an hour) and verdict (real tiles, folds 0-1 x 5 seeds, the framework-level "
        "verdict, 80 minutes measured on 2 cores)",
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
    add_device_option(
        parser,
        "where every subject trains (recipe key run.device; default auto: CUDA when the "
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
    from common.runs.twin_process import parse_ints

    overrides = dict(parse_override(text) for text in args.overrides)
    if args.folds:
        overrides["run.folds"] = parse_ints(args.folds, [], "folds")
    if args.seeds:
        overrides["run.seeds"] = parse_ints(args.seeds, [], "seeds")
    if args.model:
        overrides["model.name"] = args.model
    if args.keras_backend:
        overrides["run.keras_backend"] = args.keras_backend
    if args.subjects:
        overrides["run.subjects"] = subject_list(args.subjects)
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


def run(args: argparse.Namespace) -> int:
    """Parse, run the comparison (common.compare.run.setup), print its summary."""
    from common.compare.report.build import failure_line, summary_text
    from common.compare.run.setup import CompareRequest, compare_run
    from common.core.errors import DivergedError

    check_threads(args.threads)
    request = CompareRequest(
        recipe=args.recipe, profile=args.profile, overrides=recipe_overrides(args),
        out=Path(args.out), data=args.data, run=Path(args.run) if args.run else None,
        threads=args.threads, parallel=not args.sequential, executor=args.executor,
        address=args.address, cpus_per_task=args.cpus_per_task, gpus_per_task=args.gpus_per_task,
        argv=sys.argv[1:],
    )  # fmt: skip
    run_dir, config, metrics = compare_run(request)
    report = run_dir / "report.md"
    if metrics["subjects"]:
        ended = "ended" if metrics.get("failed") else "finished"
        print(f"\nrun {config['run_id']} {ended}: {report}\n")
        print(summary_text(run_dir, failures=False))
    if metrics.get("failed"):
        raise DivergedError(failure_line(metrics, report))
    if metrics.get("leaderboard_problem"):
        raise SaltbenchError(metrics["leaderboard_problem"])
    return 0
