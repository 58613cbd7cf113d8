"""`saltbench bench`: training and inference throughput of every variant, side by side, as % of peak."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.bench.timing.options import DEFAULT_MODEL, DEFAULT_WIDTHS, OPTIONS, ROUNDS
from common.cli_args import (
    add_device_option,
    add_run_option,
    add_subjects_option,
    add_threads_option,
    check_threads,
)
from common.core.errors import SaltbenchError
from common.subjects.table import VARIANT_NAMES, parse_variants

DEFAULT_OUT = Path("results/bench")  # git-ignored; results/benchmarks/ holds the published pages


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="time training and inference of every variant (pytest-benchmark), write summary.md",
        description="Times the ResUNet twins' training step (batch 32) and inference (batch 64) for each "
        "variant, one process per backend, with the roofline measured in the same run. Variants: "
        + ", ".join(VARIANT_NAMES),
    )
    add_subjects_option(
        p,
        "comma-separated subjects and inference-only rows (default: all; with --sweep: "
        "torch-eager,keras-tf)",
        old=("--variants",),
    )
    p.add_argument(
        "--sweep",
        metavar="AXIS=V1,V2,...",
        help="a scaling curve: one bench run per value of batch, width or threads (e.g. "
        "batch=1,2,4,8,16,32,64); writes scaling_<axis>.csv, .png and .md",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="3 rounds, 1 process per backend, no torch.compile/XLA training, no Keras-on-torch, "
        "no harness epochs (< 3 min)",
    )
    p.add_argument(
        "--startup",
        choices=("parallel", "sequential"),
        default=None,
        help="parallel: every backend process starts at once and does its untimed start-up work "
        "(imports, tracing, exports) side by side, then they time one at a time; sequential: one "
        "process after the other, so first-call times are uncontended (default: parallel with "
        "--quick, sequential otherwise)",
    )
    p.add_argument(
        "--order",
        choices=("interleaved", "block"),
        default="interleaved",
        help="timed rounds: interleaved, one round of each backend process in turn (A B C A B C, "
        "so a drift of the machine lands on every variant alike; default), or block (all of one "
        "process's rounds, then the next's)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="run each backend's process N times, rounds interleaved across all of them; ratio "
        "intervals are over processes, since rounds of one process share its start-up, memory "
        "layout and thread placement (default 2; 1 with --quick: ratios without intervals)",
    )
    p.add_argument(
        "--breakdown",
        action="store_true",
        help="after each variant's timed rounds, profile 3 training steps and 3 inference batches "
        "with its framework's own profiler and write breakdown.csv/.md/.png: ms per step by "
        "operation class (default off)",
    )
    p.add_argument(
        "--compare",
        metavar="PREVIOUS.json",
        help="compare with an earlier run's pytest-benchmark JSON (its RUN_DIR/benchmarks.json, "
        "or the bench-<id>.json copy beside summary.md)",
    )
    p.add_argument(
        "--fail-regression",
        metavar="PCT",
        help="with --compare: exit 1 when a median is PCT slower",
    )
    add_threads_option(p, "all CPUs")
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (default results/bench, git-ignored; --out results/benchmarks "
        "publishes the run as the committed benchmark pages)",
    )
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        choices=sorted(DEFAULT_WIDTHS),
        help=f"model to time (default {DEFAULT_MODEL}; resnet34_unet is the seed-002 ResNet34 U-Net)",
    )
    p.add_argument(
        "--width",
        type=int,
        default=None,
        help="ResUNet start_neurons or ResNet34 U-Net base_width (default "
        + ", ".join(f"{width} for {model}" for model, width in DEFAULT_WIDTHS.items())
        + ")",
    )
    for name in ("train_batch", "infer_batch"):
        option = OPTIONS[name]
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=option.default,
                       help=f"{option.help} (default {option.default})")  # fmt: skip
    for index, (name, what) in enumerate((("rounds", "timed"), ("warmup", "warm-up"))):
        quick, full = ROUNDS["quick"][index], ROUNDS["full"][index]
        p.add_argument(f"--{name}", type=int, default=None,
                       help=f"{what} rounds (default {quick} quick, {full} full)")  # fmt: skip
    add_run_option(p, "finish the interrupted bench run in RUN_DIR (reuses its config)",
                   old="--resume")  # fmt: skip
    add_device_option(
        p,
        "where every variant runs (default auto: CUDA when its framework sees one); "
        "cuda without a visible device is an error",
        default="auto",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show each pytest process's output")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    from common.bench.run.config import BenchConfig, check_previous, parse_percent

    if args.fail_regression and not args.compare:
        raise SaltbenchError("--fail-regression needs --compare PREVIOUS.json")
    if args.processes is not None and args.processes < 1:
        raise SaltbenchError(f"--processes must be >= 1, got {args.processes}")
    check_threads(args.threads)
    if args.width is None:
        args.width = DEFAULT_WIDTHS[args.model]
    for name in ("width", "train_batch", "infer_batch"):
        if getattr(args, name) < 1:
            raise SaltbenchError(
                f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}"
            )
    return BenchConfig(
        variants=[v.name for v in parse_variants(args.subjects or default_variants(args.quick))],
        quick=args.quick,
        threads=args.threads,
        width=args.width,
        model=args.model,
        train_batch=args.train_batch,
        infer_batch=args.infer_batch,
        rounds=args.rounds,
        warmup=args.warmup,
        compare=check_previous(args.compare),
        fail_regression=parse_percent(args.fail_regression) if args.fail_regression else None,
        parallel_startup=None if args.startup is None else args.startup == "parallel",
        order=args.order,
        device=args.device,
        processes=args.processes,
        breakdown=args.breakdown,
    )


def default_variants(quick: bool) -> str:
    from common.subjects.table import quick_variant_names

    return ",".join(quick_variant_names()) if quick else "all"


def new_config(args: argparse.Namespace):
    """The run's BenchConfig from the options, after its device was checked."""
    from common.bench.run.session import check_bench_device

    config = config_from_args(args)
    check_bench_device(config)
    return config


def run(args: argparse.Namespace) -> int:
    """Parse, then one bench run (common.bench.run.session) or a sweep of them (common.bench.sweep.session)."""
    from common.bench.run.session import bench_run
    from common.bench.sweep import session as bench_sweep

    if getattr(args, "sweep", None) or (args.run and bench_sweep.is_sweep(args.run)):
        return bench_sweep.run(args, new_config)
    config = None if args.run else new_config(args)
    return bench_run(config, args.out, args.run, args.verbose)
