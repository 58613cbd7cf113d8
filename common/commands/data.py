"""`saltbench data synth|check|download`: make, validate or fetch a dataset in the Kaggle layout."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import zipfile
from pathlib import Path

from common.core.errors import DataError, SaltbenchError

COMPETITION = "tgs-salt-identification-challenge"


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


# ---------------------------------------------------------------- download


def _has_kaggle_credentials() -> bool:
    """Look for any credential the kaggle package accepts, without touching the network."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    folders = [os.environ.get("KAGGLE_CONFIG_DIR"), Path.home() / ".kaggle",
               Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kaggle"]  # fmt: skip
    names = ("kaggle.json", "access_token", "credentials.json")
    return any(folder and (Path(folder) / name).is_file() for folder in folders for name in names)


def run_download(args: argparse.Namespace) -> int:
    if not _has_kaggle_credentials():
        raise SaltbenchError(
            "no Kaggle credentials: set KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or put "
            "kaggle.json in ~/.kaggle; then accept the competition rules on kaggle.com"
        )
    api = _kaggle_api()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        api.competition_download_files(COMPETITION, path=str(args.dir), quiet=False)
    except Exception as err:  # network, 401/403 (rules not accepted), disk: report in one line
        raise SaltbenchError(f"kaggle download of {COMPETITION} failed: {err}") from None
    _extract_all(args.dir)
    print(f"{args.dir}: downloaded; run `saltbench data check {args.dir}` to validate it")
    return 0


def _kaggle_api():
    """Import kaggle lazily (its import authenticates and prints help) and authenticate quietly."""
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
    except ImportError:
        raise SaltbenchError("the kaggle package is not installed: pip install kaggle") from None
    except (Exception, SystemExit) as err:
        raise SaltbenchError(
            f"kaggle authentication failed: {err or 'invalid credentials'}"
        ) from None
    return api


def _extract_all(folder: Path) -> None:
    """Unzip the competition archive, then each inner X.zip into folder/X (train.zip -> train/)."""
    archives = sorted(folder.glob("*.zip"))
    while archives:
        archive = archives.pop()
        target = folder if archive.stem == COMPETITION else folder / archive.stem
        try:
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(target)
        except zipfile.BadZipFile:
            raise DataError(f"{archive}: not a valid zip archive") from None
        archive.unlink()
        archives = sorted(folder.glob("*.zip"))
