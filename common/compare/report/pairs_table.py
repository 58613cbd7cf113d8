"""The N-way part of a run's report: every subject against the reference, one row per pair, and
its verdicts with a Holm correction across the pairs (common.stats.intervals.holm)."""

from __future__ import annotations

from typing import Any

from common.compare.analysis.uncertainty import pairs_of, reference_in
from common.compare.analysis.verdicts import ALPHA, format_p, holm_verdict, speed_lines
from common.subjects.selection import label


def _interval_cell(stored: dict[str, Any] | None, digits: int, signed: bool = False) -> str:
    from common.stats.intervals import Interval, format_interval

    if not stored or stored.get("estimate") is None:
        return "n/a"
    plain = {k: stored[k] for k in ("estimate", "low", "high", "n", "method")}
    return format_interval(Interval(**plain), digits, signed=signed)


def _first_time_ratio(pair: dict[str, Any]) -> str:
    from common.compare.analysis.time_to_target import time_comparison_text

    ratios = pair.get("time_to_target_ratio") or []
    text = time_comparison_text(ratios[0]) if ratios else ""
    return f"{text} (to {ratios[0]['target']:g})" if text else "n/a (not reached)"


def _drift_cell(pair: dict[str, Any]) -> str:
    drift = pair.get("drift")
    if not drift:
        return "n/a"
    last = drift["last"]
    return f"{last['weights_total']:.4f}, {last['mask_iou']:.4f} (epoch {drift['last_epoch'] + 1})"


def pairs_section(metrics: dict[str, Any]) -> list[str]:
    """The table of pairs against the reference, then each pair's verdicts."""
    pairs = pairs_of(metrics)
    if not any(p.get("frameworks") for p in pairs.values()):
        return holm_pairs_section(metrics)  # a run made before framework-level verdicts
    from common.compare.analysis.verdicts import level_lines

    reference = reference_in(metrics)
    margins = metrics.get("margins") or {"score": 0.01, "speed": 0.05}
    ref = label(reference)
    family = metrics.get("family", len(pairs))
    adjusted = (
        "every interval at its claim's share of α (the Claims line)"
        if metrics.get("claims")
        else f"score intervals Bonferroni-adjusted for {family} pairs"
    )
    lines = [
        f"Against the reference, {ref} (each subject − {ref}, paired on the same out-of-fold "
        f"tiles at cross-fitted cuts; ratios are subject / {ref}; {adjusted}):",
        "",
        "| subject | score diff, the frameworks, n = runs | score diff, these models, n = tiles "
        f"| train images/s ratio | inference images/s ratio | time-to-target ratio | drift from "
        f"{ref}: weights rel. L2, mask IoU |",
        "|---" * 7 + "|",
    ]
    for subject, pair in pairs.items():
        ci = pair.get("ratio_ci", {})
        lines.append(
            f"| {label(subject)} | {_interval_cell(pair.get('frameworks'), 4, signed=True)} | "
            f"{_interval_cell(pair.get('difference'), 4, signed=True)} | "
            f"{_interval_cell(ci.get('train_img_s'), 2)} | "
            f"{_interval_cell(ci.get('infer_img_s'), 2)} | {_first_time_ratio(pair)} | "
            f"{_drift_cell(pair)} |"
        )
    lines += ["", "Verdicts (each decided by the interval shown):", ""]
    for subject, pair in pairs.items():
        lines += [f"- {line}." for line in level_lines(pair, margins, label(subject), ref)]
    return [*lines, "", *speed_summary(pairs, margins, ref)]


def holm_pairs_section(metrics: dict[str, Any]) -> list[str]:
    """The N-way section of a run made before framework-level verdicts (tile level, Holm)."""
    pairs, reference = pairs_of(metrics), reference_in(metrics)
    margins = metrics.get("margins") or {"score": 0.01, "speed": 0.05}
    ref = label(reference)
    lines = [
        f"Against the reference, {ref} (each subject − {ref}, paired on the same out-of-fold "
        f"tiles; ratios are subject / {ref}):",
        "",
        f"| subject | score diff, 95 % CI, n = tiles | p (Holm) | train images/s ratio | "
        f"inference images/s ratio | time-to-target ratio | drift from {ref}: weights rel. L2, "
        "mask IoU |",
        "|---" * 7 + "|",
    ]
    for subject, pair in pairs.items():
        diff = pair.get("difference", {})
        ci = pair.get("ratio_ci", {})
        lines.append(
            f"| {label(subject)} | {_interval_cell(diff, 4, signed=True)} | "
            f"{format_p(diff.get('p_difference_holm'))} | {_interval_cell(ci.get('train_img_s'), 2)} | "
            f"{_interval_cell(ci.get('infer_img_s'), 2)} | {_first_time_ratio(pair)} | "
            f"{_drift_cell(pair)} |"
        )
    family = metrics.get("holm_family", len(pairs))
    lines += [
        "",
        f"Verdicts about these trained models only ({family} pairs, Holm correction across "
        f"them at family-wise α = {ALPHA:g}, "
        "separately for the difference tests and the equivalence tests; p from a paired t-test "
        "of the per-tile differences, each tile's mean over seeds; the intervals above are the "
        f"unadjusted paired 95 % bootstraps; equivalence margin ±{margins['score']:g}):",
        "",
    ]
    for subject, pair in pairs.items():
        verdict = holm_verdict(subject, reference, pair.get("difference", {}), margins["score"])
        lines.append(f"- {label(subject)} − {ref}: {verdict}.")
    lines += ["", *speed_summary(pairs, margins, ref)]
    return lines


def speed_summary(pairs: dict[str, Any], margins: dict[str, float], ref: str) -> list[str]:
    """One three-way speed reading per pair and operation (subject / reference images/s)."""
    lines = []
    for subject, pair in pairs.items():
        lines += [f"- {line}" for line in speed_lines(pair, margins, label(subject), ref)]
    return lines
