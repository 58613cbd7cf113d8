"""The score-per-CPU-minute plot: each training run's best validation score so far against its
cumulative training cost, thin, and each subject's mean over runs, thick (the report's table
reads the same curves at fixed budgets: common.compare.analysis.score_per_minute)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.compare.analysis.score_per_minute import best_within, unit_costs
from common.compare.analysis.uncertainty import unit_histories
from common.compare.report.figure import COLORS, pyplot, save_png
from common.subjects.selection import label


def score_vs_cpu_minutes(run_dir: Path, config: dict[str, Any], metrics: dict[str, Any]):
    """plots/score_vs_cpu_minutes.png, or None where no unit left a history."""
    curves = {}
    for fw, summary in metrics.get("subjects", {}).items():
        histories = unit_histories(run_dir, config, fw)
        for history, cost in zip(histories, unit_costs(histories, summary["folds"]), strict=True):
            if history:
                curves.setdefault(fw, []).append((history, cost))
    if not curves:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    longest = max(float(c[-1]) for runs in curves.values() for _, c in runs)
    grid = np.linspace(0.0, longest, 200)
    for fw, runs in curves.items():
        color = COLORS.get(fw)
        best = np.array([[best_within(h, c, t) for t in grid] for h, c in runs], dtype=float)
        for row in best:
            ax.plot(grid, row, color=color, alpha=0.25, linewidth=0.8)
        every = ~np.isnan(best).any(axis=0)  # the mean only where every run has a score
        ax.plot(grid[every], best[:, every].mean(axis=0), color=color, linewidth=2.2,
                label=f"{label(fw)}: mean of {len(runs)} run{'s' * (len(runs) > 1)}")  # fmt: skip
    device = metrics.get("score_per_minute", {}).get(
        "unit", "CPU minutes (training seconds x threads)"
    )
    ax.set(xlabel=f"training cost, {device}", ylabel="best validation score so far (logit 0, no TTA)",
           title="Score per CPU minute")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return Path(save_png(fig, Path(run_dir) / "plots" / "score_vs_cpu_minutes.png"))
