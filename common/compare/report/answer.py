"""The Answer block that opens every report: per pair, who trains and infers faster, the score
verdict at both levels, the peak memory ratio and n; then the machine, and the line that names
the primary outcome and the correction. At most 8 lines."""

from __future__ import annotations

from typing import Any

from common.compare.analysis.uncertainty import pairs_of, reference_in
from common.compare.report.budget_table import budget_phrase
from common.core.cpu import machine_line
from common.stats.claims import claims_line
from common.subjects.selection import label

MAX_LINES = 8


def faster_phrase(
    stored: dict[str, Any] | None, first: str, second: str, verb: str, per_run: bool = True
) -> str:
    """'PyTorch trains 1.12× as fast as Keras [1.05, 1.19], n=5 runs' from a stored ratio
    first/second; below 3 runs no interval. A run made before per-run speeds kept an interval over
    epochs, which is labelled as such (epochs are not independent draws)."""
    if not stored or stored.get("estimate") is None:
        return f"{verb} speed not measured"
    ratio, low, high, n = stored["estimate"], stored.get("low"), stored.get("high"), stored["n"]
    if ratio < 1:
        first, second = second, first
        ratio, low, high = 1 / ratio, (1 / high if high else None), (1 / low if low else None)
    text = f"{first} {verb} {ratio:.2f}× as fast as {second}"
    if not per_run:
        return f"{text} (run made before per-run speed intervals)"
    runs = f"{n} run{'s' * (n != 1)}"
    if low is None:
        return f"{text} ({runs}: no interval below 3 runs)"
    return f"{text} [{low:.2f}, {high:.2f}], n={runs}"


MEMORY_WHAT = {"device_peak_mib": "device memory", "peak_rss_mib": "RSS"}


def memory_phrase(
    fws: dict[str, Any], subject: str, reference: str, stored: dict[str, Any] | None = None
) -> str:
    """Peak memory subject / reference: the device allocator where measured, else worker RSS;
    over runs with its interval where the run stored one (`memory_ratio`)."""
    if stored and stored.get("estimate") is not None:
        what = MEMORY_WHAT.get(stored.get("what"), "memory")
        text = f"peak {what} per unit {label(subject)}/{label(reference)} {stored['estimate']:.2f}×"
        runs = f"{stored['n']} run{'s' * (stored['n'] != 1)}"
        if stored.get("low") is None:
            return f"{text} ({runs}: no interval below 3 runs)"
        return f"{text} [{stored['low']:.2f}, {stored['high']:.2f}], n={runs}"
    for key, what in MEMORY_WHAT.items():
        a, b = fws[subject].get(key), fws[reference].get(key)
        if a and b:
            return f"peak {what} {label(subject)}/{label(reference)} {a / b:.2f}×"
    return "peak memory not measured"


def score_phrase(pair: dict[str, Any], metrics: dict[str, Any], subject: str) -> str:
    """The score verdict at both levels, in words (a run made before the framework level: its
    tile-level verdict, labelled as such)."""
    frameworks = (pair.get("frameworks") or {}).get("verdict")
    diff = pair.get("difference") or {}
    if frameworks is None:
        line = old_models_verdict(diff, metrics, subject)
        return (
            "score, the frameworks: not computed (run made before framework-level verdicts); "
            f"these trained models ({diff.get('n', '?')} tiles): {line}"
        )
    units = len(pair["frameworks"]["unit_differences"])
    seeds = diff.get("n_seeds", 1)
    models = (
        f"**these trained models** ({diff['n']} tiles × {seeds} seed{'s' * (seeds != 1)}): "
        f"{diff['verdict']['line']}"
    )
    dataset = pair["frameworks"].get("dataset")
    if dataset is None:  # a run made before the level on this dataset
        return (
            f"score, **the frameworks** ({units} training run{'s' * (units != 1)}): "
            f"{frameworks['line']}; {models}"
        )
    on_dataset = (
        f"**the frameworks on this dataset** ({dataset['seeds']} seed{'s' * (dataset['seeds'] != 1)}"
        f" × {dataset['folds']} fold{'s' * (dataset['folds'] != 1)}): {dataset['verdict']['line']}"
    )
    across = f"across training sets (assumed correlation): {frameworks['line']}"
    if pair["frameworks"].get("lead") == "dataset":
        return f"score, {on_dataset}; {models}; {across}"
    return (
        f"score, **the frameworks across training sets** ({units} training run"
        f"{'s' * (units != 1)}): {frameworks['line']}; {models}; {on_dataset}"
    )


def old_models_verdict(diff: dict[str, Any], metrics: dict[str, Any], subject: str) -> str:
    """The tile-level verdict of a run made before this version, as its report decided it: Holm
    across several pairs, else the three-way (or two-way) reading of its stored intervals."""
    from common.compare.analysis.verdicts import holm_verdict, plain_interval
    from common.stats.intervals import Interval, difference_verdict
    from common.stats.verdict_rules import three_way_verdict

    margins = metrics.get("margins")
    if not diff:
        return "no comparison"
    if metrics.get("holm_family", 1) > 1 and "p_difference_holm" in diff and margins:
        return holm_verdict(subject, reference_in(metrics), diff, margins["score"])
    interval = Interval(**plain_interval(diff))
    if "tost" not in diff or not margins:
        return difference_verdict(interval)
    tost = Interval(**plain_interval(diff["tost"]))
    return three_way_verdict(interval, tost, margins["score"])["line"]


def answer_block(config: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """The block's lines (heading included), or none where no pair finished."""
    pairs, reference = pairs_of(metrics), reference_in(metrics)
    fws = metrics.get("subjects", {})
    pairs = {s: p for s, p in pairs.items() if s in fws and reference in fws}
    if not pairs:
        return []
    lines = []
    for subject, pair in pairs.items():
        first, second = label(subject), label(reference)
        ci = pair.get("ratio_ci") or {}
        per_run = bool(pair.get("speed_unit"))
        costs = "; ".join(
            [
                faster_phrase(ci.get("train_img_s"), first, second, "trains", per_run),
                faster_phrase(ci.get("infer_img_s"), first, second, "infers", per_run),
                memory_phrase(fws, subject, reference, pair.get("memory_ratio")),
                *filter(None, [budget_phrase(metrics, subject, reference)]),
            ]
        )
        lines.append(f"- **{first} vs {second}**: {costs}.")
        lines.append(f"  {score_phrase(pair, metrics, subject)}.")
    claims = metrics.get("claims")
    room = MAX_LINES - 1 - bool(claims)
    if len(lines) > room:  # many pairs: the costs give way, the verdicts stay
        lines = [line for line in lines if line.startswith("  ")][:room]
    numerics = next(iter(fws.values())).get("numerics") or {}
    device = numerics.get("device_name") if numerics.get("device") == "cuda" else None
    machine = machine_line(metrics.get("machine") or config.get("machine"))
    precision = numerics.get("precision", "fp32")
    lines.append(
        f"- Machine: {machine}" + (f"; GPU {device}" if device else "") + f"; {precision}."
    )
    if claims:
        lines.append(f"- {claims_line(claims)}")
    return ["## Answer", "", *lines, ""]
