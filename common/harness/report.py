"""report.md and plots/ of a run, rebuilt from its files alone (`saltbench report RUN_DIR`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.errors import SaltbenchError
from common.harness import rundir
from common.io import atomic_write_text

NAMES = {"keras": "Keras", "torch": "PyTorch"}


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def side_by_side_table(config: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The markdown table: one column per framework, a Keras/PyTorch ratio column when both ran."""
    fws = metrics["frameworks"]
    names = list(fws)
    ratio = metrics.get("ratio_keras_torch")
    header = (
        "| | "
        + " | ".join(NAMES.get(n, n) for n in names)
        + (" | Keras/PyTorch |" if ratio else " |")
    )
    lines = [header, "|---" * (len(names) + 1 + bool(ratio)) + "|"]

    def row(label: str, cells: list[str], ratio_cell: str = "") -> None:
        lines.append(
            f"| {label} | " + " | ".join(cells) + (f" | {ratio_cell} |" if ratio else " |")
        )

    nunits = len(next(iter(fws.values()))["folds"])
    row(
        f"score (mean ± std, {nunits} fold{'s' * (nunits > 1)} x seeds)",
        [f"{fws[n]['score_mean']:.4f} ± {fws[n]['score_std']:.4f}" for n in names],
        f"{fws['keras']['score_mean'] - fws['torch']['score_mean']:+.4f} (diff)" if ratio else "",
    )
    row("score, pooled OOF", [f"{fws[n]['pooled_score']:.4f}" for n in names])
    row("threshold (logit)", [f"{fws[n]['threshold']:+.2f}" for n in names])
    row("all-empty baseline", [f"{fws[n]['empty_baseline']:.4f}" for n in names])
    row(
        "train images/s",
        [_fmt(fws[n]["train_img_s"]) for n in names],
        f"{ratio['train_img_s']:.2f}" if ratio else "",
    )
    row(
        "inference images/s",
        [_fmt(fws[n]["infer_img_s"]) for n in names],
        f"{ratio['infer_img_s']:.2f}" if ratio else "",
    )
    row("epochs (all folds)", [str(fws[n]["epochs"]) for n in names])
    row("wall time s (train + eval)", [_fmt(fws[n]["wall_s"]) for n in names])
    row("backend", [fws[n]["backend"] for n in names])
    row(
        "versions",
        [", ".join(f"{k} {v}" for k, v in sorted(fws[n]["versions"].items())) for n in names],
    )
    return "\n".join(lines)


def fold_table(metrics: dict[str, Any]) -> str:
    lines = [
        "| framework | seed | fold | score | threshold | score at logit 0 | train img/s | "
        "infer img/s | epochs | best epoch | wall s |",
        "|---" * 11 + "|",
    ]
    for name, summary in metrics["frameworks"].items():
        for m in summary["folds"]:
            lines.append(
                f"| {NAMES.get(name, name)} | {m.get('seed', '')} | {m['fold']} | {m['score']:.4f} | "
                f"{m['threshold']:+.2f} | "
                f"{m['score_at_0']:.4f} | {m['train_img_s']:.1f} | {m['infer_img_s']:.1f} | "
                f"{m['epochs']} | {m['best_epoch'] + 1} | {m['wall_s']:.1f} |"
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
            f"**{NAMES.get(name, name)} failed**: training diverged, so it has no score, "
            "leaderboard row or submission in this run."
        )
        lines += [f"- {f['message']}" for f in folds]
        lines.append("")
    return lines


def render_report(config: dict[str, Any], metrics: dict[str, Any], plots: list[str]) -> str:
    recipe = config["recipe"]
    model = recipe["model"]
    parts = [
        f"# saltbench compare — run {config['run_id']}",
        "",
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
        f"{recipe['data']['num_folds']}, seeds {rundir.run_seeds(config)}. Threads per framework process: {config['threads']} "
        f"({'frameworks run at once' if config['parallel'] else 'frameworks run one after the other'}); "
        f"host: {config['host']['cpus']} CPUs, {config['host']['machine']}.",
        "",
        *failure_section(metrics),
        side_by_side_table(config, metrics) if metrics["frameworks"] else "No framework finished.",
        "",
    ]
    if "ensemble" in metrics:
        ens = metrics["ensemble"]
        parts += [
            f"Ensemble (mean of both frameworks' probabilities): pooled OOF score "
            f"**{ens['score']:.4f}** at logit threshold {ens['threshold']:+.2f}.",
            "",
        ]
    parts += [
        "Scores: competition metric on out-of-fold tiles with horizontal-flip TTA, threshold searched on "
        "the same tiles. Train images/s: training epochs after the first of each stage (warm-up). "
        "Inference images/s: plain forward passes of the validation tiles, median of 3 after a warm-up.",
        f"Run wall time (last session): {metrics.get('session_wall_s', float('nan')):.1f} s.",
        "",
        "## Per unit (seed x fold)",
        "",
        fold_table(metrics),
        "",
        "## Files",
        "",
        "`config.json` (rerun settings), `metrics.json`, `<framework>/seed<s>/fold<k>/history.csv`, "
        "`<framework>/seed<s>/fold<k>/model_best.npz` (neutral weights), `oof_<framework>.npz`, "
        "`submission_<framework>.csv`"
        + (", `submission_ensemble.csv`" if "ensemble" in metrics else "")
        + ".",
        "",
    ]
    if plots:
        parts += ["## Plots", ""] + [f"![{Path(p).stem}](plots/{p})" for p in plots] + [""]
    return "\n".join(parts)


def write_report(run_dir: Path) -> Path:
    """Rebuild report.md and plots/ from config.json, metrics.json, histories and the tile sample."""
    from common.harness.plots import write_plots

    run_dir = Path(run_dir)
    config = rundir.load_config(run_dir)
    metrics_path = run_dir / rundir.METRICS
    if not metrics_path.is_file():
        raise SaltbenchError(
            f"{metrics_path}: not found; the run has not finished "
            f"(continue it with saltbench compare --resume {run_dir})"
        )
    metrics = json.loads(metrics_path.read_text())
    plots = write_plots(run_dir, config, metrics)
    return atomic_write_text(run_dir / "report.md", render_report(config, metrics, plots))


def summary_text(run_dir: Path, failures: bool = True) -> str:
    """The side-by-side table, after a FAILED line per diverged framework x fold (when asked)."""
    config = rundir.load_config(run_dir)
    metrics = json.loads((Path(run_dir) / rundir.METRICS).read_text())
    failed = [f["message"] for folds in metrics.get("failed", {}).values() for f in folds]
    failed = failed if failures else []
    table = side_by_side_table(config, metrics) if metrics["frameworks"] else ""
    return "\n".join(["FAILED: " + line for line in failed] + [table]).strip()
