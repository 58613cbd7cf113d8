"""Decoding the PNG tiles of a Kaggle TGS folder: 101x101 grey images and binary masks, each
problem one line naming the file."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

SIZE = 101
_MASK_VALUES = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I": 65535, "L": 255, "1": 1}
_IMAGE_MODES = ("L", "LA", "RGB", "RGBA")


def _open_tile(path: Path) -> tuple[np.ndarray | None, str, str | None]:
    """(pixels, PIL mode, None) for a decodable 101x101 PNG, else (None, "", problem)."""
    try:
        with Image.open(path) as im:
            im.load()
            mode, size = im.mode, im.size
            array = np.asarray(im)
    except (OSError, ValueError, SyntaxError) as err:
        return None, "", f"{path}: cannot decode PNG ({err})"
    if size != (SIZE, SIZE):
        return None, "", f"{path}: size {size[0]}x{size[1]}, expected {SIZE}x{SIZE}"
    return array, mode, None


def read_image(path: Path) -> tuple[np.ndarray | None, str | None]:
    """(uint8 (H,W) grey image, None) or (None, problem)."""
    array, mode, problem = _open_tile(path)
    if problem:
        return None, problem
    if mode not in _IMAGE_MODES:
        return None, f"{path}: unsupported image mode {mode!r}, expected 8-bit RGB or grey"
    if array.ndim == 3:
        grey = array[..., 0]
        colour = array[..., : 3 if mode.startswith("RGB") else 1]
        if (colour != grey[..., None]).any():
            return None, f"{path}: RGB channels differ, expected identical channels"
        array = grey
    return np.ascontiguousarray(array, dtype=np.uint8), None


def read_mask(path: Path) -> tuple[np.ndarray | None, str | None]:
    """(bool (H,W) mask, None) or (None, problem)."""
    array, mode, problem = _open_tile(path)
    if problem:
        return None, problem
    if mode not in _MASK_VALUES:
        return None, f"{path}: unsupported mask mode {mode!r}, expected 16-bit grey 0/65535"
    top = _MASK_VALUES[mode]
    values = np.unique(array)
    bad = values[(values != 0) & (values != top)]
    if bad.size:
        return None, f"{path}: mask value {bad[0]} is not binary (expected 0 or {top})"
    return array != 0, None


def decode_all(paths: list[Path], reader, desc: str, progress: bool) -> list:
    """Decode many PNGs on a small thread pool (zlib and PIL release the GIL)."""
    if not paths:
        return []
    workers = min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(reader, paths, chunksize=64)
        return list(tqdm(results, total=len(paths), desc=desc, unit="png", disable=not progress))
