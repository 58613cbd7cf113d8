"""The `saltbench` command line: discovers subcommands in common.commands and reports user errors in one line."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from common import commands
from common.core.errors import exit_code_of


def installed_version() -> str:
    """This package's version, from its installed metadata."""
    from importlib import metadata

    try:
        return metadata.version("saltbench")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saltbench",
        description="Keras-vs-PyTorch benchmark on the TGS Salt Identification Challenge.",
    )
    parser.add_argument("--version", action="version", version=f"saltbench {installed_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return exit_code_of(lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
