"""`saltbench report --run RUN_DIR`: rebuild a run's report.md and plots from its files."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.cli_args import add_run_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="rebuild report.md and plots/ of a compare run from its files"
    )
    add_run_option(parser, "the compare run to rebuild")
    parser.add_argument(
        "run_dir",
        type=Path,
        nargs="?",
        metavar="RUN_DIR",
        help="the same, as it was spelled before",
    )
    parser.add_argument(
        "--leaderboard",
        action="store_true",
        help="also append the run's rows to the leaderboard beside it (RUN_DIR/../leaderboard.csv), "
        "e.g. after mending a damaged one; rows already there are not added twice",
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="first re-derive metrics.json's statistics (cross-fitted scores, both levels of "
        "every score verdict, speed ratios) from the run's per-tile outputs (oof_<subject>.npz) "
        "and its data folder, with this version's methods; default: render the stored ones",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from common.compare.report.build import summary_text, write_report
    from common.core.errors import SaltbenchError

    if args.run and args.run_dir and args.run != args.run_dir:
        raise SaltbenchError(f"two run folders given: --run {args.run} and {args.run_dir}")
    args.run_dir = args.run or args.run_dir
    if args.run_dir is None:
        raise SaltbenchError("report needs --run RUN_DIR")

    if args.recompute:
        from common.compare.run.recompute import recompute_statistics

        recompute_statistics(args.run_dir)
        print(f"{args.run_dir}/metrics.json: statistics recomputed from the per-tile outputs")
    path = write_report(args.run_dir)
    print(f"{path} rebuilt\n")
    if args.leaderboard:
        print(append_rows(args.run_dir) + "\n")
    print(summary_text(args.run_dir))
    return 0


def append_rows(run_dir: Path) -> str:
    """Append a finished run's leaderboard rows; says how many (none when already there)."""

    from common.compare.report.leaderboard import leaderboard_path, reappend_run_rows
    from common.core.errors import SaltbenchError
    from common.runs import rundir

    if not rundir.is_finished(run_dir):
        raise SaltbenchError(f"{run_dir}: the run has not finished; it has no leaderboard rows yet")
    config = rundir.load_config(run_dir)
    metrics = rundir.load_metrics(run_dir)
    added = reappend_run_rows(run_dir, config, metrics)
    board = leaderboard_path(run_dir)
    if not added:
        return f"{board}: already has the rows of run {config['run_id']}; nothing appended"
    return f"{board}: appended {added} rows of run {config['run_id']}"
