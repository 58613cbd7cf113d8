"""`saltbench data synth|check|download`: make, validate or fetch a dataset in the Kaggle layout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="make, check or download a dataset")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    synth = actions.add_parser("synth", help="write a synthetic dataset in the Kaggle layout")
    synth.add_argument("--out", required=True, type=Path, help="folder to create")
    synth.add_argument("--n-train", type=int, default=4000, help="labelled tiles (default 4000)")
    synth.add_argument("--n-test", type=int, default=1000, help="unlabelled tiles (default 1000)")
    synth.add_argument("--seed", type=int, default=0, help="seed of the tiles (default 0)")
    synth.add_argument("--force", action="store_true", help="replace a synthetic dataset at --out")
    synth.set_defaults(func=run_synth)

    check = actions.add_parser("check", help="validate a Kaggle-layout folder (exit 1 on problems)")
    check.add_argument("dir", type=Path, help="the dataset folder to check")
    check.add_argument("--quiet", action="store_true", help="no progress bars")
    check.set_defaults(func=run_check)

    download = actions.add_parser(
        "download", help="fetch the competition data with the kaggle package"
    )
    download.add_argument("dir", type=Path, help="folder to download into")
    download.set_defaults(func=run_download)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return args.func(args)


def run_synth(args: argparse.Namespace) -> int:
    from common.core.synth import write_synthetic_dataset

    out = write_synthetic_dataset(args.out, args.n_train, args.n_test, args.seed, force=args.force)
    print(
        f"{out}: synthetic dataset, {args.n_train} train + {args.n_test} test tiles, seed {args.seed}"
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from common.core.kaggle import scan_and_cache

    problems = scan_and_cache(args.dir, progress=not args.quiet)
    if problems:
        for line in problems:
            print(line)
        shown = f" ({len(problems)} lines shown)" if len(problems) != problems.total else ""
        print(f"saltbench: error: {args.dir}: {problems.total} problem(s){shown}", file=sys.stderr)
        return 1
    _print_summary(args.dir)
    return 0


def _print_summary(root: Path) -> None:
    from common.core.kaggle import load_dataset

    data = load_dataset(root, progress=False)
    coverage = data.coverage
    print(
        f"{root}: ok: {len(data.train_ids)} train tiles ({(coverage == 0).mean():.1%} empty, "
        f"mean coverage {coverage.mean():.1%}), {len(data.test_ids)} test tiles"
    )


def run_download(args: argparse.Namespace) -> int:
    from common.core.kaggle_download import download_competition

    folder = download_competition(args.dir)
    print(f"{folder}: downloaded; run `saltbench data check {folder}` to validate it")
    return 0
