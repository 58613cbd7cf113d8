"""Three-way readings of an interval: equivalent within a margin (TOST), one side higher or
faster, or inconclusive. The same rule reads a score difference at either level (these trained
models, or the frameworks: common.stats.levels) and a speed ratio."""

from __future__ import annotations

from common.stats.intervals import Interval


def three_way_verdict(
    ci95: Interval,
    ci90: Interval,
    margin: float,
    first: str = "Keras",
    second: str = "PyTorch",
    advice: str = "",
) -> dict:
    """'equivalent within +-m (TOST ...)', 'X scores higher by d [a, b]' or 'inconclusive: ...'.

    Equivalence (TOST at alpha 0.05): the 90 % interval lies inside +-margin. Otherwise a 95 %
    interval that excludes 0 names the higher one; otherwise the run cannot tell, and `advice`
    (what would settle it, worked out by the caller) follows the line.
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
    line = f"inconclusive: [{ci95.low:+.4f}, {ci95.high:+.4f}] is wider than ±{margin:g}"
    return {"kind": "inconclusive", "line": line + (f"; {advice}" if advice else "")}


def speed_band(margin: float) -> tuple[float, float]:
    """The equivalence band of a speed ratio, symmetric on the log scale: [1/(1+m), 1+m], so that
    swapping which subject is the reference never changes a verdict."""
    return 1.0 / (1.0 + margin), 1.0 + margin


def ratio_verdict(
    ci95: Interval, ci90: Interval, margin: float, first: str, second: str, what: str = "trains"
) -> dict:
    """The same reading for a speed ratio first/second: equivalent within the log-symmetric band
    (90 % interval inside [1/(1+m), 1+m]), one faster (95 % interval excludes 1), or inconclusive."""
    if ci95.low is None or ci90.low is None:
        return {"kind": "no interval", "line": f"ratio {ci95.estimate:.2f}, n={ci95.n}: "
                "no interval"}  # fmt: skip
    low, high = speed_band(margin)
    if low < ci90.low and ci90.high < high:
        return {"kind": "equivalent", "line": f"as fast within ±{margin:.0%} (90 % CI "
                f"[{ci90.low:.3f}, {ci90.high:.3f}] inside [{low:.3f}, {high:.3f}])"}  # fmt: skip
    if ci95.low > 1 or ci95.high < 1:
        faster, ratio = (first, ci95) if ci95.low > 1 else (second, None)
        if ratio is None:
            ratio = Interval(1 / ci95.estimate, 1 / ci95.high, 1 / ci95.low, ci95.n, ci95.method)
        return {"kind": "faster", "line": f"{faster} {what} {ratio.estimate:.2f}× as fast "
                f"[{ratio.low:.2f}, {ratio.high:.2f}]"}  # fmt: skip
    return {"kind": "inconclusive", "line": f"inconclusive: [{ci95.low:.3f}, {ci95.high:.3f}] "
            f"is wider than the ±{margin:.0%} band"}  # fmt: skip
