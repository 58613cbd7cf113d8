"""summary.md of a `saltbench bench` run: the context that makes the numbers honest, then the
tables (summary_tables.py) and what was skipped."""

from __future__ import annotations

import pandas as pd

from common.bench.report.summary_tables import (
    NOT_ADJACENT,
    breakeven_table,
    gains_table,
    markdown_table,
    memory_table,
    overhead_table,
)
from common.bench.timing.roofline import describe, shrunk
from common.core.memory import METHOD_TEXT

ORDER_NOTE = {
    "interleaved": "Timed rounds were **interleaved** across the backend processes (one round of "
    "each in turn, training rounds first, then inference, then harness epochs; only one process "
    "ran at a time), so a drift of the machine lands on every variant alike. Ratios to "
    "torch-eager pair the i-th round of a variant with the i-th round of torch-eager in the same "
    "process pair (the k-th process of each backend) and average the logs of those ratios; the "
    "ratio is their geometric mean over processes, with a 95 % t interval over processes (n = "
    "processes, each of the rounds shown). Rounds of one process share its start-up, memory "
    "layout and thread placement, so they cannot say how another process would run: one process "
    "(the --quick default) gives a ratio and no interval. "
    f"{NOT_ADJACENT}: the pairs were not adjacent in time (the variant shares torch-eager's process "
    "or follows another variant in its own, so its rounds ran after torch-eager's); read those "
    "intervals as block timing.",
    "block": "Timed rounds ran in **blocks** (`--order block`: all of one process's rounds, then "
    "the next's): a drift of the machine can land on one framework; the intervals pair rounds "
    "by index only.",
}


def processes_text(meta: dict) -> str:
    """'One process per backend' or 'Each backend ran in 2 processes (--processes 2)'."""
    count = meta.get("processes", 1)
    if count == 1:
        return "One process per backend"
    return f"Each backend ran in {count} separate processes (`--processes {count}`)"


def ceiling_text(rooflines: list[dict]) -> str:
    """Which reference each ceiling is and what the candidates measured."""
    if not rooflines:
        return "Ceiling: not measured.\n"
    roof = rooflines[0]
    if "ceilings" not in roof:  # a run recorded before the ceilings
        return (f"Ceiling: fp32 matmul {roof['matmul_gflops']:.0f} GFLOP/s "
                f"(torch.mm {roof['matmul_size']}²).\n")  # fmt: skip
    fp32 = roof["ceilings"]["fp32"]
    candidates = "; ".join(
        f"{describe(roof, name)}: {value:.0f}" for name, value in fp32["candidates"].items()
    )
    parts = [
        f"Ceiling (the 100 % of “% of ceiling”): the highest rate this run measured, with the "
        f"benchmark's threads, in the first process's first turn (the others read it). fp32: "
        f"**{fp32['gflops']:.0f} GFLOP/s = {describe(roof, fp32['source'])}**, the highest of "
        f"{candidates} GFLOP/s."
    ]
    if "fma_peak" not in fp32["candidates"]:
        parts.append(" The FMA peak could not be computed (clock or vector width not readable).")
    for precision, entry in roof["ceilings"].items():
        if precision == "fp32":
            continue
        rates = ", ".join(
            f"{k} {v:.0f}"
            + (f" ({describe(roof, k, precision)})" if shrunk(roof, k, precision) else "")
            for k, v in entry["candidates"].items()
        )
        parts.append(
            f" {precision} rows are divided by the {precision} ceiling, **{entry['gflops']:.0f} "
            f"GFLOP/s = {describe(roof, entry['source'], precision)}** (measured: {rates})."
        )
    parts.append(
        " A row above 100 % means the model beat every reference: the ceiling is then not a true "
        "peak (the summary never clips it).\n"
    )
    return "".join(parts)


def memory_text(summary: pd.DataFrame) -> str:
    methods = sorted({m for m in summary.get("memory_method", pd.Series(dtype=str)).dropna() if m})
    device = sorted(
        {m for m in summary.get("device_memory_method", pd.Series(dtype=str)).dropna() if m}
    )
    how = "; ".join(METHOD_TEXT.get(m, m) for m in methods) or "not measured"
    text = (
        "Peak RSS: the process's resident-set high-water mark during the variant's rounds of that "
        "operation alone; working set: that peak minus the resident size just before them (what "
        f"the operation adds on top of everything already resident). Method: {how}. A variant "
        "sharing its process with a heavier one does not inherit its peak. “× torch-eager”: "
        "working set over torch-eager's (– where torch-eager's is under 1 MiB). First call: the "
        "working set of the variant's untimed first call, where one-time allocations happen "
        "(optimizer state, traced graphs, and TensorFlow's memory pool, which it then reuses: a "
        "small working set over the rounds with a large first call means memory taken once and "
        "kept)."
    )
    if device:
        text += " CUDA figures are allocator-level: " + "; ".join(device) + "."
    return text + "\n"


def render_markdown(summary: pd.DataFrame, overhead: pd.DataFrame, meta: dict) -> str:
    skipped = summary[summary["status"] != "ok"]
    parts = [
        f"# saltbench throughput — {meta['run_id']}\n",
        f"Mode: **{meta['mode']}** ({meta['rounds']} timed rounds after {meta['warmup']} warm-up rounds; "
        f"median with interquartile range). Model: {meta.get('model_label', 'ResUNet-' + str(meta['width']))}"
        f"{meta.get('width_note', '')}; training step batch {meta['train_batch']} (forward, BCE loss, backward, "
        f"Adam update), inference batch {meta['infer_batch']}. {processes_text(meta)}; "
        f"{meta['threads']} intra-op thread(s) pinned in every process.\n",
        f"Machine: {meta['device']}; {meta['cpu']}. Versions: {meta['versions']}.\n",
        f"Numerics (set the same way in every process, as `compare` sets them): "
        f"{meta.get('numerics', 'n/a')}.\n",
        ceiling_text(meta.get("rooflines", [])),
        f"FLOPs: {meta['flops_forward']:.3f} GFLOP/image forward from `{meta.get('spec_class', 'ResUNetSpec')}.flops_per_image()` "
        f"(multiply-add = 2, convolutions only); a training step counts 3x forward "
        f"({3 * meta['flops_forward']:.3f} GFLOP/image).\n",
        "## Throughput\n",
        markdown_table(summary),
        "\n" + ORDER_NOTE.get(meta.get("order", "interleaved"), "") + "\n",
        "\n“first call” is the untimed first step: graph tracing (Keras/TF), XLA or jax.jit "
        "compilation, torch.compile, ONNX export — reported separately, never in the timed rounds."
        + meta.get("startup_note", "")
        + "\n",
    ]
    gains = gains_table(summary)
    if gains:
        parts += [
            "\n## What each framework gains from its tuning\n",
            gains,
            "\nEach tuned variant changes one setting of the variant it tunes (same twin, same "
            "backend, same process); the gain is its speed over that variant's from the same "
            "paired rounds as the ratios above (>1: the tuning is faster on this machine).\n",
        ]
    parts += [
        "\n## Peak memory\n",
        memory_table(summary),
        "\n" + memory_text(summary),
    ]
    breakeven = breakeven_table(summary, meta["train_batch"])
    if breakeven:
        parts += [
            "\n## Compile break-even\n",
            breakeven,
            "\ncompile = first call − steady step. n training steps cost compile + n × step; the "
            "compiled variant is ahead once that is below the uncompiled twin's (its own tracing "
            "counted the same way); “never” where its step is not faster."
            + (
                " First calls under `--startup parallel` are upper bounds (see above)."
                if meta.get("startup_note")
                else ""
            )
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
