"""Reader and validator for a folder in the Kaggle TGS layout, with a decoded-array cache.

Layout: train/images/<id>.png, train/masks/<id>.png, train.csv (id,rle_mask), depths.csv (id,z),
test/images/<id>.png, sample_submission.csv (id,rle_mask). Every problem found is reported as one
line naming the file and what is wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from common.core.errors import DataError
from common.core.kaggle_cache import PNG_DIRS, cache_path, fingerprint, load_cache, save_cache
from common.core.kaggle_png import SIZE, decode_all, read_image, read_mask
from common.core.rle import first_invalid, rle_decode_many

__all__ = ["SIZE", "SaltDataset", "cache_path", "check_dataset", "fingerprint", "load_dataset"]

MAX_LINES_PER_KIND = 20  # a wrong folder should not print 4000 identical lines


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
        ids, decode_all(paths, reader, folder, progress), strict=True
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
    images = _decode_folder(root, "train/images", have_image, read_image, problems, progress)
    masks = _decode_folder(root, "train/masks", have_mask, read_mask, problems, progress)
    test_images = _decode_folder(root, "test/images", have_test, read_image, problems, progress)
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
    arrays = load_cache(cached) if cached is not None and cached.is_file() else None
    if arrays is None:
        problems, arrays = _scan(root, progress)
        if problems:
            raise DataError(f"{root}: {problems.total} problem(s):\n" + "\n".join(problems))
        if cached is not None:
            save_cache(cached, arrays)
    return _to_dataset(root, arrays)


def scan_and_cache(root, *, progress: bool = True) -> ProblemLines:
    """Validate like check_dataset, and cache the decoded arrays when the folder is clean."""
    root = Path(root)
    problems, arrays = _scan(root, progress)
    if not problems:
        save_cache(cache_path(root), arrays)
    return problems
