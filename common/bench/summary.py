"""summary.csv, summary.md and the bar chart of a `saltbench bench` run, from pytest-benchmark JSON."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

from common.bench.variants import NOT_APPLICABLE, REFERENCE_VARIANT, VARIANT_NAMES, get_variant
from common.cpu import cpu_info

OPS = ("train", "infer")
SUMMARY_COLUMNS = [
    "variant", "description", "device", "threads", "width",
    "train_img_s", "train_img_s_q1", "train_img_s_q3", "train_img_s_min", "train_img_s_max",
    "infer_img_s", "infer_img_s_q1", "infer_img_s_q3", "infer_img_s_min", "infer_img_s_max",
    "train_ratio_to_torch_eager", "infer_ratio_to_torch_eager",
    "train_gflop_s", "infer_gflop_s", "train_pct_of_peak", "infer_pct_of_peak",
    "train_first_call_s", "infer_first_call_s", "train_rounds", "infer_rounds", "status",
    "not_applicable", "precision",
]  # fmt: skip


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


def _ratio(value: float, reference: float | None) -> float:
    return value / reference if reference else math.nan


def precision_label(precision: str, device: str | None, native_bf16: bool) -> str:
    """fp32, or a mixed precision with "emulated" where a CPU has no bf16 instructions."""
    if precision == "bf16" and str(device or "cpu").startswith("cpu"):
        return "bf16 native" if native_bf16 else "bf16 emulated"
    return precision


def summarize(merged: dict, skips: list[dict], native_bf16: bool | None = None) -> pd.DataFrame:
    """Per variant: train and inference images/s (median, IQR, min-max), ratio to torch eager, % of peak.

    native_bf16: whether the CPU that ran the rows computes bf16 in hardware (default: this one).
    """
    if native_bf16 is None:
        native_bf16 = cpu_info().native_bf16
    rows = benchmark_rows(merged)
    steps = rows[rows["operation"].isin(OPS)]
    reference = {
        op: steps[(steps.variant == REFERENCE_VARIANT) & (steps.operation == op)]["img_s"].max()
        for op in OPS
    }
    seen = set(steps["variant"]) | {s["variant"] for s in skips}
    out = []
    for name in [n for n in VARIANT_NAMES if n in seen]:
        variant = get_variant(name)
        row = {"variant": name, "description": variant.description}
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
            r = hit.iloc[0]
            row.update(device=r["device"], threads=r["threads"], width=r["width"])
            for stat in ("", "_q1", "_q3", "_min", "_max"):
                row[f"{op}_img_s{stat}"] = r[f"img_s{stat}"]
            row[f"{op}_ratio_to_torch_eager"] = _ratio(r["img_s"], reference[op])
            row[f"{op}_gflop_s"] = r["img_s"] * r["flops_per_image"] / 1e9
            row[f"{op}_pct_of_peak"] = 100 * row[f"{op}_gflop_s"] / r["peak_matmul_gflops"]
            row[f"{op}_first_call_s"] = r["first_call_s"]
            row[f"{op}_rounds"] = r["rounds"]
        row["status"] = "; ".join(notes) if notes else "ok"
        row["not_applicable"] = "; ".join(not_applicable)
        row["precision"] = precision_label(variant.precision, row.get("device"), native_bf16)
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
            }
        )
    return pd.DataFrame(out)


def _fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _spread(row, op: str) -> str:
    if pd.isna(row.get(f"{op}_img_s")):
        inapplicable = f"{op}: {NOT_APPLICABLE}" in str(row.get("not_applicable", ""))
        return "n/a" if inapplicable else "skipped"
    return (
        f"{_fmt(row[f'{op}_img_s'])} [{_fmt(row[f'{op}_img_s_q1'])}–{_fmt(row[f'{op}_img_s_q3'])}]"
    )


def markdown_table(summary: pd.DataFrame) -> str:
    head = (
        "| variant | train img/s median [IQR] | infer img/s median [IQR] | train × torch-eager "
        "| infer × torch-eager | train % of peak | infer % of peak | first call train / infer (s) |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for _, r in summary.iterrows():
        emulated = " (**emulated** bf16: not a usable setting on this CPU)"
        marker = emulated if str(r.get("precision")) == "bf16 emulated" else ""
        lines.append(
            f"| {r['variant']}{marker} | {_spread(r, 'train')} | {_spread(r, 'infer')} "
            f"| {_fmt(r['train_ratio_to_torch_eager'], 2)} | {_fmt(r['infer_ratio_to_torch_eager'], 2)} "
            f"| {_fmt(r['train_pct_of_peak'])} | {_fmt(r['infer_pct_of_peak'])} "
            f"| {_fmt(r['train_first_call_s'])} / {_fmt(r['infer_first_call_s'])} |"
        )
    return head + "\n".join(lines) + "\n"


def overhead_table(overhead: pd.DataFrame) -> str:
    if overhead.empty:
        return "_No harness-overhead benchmark ran (it needs torch-eager or keras-tf)._\n"
    head = (
        "| variant | bare step img/s | real loop img/s | overhead (A/B) | harness work / step time |\n"
        "|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['variant']} | {_fmt(r['bare_step_img_s'])} | {_fmt(r['loop_img_s'])} "
        f"| {_fmt(r['overhead_pct'])} % | {_fmt(r['harness_work_pct'], 2)} % |"
        for _, r in overhead.iterrows()
    ]
    return head + "\n".join(lines) + "\n"


def render_markdown(summary: pd.DataFrame, overhead: pd.DataFrame, meta: dict) -> str:
    """summary.md: the context that makes the numbers honest, then the tables and what was skipped."""
    skipped = summary[summary["status"] != "ok"]
    parts = [
        f"# saltbench throughput — {meta['run_id']}\n",
        f"Mode: **{meta['mode']}** ({meta['rounds']} timed rounds after {meta['warmup']} warm-up rounds; "
        f"median with interquartile range). Model: {meta.get('model_label', 'ResUNet-' + str(meta['width']))}"
        f"{meta.get('width_note', '')}; training step batch {meta['train_batch']} (forward, BCE loss, backward, "
        f"Adam update), inference batch {meta['infer_batch']}. One process per backend; "
        f"{meta['threads']} intra-op thread(s) pinned in every process.\n",
        f"Machine: {meta['device']}; {meta['cpu']}. Versions: {meta['versions']}.\n",
        f"Numerics (set the same way in every process, as `compare` sets them): "
        f"{meta.get('numerics', 'n/a')}.\n",
        f"Roofline, measured once per run by the first benchmark process with the same threads "
        f"(the others read it): fp32 matmul "
        f"{meta['peak']} GFLOP/s ({meta['peak_how']}); conv-shaped reference (3x3 conv, 25x25x64→64, "
        f"batch 32) {meta['conv_peak']} GFLOP/s. % of peak = achieved GFLOP/s ÷ that process's fp32 "
        f"matmul GFLOP/s (bf16/fp16 rows are also divided by the fp32 peak).\n",
        f"FLOPs: {meta['flops_forward']:.3f} GFLOP/image forward from `{meta.get('spec_class', 'ResUNetSpec')}.flops_per_image()` "
        f"(multiply-add = 2, convolutions only); a training step counts 3x forward "
        f"({3 * meta['flops_forward']:.3f} GFLOP/image).\n",
        "## Throughput\n",
        markdown_table(summary),
        "\n“first call” is the untimed first step: graph tracing (Keras/TF), XLA or jax.jit "
        "compilation, torch.compile, ONNX export — reported separately, never in the timed rounds."
        + meta.get("startup_note", "")
        + "\n",
    ]
    inapplicable = summary[summary["not_applicable"].fillna("") != ""]
    if not inapplicable.empty:
        parts.append("\n## Not applicable (n/a)\n")
        parts += [
            f"- **{r['variant']}**: {r['not_applicable']}\n" for _, r in inapplicable.iterrows()
        ]
    if not skipped.empty:
        parts.append("\n## Skipped\n")
        parts += [f"- **{r['variant']}**: {r['status']}\n" for _, r in skipped.iterrows()]
    parts += [
        "\n## Harness overhead (real training loop vs bare step)\n",
        overhead_table(overhead),
        "".join(f"\n- {s['variant']} skipped: {s['reason']}" for s in meta.get("epoch_skips", [])),
        "\n" + (overhead["loop"].iloc[0] if not overhead.empty else "") + ". "
        "“overhead (A/B)” compares the loop's epoch time (as a run times it: epochs after the first of "
        "a call) with the same number of bare steps timed moments earlier (noisy on a shared machine); “harness work” times the loop's non-step work "
        "alone (stream, flips, metric) as a share of the step time. Target: under 5 %.\n",
        "\n## Reproduce\n",
        f"`{meta['command']}` — raw pytest-benchmark JSON: `{meta['json']}`; side by side: "
        f"`pytest-benchmark compare {meta['json']} --group-by group --columns median,iqr,min,max,rounds`.\n",
        "\nThe machine drifts (up to ~2x over minutes here); compare variants only within one run.\n",
    ]
    return "".join(parts)


def bar_chart_png(summary: pd.DataFrame, title: str) -> bytes:
    """Grouped horizontal bars (train, inference images/s) with IQR whiskers, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
