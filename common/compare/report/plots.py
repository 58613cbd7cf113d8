"""The run's plots (matplotlib, Agg): learning curves, score vs throughput, validation tiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.compare.report.figure import COLORS, pyplot, save_png
from common.runs import rundir
from common.subjects.selection import label as subject_label


def learning_curves(run_dir: Path, config: dict[str, Any]) -> Path | None:
    plt = pyplot()
    fig, (ax_score, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    styles = ["-", "--", ":", "-.", (0, (1, 3))]
    drawn = False
    for framework, label, k, h in _unit_histories(run_dir, config):
        style = dict(color=COLORS.get(framework), linestyle=styles[k % len(styles)], marker=".")
        ax_score.plot(h["epoch"] + 1, h["val_score"], label=label, **style)
        for stage, part in h.groupby("stage", sort=False):
            ax_loss.plot(
                part["epoch"] + 1,
                part["train_loss"],
                label=f"{label} ({stage})" if k == 0 else None,
                **style,
            )
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax_score.set(xlabel="epoch", ylabel="validation score (logit 0)", title="Validation score")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="Training loss (stage's loss)")
    ax_score.legend(fontsize=8)
    ax_loss.legend(fontsize=8)
    return Path(save_png(fig, run_dir / "plots" / "learning_curves.png"))


def _unit_histories(run_dir: Path, config: dict[str, Any]):
    """(framework, label, unit index, history) of every unit with a readable history.csv."""
    seeds = rundir.run_seeds(config)
    for framework in config["subjects"]:
        for k, (fold, seed) in enumerate(rundir.run_units(config)):
            path = rundir.unit_dir(run_dir, framework, fold, seed) / "history.csv"
            if not path.is_file() or path.stat().st_size == 0:
                continue
            label = f"{subject_label(framework)} fold {fold}" + (
                f" seed {seed}" if len(seeds) > 1 else ""
            )
            yield framework, label, k, pd.read_csv(path)


def score_vs_wall(run_dir: Path, config: dict[str, Any]) -> Path | None:
    """Validation score against the unit's wall clock: the curve a user compares between frameworks.

    Stage changes are marked; runs written before histories had wall_seconds are left out.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    styles = ["-", "--", ":", "-.", (0, (1, 3))]
    drawn = False
    for framework, label, k, h in _unit_histories(run_dir, config):
        if "wall_seconds" not in h or h["wall_seconds"].isna().any():
            continue
        minutes = h["wall_seconds"] / 60.0
        color = COLORS.get(framework)
        ax.plot(
            minutes, h["val_score"], color=color, linestyle=styles[k % len(styles)], marker=".",
            label=label,
        )  # fmt: skip
        changes = h.index[h["stage"].ne(h["stage"].shift()) & (h.index > 0)]
        for i in changes:
            ax.axvline(minutes[i - 1], color=color, alpha=0.3, linewidth=1)
            ax.annotate(
                h["stage"][i], (minutes[i - 1], 0.02), xycoords=("data", "axes fraction"),
                color=color, fontsize=7, rotation=90, ha="right",
            )  # fmt: skip
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set(
        xlabel="wall minutes of the unit (training + per-epoch validation)",
        ylabel="validation score (logit 0, no TTA)",
        title="Validation score vs wall time",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return Path(save_png(fig, run_dir / "plots" / "score_vs_wall.png"))


def score_vs_throughput(run_dir: Path, metrics: dict[str, Any]) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, key, title in (
        (axes[0], "train_img_s", "training"),
        (axes[1], "infer_img_s", "inference"),
    ):
        for framework, summary in metrics["subjects"].items():
            color = COLORS.get(framework)
            xs = [m[key] for m in summary["folds"]]
            ys = [m["score"] for m in summary["folds"]]
            ax.scatter(xs, ys, color=color, alpha=0.5, label=f"{subject_label(framework)} folds")
            ax.errorbar(
                [summary[key]],
                [summary["score_mean"]],
                yerr=_ci_error(summary.get("score_ci")),
                color=color,
                marker="D",
                markersize=9,
                capsize=4,
                label=f"{subject_label(framework)} mean",
            )
        ax.set(xlabel=f"{title} images/s", title=f"Score vs {title} throughput")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("competition score (OOF, TTA)")
    axes[0].legend(fontsize=8)
    return Path(save_png(fig, run_dir / "plots" / "score_vs_throughput.png"))


def _ci_error(interval: dict[str, Any] | None):
    """matplotlib yerr of a stored 95 % interval (none when n=1 or for older runs)."""
    if not interval or interval.get("low") is None:
        return None
    return [[interval["estimate"] - interval["low"]], [interval["high"] - interval["estimate"]]]


def tile_grid(run_dir: Path, config: dict[str, Any]) -> Path | None:
    path = run_dir / "plots" / "tiles_sample.npz"
    if not path.is_file():
        return None
    with np.load(path) as npz:
        sample = {k: npz[k] for k in npz.files}
    rows = [("image", sample["images"], "gray"), ("truth", sample["truth"], "viridis")]
    rows += [
        (subject_label(fw), sample[f"pred_{fw}"], "viridis")
        for fw in config["subjects"]
        if f"pred_{fw}" in sample
    ]
    n = len(sample["ids"])
    plt = pyplot()
    fig, axes = plt.subplots(len(rows), n, figsize=(1.6 * n, 1.7 * len(rows)), squeeze=False)
    for r, (label, arrays, cmap) in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(np.asarray(arrays[c]).squeeze(), cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label)
            if r == 0:
                ax.set_title(str(sample["ids"][c])[:10], fontsize=7)
    return Path(save_png(fig, run_dir / "plots" / "validation_tiles.png"))


def drift_tables(run_dir: Path, config: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """subject -> its per-unit drift from the reference (a run made before N-way: drift.csv)."""
    from common.compare.unit.drift import pair_folder
    from common.subjects.selection import others

    tables = {}
    for subject in others(config):
        for name in (f"{pair_folder(subject)}.csv", "drift.csv"):
            path = run_dir / name
            if path.is_file() and path.stat().st_size:
                tables[subject] = pd.read_csv(path)
                break
    return tables


def twin_drift(run_dir: Path, config: dict[str, Any]) -> Path | None:
    """Weights distance and mask IoU of every subject against the reference, per epoch (with one
    pair, also per layer group)."""
    from common.subjects.selection import reference_of

    tables = drift_tables(run_dir, config)
    if not tables:
        return None
    plt = pyplot()
    fig, (ax_w, ax_m) = plt.subplots(1, 2, figsize=(11, 4))
    reference = subject_label(reference_of(config))
    for subject, table in tables.items():
        per_epoch = table.groupby("epoch", sort=True).mean(numeric_only=True)
        epochs = per_epoch.index + 1
        color = "black" if len(tables) == 1 else COLORS.get(subject)
        if len(tables) == 1:
            _group_lines(ax_w, per_epoch, plt.get_cmap("tab20"))
        ax_w.plot(epochs, per_epoch["weights_total"], color=color, linewidth=2.2, marker="o",
                  label="total" if len(tables) == 1 else subject_label(subject))  # fmt: skip
        ax_m.plot(epochs, per_epoch["mask_iou"], color=COLORS.get(subject, "tab:purple"),
                  marker="o", label=subject_label(subject))  # fmt: skip
    floor_path = run_dir / "drift_floor.csv"  # the noise floor: one framework against itself
    if floor_path.is_file() and floor_path.stat().st_size:
        floor = pd.read_csv(floor_path).groupby("epoch", sort=True).mean(numeric_only=True)
        ax_w.plot(floor.index + 1, floor["weights_total"], color="tab:red", linewidth=2.0,
                  linestyle="--", marker="s", label=f"noise floor: {reference} vs +1 ulp")  # fmt: skip
        ax_m.plot(floor.index + 1, floor["mask_iou"], color="tab:red", linestyle="--", marker="s",
                  label="noise floor")  # fmt: skip
    if any((t.filter(like="weights_") > 0).any().any() for t in tables.values()):
        ax_w.set_yscale("log")
    names = " / ".join(subject_label(s) for s in tables)
    ax_w.set(
        xlabel="epoch", ylabel="relative L2 distance", title=f"Weights: {names} vs {reference}"
    )
    ax_w.legend(fontsize=7, ncol=2)
    ax_m.set(xlabel="epoch", ylabel=f"mean IoU of the masks with {reference}'s",
             title="Validation mask agreement", ylim=(0.0, 1.02))  # fmt: skip
    ax_m.legend(fontsize=7)
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_w, ax_m):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    units = next(iter(tables.values())).groupby(["seed", "fold"]).ngroups
    fig.suptitle(f"Twin drift (mean over {units} unit{'s' * (units > 1)})", fontsize=10)
    return Path(save_png(fig, run_dir / "plots" / "twin_drift.png"))


def _group_lines(ax, per_epoch: pd.DataFrame, cmap) -> None:
    """One thin line per layer group's relative distance."""
    groups = [c for c in per_epoch.columns if c.startswith("weights_") and c != "weights_total"]
    for k, column in enumerate(groups):
        ax.plot(per_epoch.index + 1, per_epoch[column], color=cmap(k % 20), linewidth=0.9,
                alpha=0.8, label=column.removeprefix("weights_"))  # fmt: skip


PLOTS = ("score_vs_cpu_minutes.png", "learning_curves.png", "score_vs_wall.png",
         "score_vs_throughput.png", "validation_tiles.png", "twin_drift.png")  # fmt: skip


def write_plots(run_dir: Path, config: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """All plots; returns their file names under plots/. A plot whose inputs are gone (a published
    example keeps no histories or tiles) keeps the file it was drawn into before."""
    from common.compare.report.plot_budget import score_vs_cpu_minutes

    made = [
        score_vs_cpu_minutes(run_dir, config, metrics),
        learning_curves(run_dir, config),
        score_vs_wall(run_dir, config),
        score_vs_throughput(run_dir, metrics) if metrics["subjects"] else None,
        tile_grid(run_dir, config),
        twin_drift(run_dir, config),
    ]
    drawn = {p.name for p in made if p is not None}
    kept = {name for name in PLOTS if (Path(run_dir) / "plots" / name).is_file()}
    return [name for name in PLOTS if name in drawn | kept]
