"""`saltbench predict`: a validated Kaggle submission from a finished run's models for a dataset's test tiles."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common.cli_args import add_device_option, add_run_option, add_subjects_option, subject_list


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="write a Kaggle submission for a dataset's test tiles from a finished compare run",
        description="Predict every test id of DIR (sample_submission.csv order) with the run's models "
        "(flip TTA, mean over folds, the run's thresholds; both frameworks' probabilities averaged "
        "unless --subjects names one) and validate the CSV before declaring success.",
    )
    add_run_option(parser, "the finished compare run whose models predict")
    parser.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="Kaggle-layout folder to predict"
    )
    add_subjects_option(parser, "comma-separated subset of the run's subjects (default: all)")
    parser.add_argument(
        "--out", type=Path, help="CSV to write (default: RUN_DIR/predict/submission_<data>.csv)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    add_device_option(
        parser, "where the models predict (default: the run's run.device); cuda needs a visible one"
    )
    parser.add_argument(
        "--check",
        type=Path,
        metavar="CSV",
        help="only validate an existing submission against DIR's sample_submission.csv",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from common.compare.run.predict import expected_test_ids, predict_submission
    from common.core.errors import SaltbenchError
    from common.core.submission import validate_submission
    from common.runs import rundir

    if args.check:
        validate_submission(args.check, expected_test_ids(args.data))
        print(f"{args.check}: valid submission")
        return 0
    if args.run is None:
        raise SaltbenchError("predict needs --run RUN_DIR (or --check CSV to validate a file)")
    config = rundir.load_config(args.run)
    rundir.check_trained_run(args.run, "predict from")
    out = args.out or args.run / "predict" / f"submission_{args.data.resolve().name}.csv"
    if out.exists() and not args.force:
        raise SaltbenchError(f"{out} already exists; pass --force to replace it or choose --out")
    frameworks = subject_list(args.subjects) or list(config["subjects"])
    if args.device:  # predicting elsewhere than the run trained changes nothing but the device
        from common.runs.probe import check_device
        from common.runs.processes import device_probes

        config["recipe"].setdefault("run", {})["device"] = args.device
        check_device(device_probes(config, frameworks), args.device)
    with tempfile.TemporaryDirectory() as scratch:
        rows = predict_submission(args.run, config, args.data, frameworks, out, Path(scratch))
    print(f"{out}: {rows} rows, valid Kaggle submission", file=sys.stdout)
    return 0
