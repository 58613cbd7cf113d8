"""report.md and plots/ of a run, rebuilt from its files alone (`saltbench report --run RUN_DIR`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.compare.analysis.verdicts import uncertainty_paragraph
from common.compare.report.answer import answer_block
from common.compare.report.budget_table import budget_section
from common.compare.report.subjects_table import (
    _num,
    cut_cell,
    loop_flags,
    rss_cell,
    side_by_side_table,
)
from common.core.errors import SaltbenchError
from common.core.io import atomic_write_text
from common.core.postprocess import MIN_AREA_GRID
from common.runs import rundir
from common.runs.schedule import schedule_line
from common.stats.crossfit import GROUPS
from common.subjects.selection import in_run_order, label


def fold_table(metrics: dict[str, Any]) -> str:
    lines = [
        "| framework | seed | fold | score | threshold | score at logit 0 | score cross-fitted | "
        "train img/s | step img/s | infer img/s | epochs | best epoch | wall s | "
        "peak RSS MiB (working set) |",
        "|---" * 14 + "|",
    ]
    for name, summary in metrics["subjects"].items():
        for m in summary["folds"]:
            lines.append(
                f"| {label(name)} | {m.get('seed', '')} | {m['fold']} | {m['score']:.4f} | "
                f"{cut_cell(m)} | "
                f"{m['score_at_0']:.4f} | {_num(m.get('score_cross_fitted'), '{:.4f}')} | "
                f"{m['train_img_s']:.1f} | {_num(m.get('step_img_s'))} | {m['infer_img_s']:.1f} | "
                f"{m['epochs']} | {m['best_epoch'] + 1} | {m['wall_s']:.1f} | {rss_cell(m)} |"
            )
    return "\n".join(lines)


def failure_line(metrics: dict[str, Any], report: Path) -> str:
    """One line: every diverged framework x fold, and what the run therefore lacks."""
    failed = metrics.get("failed", {})
    what = "; ".join(f["message"] for folds in failed.values() for f in folds)
    names = ", ".join(failed)
    return f"{what} (no score, leaderboard row or submission for {names}; see {report})"


def failure_section(metrics: dict[str, Any]) -> list[str]:
    """The report's account of diverged frameworks (empty when none failed)."""
    failed = metrics.get("failed")
    if not failed:
        return []
    lines = ["## Failed", ""]
    for name, folds in failed.items():
        lines.append(
            f"**{label(name)} failed** (below), so it has no score, "
            "leaderboard row or submission in this run."
        )
        lines += [f"- {f['message']}" for f in folds]
        lines.append("")
    return lines


def drift_sections(metrics: dict[str, Any]) -> list[str]:
    """The twin-drift section: per layer group with one pair, per subject with several."""
    from common.compare.analysis.uncertainty import pairs_of, reference_in

    floor = (metrics.get("noise_floor") or {}).get("drift")
    drifts = {s: p["drift"] for s, p in pairs_of(metrics).items() if p.get("drift")}
    if len(drifts) == 1:
        (subject, drift), reference = next(iter(drifts.items())), reference_in(metrics)
        return drift_section(drift, floor, label(subject), label(reference))
    if not drifts:
        return []
    reference = label(reference_in(metrics))
    epochs = sorted({e["epoch"] for d in drifts.values() for e in d["epochs"]})
    at = {s: {e["epoch"]: e for e in d["epochs"]} for s, d in drifts.items()}
    lines = [
        "## Twin drift",
        "",
        f"Each subject against {reference}: same initial weights, same batches; after every epoch "
        "the relative L2 distance between the trainable weights and the mean IoU between the "
        "validation masks (means over units; per layer group in the drift CSVs).",
        "",
        "| epoch | "
        + " | ".join(f"{label(s)}: weights | {label(s)}: mask IoU" for s in drifts)
        + (" | noise floor: weights | noise floor: mask IoU" if floor else "")
        + " |",
        "|---" * (1 + 2 * len(drifts) + 2 * bool(floor)) + "|",
    ]
    floor_at = {e["epoch"]: e for e in (floor or {}).get("epochs", [])}
    for epoch in epochs:
        cells = []
        for subject in drifts:
            e = at[subject].get(epoch)
            cells += [f"{e['weights_total']:.2e}", f"{e['mask_iou']:.4f}"] if e else ["", ""]
        if floor:
            own = floor_at.get(epoch)
            cells += [f"{own['weights_total']:.2e}", f"{own['mask_iou']:.4f}"] if own else ["", ""]
        lines.append(f"| {epoch + 1} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def drift_section(
    drift: dict[str, Any] | None,
    floor: dict[str, Any] | None = None,
    first: str = "Keras",
    second: str = "PyTorch",
) -> list[str]:
    """Per epoch (mean over units): relative L2 distance of the twins' weights, in total and per
    layer group, and the mean IoU of their validation masks; with a noise floor, its total and
    mask IoU beside them."""
    if not drift:
        return []
    floor_at = {e["epoch"]: e for e in (floor or {}).get("epochs", [])}
    groups = [k for k in drift["epochs"][0] if k.startswith("weights_") and k != "weights_total"]
    lines = [
        "## Twin drift",
        "",
        f"{first} and {second} start from the same weights and see the same batches; after every "
        "epoch: the relative L2 distance between their trainable weights (‖K − P‖ / mean of ‖K‖, "
        "‖P‖; total and per layer group) and the mean IoU between their validation masks "
        "(logit > 0; both empty counts as 1). Means over units; a stage starts from each twin's "
        "own best epoch.",
        "",
        "| epoch | stage | units | weights total | "
        + " | ".join(g.removeprefix("weights_") for g in groups)
        + " | mask IoU |"
        + (" noise floor: weights total | noise floor: mask IoU |" if floor_at else ""),
        "|---" * (len(groups) + 5 + 2 * bool(floor_at)) + "|",
    ]
    for e in drift["epochs"]:
        own = floor_at.get(e["epoch"])
        extra = ""
        if floor_at:
            extra = f" {own['weights_total']:.2e} | {own['mask_iou']:.4f} |" if own else " | |"
        lines.append(
            f"| {e['epoch'] + 1} | {e['stage']} | {e['units']} | {e['weights_total']:.2e} | "
            + " | ".join(f"{e[g]:.2e}" for g in groups)
            + f" | {e['mask_iou']:.4f} |"
            + extra
        )
    if floor:
        lines += ["", f"Noise floor: {second} against its own copy whose initial trainable weights "
                  "were moved one ulp (one float32 rounding error), same code, batches and dropout: "
                  "the drift round-off alone produces."]  # fmt: skip
    return [*lines, ""]


def empty_tile_rule(recipe: dict[str, Any]) -> list[str]:
    """The report's line on eval.min_area (none where it is off)."""
    setting = recipe.get("eval", {}).get("min_area", 0)
    if not setting:
        return []
    how = (
        "searched jointly with the threshold over "
        f"{', '.join(map(str, MIN_AREA_GRID))} pixels, and cross-fitted with it"
        if setting == "search"
        else f"fixed at {setting} pixels"
    )
    return [
        f"Empty-tile rule (eval.min_area): a mask covering fewer pixels than the minimum area is "
        f"emptied, for every subject alike; the area is {how}. `predict` applies the run's cut."
    ]


def any_drift(metrics: dict[str, Any]) -> bool:
    from common.compare.analysis.uncertainty import pairs_of

    return any(p.get("drift") for p in pairs_of(metrics).values())


def render_report(
    config: dict[str, Any], metrics: dict[str, Any], plots: list[str], run_dir: Path | None = None
) -> str:
    recipe = config["recipe"]
    model = recipe["model"]
    parts = [
        f"# saltbench compare — run {config['run_id']}",
        "",
        *answer_block(config, metrics),
        f"Recipe **{recipe['recipe']}**, profile **{recipe['profile']}**, model **{model['name']}** "
        f"({', '.join(f'{k} {v}' for k, v in model.items() if k != 'name')}), "
        f"batch {recipe['train']['batch_size']}, "
        f"stages: "
        + ", ".join(
            f"{s['name']} ({s['loss']}, ≤{s['epochs']} epochs, lr {s['learning_rate']})"
            for s in recipe["stages"]
        )
        + ".",
        f"Data: `{config['data_dir']}` ({config['data_source']}); folds {config['folds']} of "
        f"{recipe['data']['num_folds']}, seeds {rundir.run_seeds(config)}. Threads per subject process: {config['threads']} "
        f"({'subjects run at once as the cores allow' if config['parallel'] else 'subjects run one after the other'}); "
        f"host: {config['host']['cpus']} CPUs, {config['host']['machine']}.",
        *([line] if (line := schedule_line(run_dir, config["host"]["cpus"])) else []),
        "",
        *failure_section(metrics),
        side_by_side_table(config, metrics) if metrics["subjects"] else "No framework finished.",
        "",
        *budget_section(metrics),
    ]
    flags = loop_flags(metrics)
    if flags:
        parts += [flags, ""]
    if "ensemble" in metrics:
        ens = metrics["ensemble"]
        parts += [
            f"Ensemble (mean of {'both' if len(metrics['subjects']) == 2 else 'all'} subjects' "
            "probabilities): pooled OOF score "
            f"**{ens['score']:.4f}** at logit threshold {cut_cell(ens)}.",
            "",
        ]
    parts += [
        "Scores: competition metric on out-of-fold tiles with horizontal-flip TTA, threshold searched on "
        "the same tiles (optimistic); the cross-fitted score splits the tiles into "
        f"{GROUPS} groups by tile id and scores each group at the cut searched on the other "
        f"{GROUPS - 1} (threshold, and the minimum area where it is searched, chosen together), so "
        "no tile helps choose its own cut — the gap between the two "
        "is the optimism of the search. Train images/s: the real training loop, epochs after the "
        "first of each stage (warm-up). Step images/s: a burst of bare training steps (same model, "
        "loss, batch, threads) timed after each stage, weighted like the loop's epochs; loop vs step "
        "< -5 % is flagged ⚠. Time to target: training seconds (validation excluded) and images "
        "until the per-epoch validation score (logit 0, no TTA) first reaches the target. "
        "Inference images/s: plain forward passes of the validation tiles, median of 3 after a warm-up.",
        uncertainty_paragraph(metrics),
        *empty_tile_rule(recipe),
        f"Run wall time (last session): {metrics.get('session_wall_s', float('nan')):.1f} s.",
        "",
        "## Per unit (seed x fold)",
        "",
        fold_table(metrics),
        "",
        *drift_sections(metrics),
        "## Files",
        "",
        "`config.json` (rerun settings), `metrics.json`, `<framework>/seed<s>/fold<k>/history.csv`, "
        "`<framework>/seed<s>/fold<k>/model_best.npz` (neutral weights), `oof_<framework>.npz`, "
        "`submission_<framework>.csv`"
        + (", `submission_ensemble.csv`" if "ensemble" in metrics else "")
        + (
            f", `{'drift_<subject>.csv' if 'pairs' in metrics else 'drift.csv'}` (twin drift per "
            "unit and epoch)"
            if any_drift(metrics)
            else ""
        )
        + ".",
        "",
    ]
    if plots:
        parts += ["## Plots", ""] + [f"![{Path(p).stem}](plots/{p})" for p in plots] + [""]
    return "\n".join(parts)


def write_report(run_dir: Path) -> Path:
    """Rebuild report.md and plots/ from config.json, metrics.json, histories and the tile sample."""
    from common.compare.report.plots import write_plots

    run_dir = Path(run_dir)
    config = rundir.load_config(run_dir)
    metrics_path = run_dir / rundir.METRICS
    if not metrics_path.is_file():
        raise SaltbenchError(
            f"{metrics_path}: not found; the run has not finished "
            f"(continue it with saltbench compare --run {run_dir})"
        )
    metrics = in_run_order(config, rundir.load_metrics(run_dir))
    try:
        plots = write_plots(run_dir, config, metrics)
    except ImportError as err:  # a minimal install (the GPU machine carries no matplotlib)
        from common.core.errors import warn

        warn(
            f"plots not drawn ({err}); run `saltbench report --run {run_dir}` where matplotlib is "
            "installed to draw them"
        )
        plots = []
    return atomic_write_text(run_dir / "report.md", render_report(config, metrics, plots, run_dir))


def summary_text(run_dir: Path, failures: bool = True) -> str:
    """The side-by-side table, after a FAILED line per diverged framework x fold (when asked)."""
    config = rundir.load_config(run_dir)
    metrics = in_run_order(config, rundir.load_metrics(run_dir))
    failed = [f["message"] for folds in metrics.get("failed", {}).values() for f in folds]
    failed = failed if failures else []
    table = side_by_side_table(config, metrics) if metrics["subjects"] else ""
    flags = loop_flags(metrics) if metrics["subjects"] else ""
    return "\n".join(["FAILED: " + line for line in failed] + [table, flags]).strip()
