"""The bench run's images: throughput bars (summary) and scaling curves (sweeps)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig, plt) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def bar_chart_png(summary: pd.DataFrame, title: str) -> bytes:
    """Grouped horizontal bars (train, inference images/s) with IQR whiskers, as PNG bytes."""
    plt = _pyplot()
    names = list(summary["variant"])[::-1]
    data = summary.set_index("variant").loc[names]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(names) + 1.6), dpi=110)
    for offset, op, color in ((0.2, "train", "#1f77b4"), (-0.2, "infer", "#ff7f0e")):
        med = data[f"{op}_img_s"].astype(float).to_numpy()
        low = np.nan_to_num(med - data[f"{op}_img_s_q1"].astype(float).to_numpy())
        high = np.nan_to_num(data[f"{op}_img_s_q3"].astype(float).to_numpy() - med)
        label = f"{'training step' if op == 'train' else 'inference'} (median, IQR)"
        ax.barh(
            y + offset,
            np.nan_to_num(med),
            0.38,
            xerr=[low, high],
            color=color,
            label=label,
            capsize=2,
        )
    ax.set_yticks(y, names)
    ax.set_xlabel("images / s (higher is better)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig, plt)


def scaling_png(axis: str, table: pd.DataFrame, title: str) -> bytes:
    """images/s and MiB against the swept axis, log-log, one colour per variant (train solid,
    inference dashed; working set solid, peak RSS dotted)."""
    plt = _pyplot()
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (variant, rows) in enumerate(table.groupby("variant", sort=False)):
        rows = rows.sort_values("value")
        colour = colours[index % len(colours)]
        for column, style, what in (("train_img_s", "-", "train"), ("infer_img_s", "--", "infer")):
            speed.plot(rows["value"], rows[column], style, marker="o", color=colour,
                       label=f"{variant} {what}")  # fmt: skip
        for column, style, what in (
            ("train_working_set_mib", "-", "train working set"),
            ("train_peak_rss_mib", ":", "train peak RSS"),
        ):
            memory.plot(rows["value"], rows[column], style, marker="o", color=colour,
                        label=f"{variant} {what}")  # fmt: skip
    for ax, label in ((speed, "images / s"), (memory, "MiB")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(axis)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _png(fig, plt)
