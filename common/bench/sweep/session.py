"""The `--sweep` side of `saltbench bench`: a scaling curve over batch, width or threads."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common.bench.sweep.points import (
    load_sweep,
    new_sweep_dir,
    point_config,
    run_sweep,
    write_scaling,
)
from common.bench.sweep.scaling import AXES, DEFAULT_SWEEP_VARIANTS, parse_sweep
from common.bench.timing.settings import usable_cpus
from common.core.errors import SaltbenchError


def is_sweep(run_dir: Path) -> bool:
    from common.bench.sweep.points import SWEEP_FILE

    return (run_dir / SWEEP_FILE).is_file()


def run(args: argparse.Namespace, new_config) -> int:
    """A sweep from the options (`new_config(args)`: the command's checked BenchConfig), or the
    rest of an interrupted one (`--run`)."""
    from common.bench.report.run_meta import model_label

    if args.run:
        if not is_sweep(args.run):
            raise SaltbenchError(f"{args.run}: not a sweep's folder (no sweep.json); --run "
                                 "it without --sweep")  # fmt: skip
        run_dir = args.run
        axis, points, config = load_sweep(run_dir)
    else:
        if args.compare:
            raise SaltbenchError("--compare compares one bench run with another; not with --sweep")
        axis, points = parse_sweep(args.sweep, usable_cpus())
        args.subjects = args.subjects or DEFAULT_SWEEP_VARIANTS
        config = new_config(args)
        run_dir = new_sweep_dir(args.out, axis, points, config)
    out = run_dir.parent.parent
    started = time.perf_counter()
    table, failures = run_sweep(config, axis, points, run_dir, args.verbose)
    seconds = time.perf_counter() - started
    threads = config.threads or usable_cpus()
    fixed = {"batch": f"width {config.width}, {threads} thread(s)",
             "width": f"batch {config.train_batch}/{config.infer_batch}, {threads} thread(s)",
             "threads": f"width {config.width}, batch {config.train_batch}/{config.infer_batch}"}[axis]  # fmt: skip
    rounds, warmup, _ = point_config(config, axis, points[0]).resolved_rounds()
    meta = {
        "title": f"{model_label(config)} scaling over {AXES[axis]} ({fixed})",
        "context": f"{model_label(config)}; {fixed}; variants {', '.join(config.variants)}; "
        f"{rounds} timed rounds per point (after {warmup} warm-up); "
        f"{seconds:.0f} s wall. "
        f"Run folder: `{run_dir}` (`saltbench bench --run {run_dir}` finishes an interrupted "
        "sweep point by point).",
    }
    written = write_scaling(axis, table, run_dir, out, meta)
    print("wrote " + ", ".join(str(p) for p in written) + f" ({seconds:.0f} s)")
    for value, result in failures:
        print(
            f"saltbench: {axis}={value}: benchmark process {result.name} failed "
            f"(exit {result.returncode}); see {result.log_path}",
            file=sys.stderr,
        )
    return 1 if failures else 0
