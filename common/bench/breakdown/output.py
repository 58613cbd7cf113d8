"""breakdown.csv, breakdown.md and breakdown.png of a bench run: per variant and phase, ms per step
by operation class, the unattributed rest, and the profiled step beside the unprofiled median."""

from __future__ import annotations

import io

import pandas as pd

from common.bench.breakdown.accounting import COVERAGE_TARGET
from common.bench.breakdown.classes import CLASS_IDS, UNATTRIBUTED, label

PHASE_WORDS = {"train": "training step", "infer": "inference batch"}


def breakdown_rows(breakdowns: list[dict]) -> pd.DataFrame:
    """One row per variant, phase and class (or one row with the reason where none was made)."""
    rows = []
    for b in breakdowns:
        head = {"variant": b["variant"], "phase": b["phase"], "profiler": b.get("profiler")}
        if "class_ms" not in b:
            rows.append({**head, "class": None, "reason": b["reason"]})
            continue
        for class_id in CLASS_IDS:
            ms = b["class_ms"].get(class_id, 0.0)
            rows.append({
                **head, "class": class_id, "class_label": label(class_id), "ms_per_step": ms,
                "pct_of_step": 100.0 * ms / b["profiled_ms"], "profiled_ms": b["profiled_ms"],
                "unprofiled_ms": b["unprofiled_ms"], "coverage_pct": 100.0 * b["coverage"],
                "steps": b["steps"], "reason": b.get("note") or None,
            })  # fmt: skip
    return pd.DataFrame(rows)


def breakdown_markdown(breakdowns: list[dict], context: str, advice: list[str] = ()) -> str:
    """The tables (subjects as columns) with a reading line per pair against the first subject;
    `advice` (common.bench.breakdown.advice) closes the findings."""
    lines = ["# Where the time goes", "", context, ""]
    for phase in ("train", "infer"):
        done = [b for b in breakdowns if b["phase"] == phase and "class_ms" in b]
        if done:
            lines += _phase_section(phase, done)
    missing = [b for b in breakdowns if "class_ms" not in b]
    if missing:
        lines += ["## Not profiled", ""]
        lines += [f"- **{b['variant']}** ({b['phase']}): {b['reason']}" for b in missing] + [""]
    lines += [*advice, _how_to_read()]
    return "\n".join(lines) + "\n"


def _phase_section(phase: str, done: list[dict]) -> list[str]:
    names = [b["variant"] for b in done]
    lines = [f"## {PHASE_WORDS[phase].capitalize()}: ms per step (% of the profiled step)", ""]
    lines += [f"| class | {' | '.join(names)} |", "|---|" + "---:|" * len(names)]
    for class_id in CLASS_IDS:
        cells = [_cell(b, class_id) for b in done]
        if class_id == UNATTRIBUTED or any(b["class_ms"].get(class_id, 0) > 0 for b in done):
            lines.append(f"| {label(class_id)} | {' | '.join(cells)} |")
    profiled = [f"**{b['profiled_ms']:.1f}**" for b in done]
    lines.append(f"| **profiled step** | {' | '.join(profiled)} |")
    unprofiled = [f"{b['unprofiled_ms']:.1f}" if b.get("unprofiled_ms") else "–" for b in done]
    lines.append(f"| unprofiled median (timed rounds) | {' | '.join(unprofiled)} |")
    covered = [f"{100 * b['coverage']:.0f} %" for b in done]
    lines.append(f"| classified | {' | '.join(covered)} |")
    lines.append("")
    lines += [f"- {_reading(done[0], b)}" for b in done[1:]]
    lines += [f"- **{b['variant']}**: {b['note']}" for b in done if b.get("note")]
    low = [b for b in done if b["coverage"] < COVERAGE_TARGET]
    lines += [
        f"- **{b['variant']}**: only {100 * b['coverage']:.1f} % of the profiled step is in "
        f"classified ops; the rest is {between_ops(b['profiler'])}, which no op event covers"
        for b in low
    ]
    return lines + [""]


def between_ops(profiler: str) -> str:
    """What the time no op event covers is, under each profiler."""
    if "jax" in profiler or "XLA" in profiler:
        return (
            "the XLA runtime's time between instructions (thunk scheduling, waiting) and the "
            "Python around the step"
        )
    if profiler.startswith("tensorflow"):
        return "the TF executor's time between ops and the Python around the step"
    return "time between ops (Python, dispatch), outside every torch op"


def _cell(b: dict, class_id: str) -> str:
    ms = b["class_ms"].get(class_id, 0.0)
    return f"{ms:.1f} ({100 * ms / b['profiled_ms']:.0f} %)" if ms > 0 else "–"


def _reading(reference: dict, other: dict) -> str:
    """'keras-jax spends N ms more per step than torch-eager (unprofiled medians); under the
    profiler M ms more in <class>, the largest difference by class'."""
    step = lambda b: b.get("unprofiled_ms") or b["profiled_ms"]  # noqa: E731
    diff = step(other) - step(reference)
    deltas = {
        c: other["class_ms"].get(c, 0.0) - reference["class_ms"].get(c, 0.0) for c in CLASS_IDS
    }
    top = max(deltas, key=lambda c: abs(deltas[c]))
    more = lambda x: "more" if x >= 0 else "less"  # noqa: E731
    return (
        f"**{other['variant']}** spends {abs(diff):.1f} ms {more(diff)} per step than "
        f"{reference['variant']} (unprofiled medians); under the profiler "
        f"{abs(deltas[top]):.1f} ms {more(deltas[top])} in {label(top)}, the largest difference "
        "by class"
    )


def _how_to_read() -> str:
    return (
        "How to read it: each variant ran a few steps of the timed operation under its "
        "framework's own profiler, in its benchmark process, right after its timed rounds. Op "
        "times are summed per class (one table per framework, common/bench/breakdown/); "
        "`unattributed` is the profiled step's wall time that no classified op covers. The "
        "profiled step is slower than the unprofiled median by the profiler's own overhead. "
        "Ops that run at once on several threads can add up to more than the step; the note "
        "under a table says where."
    )


def breakdown_png(breakdowns: list[dict], title: str) -> bytes:
    """Stacked horizontal bars: one bar per variant, one panel per phase, ms per step by class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = [p for p in ("train", "infer") if any(b["phase"] == p and "class_ms" in b for b in breakdowns)]  # fmt: skip
    fig, axes = plt.subplots(len(phases) or 1, 1, figsize=(10, 2.2 + 0.5 * len(breakdowns)),
                             squeeze=False)  # fmt: skip
    colors = plt.get_cmap("tab20").colors
    for ax, phase in zip(axes[:, 0], phases, strict=False):
        done = [b for b in breakdowns if b["phase"] == phase and "class_ms" in b]
        for row, b in enumerate(done):
            left = 0.0
            for i, class_id in enumerate(CLASS_IDS):
                ms = b["class_ms"].get(class_id, 0.0)
                ax.barh(row, ms, left=left, color=colors[i % len(colors)],
                        label=label(class_id) if row == 0 else None)  # fmt: skip
                left += ms
        ax.set_yticks(range(len(done)), [b["variant"] for b in done])
        ax.set_xlabel(f"ms per {PHASE_WORDS[phase]}")
    axes[0, 0].set_title(title, fontsize=9)
    axes[0, 0].legend(fontsize=6, loc="lower right", ncol=2)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
