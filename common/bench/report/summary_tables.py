"""The Markdown tables of summary.md: throughput with paired ratios, peak memory, compile
break-even, harness overhead."""

from __future__ import annotations

import math

import pandas as pd

from common.bench.report.breakeven import break_even, steps_text
from common.subjects.table import NOT_APPLICABLE, REFERENCE_VARIANT

NOT_ADJACENT = "†"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{value:.{digits}f}"


def _spread(row, op: str) -> str:
    if pd.isna(row.get(f"{op}_img_s")):
        inapplicable = f"{op}: {NOT_APPLICABLE}" in str(row.get("not_applicable", ""))
        return "n/a" if inapplicable else "skipped"
    return (
        f"{_fmt(row[f'{op}_img_s'])} [{_fmt(row[f'{op}_img_s_q1'])}–{_fmt(row[f'{op}_img_s_q3'])}]"
    )


def ratio_cell(row, op: str) -> str:
    """'0.79 [0.71, 0.88] 2 processes × 3 rounds' (runs before --processes: 'n=3' rounds);
    † where the pairs were not interleaved."""
    ratio = row.get(f"{op}_ratio_to_torch_eager")
    if _missing(ratio):
        return "–"
    if row["variant"] == REFERENCE_VARIANT:
        return "1.00"
    n = row.get(f"{op}_ratio_n")
    if _missing(n) or not n:
        return f"{ratio:.2f} (medians, no interval)"
    mark = "" if row.get(f"{op}_ratio_adjacent") is True else f" {NOT_ADJACENT}"
    rounds = row.get(f"{op}_ratio_rounds")
    if not _missing(rounds):  # the process is the unit
        if _missing(row.get(f"{op}_ratio_lo")):
            return f"{ratio:.2f} ({int(n)} process{'es' * (n > 1)}: no interval){mark}"
        interval = f"[{_fmt(row[f'{op}_ratio_lo'], 2)}, {_fmt(row[f'{op}_ratio_hi'], 2)}]"
        return f"{ratio:.2f} {interval} {int(n)} processes × {int(rounds)} rounds{mark}"
    interval = f"[{_fmt(row.get(f'{op}_ratio_lo'), 2)}, {_fmt(row.get(f'{op}_ratio_hi'), 2)}]"
    return f"{ratio:.2f} {interval} n={int(n)}{mark}"


def markdown_table(summary: pd.DataFrame) -> str:
    head = (
        "| variant | train img/s median [IQR] | infer img/s median [IQR] "
        "| train × torch-eager [95 % CI] | infer × torch-eager [95 % CI] "
        "| train % of ceiling | infer % of ceiling | first call train / infer (s) |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for _, r in summary.iterrows():
        emulated = " (**emulated** bf16: not a usable setting on this CPU)"
        marker = emulated if str(r.get("precision")) == "bf16 emulated" else ""
        lines.append(
            f"| {r['variant']}{marker} | {_spread(r, 'train')} | {_spread(r, 'infer')} "
            f"| {ratio_cell(r, 'train')} | {ratio_cell(r, 'infer')} "
            f"| {_fmt(r['train_pct_of_peak'])} | {_fmt(r['infer_pct_of_peak'])} "
            f"| {_fmt(r['train_first_call_s'])} / {_fmt(r['infer_first_call_s'])} |"
        )
    return head + "\n".join(lines) + "\n"


def gain_cell(row, op: str) -> str:
    """A tuned variant's speed over its base: '1.31 [1.22, 1.40] 3 processes' (no interval from
    one process)."""
    gain, n = row.get(f"{op}_gain"), row.get(f"{op}_gain_n")
    if _missing(gain) or _missing(n) or not n:
        return "–"
    n = int(n)
    if _missing(row.get(f"{op}_gain_lo")):
        return f"{gain:.2f} ({n} process{'es' * (n > 1)}: no interval)"
    return (f"{gain:.2f} [{_fmt(row[f'{op}_gain_lo'], 2)}, {_fmt(row[f'{op}_gain_hi'], 2)}] "
            f"{n} processes")  # fmt: skip


def gains_table(summary: pd.DataFrame) -> str:
    """Each tuned variant against the variant it tunes (one setting changed), from this run."""
    tunes = summary["tunes"] if "tunes" in summary else pd.Series(index=summary.index)
    tuned = summary[tunes.notna() & (tunes.astype(str) != "")]
    tuned = tuned[tuned["tunes"].isin(set(summary["variant"]))]
    if tuned.empty:
        return ""
    head = (
        "| tuned variant | tunes | what changes | train speed × base [95 % CI] "
        "| infer speed × base [95 % CI] |\n|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['variant']} | {r['tunes']} | {r['tuning']} | {gain_cell(r, 'train')} "
        f"| {gain_cell(r, 'infer')} |"
        for _, r in tuned.iterrows()
    ]
    return head + "\n".join(lines) + "\n"


def _mib(row, op: str) -> tuple[str, str, str, str]:
    ratio = row.get(f"{op}_working_set_ratio_to_torch_eager")
    return (
        _fmt(row.get(f"{op}_peak_rss_mib"), 0),
        _fmt(row.get(f"{op}_working_set_mib"), 1),
        "1.00" if row["variant"] == REFERENCE_VARIANT and not _missing(ratio) else _fmt(ratio, 2),
        _fmt(row.get(f"{op}_first_call_working_set_mib"), 0),
    )


def memory_table(summary: pd.DataFrame) -> str:
    """Peak resident memory and working set per variant and operation (and the CUDA allocator's)."""
    device = any(
        not _missing(summary.get(f"{op}_device_peak_mib", pd.Series(dtype=float)).max())
        for op in ("train", "infer")
    )
    head = (
        "| variant | train peak RSS (MiB) | train working set (MiB) | × torch-eager "
        "| train first call (MiB) | infer peak RSS (MiB) | infer working set (MiB) "
        "| × torch-eager | infer first call (MiB) |"
        + (" CUDA allocator peak train / infer (MiB) |" if device else "")
        + "\n|---|---|---|---|---|---|---|---|---|"
        + ("---|" if device else "")
        + "\n"
    )
    lines = []
    for _, r in summary.iterrows():
        if _missing(r.get("train_peak_rss_mib")) and _missing(r.get("infer_peak_rss_mib")):
            continue
        cells = [*_mib(r, "train"), *_mib(r, "infer")]
        if device:
            cells.append(
                f"{_fmt(r.get('train_device_peak_mib'), 0)} / {_fmt(r.get('infer_device_peak_mib'), 0)}"
            )
        lines.append(f"| {r['variant']} | " + " | ".join(cells) + " |")
    if not lines:
        return "_No memory figures in this run (it was recorded before saltbench measured them)._\n"
    return head + "\n".join(lines) + "\n"


def breakeven_table(summary: pd.DataFrame, train_batch: int) -> str:
    """Compile seconds and the training steps after which each compiled variant is ahead."""
    rows = summary[summary.get("compile_s", pd.Series(dtype=float)).notna()]
    if rows.empty:
        return ""
    steps = summary.set_index("variant")
    head = (
        "| compiled variant | compile (s) | against | against's first-call extra (s) "
        "| step (s) compiled / against | break-even (training steps) |\n"
        "|---|---|---|---|---|---|\n"
    )
    lines = []
    for _, r in rows.iterrows():
        base = steps.loc[r["break_even_baseline"]]
        step, base_step = train_batch / r["train_img_s"], train_batch / base["train_img_s"]
        timing = break_even(r["train_first_call_s"], step, base["train_first_call_s"], base_step)
        lines.append(
            f"| {r['variant']} | {_fmt(r['compile_s'])} | {r['break_even_baseline']} "
            f"| {_fmt(timing['baseline_compile_s'])} "
            f"| {step:.3f} / {base_step:.3f} | {steps_text(r['break_even_steps'])} |"
        )
    return head + "\n".join(lines) + "\n"


def overhead_table(overhead: pd.DataFrame) -> str:
    if overhead.empty:
        return "_No harness-overhead benchmark ran (it needs torch-eager or keras-tf, and no --quick)._\n"
    head = (
        "| variant | bare step img/s | real loop img/s | overhead (A/B) | harness work / step time "
        "| loop peak RSS / working set (MiB) |\n"
        "|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['variant']} | {_fmt(r['bare_step_img_s'])} | {_fmt(r['loop_img_s'])} "
        f"| {_fmt(r['overhead_pct'])} % | {_fmt(r['harness_work_pct'], 2)} % "
        f"| {_fmt(r.get('peak_rss_mib'), 0)} / {_fmt(r.get('working_set_mib'))} |"
        for _, r in overhead.iterrows()
    ]
    return head + "\n".join(lines) + "\n"
