"""Options that several verbs share, spelled one way: the run folder and the threads."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.core.errors import SaltbenchError

RUN_METAVAR = "RUN_DIR"


def add_run_option(
    parser: argparse.ArgumentParser, help: str, required: bool = False, old: str | None = None
) -> None:
    """`--run RUN_DIR`, the run folder of every verb that takes one (`old`: the spelling it had,
    still accepted)."""
    names = ["--run"] + ([old] if old else [])
    alias = f" ({old} is the older spelling)" if old else ""
    parser.add_argument(*names, dest="run", type=Path, metavar=RUN_METAVAR, required=required,
                        help=help + alias)  # fmt: skip


def add_threads_option(parser: argparse.ArgumentParser, default_text: str) -> None:
    """`--threads N`: intra-op threads of each process, at least 1, in every verb."""
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help=f"intra-op threads of each framework process, at least 1 (default: {default_text})",
    )


def check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise SaltbenchError(f"--threads must be >= 1, got {threads}")
