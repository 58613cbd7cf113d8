"""breakdown.csv/.md/.png of a bench run (common/bench/breakdown/output.py)."""

from __future__ import annotations

from common.bench.breakdown.accounting import account
from common.bench.breakdown.classes import CLASS_IDS
from common.bench.breakdown.output import breakdown_markdown, breakdown_png, breakdown_rows


def breakdowns() -> list[dict]:
    torch = account("torch-eager", "train", "torch.profiler", {"conv_bwd": 40.0, "batchnorm": 10.0},
                    1, 55.0, 50.0)  # fmt: skip
    jax = account("keras-jax", "train", "jax+xprof", {"conv_bwd": 140.0, "batchnorm": 12.0}, 1,
                  200.0, 190.0)  # fmt: skip
    return [torch.to_dict(), jax.to_dict(),
            {"variant": "onnx-from-torch", "phase": "infer", "profiler": None, "reason": "later"}]  # fmt: skip


def test_the_tables_read_the_gap_by_class_and_say_what_was_not_profiled():
    md = breakdown_markdown(breakdowns(), "CPU X")
    assert "| class | torch-eager | keras-jax |" in md
    assert (
        "**keras-jax** spends 140.0 ms more per step than torch-eager (unprofiled medians); under "
        "the profiler 100.0 ms more in convolution backward (data and weights)"
    ) in md
    assert "only 76.0 % of the profiled step is in classified ops" in md  # keras-jax: 152 of 200
    assert "**onnx-from-torch** (infer): later" in md


def test_one_csv_row_per_variant_phase_and_class_and_a_chart():
    rows = breakdown_rows(breakdowns())
    assert len(rows) == 2 * len(CLASS_IDS) + 1
    per_step = rows[rows.variant == "keras-jax"].ms_per_step.sum()
    assert per_step == 200.0
    assert breakdown_png(breakdowns(), "t")[:4] == b"\x89PNG"


def test_the_advice_says_what_a_tuning_saves_per_step_with_the_runs_interval():
    import pandas as pd

    from common.bench.breakdown.advice import advice_section

    base = account("keras-torch", "train", "torch.profiler", {"conv_bwd": 40.0, "layout": 30.0},
                   1, 80.0, 100.0)  # fmt: skip
    tuned = account("keras-torch-nchw", "train", "torch.profiler", {"conv_bwd": 40.0, "layout": 2.0},
                    1, 50.0, 70.0)  # fmt: skip
    summary = pd.DataFrame([{"variant": "keras-torch-nchw", "train_gain": 1.4, "train_gain_lo": 1.3,
                             "train_gain_hi": 1.5, "train_gain_n": 3}])  # fmt: skip
    lines = advice_section([base.to_dict(), tuned.to_dict()], summary, "CPU X")
    text = "\n".join(lines)
    assert text.startswith("## Measured advice")
    assert (
        "On this CPU (CPU X), Keras on torch: channels_first data format -30.0 ms per training step"
        in text
    )
    assert (
        "(-30 % of keras-torch's unprofiled median; speed × 1.40 [1.30, 1.50] 95 % CI, 3 processes: faster)"
        in text
    )
    assert "layout and copies (reorders, transposes, casts) -28.0 ms" in text
    # the advice closes breakdown.md; without a tuned pair it says which variants to name
    assert "## Measured advice" in breakdown_markdown([base.to_dict()], "CPU X", lines)
    assert "name both in `--subjects`" in "\n".join(advice_section(breakdowns(), None, "CPU X"))
