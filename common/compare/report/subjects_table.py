"""The side-by-side table of a run and its verdict lines: one column per subject; with one pair,
its subject-vs-reference column and three-way verdicts (score and speed); with several, the
table of pairs (common.compare.report.pairs_table); and the numerics cells."""

from __future__ import annotations

import math
from typing import Any

from common.compare.analysis.uncertainty import pairs_of, reference_in
from common.compare.analysis.verdicts import plain_interval
from common.core.device import numerics_flags
from common.subjects.selection import label


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def _interval(summary: dict[str, Any], key: str, fallback: str, digits: int) -> str:
    """'mean [low, high] n=N' from a stored interval (older runs: the plain value)."""
    from common.stats.intervals import Interval, format_interval

    if key in summary:
        return format_interval(Interval(**summary[key]), digits)
    return _fmt(summary[fallback], digits)


def _num(value: Any, pattern: str = "{:.1f}") -> str:
    return "n/a" if value is None or not math.isfinite(float(value)) else pattern.format(value)


def _loop_vs_step(pct: Any) -> str:
    from common.compare.unit.step_timing import loop_is_slow

    return _num(pct, "{:+.1f} %") + (" ⚠" if loop_is_slow(pct) else "")


def _time_to(targets: list[dict[str, Any]], position: int) -> str:
    """'184 s / 3584, n=1', or over units 'median 184 s [120–250], 3/3 reached, olympic mean 180 s'."""
    if position >= len(targets):
        return "n/a"
    t = targets[position]
    if t["seconds"] is None:
        return f"not reached (0/{t['folds']})"
    if t["folds"] == 1:
        return f"{t['seconds']:.0f} s / {t['images']:.0f}, n=1"
    if "median_s" not in t:  # a run made before the spread was kept
        return f"{t['seconds']:.0f} s / {t['images']:.0f}, {t['reached']}/{t['folds']} folds"
    text = (
        f"median {t['median_s']:.0f} s [{t['min_s']:.0f}–{t['max_s']:.0f}], "
        f"{t['reached']}/{t['folds']} reached"
    )
    if t.get("olympic_mean_s") is not None:
        text += f", olympic mean {t['olympic_mean_s']:.0f} s"
    return text


def _time_ratio(ratios: list[dict[str, Any]], position: int) -> str:
    """The time-to-target comparison cell of a pair: the censored restricted-mean ratio from 3
    runs on, else each run's times ('not reached' included); older runs: their paired ratio."""
    if position >= len(ratios):
        return ""
    from common.compare.analysis.time_to_target import time_comparison_text

    return time_comparison_text(ratios[position])


def loop_flags(metrics: dict[str, Any]) -> str:
    """One line per framework whose training loop is more than 5 % below its own bare step."""
    from common.compare.unit.step_timing import LOOP_SLOWER_FLAG_PCT, loop_is_slow

    lines = []
    for name, summary in metrics["subjects"].items():
        pct = summary.get("loop_vs_step_pct")
        if loop_is_slow(pct):
            lines.append(
                f"⚠ {label(name)}: the training loop runs {-pct:.1f} % below its own bare "
                f"step (more than {LOOP_SLOWER_FLAG_PCT:g} %): its train images/s measure the "
                "harness, not the framework."
            )
    return "\n".join(lines)


def side_by_side_table(config: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The markdown table: one column per subject and, when exactly one subject is compared
    with the reference, a '<subject> vs <reference>' column and the verdict lines under it;
    with more, the table of pairs and their Holm-corrected verdicts follow."""
    from common.stats.intervals import Interval, format_interval

    fws = metrics["subjects"]
    names = list(fws)
    pairs, reference = pairs_of(metrics), reference_in(metrics)
    single = next(iter(pairs)) if len(pairs) == 1 else None
    pair = pairs[single] if single else {}
    ratio = pair.get("ratio")
    ratio_ci = pair.get("ratio_ci", {})
    diff = pair.get("difference")
    header = (
        "| | "
        + " | ".join(label(n) for n in names)
        + (f" | {label(single)} vs {label(reference)} |" if ratio else " |")
    )
    lines = [header, "|---" * (len(names) + 1 + bool(ratio)) + "|"]

    def row(label: str, cells: list[str], ratio_cell: str = "") -> None:
        lines.append(
            f"| {label} | " + " | ".join(cells) + (f" | {ratio_cell} |" if ratio else " |")
        )

    def ratio_cell(key: str) -> str:
        if ratio_ci.get(key, {}).get("estimate", 0) is None:
            return "ratio n/a (no run timed on both sides)"
        if key in ratio_ci:
            return "ratio " + format_interval(Interval(**plain_interval(ratio_ci[key])), 2)
        return f"ratio {ratio[key]:.2f}" if ratio else ""

    nunits = len(next(iter(fws.values()))["folds"])
    row(
        f"score, mean [95 % CI] n = units (seeds × folds: {nunits})",
        [_interval(fws[n], "score_ci", "score_mean", 4) for n in names],
    )
    runs = pair.get("frameworks")  # a run made before framework-level verdicts: none
    diff_cell = (
        f"diff {format_interval(Interval(**plain_interval(diff)), 4, signed=True)} tiles (paired)"
        if diff
        else ""
    )
    row(
        "score, pooled OOF",
        [f"{fws[n]['pooled_score']:.4f}" for n in names],
        "" if runs else diff_cell,
    )
    row(
        "score, pooled OOF, threshold and min area cross-fitted"
        if any(fws[n].get("min_area") or "pooled_score_no_min_area" in fws[n] for n in names)
        else "score, pooled OOF, threshold cross-fitted",
        [_num(fws[n].get("pooled_score_cross_fitted"), "{:.4f}") for n in names],
        diff_cell.replace("diff", "these models: diff", 1) if runs else "",
    )
    if runs:
        row(
            "score difference over training runs (the frameworks)",
            ["" for _ in names],
            f"diff {format_interval(Interval(**plain_interval(runs)), 4, signed=True)} (training runs)",
        )
    if any("pooled_score_no_min_area" in fws[n] for n in names):
        row(
            "score, pooled OOF, threshold only (no empty-tile rule): searched / cross-fitted",
            [
                f"{_num(fws[n].get('pooled_score_no_min_area'), '{:.4f}')} / "
                f"{_num(fws[n].get('pooled_score_cross_fitted_no_min_area'), '{:.4f}')}"
                for n in names
            ],
        )
    row("threshold (logit)", [cut_cell(fws[n]) for n in names])
    row("all-empty baseline", [f"{fws[n]['empty_baseline']:.4f}" for n in names])
    per_run = any("train_img_s_units" in fws[n] for n in names)
    row(
        "train images/s, mean [95 % CI] n = "
        + ("training runs (timed images / timed s)" if per_run else "timed epochs"),
        [_interval(fws[n], "train_img_s_ci", "train_img_s", 1) for n in names],
        ratio_cell("train_img_s"),
    )
    row("train step images/s (bare burst)", [_num(fws[n].get("step_img_s")) for n in names])
    row(
        "loop vs step",
        [_loop_vs_step(fws[n].get("loop_vs_step_pct")) for n in names],
    )
    row(
        "inference images/s, mean [95 % CI] n = units",
        [_interval(fws[n], "infer_img_s_ci", "infer_img_s", 1) for n in names],
        ratio_cell("infer_img_s"),
    )
    drift = pair.get("drift")
    if drift and ratio:
        last = drift["last"]
        row(
            f"twin drift at epoch {drift['last_epoch'] + 1}: weights rel. L2, mask IoU",
            ["" for _ in names],
            f"{last['weights_total']:.4f}, {last['mask_iou']:.4f}",
        )
    time_ratios = pair.get("time_to_target_ratio", [])
    for position, target in enumerate(fws[names[0]].get("time_to_target", [])):
        row(
            f"time to {target['target']:g} (train s incl. tracing / images)",
            [_time_to(fws[n].get("time_to_target", []), position) for n in names],
            _time_ratio(time_ratios, position),
        )
    row("epochs (all units)", [str(fws[n]["epochs"]) for n in names])
    row("wall time s (train + eval)", [_fmt(fws[n]["wall_s"]) for n in names])
    row("backend", [fws[n]["backend"] for n in names])
    row("device, numerics", [numerics_cell(fws[n].get("numerics")) for n in names])
    row("twin mode", [twin_mode((fws[n].get("numerics") or {}).get("exact_twins")) for n in names])
    row(
        "peak RSS MiB per unit, mean [95 % CI] n = units (largest; its working set)",
        [rss_cell(fws[n]) for n in names],
        memory_cell(pair.get("memory_ratio"), "peak_rss_mib"),
    )
    row(
        "peak device memory MiB (allocator)",
        [_num(fws[n].get("device_peak_mib"), "{:.0f}") for n in names],
        memory_cell(pair.get("memory_ratio"), "device_peak_mib"),
    )
    row(
        "versions",
        [", ".join(f"{k} {v}" for k, v in sorted(fws[n]["versions"].items())) for n in names],
    )
    if diff:
        from common.compare.analysis.verdicts import level_lines, speed_lines

        names_of = (label(single), label(reference))
        lines += ["", *level_lines(pair, metrics.get("margins"), *names_of)]
        lines += speed_lines(pair, metrics.get("margins"), *names_of)
    elif len(pairs) > 1:
        from common.compare.report.pairs_table import pairs_section

        lines += ["", *pairs_section(metrics)]
    if pairs:
        from common.compare.analysis.noise_floor import floor_reading

        lines += floor_reading(metrics)
    return "\n".join(lines)


def twin_mode(exact: bool | None) -> str:
    """What the twins share beyond weights and batches (train.exact_twins)."""
    if exact:
        return "exact twins: one Adam rule (torch's order), shared dropout masks"
    return "each framework's own Adam and dropout (default)"


def cut_cell(summary: dict[str, Any]) -> str:
    """'+0.10', or '+0.10, empty below 30 px' where the empty-tile rule (eval.min_area) is on."""
    area = int(summary.get("min_area", 0) or 0)
    return f"{summary['threshold']:+.2f}" + (f", empty below {area} px" if area else "")


def numerics_cell(settings: dict[str, Any] | None) -> str:
    """'cpu, fp32, TF32 off, cuDNN benchmark off' (device, precision, then numerics_flags)."""
    if not settings:
        return "n/a (run made before device settings)"
    name = settings.get("device_name", "")
    device = settings.get("device", "?") + (f" ({name})" if name and name != "cpu" else "")
    precision = settings.get("precision", "fp32")
    choice = settings.get("precision_choice", "")
    if choice.startswith("auto"):
        precision += f" ({choice})"
    return f"{device}, {precision}, {numerics_flags(settings)}"


def rss_cell(summary: dict[str, Any]) -> str:
    """'1403 [1398, 1409] n=10 (1412; 980)': each unit's resident peak over units, then the
    largest unit's and what it added (older runs: the largest alone, '3120 (1480)')."""
    from common.stats.intervals import format_interval, mean_ci

    peak = summary.get("peak_rss_mib")
    if peak is None:
        return "–"
    working = _num(summary.get("working_set_mib"), "{:.0f}")
    units = [u.get("peak_rss_mib") for u in summary.get("folds", [])]
    if len(units) < 2 or not all(units):
        return f"{peak:.0f} ({working})"
    return f"{format_interval(mean_ci(units), 0)} ({peak:.0f}; {working})"


def memory_cell(stored: dict[str, Any] | None, what: str) -> str:
    """'ratio 1.12 [1.10, 1.14] n=10' over paired units, in the row of the peak it measured
    (common.compare.analysis.uncertainty.memory_ratio)."""
    from common.stats.intervals import Interval, format_interval

    if not stored or stored.get("estimate") is None or stored.get("what") != what:
        return ""
    interval = Interval(**{k: stored[k] for k in ("estimate", "low", "high", "n")}, method="t")
    return "ratio " + format_interval(interval, 2)
