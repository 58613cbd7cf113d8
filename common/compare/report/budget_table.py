"""The report's score per CPU minute: a table of the best validation score within fixed training
budgets per subject, with the paired difference, and the Answer's phrase at the largest budget
(common.compare.analysis.score_per_minute)."""

from __future__ import annotations

from typing import Any

from common.stats.intervals import Interval, format_interval
from common.subjects.selection import label


def _cell(stored: dict[str, Any], signed: bool = False) -> str:
    if stored.get("estimate") is None:
        return "–"
    fields = {k: stored.get(k) for k in ("estimate", "low", "high", "n")}
    return format_interval(Interval(**fields, method="t"), 3, signed=signed)


def _minutes(budget: float) -> str:
    return f"{budget:g}"


def budget_section(metrics: dict[str, Any]) -> list[str]:
    """'## Score per CPU minute' with its table, or nothing for a run made before it."""
    spm = metrics.get("score_per_minute") or {}
    if not spm.get("budgets_min"):
        return []
    subjects = list(spm["subjects"])
    reference = metrics.get("reference")
    diffs = spm.get("differences", {})
    header = ["budget, " + spm["unit"], *(label(s) for s in subjects)]
    header += [f"{label(s)} − {label(reference)}, paired" for s in diffs]
    lines = [
        "## Score per CPU minute",
        "",
        "Best per-epoch validation score (logit 0, no TTA) among the epochs each training run ended "
        "within the budget, mean [95 % CI] over runs (n); a run that finished sooner keeps its "
        "best; the difference is over runs paired by fold and seed, a t interval. The cost counts "
        "training seconds with tracing and warm-up, not per-epoch validation.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for k, budget in enumerate(spm["budgets_min"]):
        cells = [_minutes(budget), *(_cell(spm["subjects"][s][k]) for s in subjects)]
        cells += [_cell(diffs[s][k], signed=True) for s in diffs]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def budget_phrase(metrics: dict[str, Any], subject: str, reference: str) -> str | None:
    """'best validation score within 20 CPU min: Keras − PyTorch -0.016 [-0.02, -0.01] n=10 runs'."""
    spm = metrics.get("score_per_minute") or {}
    diff = (spm.get("differences") or {}).get(subject)
    if not spm.get("budgets_min") or not diff or diff[-1].get("estimate") is None:
        return None
    minutes = _minutes(spm["budgets_min"][-1])
    unit = "CPU min" if spm["unit"].startswith("CPU") else "device min"
    cell = _cell(diff[-1], signed=True)
    return (
        f"best validation score within {minutes} {unit}: {label(subject)} − {label(reference)} "
        f"{cell} runs (95 %, descriptive)"
    )
