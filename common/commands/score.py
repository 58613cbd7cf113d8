"""`saltbench score PREDICTIONS.csv TRUTH.csv`: the competition score of a Kaggle-format CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score", help="competition score of a submission CSV against truth"
    )
    parser.add_argument("predictions", type=Path, help="CSV id,rle_mask")
    parser.add_argument("truth", type=Path, help="CSV id,rle_mask (e.g. a train.csv)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from common.core.submission import score_submission

    score, count = score_submission(args.predictions, args.truth)
    print(f"{score:.6f}")
    print(f"scored {count} images of {args.truth}", file=sys.stderr)
    return 0
