"""The breakdown's closing advice: for each tuned variant timed beside the variant it tunes, what
the tuning saves per step on this CPU, with the paired speed interval from the same run."""

from __future__ import annotations

import math

import pandas as pd

from common.bench.breakdown.classes import CLASS_IDS, label
from common.subjects.table import Variant, tuned_pairs

BACKEND_WORDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "torch"}
TWIN_WORDS = {"torch": "PyTorch", "keras": "Keras on {backend}"}  # the framework a user names
PHASE_WORDS = {"train": "training step", "infer": "inference batch"}


def who(variant: Variant) -> str:
    """'PyTorch' or 'Keras on JAX': the framework a user would name."""
    backend = BACKEND_WORDS.get(variant.backend, variant.backend)
    return TWIN_WORDS[variant.framework].format(backend=backend)


def _step_ms(b: dict) -> float:
    return b.get("unprofiled_ms") or b["profiled_ms"]


def _gain_text(summary: pd.DataFrame | None, name: str, phase: str) -> str:
    """'speed × 1.31 [1.22, 1.40], 3 processes: faster' from summary.csv's gain columns."""
    if summary is None or name not in set(summary["variant"]):
        return "no paired speed ratio in this run"
    row = summary[summary["variant"] == name].iloc[0]
    gain, lo, hi, n = (row.get(f"{phase}_gain{s}") for s in ("", "_lo", "_hi", "_n"))
    if gain is None or pd.isna(gain) or not n or pd.isna(n):
        return "no paired speed ratio in this run"
    n = int(n)
    if lo is None or pd.isna(lo):
        return f"speed × {gain:.2f}, {n} process{'es' * (n > 1)} (no interval: run --processes 3)"
    verdict = (
        "faster" if lo > 1 else "slower: keep the default" if hi < 1 else "not distinguishable"
    )
    return f"speed × {gain:.2f} [{lo:.2f}, {hi:.2f}] 95 % CI, {n} processes: {verdict}"


def advice_lines(breakdowns: list[dict], summary: pd.DataFrame | None, cpu: str) -> list[str]:
    """One line per tuned variant and phase both it and its base were profiled in."""
    lines = []
    for phase in ("train", "infer"):
        done = {b["variant"]: b for b in breakdowns if b["phase"] == phase and "class_ms" in b}
        for base, tuned in tuned_pairs(done):
            a, b = done[base.name], done[tuned.name]
            diff = _step_ms(b) - _step_ms(a)
            deltas = {c: b["class_ms"].get(c, 0.0) - a["class_ms"].get(c, 0.0) for c in CLASS_IDS}
            top = max(deltas, key=lambda c: abs(deltas[c]))
            pct = 100 * diff / _step_ms(a) if _step_ms(a) else math.nan
            lines.append(
                f"On this CPU ({cpu}), {who(tuned)}: {tuned.tuning} {diff:+.1f} ms per "
                f"{PHASE_WORDS[phase]} ({pct:+.0f} % of {base.name}'s unprofiled median; "
                f"{_gain_text(summary, tuned.name, phase)}); the largest change by class: "
                f"{label(top)} {deltas[top]:+.1f} ms"
            )
    return lines


def advice_section(breakdowns: list[dict], summary: pd.DataFrame | None, cpu: str) -> list[str]:
    """'## Measured advice' with its lines, or the variants to name to get some."""
    lines = advice_lines(breakdowns, summary, cpu)
    if not lines:
        lines = [
            "No tuned variant was profiled beside the variant it tunes; name both in "
            "`--subjects` (e.g. `keras-torch,keras-torch-nchw` or `torch-eager,torch-channels-last`)"
        ]
    return ["## Measured advice", "", *[f"- {line}" for line in lines], ""]
