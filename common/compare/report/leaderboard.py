"""leaderboard.csv beside the runs (results/runs/ by default): one row per framework x unit and
per framework mean, appended under a lock; the run keeps its own copy (leaderboard_rows.csv), so a
damaged board loses no row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.compare.unit.targets import summarize_time_to_targets
from common.core.io import (
    append_csv_rows,
    atomic_write_csv,
    check_csv_table,
    read_csv_table,
    renamed_columns,
)
from common.subjects.selection import get_subject

LEADERBOARD_COLUMNS = [
    "run_id",
    "date",
    "twin",  # keras or torch; an older board's `framework` column (renamed on its next append)
    "backend",
    "model",
    "recipe",
    "profile",
    "fold",
    "score",
    "score_std",
    "threshold",
    "train_img_s",
    "infer_img_s",
    "epochs",
    "wall_s",
    "versions",
    "seed",  # appended (older rows have none): the unit's seed; empty on a framework's mean row
    # issue 9 (appended, so older rows stay readable): bare-step speed, threshold honesty
    "step_img_s",
    "loop_vs_step_pct",
    "score_cross_fitted",
    # issue 23 (appended): where and in what numerics the unit trained, allocator peak memory
    "device",
    "precision",
    "tf32",
    "device_peak_mib",
    "exact_twins",  # issue 21 (appended): the twins shared one Adam rule and dropout masks
    "min_area",  # issue 22 (appended): the empty-tile rule's area in pixels (0: off)
    # issue 18 (appended): the subject (torch, keras-jax, ...; `twin` is its twin), and
    # whether it ran compiled (torch.compile, XLA or jax.jit)
    "subject",
    "jit_compile",
    # issue 19 (appended): the worker's resident-set peak over the unit (the largest unit's on a
    # mean row) and the unit's working set on top of what was resident when it started
    "peak_rss_mib",
    "working_set_mib",
]


def leaderboard_rows(config: dict[str, Any], metrics: dict[str, Any]) -> pd.DataFrame:
    recipe = config["recipe"]
    date = metrics["finished"][:10]
    rows = []
    for subject, summary in metrics["subjects"].items():
        versions = "; ".join(f"{k} {v}" for k, v in sorted(summary["versions"].items()))
        numerics = summary.get("numerics") or {}
        common = {
            "run_id": config["run_id"],
            "date": date,
            "twin": get_subject(subject).twin,
            "subject": subject,
            "jit_compile": bool(numerics.get("jit_compile", False)),
            "backend": summary["backend"],
            "model": recipe["model"]["name"],
            "recipe": recipe["recipe"],
            "profile": recipe["profile"],
            "versions": versions,
            **_numerics_cells(summary.get("numerics") or {}),
        }
        for fold in summary["folds"]:
            rows.append(
                {
                    **common,
                    "fold": fold["fold"],
                    "seed": str(fold.get("seed", "")),  # text: the mean row's is empty
                    "score": round(fold["score"], 5),
                    "score_std": "",
                    "threshold": round(fold["threshold"], 3),
                    "min_area": int(fold.get("min_area", 0)),
                    "train_img_s": round(fold["train_img_s"], 2),
                    "infer_img_s": round(fold["infer_img_s"], 2),
                    "epochs": fold["epochs"],
                    "wall_s": round(fold["wall_s"], 1),
                    "device_peak_mib": _rounded(fold.get("device_peak_mib"), 0),
                    "peak_rss_mib": _rounded(fold.get("peak_rss_mib"), 0),
                    "working_set_mib": _rounded(fold.get("working_set_mib"), 0),
                    **_honesty_cells(fold, _fold_targets(fold)),
                }
            )
        rows.append(
            {
                **common,
                "fold": "mean",
                "score": round(summary["score_mean"], 5),
                "score_std": round(summary["score_std"], 5) if len(summary["folds"]) > 1 else "",
                "threshold": round(summary["threshold"], 3),
                "min_area": int(summary.get("min_area", 0)),
                "train_img_s": round(summary["train_img_s"], 2),
                "infer_img_s": round(summary["infer_img_s"], 2),
                "epochs": summary["epochs"],
                "wall_s": round(summary["wall_s"], 1),
                "device_peak_mib": _rounded(summary.get("device_peak_mib"), 0),
                "peak_rss_mib": _rounded(summary.get("peak_rss_mib"), 0),
                "working_set_mib": _rounded(summary.get("working_set_mib"), 0),
                **_honesty_cells(summary, summary.get("time_to_target", [])),
            }
        )
    extra = sorted({k for r in rows for k in r} - set(LEADERBOARD_COLUMNS), key=_target_order)
    return pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS + extra)


def _numerics_cells(settings: dict[str, Any]) -> dict[str, Any]:
    """device / precision / tf32 as the framework read them back ('' for older runs)."""
    if not settings:
        return {"device": "", "precision": "", "tf32": "", "exact_twins": ""}
    tf32 = any(
        v is True or v == "tensorfloat32"
        for k, v in settings.items()
        if "tf32" in k or "tensor_float_32" in k or k.endswith("matmul_precision")
    )
    return {
        "device": settings.get("device", ""),
        "precision": settings.get("precision", "fp32"),
        "tf32": "on" if tf32 else "off",
        "exact_twins": str(bool(settings.get("exact_twins", False))).lower(),
    }


def _fold_targets(fold: dict[str, Any]) -> list[dict[str, Any]]:
    return summarize_time_to_targets([fold["time_to_target"]]) if "time_to_target" in fold else []


def _target_order(column: str) -> tuple[float, str]:
    """time_to_0.5_s, time_to_0.5_images, time_to_0.6_s, ... in target order."""
    return float(column.split("_")[2]), column


def _rounded(value: Any, digits: int) -> Any:
    """A number rounded for the CSV; '' for a missing or NaN value."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return round(float(value), digits)


def _honesty_cells(metrics: dict[str, Any], targets: list[dict[str, Any]]) -> dict[str, Any]:
    """Step speed, loop vs step, cross-fitted score, and one seconds/images pair per target
    (columns time_to_<target>_s / _images, appended after the fixed ones; '' = not reached)."""
    cells = {
        "step_img_s": _rounded(metrics.get("step_img_s"), 2),
        "loop_vs_step_pct": _rounded(metrics.get("loop_vs_step_pct"), 1),
        "score_cross_fitted": _rounded(metrics.get("score_cross_fitted"), 5),
    }
    for t in targets:
        cells[f"time_to_{t['target']:g}_s"] = _rounded(t["seconds"], 1)
        cells[f"time_to_{t['target']:g}_images"] = _rounded(t["images"], 0)
    return cells


ROWS_FILE = "leaderboard_rows.csv"  # in the run folder: the rows this run appends
OLD_COLUMNS = {"framework": "twin"}  # an older spelling -> today's (one word for a twin)


def leaderboard_path(run_dir: Path) -> Path:
    """The board a run appends to: leaderboard.csv beside the run folder (results/runs/ by
    default; results/examples/ for published runs)."""
    return Path(run_dir).parent / "leaderboard.csv"


def check_leaderboard(path: Path) -> None:
    """Before training: a board that cannot be parsed is one error line now, not after the run."""
    from common.core.errors import DamagedTableError, SaltbenchError

    try:
        check_csv_table(path)
    except DamagedTableError as err:
        raise SaltbenchError(
            f"{err}; mend or move it, then start again (nothing was run)"
        ) from None


def _already_there(run_id: str):
    return lambda existing: run_id in set(existing.get("run_id", []))


def append_rows(board: Path, rows: pd.DataFrame, run_id: str) -> None:
    """Append a run's rows unless the board has them, the board's and the rows' older column
    names (OLD_COLUMNS) under today's."""
    rows = renamed_columns(rows, OLD_COLUMNS)
    append_csv_rows(board, rows, unless=_already_there(run_id), renamed=OLD_COLUMNS)


def append_leaderboard(path: Path, config: dict[str, Any], metrics: dict[str, Any]) -> None:
    """One row per framework x unit (fold, seed) and one per framework mean; skipped if this run is already there."""
    append_rows(path, leaderboard_rows(config, metrics), config["run_id"])


def keep_and_append(run_dir: Path, config: dict[str, Any], metrics: dict[str, Any]) -> str | None:
    """Write the run's rows into its own folder, then append them to the board.

    Returns None, or (board damaged) the one line that says where the rows are and how to
    append them once the board is mended; the run itself is not failed by it.
    """
    from common.core.errors import DamagedTableError

    rows = leaderboard_rows(config, metrics)
    kept = atomic_write_csv(Path(run_dir) / ROWS_FILE, rows)
    try:
        append_rows(leaderboard_path(run_dir), rows, config["run_id"])
    except DamagedTableError as err:
        return (
            f"{err}; this run's {len(rows)} rows are kept in {kept}: mend that line (or move the "
            f"file away), then append them with: saltbench report --run {run_dir} --leaderboard"
        )
    return None


def reappend_run_rows(run_dir: Path, config: dict[str, Any], metrics: dict[str, Any]) -> int:
    """`saltbench report --leaderboard`: append a finished run's rows (its kept copy, or rebuilt
    from metrics.json for a run older than the copy); 0 when the board already has them."""
    run_dir = Path(run_dir)
    kept = run_dir / ROWS_FILE
    rows = read_csv_table(kept) if kept.is_file() else leaderboard_rows(config, metrics)
    board = leaderboard_path(run_dir)
    before = len(read_csv_table(board)) if board.is_file() and board.stat().st_size else 0
    append_rows(board, rows, config["run_id"])
    return len(read_csv_table(board)) - before
