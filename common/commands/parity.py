"""`saltbench parity`: build both twins, port weights, compare inference outputs and parameter counts.

Exit status 0 when every direction agrees (max |Δlogit| <= tolerance, equal counts), 1 otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common.models.spec import add_spec_arguments, spec_from_args
from common.parity.check import DIRECTIONS, TOLERANCE, check_parity, describe


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parity", help="prove the Keras and PyTorch twins compute the same function"
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "--direction",
        choices=(*DIRECTIONS, "both"),
        default="both",
        help="which way the weights move (default both)",
    )
    parser.add_argument(
        "--batch", type=int, default=4, help="random tiles (and real ones) to run (default 4)"
    )
    parser.add_argument("--data", type=Path, help="Kaggle-layout folder: add its first train tiles")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and tiles (default 0)")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE,
        help=f"largest |output difference| that passes (default {TOLERANCE:g})",
    )
    parser.add_argument(
        "--encoder-weights",
        type=Path,
        metavar="FILE",
        help="resnet34_unet: start the source twin from a local torchvision ResNet34 state dict",
    )
    parser.add_argument(
        "--break",
        dest="breakage",
        choices=("weight", "activation"),
        help="self-test: deliberately change the receiving twin; the check must then fail",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    directions = DIRECTIONS if args.direction == "both" else (args.direction,)
    results = check_parity(
        spec, args.batch, data=args.data, seed=args.seed, directions=directions,
        tolerance=args.tolerance, breakage=args.breakage, encoder_weights=args.encoder_weights,
    )  # fmt: skip
    for result in results:
        print(describe(spec, result), flush=True)
    return 0 if all(result.ok for result in results) else 1
