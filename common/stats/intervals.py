"""Uncertainty of a comparison: mean with a 95 % CI, a paired bootstrap of per-tile score differences,
the verdict line, and the spread of a throughput ratio. Intervals come from scipy.stats.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 9999
# Below this many values per sample a bootstrap interval is too narrow to be honest (n=2 has only
# 3 distinct resample means): no interval is given, only n.
MIN_BOOTSTRAP_N = 5
# BCa's acceleration comes from a jackknife over tiles; when only a few tiles differ it is driven
# by a handful of values and the interval turns liberal (simulated at 640 tiles with 3-6 % of
# tiles differing and no true difference: 12-17 % false differences against 5-9 % for the
# percentile interval). Below this many differing tiles the percentile interval is used.
MIN_BCA_DIFFERING = 100
TOST_CONFIDENCE = 0.90  # two one-sided tests at alpha 0.05 <=> the 90 % interval inside the margin


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (low/high None when n is too small for one)."""

    estimate: float
    low: float | None
    high: float | None
    n: int
    method: str

    def to_dict(self) -> dict:
        return asdict(self)

    def contains(self, value: float) -> bool:
        return self.low is None or self.low <= value <= self.high


def mean_ci(values, confidence: float = CONFIDENCE) -> Interval:
    """Mean of independent repeats with a Student-t interval; n = 1 has no interval."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return Interval(mean, None, None, int(values.size), "t")
    sem = float(stats.sem(values))
    if sem == 0.0:
        return Interval(mean, mean, mean, int(values.size), "t")
    low, high = stats.t.interval(confidence, values.size - 1, loc=mean, scale=sem)
    return Interval(mean, float(low), float(high), int(values.size), "t")


def paired_difference_ci(
    differences,
    confidence: float = CONFIDENCE,
    n_resamples: int = RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Mean of per-tile score differences (rows: seeds, columns: the same OOF tiles) with a
    bootstrap CI that resamples tiles and, when there are several, seeds (independently: a
    two-way crossed bootstrap). n is the number of tiles.

    This interval is about two trained models on these tiles, not about the frameworks
    (common.stats.levels). Ties: when every tile differs by the same amount (typically 0), there
    is no spread to resample; the interval is then the Clopper-Pearson bound on the share of tiles
    that could differ (tie_interval), never [0, 0]. BCa only where enough tiles differ for its
    skew correction to be stable (MIN_BCA_DIFFERING); otherwise the percentile interval. The
    interval's `method` says which ran.
    """
    from scipy import stats

    diff = np.atleast_2d(np.asarray(differences, dtype=np.float64))
    estimate = float(diff.mean())
    n_seeds, n_tiles = diff.shape
    if n_tiles < MIN_BOOTSTRAP_N:
        return Interval(estimate, None, None, n_tiles, "bootstrap")
    if np.ptp(diff) == 0.0:  # every tile differs by the same amount: no sampling spread at all
        return tie_interval(estimate, 0, n_tiles, confidence)
    samples = (np.arange(n_tiles),) if n_seeds == 1 else (np.arange(n_seeds), np.arange(n_tiles))

    def mean_difference(*indices, axis=-1):
        tiles = indices[-1]
        rows = diff.mean(axis=0) if len(indices) == 1 else _resampled_seed_mean(diff, indices[0])
        shape = np.broadcast_shapes(rows.shape[:-1], tiles.shape[:-1])
        rows = np.broadcast_to(rows, (*shape, rows.shape[-1]))
        tiles = np.broadcast_to(tiles, (*shape, tiles.shape[-1]))
        return np.take_along_axis(rows, tiles, axis=-1).mean(axis=-1)

    differing = int(np.count_nonzero(np.any(diff != 0.0, axis=0)))
    first = "BCa" if differing >= MIN_BCA_DIFFERING else "percentile"
    low, high, method = _bootstrap(
        samples, mean_difference, confidence, n_resamples, seed, stats, first
    )
    return Interval(estimate, low, high, n_tiles, f"bootstrap {method}")


def tie_interval(estimate: float, differing: int, n: int, confidence: float) -> Interval:
    """The interval where (almost) no tile differs: each tile's difference is at most 1 (a score
    is in [0, 1]), so the mean difference is within the share of tiles that differ; that share's
    Clopper-Pearson bound at `confidence` (0 of n at 90 %: about 3/n) bounds it on either side."""
    from scipy import stats

    share = stats.binomtest(differing, n).proportion_ci(confidence, method="exact").high
    low, high = max(-1.0, estimate - share), min(1.0, estimate + share)
    return Interval(estimate, float(low), float(high), n, "Clopper-Pearson tie bound")


def _resampled_seed_mean(diff: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Per-tile mean over a resample of seeds: (..., S') indices -> (..., T)."""
    counts = (seeds[..., :, None] == np.arange(diff.shape[0])).sum(axis=-2)
    return counts @ diff / seeds.shape[-1]


def ratio_of_means_ci(
    numerator,
    denominator,
    confidence: float = CONFIDENCE,
    n_resamples: int = RESAMPLES,
    seed: int = 0,
) -> Interval:
    """mean(numerator) / mean(denominator) of two independent samples (e.g. per-epoch images/s)
    with a bootstrap CI; no interval when either has fewer than MIN_BOOTSTRAP_N values.
    n = the smaller sample size.
    """
    from scipy import stats

    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    estimate = float(a.mean() / b.mean())
    n = int(min(a.size, b.size))
    if n < MIN_BOOTSTRAP_N:
        return Interval(estimate, None, None, n, "bootstrap")

    def ratio(x, y, axis=-1):
        return x.mean(axis=axis) / y.mean(axis=axis)

    low, high, method = _bootstrap((a, b), ratio, confidence, n_resamples, seed, stats)
    return Interval(estimate, low, high, n, f"bootstrap {method}")


def _bootstrap(samples, statistic, confidence, n_resamples, seed, stats, first="BCa"):
    """scipy.stats.bootstrap, `first` (BCa or percentile), falling back to percentile where BCa is
    undefined; returns (low, high, the method that gave them)."""
    methods = ("BCa", "percentile") if first == "BCa" else ("percentile",)
    for method in methods:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.bootstrap(
                samples,
                statistic,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method=method,
                vectorized=True,
                batch=max(1, 2_000_000 // max(len(s) for s in samples)),
                rng=np.random.default_rng(seed),
            )
        low, high = result.confidence_interval
        if math.isfinite(low) and math.isfinite(high):
            return float(low), float(high), method
    return None, None, methods[-1]


def difference_verdict(diff: Interval, first: str = "Keras", second: str = "PyTorch") -> str:
    """One line: significant or not at the interval's confidence, with the interval."""
    if diff.low is None:
        return f"no interval (n={diff.n}): cannot tell {first} and {second} apart"
    if diff.low <= 0.0 <= diff.high:
        return f"no significant difference (CI [{diff.low:+.4f}, {diff.high:+.4f}] contains 0)"
    if diff.low > 0:
        return f"{first} scores higher by {diff.estimate:.4f} [{diff.low:.4f}, {diff.high:.4f}]"
    return f"{second} scores higher by {-diff.estimate:.4f} [{-diff.high:.4f}, {-diff.low:.4f}]"


def format_interval(interval: Interval, digits: int = 4, signed: bool = False) -> str:
    """'0.6317 [0.60, 0.66] n=3', or '0.6317 n=1' (never a fake ± 0)."""
    sign = "+" if signed else ""
    text = f"{interval.estimate:{sign}.{digits}f}"
    if interval.low is not None:
        text += f" [{interval.low:{sign}.{digits}f}, {interval.high:{sign}.{digits}f}]"
    return f"{text} n={interval.n}"


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone): reject where adjusted p < alpha
    and the family-wise error rate stays at alpha over all the tests."""
    order = sorted(p_values, key=p_values.get)
    m, running, adjusted = len(order), 0.0, {}
    for rank, name in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[name]))
        adjusted[name] = running
    return adjusted
