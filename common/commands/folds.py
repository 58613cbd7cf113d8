"""`saltbench folds DIR`: make (or reuse) the stratified K-fold split of a dataset, saved as id,fold."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def register(subparsers) -> None:
    parser = subparsers.add_parser("folds", help="stratified K-fold split saved as CSV id,fold")
    parser.add_argument("dir", type=Path, help="dataset folder in the Kaggle layout")
    parser.add_argument("--k", type=int, default=5, help="number of folds (default 5)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the split's shuffle (default 0)"
    )
    parser.add_argument("--out", type=Path, help="CSV path (default DIR/folds_k{K}_seed{SEED}.csv)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from common.core.errors import SaltbenchError
    from common.core.folds import coverage_class, default_folds_path, load_or_make_folds
    from common.core.kaggle import load_dataset

    if args.k < 2:
        raise SaltbenchError(f"--k must be at least 2, got {args.k}")
    data = load_dataset(args.dir)
    if args.k > len(data.train_ids):
        raise SaltbenchError(
            f"--k {args.k}: {args.dir} has only {len(data.train_ids)} training ids; every fold "
            "needs at least one (choose --k from 2 to the number of ids)"
        )
    out = args.out or default_folds_path(args.dir, args.k, args.seed)
    if out.is_dir():
        raise SaltbenchError(f"--out {out}: is a folder; give the CSV file to write")
    reused = out.exists()
    table = load_or_make_folds(out, data.train_ids, data.masks, k=args.k, seed=args.seed)
    table["coverage_class"] = coverage_class(data.masks)
    counts = pd.crosstab(table.coverage_class, table.fold)
    print(counts.to_string())
    print(f"{out}: {'reused' if reused else 'wrote'} {args.k} folds over {len(table)} ids")
    return 0
