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
    """
    from scipy import stats

    diff = np.atleast_2d(np.asarray(differences, dtype=np.float64))
    estimate = float(diff.mean())
    n_seeds, n_tiles = diff.shape
    if n_tiles < MIN_BOOTSTRAP_N:
        return Interval(estimate, None, None, n_tiles, "bootstrap")
    if np.ptp(diff) == 0.0:  # every tile differs by the same amount: no sampling spread at all
        return Interval(estimate, estimate, estimate, n_tiles, "bootstrap")
    samples = (np.arange(n_tiles),) if n_seeds == 1 else (np.arange(n_seeds), np.arange(n_tiles))

    def mean_difference(*indices, axis=-1):
        tiles = indices[-1]
        rows = diff.mean(axis=0) if len(indices) == 1 else _resampled_seed_mean(diff, indices[0])
        shape = np.broadcast_shapes(rows.shape[:-1], tiles.shape[:-1])
        rows = np.broadcast_to(rows, (*shape, rows.shape[-1]))
        tiles = np.broadcast_to(tiles, (*shape, tiles.shape[-1]))
        return np.take_along_axis(rows, tiles, axis=-1).mean(axis=-1)

    result = _bootstrap(samples, mean_difference, confidence, n_resamples, seed, stats)
    return Interval(estimate, *result, n_tiles, "bootstrap")


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

    return Interval(
        estimate,
        *_bootstrap((a, b), ratio, confidence, n_resamples, seed, stats),
        n,
        "bootstrap",
    )


def _bootstrap(samples, statistic, confidence, n_resamples, seed, stats):
    """scipy.stats.bootstrap, BCa, falling back to percentile where BCa is undefined."""
    for method in ("BCa", "percentile"):
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
            return float(low), float(high)
    return None, None


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


# ---- three-way verdicts: equivalent, one higher, or inconclusive (with the n that would settle it)
TOST_CONFIDENCE = 0.90  # two one-sided tests at alpha 0.05 <=> the 90 % interval inside the margin


def units_needed(interval: Interval, center: float, margin: float, units: int) -> int | None:
    """About how many units (seeds x folds) would narrow `interval` enough, assuming it narrows
    with sqrt(n): to fit inside +-margin around 0 when |estimate - center| < margin, else to
    exclude `center`. An estimate, not a promise; None without an interval."""
    if interval.low is None or units < 1:
        return None
    half = (interval.high - interval.low) / 2
    offset = abs(interval.estimate - center)
    room = margin - offset if offset < margin else offset
    if half <= 0 or room <= 0:
        return None
    return max(units + 1, math.ceil(units * (half / room) ** 2))


def three_way_verdict(
    ci95: Interval,
    ci90: Interval,
    margin: float,
    units: int,
    first: str = "Keras",
    second: str = "PyTorch",
) -> dict:
    """'equivalent within +-m (TOST ...)', 'X scores higher by d [a, b]' or 'inconclusive: ...'.

    Equivalence (TOST at alpha 0.05): the 90 % interval lies inside +-margin. Otherwise a 95 %
    interval that excludes 0 names the higher one; otherwise the run cannot tell, and the line
    estimates how many units (seeds x folds) would.
    """
    if ci95.low is None or ci90.low is None:
        return {"kind": "no interval", "line": f"no interval (n={ci95.n}): cannot tell "
                f"{first} and {second} apart"}  # fmt: skip
    tost = f"TOST, 90 % CI [{ci90.low:+.4f}, {ci90.high:+.4f}]"
    if -margin < ci90.low and ci90.high < margin:
        note = ""
        if not ci95.contains(0.0):
            note = f"; the difference {ci95.estimate:+.4f} is significant but inside the margin"
        return {"kind": "equivalent", "line": f"equivalent within ±{margin:g} ({tost} inside "
                f"±{margin:g}){note}"}  # fmt: skip
    if ci95.low > 0:
        return {"kind": "higher", "line": f"{first} scores higher by {ci95.estimate:.4f} "
                f"[{ci95.low:.4f}, {ci95.high:.4f}]"}  # fmt: skip
    if ci95.high < 0:
        return {"kind": "higher", "line": f"{second} scores higher by {-ci95.estimate:.4f} "
                f"[{-ci95.high:.4f}, {-ci95.low:.4f}]"}  # fmt: skip
    wide = f"inconclusive: [{ci95.low:+.4f}, {ci95.high:+.4f}] is wider than ±{margin:g}"
    if abs(ci95.estimate) < margin:  # could be equivalent: how many units would show it
        needed = units_needed(ci90, 0.0, margin, units)
        goal = f"to show equivalence within ±{margin:g}"
    else:  # the estimate is outside the margin: how many units would tell whether it is real
        needed = units_needed(ci95, 0.0, margin, units)
        goal = f"to tell whether the {ci95.estimate:+.4f} (outside ±{margin:g}) is real"
    estimate = (
        f"; about {needed} seeds × folds would be needed {goal} (estimate: the interval "
        "narrows with √n)"
        if needed
        else ""
    )
    return {"kind": "inconclusive", "line": wide + estimate, "units_needed": needed}


def ratio_verdict(
    ci95: Interval, ci90: Interval, margin: float, first: str, second: str, what: str = "trains"
) -> dict:
    """The same reading for a speed ratio first/second: equivalent within +-margin (90 % interval
    inside [1 - m, 1 + m]), one faster (95 % interval excludes 1), or inconclusive."""
    if ci95.low is None or ci90.low is None:
        return {"kind": "no interval", "line": f"ratio {ci95.estimate:.2f}, n={ci95.n}: "
                "no interval, too few values"}  # fmt: skip
    if 1 - margin < ci90.low and ci90.high < 1 + margin:
        return {"kind": "equivalent", "line": f"as fast within ±{margin:.0%} (90 % CI "
                f"[{ci90.low:.3f}, {ci90.high:.3f}] inside [{1 - margin:.2f}, {1 + margin:.2f}])"}  # fmt: skip
    if ci95.low > 1 or ci95.high < 1:
        faster, ratio = (first, ci95) if ci95.low > 1 else (second, None)
        if ratio is None:
            ratio = Interval(1 / ci95.estimate, 1 / ci95.high, 1 / ci95.low, ci95.n, ci95.method)
        return {"kind": "faster", "line": f"{faster} {what} {ratio.estimate:.2f}× as fast "
                f"[{ratio.low:.2f}, {ratio.high:.2f}]"}  # fmt: skip
    needed = units_needed(ci90, 1.0, margin, ci90.n)
    more = f"; about {needed} values a side would settle it (estimate)" if needed else ""
    return {"kind": "inconclusive", "line": f"inconclusive: [{ci95.low:.3f}, {ci95.high:.3f}] "
            f"is wider than ±{margin:.0%}{more}"}  # fmt: skip


def paired_p_values(differences, margin: float) -> dict[str, float]:
    """Two-sided p of 'no difference' and the TOST p of 'not equivalent within ±margin' for
    per-tile differences (rows: seeds, columns: tiles; a tile's mean over seeds is one sample):
    one-sample t-tests, as input to a multiple-comparison correction (holm)."""
    from scipy import stats

    tiles = np.atleast_2d(np.asarray(differences, dtype=np.float64)).mean(axis=0)
    if tiles.size < 2:
        return {"p_difference": 1.0, "p_equivalence": 1.0}  # one tile tells nothing
    if np.ptp(tiles) == 0.0:  # no spread at all: the one value decides
        mean = float(tiles.mean())
        return {"p_difference": float(mean == 0.0), "p_equivalence": float(abs(mean) >= margin)}
    two_sided = stats.ttest_1samp(tiles, 0.0).pvalue
    above = stats.ttest_1samp(tiles, -margin, alternative="greater").pvalue
    below = stats.ttest_1samp(tiles, margin, alternative="less").pvalue
    return {"p_difference": float(two_sided), "p_equivalence": float(max(above, below))}


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone): reject where adjusted p < alpha
    and the family-wise error rate stays at alpha over all the tests."""
    order = sorted(p_values, key=p_values.get)
    m, running, adjusted = len(order), 0.0, {}
    for rank, name in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[name]))
        adjusted[name] = running
    return adjusted
