"""Verdict lines of a pair of subjects: the three-way score verdict (equivalent, higher,
inconclusive), the three-way speed readings and, across several pairs, the Holm-corrected one."""

from __future__ import annotations

from typing import Any

from common.harness.subjects import label

ALPHA = 0.05


def plain_interval(interval: dict[str, Any]) -> dict[str, Any]:
    """The Interval fields of a stored difference (it carries n_seeds and confidence too)."""
    return {k: interval[k] for k in ("estimate", "low", "high", "n", "method")}


def format_p(value: float | None) -> str:
    return "n/a" if value is None else ("< 0.0001" if value < 1e-4 else f"{value:.4f}")


def holm_verdict(subject: str, reference: str, diff: dict[str, Any], margin: float) -> str:
    """'equivalent within ±0.01', '<subject> scores higher by …' or 'inconclusive', each decided
    on the Holm-adjusted p-value of its family (equivalence tests, difference tests)."""
    p_eq, p_diff = diff.get("p_equivalence_holm"), diff.get("p_difference_holm")
    if p_eq is None or p_diff is None:
        return "no test (run made before Holm-corrected verdicts)"
    estimate = diff["estimate"]
    if p_eq < ALPHA:
        return f"equivalent within ±{margin:g} (TOST, Holm-adjusted p {format_p(p_eq)})"
    if p_diff < ALPHA:
        higher = subject if estimate > 0 else reference
        return f"{label(higher)} scores higher by {abs(estimate):.4f} (Holm-adjusted p {format_p(p_diff)})"
    return (
        f"inconclusive: neither a difference (Holm-adjusted p {format_p(p_diff)}) nor equivalence "
        f"within ±{margin:g} (p {format_p(p_eq)}) is shown"
    )


def verdict_line(
    diff: dict[str, Any],
    margins: dict[str, float] | None = None,
    first: str = "Keras",
    second: str = "PyTorch",
) -> str:
    """'Verdict (Keras − PyTorch, ...): equivalent within ±0.01 (TOST ...)' or '... higher by' or
    'inconclusive: ... about n seeds × folds'. A run made before TOST keeps its two-way line."""
    from common.stats import Interval, difference_verdict, three_way_verdict

    seeds = diff.get("n_seeds", 1)
    what = (
        f"Verdict ({first} − {second} pooled OOF score, paired 95 % bootstrap over {diff['n']} "
        f"tiles × {seeds} seed{'s' * (seeds > 1)}"
    )
    interval = Interval(**plain_interval(diff))
    if "tost" not in diff or margins is None:
        return f"{what}): {difference_verdict(interval, first, second)}"
    margin = margins["score"]
    verdict = three_way_verdict(
        interval,
        Interval(**plain_interval(diff["tost"])),
        margin,
        int(diff.get("units", seeds)),
        first,
        second,
    )
    return f"{what}; equivalence margin ±{margin:g}): {verdict['line']}"


def speed_lines(
    pair: dict[str, Any],
    margins: dict[str, float] | None,
    first: str = "Keras",
    second: str = "PyTorch",
) -> list[str]:
    """The three-way reading of each throughput ratio of a pair (runs with 90 % intervals)."""
    from common.stats import Interval, ratio_verdict

    ci95, ci90 = pair.get("ratio_ci"), pair.get("ratio_ci90")
    if not (ci95 and ci90 and margins):
        return []
    lines = []
    for key, what, verb in (
        ("train_img_s", "training", "trains"),
        ("infer_img_s", "inference", "infers"),
    ):
        verdict = ratio_verdict(
            Interval(**ci95[key]), Interval(**ci90[key]), margins["speed"], first, second, verb
        )
        lines.append(
            f"Speed, {what} ({first} / {second} images/s, n={ci95[key]['n']}; margin "
            f"±{margins['speed']:.0%}): {verdict['line']}"
        )
    return lines
