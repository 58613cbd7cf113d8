"""Synthetic TGS-like data: seismic tiles with salt bodies, written in the exact Kaggle layout.

Each tile is drawn from its own random stream seeded by (seed, split, index), so a dataset is
byte-for-byte reproducible and tile i does not depend on how many tiles were requested.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from common.core.errors import SaltbenchError
from common.core.io import atomic_write_csv, atomic_write_json
from common.core.rle import rle_encode_many

SIZE = 101
GENERATOR_VERSION = 1
MARKER = "synth.json"
EMPTY_FRACTION = 0.40
TINY_FRACTION = 0.10  # of the non-empty masks: coverage under 1.5 %
_PAD = 128  # FFT size for smooth random fields
_TRAIN, _TEST = 0, 1


@dataclass(frozen=True)
class Tile:
    """One generated tile: 8-bit grey image, boolean mask, depth z."""

    image: np.ndarray
    mask: np.ndarray
    depth: int


def _smooth_field(rng: np.random.Generator, sigma_y: float, sigma_x: float) -> np.ndarray:
    """Gaussian-filtered white noise on the tile, unit standard deviation."""
    noise = rng.standard_normal((_PAD, _PAD))
    fy = np.fft.fftfreq(_PAD)[:, None]
    fx = np.fft.rfftfreq(_PAD)[None, :]
    kernel = np.exp(-2 * np.pi**2 * ((fy * sigma_y) ** 2 + (fx * sigma_x) ** 2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=(_PAD, _PAD))[:SIZE, :SIZE]
    return field / (field.std() + 1e-12)


def _ricker(t: np.ndarray) -> np.ndarray:
    """Ricker wavelet with unit peak at 0; t in units of its half-width."""
    return (1 - 2 * t**2) * np.exp(-(t**2))


def _reflectivity_trace(rng: np.random.Generator, length: int) -> np.ndarray:
    """A band-limited 1-D reflectivity series: sparse layer contrasts convolved with a Ricker wavelet."""
    spikes = rng.laplace(size=length) * (rng.random(length) < rng.uniform(0.15, 0.5))
    width = rng.uniform(1.6, 4.5)
    taps = np.arange(-12, 13)
    trace = np.convolve(spikes, _ricker(taps / width), mode="same")
    return trace / (trace.std() + 1e-12)


def _sediments(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Layered reflectors, dipping and folded, cut by an optional fault, with lateral amplitude change."""
    u = yy * rng.uniform(0.6, 1.4) + xx * np.tan(np.radians(rng.normal(0, 20)))
    for _ in range(rng.integers(1, 4)):
        wavelength = rng.uniform(40, 300)
        amplitude = min(rng.uniform(0, 0.07) * wavelength, 15) * (
            1 + rng.uniform(-0.5, 0.5) * yy / SIZE
        )
        u = u + amplitude * np.sin(2 * np.pi * xx / wavelength + rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.35:
        angle = np.radians(rng.uniform(-30, 30))
        side = (xx - rng.uniform(10, 90)) * np.cos(angle) - (yy - 50) * np.sin(angle) > 0
        u = u + side * rng.uniform(-15, 15)
    trace = _reflectivity_trace(rng, 600)
    sediments = np.interp(u.ravel() + 250, np.arange(600), trace).reshape(u.shape)
    lateral = 1 + 0.3 * _smooth_field(rng, 30, 30)
    if rng.random() < 0.15:  # chaotic, low-continuity package: a look-alike for salt
        chaos = _smooth_field(rng, rng.uniform(1.5, 4), rng.uniform(1.5, 4))
        blend = 1 / (1 + np.exp(-2.5 * _smooth_field(rng, 20, 20)))
        sediments = sediments * (1 - blend) + chaos * blend * rng.uniform(0.3, 0.8)
    return sediments * np.clip(lateral, 0.3, None)


def _salt_field(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """A smooth scalar field whose upper level sets are salt-body shapes (a flank or a blob)."""
    wobble = _smooth_field(rng, 14, 14) * rng.uniform(2, 8)
    if rng.random() < 0.6:  # salt flank/top: a wavy boundary crossing the tile
        angle = rng.uniform(0, 2 * np.pi)
        normal = np.cos(angle) * (yy - 50) + np.sin(angle) * (xx - 50)
        along = -np.sin(angle) * (yy - 50) + np.cos(angle) * (xx - 50)
        bend = rng.uniform(-0.012, 0.012) * along**2
        return normal + bend + wobble
    cy, cx = rng.uniform(-20, 120, size=2)
    radius = np.hypot(yy - cy, xx - cx)
    theta = np.arctan2(yy - cy, xx - cx)
    shape = 1 + sum(
        rng.uniform(0, 0.25) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 4)
    )
    return -radius / shape + wobble


def _target_coverage(rng: np.random.Generator) -> float:
    if rng.random() < TINY_FRACTION:
        return rng.uniform(0.0015, 0.015)
    return rng.uniform(0.015, 0.985)


def _salt_mask(
    rng: np.random.Generator, field: np.ndarray, coverage: float
) -> tuple[np.ndarray, float]:
    """Threshold the field so exactly round(coverage * pixels) pixels are salt (at least 1, never all)."""
    flat = np.sort(field.ravel())
    count = int(np.clip(round(coverage * flat.size), 1, flat.size - 1))
    level = 0.5 * (flat[-count] + flat[-count - 1])
    return field > level, level


def _add_salt(rng, image, field, level) -> np.ndarray:
    """Replace sediments inside the body by weak chaotic texture and draw its bright boundary."""
    gy, gx = np.gradient(field)
    distance = (field - level) / np.maximum(np.hypot(gy, gx), 1e-3)  # signed, pixels
    inside = 1 / (1 + np.exp(-np.clip(distance / 0.8, -30, 30)))
    chaos = _smooth_field(rng, rng.uniform(1.5, 5), rng.uniform(1.5, 5)) * rng.uniform(0.1, 0.45)
    salt = image * rng.uniform(0.0, 0.15) + chaos
    boundary_amp = rng.uniform(0.8, 2.2) if rng.random() > 0.2 else rng.uniform(0.2, 0.6)
    boundary = boundary_amp * _ricker(distance / rng.uniform(1.0, 2.5))
    boundary *= np.clip(1 + 0.4 * _smooth_field(rng, 25, 25), 0, None)
    return image * (1 - inside) + salt * inside + boundary * np.sign(rng.uniform(-0.3, 1))


def make_tile(rng: np.random.Generator, with_salt: bool | None = None) -> Tile:
    """Generate one tile; `with_salt` None draws it (about 60 % of tiles carry salt, more at depth)."""
    depth = int(rng.integers(50, 960))
    if with_salt is None:
        with_salt = rng.random() > EMPTY_FRACTION + 0.25 * (500 - depth) / 909
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    image = _sediments(rng, yy, xx)
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    if with_salt:
        field = _salt_field(rng, yy, xx)
        mask, level = _salt_mask(rng, field, _target_coverage(rng))
        image = _add_salt(rng, image, field, level)
    depth_gain = 1.25 - 0.7 * (depth - 50) / 909
    image = image * depth_gain * (1 + rng.uniform(-0.3, 0.3) * (yy - 50) / 50)
    noise = _smooth_field(rng, rng.uniform(0.5, 1.2), rng.uniform(0.5, 1.2))
    image = image + noise * rng.uniform(0.05, 0.35) * (1.6 - depth_gain)
    pixels = rng.uniform(100, 140) + rng.uniform(22, 40) * image
    return Tile(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mask, depth)


def tile_rng(seed: int, split: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), split, index]))


def _tile_id(rng_seed: int, split: int, index: int) -> str:
    """A 10-hex-digit id like Kaggle's, fixed by (seed, split, index)."""
    bits = np.random.SeedSequence([int(rng_seed), split, index, 0x1D]).generate_state(2, np.uint32)
    return f"{(int(bits[0]) << 32 | int(bits[1])) & 0xFFFFFFFFFF:010x}"


def _png_bytes(array: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    if image.mode != mode:
        raise ValueError(f"PNG encoder produced mode {image.mode}, expected {mode}")
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def image_png(gray: np.ndarray) -> bytes:
    """8-bit RGB PNG with three identical channels, like the competition's images."""
    return _png_bytes(np.repeat(gray[..., None], 3, axis=2), "RGB")


def mask_png(mask: np.ndarray) -> bytes:
    """16-bit grayscale PNG with values 0 and 65535, like the competition's masks."""
    return _png_bytes(mask.astype(np.uint16) * 65535, "I;16")


def _unique_ids(seed: int, split: int, n: int, taken: set[str]) -> list[str]:
    ids = []
    for i in range(n):
        salt = 0
        tile_id = _tile_id(seed, split, i)
        while tile_id in taken:  # astronomically rare; keeps ids unique and deterministic
            salt += 1
            tile_id = _tile_id(seed + 7919 * salt, split, i)
        taken.add(tile_id)
        ids.append(tile_id)
    return ids


def _write_split(folder: Path, ids, seed, split, progress) -> tuple[list[np.ndarray], list[int]]:
    masks, depths = [], []
    (folder / "images").mkdir(parents=True, exist_ok=True)
    if split == _TRAIN:
        (folder / "masks").mkdir(parents=True, exist_ok=True)
    label = "synth train" if split == _TRAIN else "synth test"
    for index, tile_id in enumerate(tqdm(ids, desc=label, unit="tile", disable=not progress)):
        tile = make_tile(tile_rng(seed, split, index))
        (folder / "images" / f"{tile_id}.png").write_bytes(image_png(tile.image))
        if split == _TRAIN:
            (folder / "masks" / f"{tile_id}.png").write_bytes(mask_png(tile.mask))
            masks.append(tile.mask)
        depths.append(tile.depth)
    return masks, depths


def _params(n_train: int, n_test: int, seed: int) -> dict:
    return {"generator": "saltbench.synth", "version": GENERATOR_VERSION, "n_train": n_train,
            "n_test": n_test, "seed": seed}  # fmt: skip


def write_synthetic_dataset(
    out, n_train: int, n_test: int, seed: int, *, force: bool = False, progress: bool = True
) -> Path:
    """Write a synthetic dataset in the Kaggle layout to `out`; returns its path.

    An existing dataset with the same parameters is kept as is; anything else already at `out`
    is refused unless `force` (and then only replaced when it is a saltbench synthetic dataset).
    """
    out = Path(out)
    if n_train < 1 or n_test < 0:
        raise SaltbenchError(f"need n_train >= 1 and n_test >= 0, got {n_train} and {n_test}")
    params = _params(n_train, n_test, seed)
    if _existing_params(out) == params:
        return out
    _refuse_to_clobber(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        _write_all(staging, n_train, n_test, seed, progress)
        atomic_write_json(staging / MARKER, params)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _existing_params(out: Path) -> dict | None:
    try:
        return json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _refuse_to_clobber(out: Path, force: bool) -> None:
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    if not out.is_dir():
        raise SaltbenchError(f"{out}: exists and is not a folder")
    if _existing_params(out) is None:
        raise SaltbenchError(f"{out}: folder is not empty and is not a saltbench synthetic dataset")
    if not force:
        raise SaltbenchError(
            f"{out}: holds a synthetic dataset with other parameters; pass --force to replace it"
        )


def _write_all(root: Path, n_train: int, n_test: int, seed: int, progress: bool) -> None:
    taken: set[str] = set()
    train_ids = _unique_ids(seed, _TRAIN, n_train, taken)
    test_ids = _unique_ids(seed, _TEST, n_test, taken)
    masks, train_depths = _write_split(root / "train", train_ids, seed, _TRAIN, progress)
    (root / "test" / "images").mkdir(parents=True, exist_ok=True)
    _, test_depths = _write_split(root / "test", test_ids, seed, _TEST, progress)
    rles = rle_encode_many(np.stack(masks))
    atomic_write_csv(root / "train.csv", pd.DataFrame({"id": train_ids, "rle_mask": rles}))
    depths = pd.DataFrame({"id": train_ids + test_ids, "z": train_depths + test_depths})
    atomic_write_csv(root / "depths.csv", depths)
    sample = pd.DataFrame({"id": test_ids, "rle_mask": ["1 1"] * len(test_ids)})
    atomic_write_csv(root / "sample_submission.csv", sample)
