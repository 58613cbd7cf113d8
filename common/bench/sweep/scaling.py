"""Scaling sweeps of `saltbench bench --sweep AXIS=V1,V2,...`: one bench run per point, then how
throughput and memory grow with batch, width or threads (scaling_<axis>.csv, .png, .md).

The slope is fitted on log2-log2: per-image time (or MiB) against the axis, so "x 0.62 per
doubling" reads as "doubling the batch multiplies the time per image by 0.62".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from common.core.errors import SaltbenchError

AXES = {"batch": "batch (train and inference)", "width": "width", "threads": "threads"}
DEFAULT_SWEEP_VARIANTS = "torch-eager,keras-tf"
SCALING_COLUMNS = [
    "axis", "value", "variant",
    "train_img_s", "train_img_s_q1", "train_img_s_q3", "infer_img_s", "infer_img_s_q1",
    "infer_img_s_q3", "train_ratio_to_torch_eager", "train_ratio_lo", "train_ratio_hi",
    "infer_ratio_to_torch_eager", "infer_ratio_lo", "infer_ratio_hi",
    "train_peak_rss_mib", "train_working_set_mib", "infer_peak_rss_mib", "infer_working_set_mib",
    "train_device_peak_mib", "infer_device_peak_mib", "train_pct_of_peak", "infer_pct_of_peak",
    "status", "train_first_call_working_set_mib",
]  # fmt: skip
READING = {  # what a factor per doubling means on each axis
    "batch": "× 1.00: the time per image does not change with the batch; below: larger batches "
    "use the machine better",
    "width": "the FLOPs per image grow × 4 per doubling of the width; below × 4: wider layers use "
    "the machine better",
    "threads": "× 0.50 would be perfect scaling; × 1.00: the second thread adds nothing",
}
MEASURES = {  # what a slope is fitted to: column, and whether it is turned into time per image
    "train time/image": ("train_img_s", True),
    "infer time/image": ("infer_img_s", True),
    "train working set": ("train_working_set_mib", False),
    "train first-call working set": ("train_first_call_working_set_mib", False),
    "train peak RSS": ("train_peak_rss_mib", False),
}


def parse_sweep(text: str, cpus: int) -> tuple[str, list[int]]:
    """'batch=1,2,4' -> ("batch", [1, 2, 4]); one clear error line otherwise."""
    axis, sep, values = str(text).partition("=")
    axis = axis.strip()
    if not sep or axis not in AXES:
        raise SaltbenchError(
            f"--sweep: expected AXIS=V1,V2,... with AXIS one of {', '.join(AXES)}, got {text!r}"
        )
    try:
        points = [int(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise SaltbenchError(
            f"--sweep {axis}: values must be whole numbers, got {values!r}"
        ) from None
    if len(points) < 2 or len(set(points)) != len(points) or min(points) < 1:
        raise SaltbenchError(
            f"--sweep {axis}: give at least two distinct values >= 1, got {values!r}"
        )
    if axis == "threads" and max(points) > cpus:
        raise SaltbenchError(
            f"--sweep threads: {max(points)} threads on a machine with {cpus} CPUs would "
            "oversubscribe it; the most is " + str(cpus)
        )
    return axis, sorted(points)


def point_rows(axis: str, value: int, summary: pd.DataFrame) -> pd.DataFrame:
    """One point's summary rows, reduced to the scaling columns."""
    rows = summary.assign(axis=axis, value=value)
    return rows.reindex(columns=SCALING_COLUMNS)


def slope_per_doubling(values, measures) -> float:
    """2 ** slope of log2(measure) on log2(axis): the factor per doubling of the axis."""
    x, y = np.asarray(values, float), np.asarray(measures, float)
    keep = np.isfinite(y) & (y > 0)
    if keep.sum() < 2:
        return math.nan
    slope = np.polyfit(np.log2(x[keep]), np.log2(y[keep]), 1)[0]
    return float(2.0**slope)


def slopes(table: pd.DataFrame) -> pd.DataFrame:
    """Per variant and measure, the factor per doubling of the axis."""
    out = []
    for variant, rows in table.groupby("variant", sort=False):
        entry = {"variant": variant}
        for name, (column, per_image) in MEASURES.items():
            measure = rows[column].astype(float)
            if per_image:
                measure = 1.0 / measure  # seconds per image
            entry[name] = slope_per_doubling(rows["value"], measure)
        out.append(entry)
    return pd.DataFrame(out)


def _factor(value: float) -> str:
    return "–" if math.isnan(value) else f"× {value:.2f}"


def scaling_markdown(axis: str, table: pd.DataFrame, meta: dict) -> str:
    """scaling_<axis>.md: the points, then the slopes."""
    points = sorted(table["value"].unique())
    values = ", ".join(str(v) for v in points)
    lines = [
        f"# saltbench scaling — {AXES[axis]} = {values}\n",
        f"{meta['context']}\n",
        "\n| variant | " + values.replace(", ", " | ") + " |\n",
        "|---|" + "---|" * len(points) + "\n",
    ]
    for op in ("train", "infer"):
        for variant, rows in table.groupby("variant", sort=False):
            by = rows.set_index("value")
            cells = [_cell(by, v, op) for v in points]
            lines.append(
                f"| {variant} {op} img/s · working set MiB | " + " | ".join(cells) + " |\n"
            )
    lines += [
        f"\n## Per doubling of {axis}\n",
        "| variant | " + " | ".join(MEASURES) + " |\n",
        "|---|" + "---|" * len(MEASURES) + "\n",
    ]
    for _, r in slopes(table).iterrows():
        lines.append(f"| {r['variant']} | " + " | ".join(_factor(r[m]) for m in MEASURES) + " |\n")
    lines.append(
        f"\nFitted on log2-log2 over the points: “× 0.62” for train time/image means doubling "
        f"the {axis} multiplies the training time per image by 0.62 ({READING[axis]}). Memory "
        f"from the peak memory "
        f"measurement of `saltbench bench` (README, Peak memory). One bench run per point, "
        f"rounds interleaved within it; points ran one after another, so compare variants "
        f"within a point, trends across points.\n"
    )
    return "".join(lines)


def _cell(by: pd.DataFrame, value: int, op: str) -> str:
    if value not in by.index or pd.isna(by.loc[value, f"{op}_img_s"]):
        return "–"
    ws = by.loc[value, f"{op}_working_set_mib"]
    return f"{by.loc[value, f'{op}_img_s']:.1f} · {'–' if pd.isna(ws) else f'{ws:.0f}'}"
