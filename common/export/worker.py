"""The export worker process: `python -m common.export.worker --subject S RUN_DIR --out DIR`.

`saltbench export` starts one per subject (common.export.run). It builds the subject's twin the
way the training worker does (common.compare.run.worker: threads pinned, the twin imported by module
name after the backend is set) and writes every unit's best model with its reference logits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.subjects.selection import SUBJECT_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subject", required=True, choices=SUBJECT_NAMES)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--formats", default="reference,native,onnx")
    parser.add_argument("--tiles", type=int, default=0, help="validation tiles (0 = all)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from common.runs.twin_process import make_twin, run_as_worker

    def export(make_trainer, config, threads) -> None:
        from common.export.write import export_units

        make = lambda seed: make_twin(make_trainer, config, threads, seed)  # noqa: E731
        formats = [f for f in args.formats.split(",") if f]
        export_units(make, args.run_dir, config, args.out, formats, args.tiles)

    return run_as_worker(args.subject, args.run_dir, export)


if __name__ == "__main__":
    sys.exit(main())
