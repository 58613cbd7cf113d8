"""`saltbench report RUN_DIR`: rebuild a run's report.md and plots from its files."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="rebuild report.md and plots/ of a compare run from its files"
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from common.harness.report import summary_text, write_report

    path = write_report(args.run_dir)
    print(f"{path} rebuilt\n")
    print(summary_text(args.run_dir))
    return 0
