"""The parity check behind `saltbench parity`: both twins built from one spec, the source twin's
weights ported into the other through the neutral layout, logits and parameter counts compared.
Both twins are reached through the twin interface (common.models.twin)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.core.errors import SaltbenchError
from common.core.runtime import select_keras_backend
from common.models.encoder_weights import with_encoder_weights
from common.models.spec import ACTIVATIONS
from common.models.twin import Twin, load_twin

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


def _twins() -> tuple[Twin, Twin]:
    """(keras, torch) through the twin interface; Keras on TensorFlow unless a backend is set."""
    if _keras_not_imported():
        select_keras_backend("tensorflow")
    return load_twin("keras"), load_twin("torch")


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

    keras_twin, torch_twin = _twins()
    keras.utils.set_random_seed(seed)
    torch.manual_seed(seed)
    receiver_spec = broken_spec(spec) if breakage == "activation" else spec
    keras_spec, torch_spec = (
        (spec, receiver_spec) if direction == "keras2torch" else (receiver_spec, spec)
    )
    kmodel, tmodel = keras_twin.build_model(keras_spec), torch_twin.build_model(torch_spec).eval()
    source, target = (
        (keras_twin, torch_twin) if direction == "keras2torch" else (torch_twin, keras_twin)
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
        nchw = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2)
        torch_logits = tmodel(nchw).permute(0, 2, 3, 1).numpy()
    return ParityResult(
        direction=direction,
        keras_params=keras_twin.parameter_counts(kmodel),
        torch_params=torch_twin.parameter_counts(tmodel),
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


def check_parity(spec, batch: int, *, data=None, seed=0, directions=DIRECTIONS, tolerance=TOLERANCE,
                 breakage=None, encoder_weights=None) -> list[ParityResult]:  # fmt: skip
    """Every direction's result on `batch` random tiles (plus as many real ones from `data`)."""
    if batch < 1:
        raise SaltbenchError(f"--batch must be >= 1, got {batch}")
    x = random_tiles(batch, spec.input_size, seed)
    if data is not None:
        x = np.concatenate([x, real_tiles(data, batch)])
    if encoder_weights is not None:
        with_encoder_weights({}, encoder_weights, spec)  # fail early on a wrong file or model
    return [
        check_direction(spec, direction, x, seed=seed, tolerance=tolerance, breakage=breakage,
                        encoder_weights=encoder_weights)
        for direction in directions
    ]  # fmt: skip
