"""summary.csv of a `saltbench bench` run from its pytest-benchmark JSON: per variant, speed with
paired ratios, % of the ceiling, peak memory, compile time and break-even (summary_md.py renders)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from common.bench.report.breakeven import break_even_rows
from common.bench.report.pairing import adjacent, process_ratio
from common.core.cpu import cpu_info
from common.subjects.table import NOT_APPLICABLE, REFERENCE_VARIANT, VARIANT_NAMES, get_variant

OPS = ("train", "infer")
SUMMARY_COLUMNS = [
    "variant", "description", "device", "threads", "width",
    "train_img_s", "train_img_s_q1", "train_img_s_q3", "train_img_s_min", "train_img_s_max",
    "infer_img_s", "infer_img_s_q1", "infer_img_s_q3", "infer_img_s_min", "infer_img_s_max",
    "train_ratio_to_torch_eager", "infer_ratio_to_torch_eager",
    "train_gflop_s", "infer_gflop_s", "train_pct_of_peak", "infer_pct_of_peak",
    "train_first_call_s", "infer_first_call_s", "train_rounds", "infer_rounds", "status",
    "not_applicable", "precision",
    # appended (older summary.csv files hold the columns above, in this order)
    "train_ratio_lo", "train_ratio_hi", "train_ratio_n", "train_ratio_adjacent",
    "infer_ratio_lo", "infer_ratio_hi", "infer_ratio_n", "infer_ratio_adjacent",
    "train_ceiling_gflop_s", "train_ceiling", "infer_ceiling_gflop_s", "infer_ceiling",
    "train_peak_rss_mib", "train_working_set_mib", "train_working_set_ratio_to_torch_eager",
    "infer_peak_rss_mib", "infer_working_set_mib", "infer_working_set_ratio_to_torch_eager",
    "train_device_peak_mib", "infer_device_peak_mib", "memory_method", "device_memory_method",
    "compile_s", "break_even_steps", "break_even_baseline",
    "train_first_call_working_set_mib", "infer_first_call_working_set_mib",
    "train_ratio_rounds", "infer_ratio_rounds", "processes",
    "tunes", "tuning", "train_gain", "train_gain_lo", "train_gain_hi", "train_gain_n",
    "infer_gain", "infer_gain_lo", "infer_gain_hi", "infer_gain_n",
]  # fmt: skip
MEMORY_FIELDS = ("peak_rss_mib", "working_set_mib", "device_peak_mib", "first_call_working_set_mib")


def benchmark_rows(merged: dict) -> pd.DataFrame:
    """One row per benchmark: variant, operation, time stats and the extra_info the suite wrote."""
    rows = []
    for bench in merged["benchmarks"]:
        info, stats = bench.get("extra_info", {}), bench["stats"]
        batch = info["batch"]
        rows.append(
            {
                "variant": info["variant"],
                "operation": info["operation"],
                "group": bench["group"],
                "batch": batch,
                "median_s": stats["median"],
                "img_s": batch / stats["median"],
                "img_s_q1": batch / stats["q3"],
                "img_s_q3": batch / stats["q1"],
                "img_s_min": batch / stats["max"],
                "img_s_max": batch / stats["min"],
                "rounds": stats["rounds"],
                **{k: v for k, v in info.items() if k not in ("variant", "operation", "batch")},
            }
        )
    return pd.DataFrame(rows)


def _value(row, key: str, default=math.nan):
    value = row.get(key, default)
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _ceiling(r) -> tuple[float, str]:
    """The ceiling the suite divided this row by; files from before ceilings: the fp32 matmul."""
    ceiling = _value(r, "ceiling_gflops")
    if not math.isnan(ceiling):
        return ceiling, _value(r, "ceiling_source", "?")
    return r["peak_matmul_gflops"], "matmul (fp32)"


def pooled(hit: pd.DataFrame) -> dict:
    """One variant's operation timed in one or more processes, as one row: the rounds of all
    processes pooled for the spread, kept per process (by repeat) for the ratios."""
    rows = sorted(hit.to_dict("records"), key=lambda r: _value(r, "repeat", 1))
    row = dict(rows[0])
    row["by_process"] = {
        _value(r, "repeat", 1): (_value(r, "round_seconds", None), _value(r, "round_turns", None))
        for r in rows
    }
    row["processes"] = len(rows)
    seconds = [_value(r, "round_seconds", None) for r in rows]
    if len(rows) == 1 or not all(seconds):
        return row
    flat = np.concatenate([np.asarray(s, float) for s in seconds])
    q1, median, q3 = np.percentile(flat, [25, 50, 75])
    batch = row["batch"]
    row.update(median_s=median, img_s=batch / median, img_s_q1=batch / q3, img_s_q3=batch / q1,
               img_s_min=batch / flat.max(), img_s_max=batch / flat.min(), rounds=len(flat),
               first_call_s=float(np.median([r["first_call_s"] for r in rows])))  # fmt: skip
    for field in MEMORY_FIELDS:  # the highest any process reached
        row[field] = max((_value(r, field) for r in rows), default=math.nan)
    return row


def _process_pairs(r: dict, ref: dict) -> list:
    """(reference's, this row's) (round seconds, turns) of each process both recorded rounds in."""
    return [(ref["by_process"][k], mine) for k, mine in r["by_process"].items()
            if k in ref["by_process"] and mine[0] and ref["by_process"][k][0]]  # fmt: skip


def speed_ratio(r: dict, ref: dict, pairs: list) -> dict:
    """Speed of `r` over `ref` from their paired rounds: process_ratio, the same images per round
    on both sides (the time ratio is then the speed ratio)."""
    scale = r["batch"] / ref["batch"]
    theirs = [[t * scale for t in their[0]] for their, _ in pairs]
    return process_ratio(theirs, [mine[0] for _, mine in pairs])


def _ratio_columns(op: str, r: dict, ref: dict | None, cycle: int) -> dict:
    """Speed over torch-eager from the paired rounds of each process pair, with a t interval over
    processes (none from one process); where rounds were not recorded, the ratio of medians."""
    if ref is None:
        return {f"{op}_ratio_to_torch_eager": math.nan, f"{op}_ratio_n": 0}
    pairs = _process_pairs(r, ref)
    if not pairs:
        return {f"{op}_ratio_to_torch_eager": r["img_s"] / ref["img_s"], f"{op}_ratio_n": 0}
    ratio = speed_ratio(r, ref, pairs)
    near = all(adjacent(their[1], mine[1], len(mine[0]), cycle) for their, mine in pairs)
    return {
        f"{op}_ratio_to_torch_eager": ratio["ratio"],
        f"{op}_ratio_lo": ratio["lo"],
        f"{op}_ratio_hi": ratio["hi"],
        f"{op}_ratio_n": ratio["n"],
        f"{op}_ratio_rounds": ratio["rounds"],
        f"{op}_ratio_adjacent": near and r["variant"] != REFERENCE_VARIANT,
    }


def _gain_columns(op: str, r: dict, base: dict | None) -> dict:
    """A tuned variant's speed over the variant it tunes (Variant.tunes), paired like the ratios."""
    if base is None or not (pairs := _process_pairs(r, base)):
        return {}
    gain = speed_ratio(r, base, pairs)
    return {f"{op}_gain": gain["ratio"], f"{op}_gain_lo": gain["lo"],
            f"{op}_gain_hi": gain["hi"], f"{op}_gain_n": gain["n"]}  # fmt: skip


def _memory_columns(op: str, r: dict, ref: dict | None) -> dict:
    out = {f"{op}_{field}": _value(r, field) for field in MEMORY_FIELDS}
    ref_ws = _value(ref, "working_set_mib") if ref is not None else math.nan
    ws = out[f"{op}_working_set_mib"]
    out[f"{op}_working_set_ratio_to_torch_eager"] = ws / ref_ws if ref_ws >= 1.0 else math.nan
    out["memory_method"] = _value(r, "memory_method", "")
    out["device_memory_method"] = _value(r, "device_memory_method", "")
    return out


def precision_label(precision: str, device: str | None, native_bf16: bool) -> str:
    """fp32, or a mixed precision with "emulated" where a CPU has no bf16 instructions."""
    if precision == "bf16" and str(device or "cpu").startswith("cpu"):
        return "bf16 native" if native_bf16 else "bf16 emulated"
    return precision


def _pooled_or_none(steps: pd.DataFrame, variant: str, op: str) -> dict | None:
    hit = steps[(steps.variant == variant) & (steps.operation == op)]
    return None if hit.empty else pooled(hit)


def summarize(merged: dict, skips: list[dict], native_bf16: bool | None = None) -> pd.DataFrame:
    """Per variant: train and inference images/s (median, IQR, min-max), ratio to torch eager, % of peak.

    native_bf16: whether the CPU that ran the rows computes bf16 in hardware (default: this one).
    """
    if native_bf16 is None:
        native_bf16 = cpu_info().native_bf16
    rows = benchmark_rows(merged)
    steps = rows[rows["operation"].isin(OPS)]
    reference = {op: _pooled_or_none(steps, REFERENCE_VARIANT, op) for op in OPS}
    cycle = rows["process"].nunique() if "process" in rows else 1
    compiled = break_even_rows(steps.to_dict("records"))
    seen = set(steps["variant"]) | {s["variant"] for s in skips}
    out = []
    for name in [n for n in VARIANT_NAMES if n in seen]:
        variant = get_variant(name)
        row = {"variant": name, "description": variant.description}
        if variant.tunes:
            row.update(tunes=variant.tunes, tuning=variant.tuning)
        notes, not_applicable = [], []
        for op in OPS:
            hit = steps[(steps.variant == name) & (steps.operation == op)]
            if hit.empty:
                reason = next(
                    (s["reason"] for s in skips if s["variant"] == name and s["operation"] == op),
                    "not run",
                )
                if NOT_APPLICABLE in reason:
                    not_applicable.append(reason)  # names the variant and the operation itself
                else:
                    notes.append(f"{op} skipped: {reason}")
                continue
            r = pooled(hit)
            row.update(device=r["device"], threads=r["threads"], width=r["width"],
                       processes=r["processes"])  # fmt: skip
            for stat in ("", "_q1", "_q3", "_min", "_max"):
                row[f"{op}_img_s{stat}"] = r[f"img_s{stat}"]
            row.update(_ratio_columns(op, r, reference[op], cycle))
            row[f"{op}_gflop_s"] = r["img_s"] * r["flops_per_image"] / 1e9
            ceiling, source = _ceiling(r)
            row[f"{op}_ceiling_gflop_s"], row[f"{op}_ceiling"] = ceiling, source
            row[f"{op}_pct_of_peak"] = 100 * row[f"{op}_gflop_s"] / ceiling
            row[f"{op}_first_call_s"] = r["first_call_s"]
            row[f"{op}_rounds"] = r["rounds"]
            row.update(_memory_columns(op, r, reference[op]))
            if variant.tunes:
                row.update(_gain_columns(op, r, _pooled_or_none(steps, variant.tunes, op)))
        row["status"] = "; ".join(notes) if notes else "ok"
        row["not_applicable"] = "; ".join(not_applicable)
        row["precision"] = precision_label(variant.precision, row.get("device"), native_bf16)
        if name in compiled:
            row.update(
                compile_s=compiled[name]["compile_s"],
                break_even_steps=compiled[name]["break_even_steps"],
                break_even_baseline=compiled[name]["baseline"],
            )
        out.append(row)
    return pd.DataFrame(out).reindex(columns=SUMMARY_COLUMNS)


def harness_overhead(merged: dict) -> pd.DataFrame:
    """Epoch-level throughput of the real training loop against the bare step, per framework."""
    rows = benchmark_rows(merged)
    epochs = rows[rows["operation"] == "epoch"]
    out = []
    for _, r in epochs.iterrows():
        # The suite times the loop's epochs the way a run times train images/s (images_per_s);
        # files written before it did so hold one epoch per timed call.
        loop = r.get("images_per_s")
        if loop is None or (isinstance(loop, float) and math.isnan(loop)):
            loop = r["batch"] * r["batches_per_epoch"] / r["median_s"]
        out.append(
            {
                "variant": r["variant"],
                "framework": r["framework"],
                "bare_step_img_s": r["bare_images_per_s"],
                "loop_img_s": loop,
                "overhead_pct": 100 * (r["bare_images_per_s"] / loop - 1),
                "harness_work_pct": r["harness_work_pct"],
                "batches_per_epoch": r["batches_per_epoch"],
                "rounds": r["rounds"],
                "loop": r["harness_loop"],
                "peak_rss_mib": _value(r, "peak_rss_mib"),
                "working_set_mib": _value(r, "working_set_mib"),
            }
        )
    table = pd.DataFrame(out)
    if table.empty or not table.duplicated(["variant"]).any():
        return table
    # --processes: one row per variant, the median over its processes (rounds: all of them)
    keys = ["variant", "framework", "loop"]
    medians = table.groupby(keys, sort=False).median(numeric_only=True).reset_index()
    medians["rounds"] = table.groupby(keys, sort=False)["rounds"].sum().to_numpy()
    return medians[table.columns]
