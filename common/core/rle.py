"""Run-length encoding of TGS masks: column-major, 1-indexed `start length` pairs; empty mask = ''."""

from __future__ import annotations

import warnings

import numpy as np

DEFAULT_SHAPE = (101, 101)


def _as_stack(masks: np.ndarray) -> np.ndarray:
    """(N,H,W) or (N,H,W,1) -> (N,H,W) bool."""
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.ndim != 3:
        raise ValueError(f"expected masks shaped (N,H,W) or (N,H,W,1), got {masks.shape}")
    return masks.astype(bool, copy=False)


_ENCODE_CHUNK = 256  # masks per step: keeps the transposed working set in cache


def rle_encode(mask2d: np.ndarray) -> str:
    """Encode one (H,W) (or (H,W,1)) boolean mask."""
    mask2d = np.asarray(mask2d)
    if mask2d.ndim == 3 and mask2d.shape[-1] == 1:
        mask2d = mask2d[..., 0]
    if mask2d.ndim != 2:
        raise ValueError(f"expected a mask shaped (H,W), got {mask2d.shape}")
    return rle_encode_many(mask2d[None])[0]


def rle_encode_many(masks: np.ndarray) -> list[str]:
    """Encode a stack of masks; one vectorised diff per chunk finds every run of every mask."""
    stack = _as_stack(masks)
    n, height, width = stack.shape
    n_pixels = height * width
    padded = np.zeros((min(n, _ENCODE_CHUNK), n_pixels + 2), dtype=bool)
    out: list[str] = []
    for lo in range(0, n, _ENCODE_CHUNK):
        chunk = stack[lo : lo + _ENCODE_CHUNK]
        m = len(chunk)
        view = padded[:m]
        # column-major pixel order = row-major order of the transposed image
        view[:, 1:-1].reshape(m, width, height)[...] = chunk.transpose(0, 2, 1)
        change = np.flatnonzero(view[:, 1:] != view[:, :-1])
        rows, cols = np.divmod(change, n_pixels + 1)
        runs = cols.reshape(-1, 2)  # (0-based start, exclusive end) per run
        runs[:, 1] -= runs[:, 0]
        runs[:, 0] += 1
        bounds = np.searchsorted(rows[0::2], np.arange(m + 1)).tolist()
        values = runs.ravel().tolist()
        out.extend(
            " ".join(map(str, values[2 * a : 2 * b]))
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        )
    return out


def _parse_tokens(rle: str) -> np.ndarray:
    tokens = rle.split()
    try:
        return np.array([int(t) for t in tokens], dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.lstrip("+-").isdigit())
        raise ValueError(f"non-integer value {bad!r} in RLE") from None


def parse_rle(
    rle: str | None, shape: tuple[int, int] = DEFAULT_SHAPE
) -> tuple[np.ndarray, np.ndarray]:
    """Validated (starts, lengths), 0-based starts; ValueError names the problem."""
    values = _parse_tokens(_normalise(rle))
    if values.size % 2:
        raise ValueError(
            f"odd number of values in RLE ({values.size}); expected start/length pairs"
        )
    starts, lengths = values[0::2], values[1::2]
    n_pixels = int(shape[0]) * int(shape[1])
    if starts.size:
        _check_runs(starts, lengths, n_pixels)
    return starts - 1, lengths


def _check_runs(starts: np.ndarray, lengths: np.ndarray, n_pixels: int) -> None:
    if (starts < 1).any():
        raise ValueError(f"run start {starts[starts < 1][0]} is below 1 (starts are 1-indexed)")
    if (lengths < 1).any():
        raise ValueError(f"zero or negative run length {lengths[lengths < 1][0]}")
    ends = starts + lengths - 1
    if (ends > n_pixels).any():
        i = int(np.argmax(ends > n_pixels))
        raise ValueError(
            f"run {starts[i]} {lengths[i]} is out of range: ends at pixel {ends[i]} > {n_pixels}"
        )
    if (np.diff(starts) <= 0).any():
        i = int(np.argmax(np.diff(starts) <= 0))
        raise ValueError(f"unsorted runs: start {starts[i + 1]} follows start {starts[i]}")
    if (starts[1:] <= ends[:-1]).any():
        i = int(np.argmax(starts[1:] <= ends[:-1]))
        raise ValueError(
            f"overlapping runs: {starts[i]} {lengths[i]} overlaps {starts[i + 1]} {lengths[i + 1]}"
        )


def rle_decode(rle: str, shape: tuple[int, int] = DEFAULT_SHAPE) -> np.ndarray:
    """Decode one RLE string to a boolean (H,W) mask; ValueError names the problem."""
    starts, lengths = parse_rle(rle, shape)
    owner = np.zeros(starts.size, dtype=np.int64)
    return _fill_runs(starts, lengths, owner, 1, int(shape[0]), int(shape[1]))[0].copy()


def _normalise(rle) -> str:
    if rle is None or (isinstance(rle, float) and np.isnan(rle)):
        return ""
    if not isinstance(rle, str):
        raise ValueError(f"RLE must be a string, got {type(rle).__name__}")
    return rle


def first_invalid(rles, shape: tuple[int, int] = DEFAULT_SHAPE) -> tuple[int, str] | None:
    """(index, problem) of the first malformed RLE in `rles`, or None when all are valid."""
    for i, rle in enumerate(rles):
        try:
            parse_rle(rle, shape)
        except ValueError as err:
            return i, str(err)
    return None


def _parse_values(texts: list[str]) -> np.ndarray | None:
    """All integers of all texts in one C-level parse; None when some token is not an integer."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return np.fromstring(" ".join(texts), dtype=np.int64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None


def _parse_many(rles: list, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts 0-based, lengths, owner index) for all runs; validated in one vectorised pass."""
    texts = [_normalise(r) for r in rles]
    counts = np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))
    values = _parse_values(texts) if counts.sum() else np.empty(0, dtype=np.int64)
    ok = values is not None and values.size == counts.sum() and not (counts % 2).any()
    if ok:
        starts, lengths = values[0::2], values[1::2]
        owner = np.repeat(np.arange(len(texts)), counts // 2)
        ends = starts + lengths - 1
        same = owner[1:] == owner[:-1]
        ok = bool(
            (starts >= 1).all()
            and (lengths >= 1).all()
            and (ends <= shape[0] * shape[1]).all()
            and not (same & (starts[1:] <= ends[:-1])).any()
        )
    if not ok:
        return _parse_one_by_one(rles, shape)
    return starts - 1, lengths, owner


def _parse_one_by_one(
    rles: list, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slow path: parse each string alone, raising for the first malformed one."""
    parsed = []
    for index, rle in enumerate(rles):
        try:
            parsed.append(parse_rle(rle, shape))
        except ValueError as err:
            raise ValueError(f"RLE #{index}: {err}") from None
    empty = [np.empty(0, dtype=np.int64)]
    starts = np.concatenate([p[0] for p in parsed] + empty)
    lengths = np.concatenate([p[1] for p in parsed] + empty)
    owner = np.repeat(np.arange(len(parsed)), [p[0].size for p in parsed]).astype(np.int64)
    return starts, lengths, owner


def rle_decode_many(rles, shape: tuple[int, int] = DEFAULT_SHAPE) -> np.ndarray:
    """Decode many RLE strings to a boolean (N,H,W) stack (runs become +1/-1 edges, then a cumsum)."""
    rles = list(rles)
    height, width = int(shape[0]), int(shape[1])
    starts, lengths, owner = _parse_many(rles, (height, width))
    out = np.empty((len(rles), height, width), dtype=bool)
    bounds = np.searchsorted(owner, np.arange(0, len(rles) + _DECODE_CHUNK, _DECODE_CHUNK))
    for k, lo in enumerate(range(0, len(rles), _DECODE_CHUNK)):
        m = min(_DECODE_CHUNK, len(rles) - lo)
        sel = slice(bounds[k], bounds[k + 1])
        out[lo : lo + m] = _fill_runs(starts[sel], lengths[sel], owner[sel] - lo, m, height, width)
    return out


_DECODE_CHUNK = 512


def _fill_runs(starts, lengths, owner, n: int, height: int, width: int) -> np.ndarray:
    """Expand runs to (n,H,W): alternate gap/run segments repeated by their lengths."""
    n_pixels = height * width
    begin = starts + owner * n_pixels
    bounds = np.empty(2 * begin.size + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, n * n_pixels
    bounds[1:-1:2] = begin
    bounds[2:-1:2] = begin + lengths
    segments = np.zeros(bounds.size - 1, dtype=bool)
    segments[1::2] = True
    flat = np.repeat(segments, np.diff(bounds))
    return flat.reshape(n, width, height).transpose(0, 2, 1)
