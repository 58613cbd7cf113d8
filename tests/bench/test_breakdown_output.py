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
