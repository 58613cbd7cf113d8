"""`saltbench parity`: build both twins, port weights, compare inference outputs and parameter counts.

Exit status 0 when every direction agrees (max |Δlogit| <= tolerance, equal counts), 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.encoder_weights import with_encoder_weights
from common.errors import SaltbenchError
from common.runtime import select_keras_backend
from common.spec import ACTIVATIONS, add_spec_arguments, spec_from_args

DIRECTIONS = ("keras2torch", "torch2keras")
TOLERANCE = 1e-4


@dataclass(frozen=True)
class ParityResult:
    direction: str
    keras_params: tuple[int, int]  # (all incl. BN running statistics, trainable)
    torch_params: tuple[int, int]
    max_abs_diff: float
    tiles: int
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.keras_params == self.torch_params and self.max_abs_diff <= self.tolerance


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


def random_tiles(n: int, size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


def real_tiles(root: Path, n: int) -> np.ndarray:
    """The first `n` train images (sorted by id) of a Kaggle-layout folder, in [0, 1]."""
    from PIL import Image

    paths = sorted((root / "train" / "images").glob("*.png"))[:n]
    if not paths:
        raise SaltbenchError(f"{root}: no train/images/*.png tiles to run parity on")
    tiles = [np.asarray(Image.open(p).convert("L"), dtype=np.float32) / 255.0 for p in paths]
    return np.stack(tiles)[..., None]


def randomize_batch_norm(weights: dict, seed: int) -> dict:
    """Non-trivial BN parameters and running statistics, so porting them is really checked."""
    rng = np.random.default_rng(seed)
    out = dict(weights)
    for key, value in weights.items():
        param = key.rsplit("/", 1)[1]
        if param in ("gamma", "moving_variance"):
            out[key] = rng.uniform(0.5, 1.5, value.shape).astype(np.float32)
        elif param in ("beta", "moving_mean"):
            out[key] = rng.normal(0.0, 0.1, value.shape).astype(np.float32)
    return out


def _twins():
    """(keras model/weights/steps, torch model/weights/steps) modules, imported on demand."""
    if _keras_not_imported():
        select_keras_backend("tensorflow")
    import keras_impl.model as keras_model
    import keras_impl.weights as keras_weights
    import torch_impl.model as torch_model
    import torch_impl.steps as torch_steps
    import torch_impl.weights as torch_weights

    return (keras_model, keras_weights), (torch_model, torch_weights, torch_steps)


def _keras_not_imported() -> bool:
    import sys

    return "keras" not in sys.modules


def broken_spec(spec):
    """The same spec with another activation (for the --break activation self-test)."""
    other = next(a for a in ACTIVATIONS if a != spec.activation)
    return dataclasses.replace(spec, activation=other)


def check_direction(
    spec,
    direction: str,
    x: np.ndarray,
    *,
    seed=0,
    tolerance=TOLERANCE,
    breakage=None,
    encoder_weights=None,
):
    """Port a source twin's weights into the other twin and compare logits on `x`."""
    import keras
    import torch

    (k_model, k_weights), (t_model, t_weights, t_steps) = _twins()
    keras.utils.set_random_seed(seed)
    torch.manual_seed(seed)
    receiver_spec = broken_spec(spec) if breakage == "activation" else spec
    keras_spec, torch_spec = (
        (spec, receiver_spec) if direction == "keras2torch" else (receiver_spec, spec)
    )
    kmodel, tmodel = k_model.build_model(keras_spec), t_model.build_model(torch_spec).eval()
    source, target = (
        (k_weights, t_weights) if direction == "keras2torch" else (t_weights, k_weights)
    )
    smodel, rmodel = (kmodel, tmodel) if direction == "keras2torch" else (tmodel, kmodel)
    start = randomize_batch_norm(source.export_weights(smodel), seed)
    if encoder_weights is not None:
        start = with_encoder_weights(start, encoder_weights, spec)
    source.import_weights(smodel, start)
    weights = source.export_weights(smodel)
    if breakage == "weight":
        weights = {**weights, "head/bias": weights["head/bias"] + np.float32(0.01)}
    target.import_weights(rmodel, weights)
    keras_logits = np.asarray(kmodel(x, training=False))
    with torch.no_grad():
        torch_logits = t_steps.to_nhwc(tmodel(t_steps.to_nchw(x, torch.device("cpu"))))
    return ParityResult(
        direction=direction,
        keras_params=k_weights.parameter_counts(kmodel),
        torch_params=t_weights.parameter_counts(tmodel),
        max_abs_diff=float(np.max(np.abs(keras_logits - torch_logits))),
        tiles=len(x),
        tolerance=tolerance,
    )


def width_label(spec) -> str:
    """'n=16' for the ResUNet, 'base_width=64' for the ResNet34 U-Net."""
    if hasattr(spec, "start_neurons"):
        return f"n={spec.start_neurons}"
    return f"base_width={spec.base_width}"


def describe(spec, result: ParityResult) -> str:
    verdict = "OK" if result.ok else "FAIL"
    return (
        f"{result.direction:<12} {spec.model} {spec.activation}/{spec.attention} "
        f"{width_label(spec)}: params keras {result.keras_params[0]:,} "
        f"(trainable {result.keras_params[1]:,}) torch {result.torch_params[0]:,} "
        f"(trainable {result.torch_params[1]:,}); max |Δlogit| {result.max_abs_diff:.3g} "
        f"on {result.tiles} tiles (tolerance {result.tolerance:g}): {verdict}"
    )


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.batch < 1:
        raise SaltbenchError(f"--batch must be >= 1, got {args.batch}")
    x = random_tiles(args.batch, spec.input_size, args.seed)
    if args.data is not None:
        x = np.concatenate([x, real_tiles(args.data, args.batch)])
    if args.encoder_weights is not None:
        with_encoder_weights({}, args.encoder_weights, spec)  # fail early on a wrong file or model
    directions = DIRECTIONS if args.direction == "both" else (args.direction,)
    ok = True
    for direction in directions:
        result = check_direction(
            spec,
            direction,
            x,
            seed=args.seed,
            tolerance=args.tolerance,
            breakage=args.breakage,
            encoder_weights=args.encoder_weights,
        )
        print(describe(spec, result), flush=True)
        ok &= result.ok
    return 0 if ok else 1
