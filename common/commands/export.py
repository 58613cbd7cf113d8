"""`saltbench export`: a finished run's best models in each framework's format and as ONNX, checked."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.cli_args import add_run_option, add_subjects_option, names_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a finished run's best models as .keras / torch / ONNX files, each checked",
        description="For every subject and unit (seed x fold) of a finished compare run, write its "
        "best model in its framework's own format (.keras; a torch file with the spec and "
        "state_dict) and as ONNX, then load each file in a fresh process (ONNX: plain "
        "onnxruntime, no saltbench; native: only the twin's module) and check that its logits on "
        "the unit's validation tiles match saltbench's own prediction within 1e-4.",
    )
    add_run_option(parser, "the finished compare run whose models to export", required=True)
    add_subjects_option(
        parser,
        "comma-separated subjects of the run (default: all of them)",
        old=("--frameworks", "--subject"),
    )
    parser.add_argument(
        "--format",
        choices=("all", "native", "onnx"),
        default="all",
        help="native (.keras / torch file), onnx, or all (default all)",
    )
    parser.add_argument("--out", type=Path, help="folder to write (default: RUN_DIR/export)")
    parser.add_argument(
        "--tiles", type=int, default=0, help="validation tiles per check (default 0: all)"
    )
    parser.add_argument("--force", action="store_true", help="replace an earlier export")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from common.export.run import ExportCheckError, export_run, export_table

    subjects = names_of(args.subjects)
    out, manifest = export_run(args.run, subjects, args.format, args.out, args.tiles, args.force)
    print(export_table(out, manifest))
    failed = [e for e in manifest["files"] if not e["ok"]]
    if failed:
        first = failed[0]
        raise ExportCheckError(
            f"{out / first['path']}: {first['error']} ({len(failed)} of "
            f"{len(manifest['files'])} files failed their check; see {out / 'export.json'})"
        )
    return 0
