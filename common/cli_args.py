"""Options that several verbs share, spelled and parsed one way: the run folder, the threads, the
device and the subjects."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.core.device import DEVICES
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


def add_device_option(
    parser: argparse.ArgumentParser, help: str, default: str | None = None
) -> None:
    """`--device auto|cpu|cuda`: where the verb's frameworks compute."""
    parser.add_argument("--device", choices=DEVICES, default=default, help=help)


def add_subjects_option(
    parser: argparse.ArgumentParser, help: str, old: tuple[str, ...] = ("--frameworks",)
) -> None:
    """`--subjects S1,S2`: comma-separated subjects (twins under an execution mode); `old`: the
    earlier spellings, still accepted."""
    parser.add_argument(
        "--subjects", *old, dest="subjects", metavar="SUBJECTS",
        help=f"{help}; older spelling{'s' * (len(old) > 1)}: {', '.join(old)}",
    )  # fmt: skip


def names_of(text: str | None) -> list[str] | None:
    """The comma-separated names of an option, stripped; None when not given (the verb checks
    them against what it has: export against the run's subjects)."""
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def subject_list(text: str | None) -> list[str] | None:
    """The subjects of `--subjects`, checked and with aliases resolved; None when not given."""
    from common.subjects.selection import parse_subjects

    return parse_subjects(text) if text else None
