"""Reader and validator for a folder in the Kaggle TGS layout, with a decoded-array cache.

Layout: train/images/<id>.png, train/masks/<id>.png, train.csv (id,rle_mask), depths.csv (id,z),
test/images/<id>.png, sample_submission.csv (id,rle_mask). Every problem found is reported as one
line naming the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from common.errors import DataError
from common.io import atomic_write_bytes
from common.paths import cache_dir
from common.rle import first_invalid, rle_decode_many

SIZE = 101
CACHE_VERSION = 1
CSV_FILES = ("train.csv", "depths.csv", "sample_submission.csv")
PNG_DIRS = ("train/images", "train/masks", "test/images")
MAX_LINES_PER_KIND = 20  # a wrong folder should not print 4000 identical lines
_MASK_VALUES = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I": 65535, "L": 255, "1": 1}
_IMAGE_MODES = ("L", "LA", "RGB", "RGBA")


@dataclass(frozen=True, eq=False)
class SaltDataset:
    """Decoded TGS data: NHWC float32 images in [0, 1] and boolean masks, ids in file order."""

    root: Path
    train_ids: list[str]
    images: np.ndarray  # (N,101,101,1) float32
    masks: np.ndarray  # (N,101,101,1) bool
    depths: np.ndarray  # (N,) float32
    test_ids: list[str]
    test_images: np.ndarray  # (M,101,101,1) float32
    test_depths: np.ndarray  # (M,) float32

    @property
    def coverage(self) -> np.ndarray:
        """Salt fraction of each training mask, (N,) float64."""
        return self.masks.reshape(len(self.masks), -1).mean(axis=1)


class ProblemLines(list):
    """Printable problem lines; `total` counts the problems, including those a summary line stands for."""

    def __init__(self, lines: list[str], total: int) -> None:
        super().__init__(lines)
        self.total = total


class _Problems(list):
    """Problem lines, at most MAX_LINES_PER_KIND of one kind, then a count of the rest."""

    def __init__(self) -> None:
        super().__init__()
        self._kinds: dict[str, int] = {}

    def add(self, kind: str, line: str) -> None:
        seen = self._kinds[kind] = self._kinds.get(kind, 0) + 1
        if seen <= MAX_LINES_PER_KIND:
            self.append(line)

    def summarise(self) -> ProblemLines:
        extra = [
            f"... and {n - MAX_LINES_PER_KIND} more problems like: {kind}"
            for kind, n in self._kinds.items()
            if n > MAX_LINES_PER_KIND
        ]
        return ProblemLines(list(self) + extra, total=sum(self._kinds.values()))


# ---------------------------------------------------------------- PNG decoding


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


def _read_image(path: Path) -> tuple[np.ndarray | None, str | None]:
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


def _read_mask(path: Path) -> tuple[np.ndarray | None, str | None]:
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


def _decode_all(paths: list[Path], reader, desc: str, progress: bool) -> list:
    """Decode many PNGs on a small thread pool (zlib and PIL release the GIL)."""
    if not paths:
        return []
    workers = min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(reader, paths, chunksize=64)
        return list(tqdm(results, total=len(paths), desc=desc, unit="png", disable=not progress))


# ---------------------------------------------------------------- CSV reading


def _read_table(root: Path, name: str, columns: tuple[str, ...], problems: _Problems):
    path = root / name
    if not path.is_file():
        problems.add(f"missing {name}", f"{path}: missing")
        return None
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        problems.add(f"unreadable {name}", f"{path}: cannot read CSV ({str(err).strip()})")
        return None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        problems.add(f"columns {name}", f"{path}: missing column(s) {', '.join(missing)}")
        return None
    table = table[list(columns)]
    for tile_id in table.id[table.id.duplicated()].unique():
        problems.add(f"duplicate id in {name}", f"{path}: duplicate id {tile_id}")
    for row in np.flatnonzero(table.id.str.strip() == ""):
        problems.add(f"empty id in {name}", f"{path}: row {row + 2} has an empty id")
    return table.drop_duplicates("id")


def _depth_values(root: Path, depths: pd.DataFrame, problems: _Problems) -> dict[str, float]:
    z = pd.to_numeric(depths.z, errors="coerce")
    for tile_id in depths.id[z.isna()]:
        problems.add("bad depth", f"{root / 'depths.csv'}: id {tile_id}: z is not a number")
    return dict(zip(depths.id[z.notna()], z[z.notna()].astype(float), strict=True))


def _png_names(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {e.name[:-4] for e in os.scandir(folder) if e.name.endswith(".png")}


# ---------------------------------------------------------------- validation


def _match_files(
    root: Path, ids: list[str], folder: str, table: str, problems: _Problems
) -> list[str]:
    """Ids having a PNG in `folder`; reports ids without a file and files without a row."""
    present = _png_names(root / folder)
    listed = set(ids)
    for tile_id in ids:
        if tile_id not in present:
            problems.add(
                f"missing {folder}", f"{root / folder / tile_id}.png: missing (id in {table})"
            )
    for name in sorted(present - listed):
        problems.add(
            f"extra {folder}", f"{root / folder / name}.png: no row for this id in {table}"
        )
    return [i for i in ids if i in present]


def _check_layout(root: Path, problems: _Problems) -> bool:
    if not root.is_dir():
        problems.add("root", f"{root}: not a folder")
        return False
    for folder in PNG_DIRS:
        if not (root / folder).is_dir():
            problems.add(f"missing {folder}", f"{root / folder}: missing folder")
    return True


def _check_rles(root: Path, table: pd.DataFrame, masks: dict, problems: _Problems) -> None:
    """Every train.csv RLE must parse and reproduce its mask PNG."""
    rles = table.rle_mask.tolist()
    ids = table.id.tolist()
    valid = []
    for i, (tile_id, rle) in enumerate(zip(ids, rles, strict=True)):
        bad = first_invalid([rle])
        if bad is not None:
            problems.add("bad rle", f"{root / 'train.csv'}: id {tile_id}: {bad[1]}")
        elif tile_id in masks:
            valid.append(i)
    if not valid:
        return
    decoded = rle_decode_many([rles[i] for i in valid])
    for k, i in enumerate(valid):
        differ = int(np.count_nonzero(decoded[k] != masks[ids[i]]))
        if differ:
            problems.add(
                "rle mismatch",
                f"{root / 'train.csv'}: id {ids[i]}: RLE disagrees with "
                f"{root / 'train' / 'masks' / ids[i]}.png ({differ} pixels differ)",
            )


def _decode_folder(root, folder, ids, reader, problems, progress) -> dict[str, np.ndarray]:
    paths = [root / folder / f"{i}.png" for i in ids]
    decoded = {}
    for tile_id, (array, problem) in zip(
        ids, _decode_all(paths, reader, folder, progress), strict=True
    ):
        if problem:
            problems.add(f"png {folder}", problem)
        else:
            decoded[tile_id] = array
    return decoded


def _scan(root: Path, progress: bool) -> tuple[ProblemLines, dict | None]:
    """Validate the folder; (problems, raw arrays) with arrays None when anything is wrong."""
    problems = _Problems()
    if not _check_layout(root, problems):
        return problems.summarise(), None
    train = _read_table(root, "train.csv", ("id", "rle_mask"), problems)
    depths = _read_table(root, "depths.csv", ("id", "z"), problems)
    sample = _read_table(root, "sample_submission.csv", ("id", "rle_mask"), problems)
    train_ids = train.id.tolist() if train is not None else []
    test_ids = sample.id.tolist() if sample is not None else []
    have_image = _match_files(root, train_ids, "train/images", "train.csv", problems)
    have_mask = _match_files(root, train_ids, "train/masks", "train.csv", problems)
    have_test = _match_files(root, test_ids, "test/images", "sample_submission.csv", problems)
    z = _depth_values(root, depths, problems) if depths is not None else {}
    if depths is not None:
        for tile_id in train_ids + test_ids:
            if tile_id not in z:
                problems.add("no depth", f"{root / 'depths.csv'}: no depth for id {tile_id}")
    images = _decode_folder(root, "train/images", have_image, _read_image, problems, progress)
    masks = _decode_folder(root, "train/masks", have_mask, _read_mask, problems, progress)
    test_images = _decode_folder(root, "test/images", have_test, _read_image, problems, progress)
    if train is not None:
        _check_rles(root, train, masks, problems)
    if problems:
        return problems.summarise(), None
    arrays = {
        "train_ids": np.array(train_ids, dtype=str),
        "images": _stack([images[i] for i in train_ids], np.uint8),
        "masks": _stack([masks[i] for i in train_ids], bool),
        "depths": np.array([z[i] for i in train_ids], dtype=np.float32),
        "test_ids": np.array(test_ids, dtype=str),
        "test_images": _stack([test_images[i] for i in test_ids], np.uint8),
        "test_depths": np.array([z[i] for i in test_ids], dtype=np.float32),
    }
    return ProblemLines([], total=0), arrays


def _stack(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.stack(arrays) if arrays else np.zeros((0, SIZE, SIZE), dtype=dtype)


# ---------------------------------------------------------------- cache


def fingerprint(root) -> str:
    """Hash of the folder's content: CSV bytes, and every PNG's name, size and mtime."""
    root = Path(root)
    digest = hashlib.sha256(f"saltbench-kaggle-v{CACHE_VERSION}".encode())
    for name in CSV_FILES:
        path = root / name
        digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"<missing>"))
    for folder in PNG_DIRS:
        digest.update(folder.encode())
        if (root / folder).is_dir():
            entries = sorted(os.scandir(root / folder), key=lambda e: e.name)
            for entry in entries:
                stat = entry.stat()
                digest.update(f"{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cache_path(root) -> Path:
    """Where the decoded arrays of this folder's current content are cached."""
    return cache_dir() / "datasets" / f"tgs-{fingerprint(root)[:32]}.npz"


def _save_cache(path: Path, arrays: dict) -> None:
    packed = dict(arrays)
    packed["masks"] = np.packbits(arrays["masks"].reshape(len(arrays["masks"]), -1), axis=1)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **packed)
    atomic_write_bytes(path, buffer.getvalue())


def _load_cache(path: Path) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        n = len(arrays["train_ids"])
        bits = np.unpackbits(arrays["masks"], axis=1, count=SIZE * SIZE)
        arrays["masks"] = bits.reshape(n, SIZE, SIZE).astype(bool)
        return arrays
    except (OSError, ValueError, KeyError, EOFError):
        return None  # unreadable or stale format: rebuild it


def _to_dataset(root: Path, arrays: dict) -> SaltDataset:
    return SaltDataset(
        root=root,
        train_ids=arrays["train_ids"].tolist(),
        images=to_float_images(arrays["images"]),
        masks=arrays["masks"][..., None],
        depths=arrays["depths"].astype(np.float32),
        test_ids=arrays["test_ids"].tolist(),
        test_images=to_float_images(arrays["test_images"]),
        test_depths=arrays["test_depths"].astype(np.float32),
    )


def to_float_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N,H,W) -> float32 (N,H,W,1) in [0, 1]."""
    out = images.astype(np.float32)
    out /= np.float32(255)
    return out[..., None]


# ---------------------------------------------------------------- public API


def check_dataset(root, *, progress: bool = False) -> ProblemLines:
    """Validate a Kaggle-layout folder; one line per problem (`.total` counts them), [] when clean."""
    problems, _ = _scan(Path(root), progress)
    return problems


def load_dataset(root, *, use_cache: bool = True, progress: bool = True) -> SaltDataset:
    """Read (and validate) a Kaggle-layout folder; raises DataError listing every problem."""
    root = Path(root)
    if root.is_file():
        raise DataError(f"{root}: is a file; give the dataset folder (Kaggle layout) instead")
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found")
    cached = cache_path(root) if use_cache else None
    arrays = _load_cache(cached) if cached is not None and cached.is_file() else None
    if arrays is None:
        problems, arrays = _scan(root, progress)
        if problems:
            raise DataError(f"{root}: {problems.total} problem(s):\n" + "\n".join(problems))
        if cached is not None:
            _save_cache(cached, arrays)
    return _to_dataset(root, arrays)


def scan_and_cache(root, *, progress: bool = True) -> ProblemLines:
    """Validate like check_dataset, and cache the decoded arrays when the folder is clean."""
    root = Path(root)
    problems, arrays = _scan(root, progress)
    if not problems:
        _save_cache(cache_path(root), arrays)
    return problems
