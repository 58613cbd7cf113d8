"""summary.csv/md and the chart from pytest-benchmark JSON; the merged JSON loads in `pytest-benchmark compare`."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from common.bench.report import summary as S
from common.bench.report.charts import bar_chart_png
from common.bench.report.summary_md import render_markdown
from common.bench.report.summary_tables import markdown_table


def _stats(median: float, spread: float = 0.1) -> dict:
    lo, hi = median * (1 - spread), median * (1 + spread)
    return {
        "min": lo, "max": hi, "mean": median, "stddev": median * spread / 2, "rounds": 3,
        "median": median, "iqr": hi - lo, "q1": lo, "q3": hi, "iqr_outliers": 0,
        "stddev_outliers": 0, "outliers": "0;0", "ld15iqr": lo, "hd15iqr": hi,
        "ops": 1 / median, "total": 3 * median, "iterations": 1,
    }  # fmt: skip


def _bench(variant: str, op: str, batch: int, median: float, **extra) -> dict:
    test = {"train": "test_train_step", "infer": "test_inference", "epoch": "test_epoch_overhead"}[
        op
    ]
    info = {
        "variant": variant, "operation": op, "batch": batch, "framework": variant.split("-")[0],
        "device": "cpu", "threads": 2, "width": 16, "flops_per_image": 1e9 * (3 if op == "train" else 1),
        "flops_per_image_forward": 1e9, "peak_matmul_gflops": 100.0, "first_call_s": 1.5, **extra,
    }  # fmt: skip
    name = f"{test}[{variant}]"
    return {
        "group": f"resunet16-{op}-b{batch}", "name": name, "fullname": f"benchmarks/test_model_bench.py::{name}",
        "params": {"variant_name": variant}, "param": variant, "extra_info": info,
        "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 5, "max_time": 1.0,
                    "min_time": 5e-06, "warmup": False},
        "stats": _stats(median),
    }  # fmt: skip


def merged_run() -> dict:
    """What `saltbench bench` merges: torch eager 2x faster than keras-tf at training."""
    return {
        "machine_info": {"node": "test", "python_implementation": "CPython", "python_version": "3.11"},
        "commit_info": {"id": "0" * 40, "dirty": False},
        "datetime": "2026-01-01T00:00:00", "version": "5.3.1",
        "benchmarks": [
            _bench("torch-eager", "train", 32, 1.0),
            _bench("torch-eager", "infer", 64, 1.0),
            _bench("keras-tf", "train", 32, 2.0),
            _bench("keras-tf", "infer", 64, 0.5),
            _bench("onnx-from-torch", "infer", 64, 0.8),
            _bench("torch-eager", "epoch", 32, 2.1, batches_per_epoch=2, bare_images_per_s=32.0,
                   harness_work_pct=0.5, harness_loop="torch loop"),
        ],
    }  # fmt: skip


SKIPS = [
    {"variant": "torch-compile", "operation": o, "reason": "not in --quick"}
    for o in ("train", "infer")
] + [{"variant": "onnx-from-torch", "operation": "train", "reason": "train: not applicable: ONNX"}]


def test_summary_has_ratio_to_torch_eager_percent_of_peak_and_skips():
    summary = S.summarize(merged_run(), SKIPS).set_index("variant")
    assert list(summary.index) == ["torch-eager", "torch-compile", "keras-tf", "onnx-from-torch"]
    assert summary.loc["keras-tf", "train_img_s"] == 16.0
    assert summary.loc["keras-tf", "train_ratio_to_torch_eager"] == 0.5
    assert summary.loc["keras-tf", "infer_ratio_to_torch_eager"] == 2.0
    assert (
        summary.loc["torch-eager", "train_pct_of_peak"] == 96.0
    )  # 32 img/s * 3 GFLOP / 100 GFLOP/s
    assert (
        summary.loc["keras-tf", "train_img_s_q1"] < 16.0 < summary.loc["keras-tf", "train_img_s_q3"]
    )
    assert "not in --quick" in summary.loc["torch-compile", "status"]
    assert summary.loc["onnx-from-torch", "status"] == "ok"  # inference only is no failure...
    assert "not applicable" in summary.loc["onnx-from-torch", "not_applicable"]  # ...but said
    assert set(S.SUMMARY_COLUMNS) == set(summary.reset_index().columns)


def test_harness_overhead_compares_loop_epoch_with_bare_steps():
    overhead = S.harness_overhead(merged_run())
    row = overhead.iloc[0]
    assert (
        row["variant"] == "torch-eager" and abs(row["overhead_pct"] - 5.0) < 1e-9
    )  # 2.1 s vs 2 x 1 s
    assert row["loop_img_s"] < row["bare_step_img_s"]


def test_markdown_and_chart(tmp_path):
    merged = merged_run()
    summary, overhead = S.summarize(merged, SKIPS), S.harness_overhead(merged)
    meta = {
        "run_id": "bench-x", "mode": "--quick", "rounds": 3, "warmup": 0, "width": 16, "train_batch": 32,
        "infer_batch": 64, "threads": 2, "device": "cpu", "cpu": "AMD EPYC", "versions": "torch 2",
        "peak": "100", "peak_how": "torch.mm", "conv_peak": "90", "flops_forward": 1.0,
        "command": "saltbench bench --quick", "json": "x.json",
    }  # fmt: skip
    md = render_markdown(summary, overhead, meta)
    assert "| keras-tf | 16.0 [" in md and "| 0.50 (medians, no interval) |" in md
    assert "## Skipped" in md and "torch-compile" in md and "Harness overhead" in md
    assert "| onnx-from-torch | n/a | 80.0 [" in md and "## Not applicable (n/a)" in md
    png = bar_chart_png(summary, "test")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    summary.to_csv(tmp_path / "summary.csv", index=False)
    assert len(pd.read_csv(tmp_path / "summary.csv")) == 4


def test_pytest_benchmark_compare_groups_the_variants_side_by_side(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(merged_run()))
    exe = Path(sys.executable).parent / "pytest-benchmark"
    out = subprocess.run(
        [str(exe), "compare", str(path), "--group-by=group", "--columns=median,iqr,rounds"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "benchmark 'resunet16-train-b32': 2 tests" in out
    train_block = out.split("resunet16-train-b32")[1].split("benchmark '")[0]
    assert (
        "test_train_step[torch-eager]" in train_block and "test_train_step[keras-tf]" in train_block
    )


def test_bf16_rows_are_marked_emulated_only_where_the_cpu_lacks_bf16():
    merged = merged_run()
    merged["benchmarks"] += [
        _bench("torch-bf16", "train", 32, 10.0),
        _bench("torch-bf16", "infer", 64, 5.0),
    ]
    emulated = S.summarize(merged, SKIPS, native_bf16=False).set_index("variant")
    native = S.summarize(merged, SKIPS, native_bf16=True).set_index("variant")
    assert emulated.loc["torch-bf16", "precision"] == "bf16 emulated"
    assert native.loc["torch-bf16", "precision"] == "bf16 native"
    assert emulated.loc["torch-eager", "precision"] == "fp32"
    table = markdown_table(emulated.reset_index())
    bf16_line = next(line for line in table.splitlines() if line.startswith("| torch-bf16"))
    assert "emulated" in bf16_line
    assert "emulated" not in markdown_table(native.reset_index())


def _rounds(seconds: list[float], first_turn: int, cycle: int) -> dict:
    return {"round_seconds": seconds,
            "round_turns": [first_turn + i * cycle for i in range(len(seconds))]}  # fmt: skip


def test_ratios_over_processes_pool_the_rounds_and_pair_process_k_with_process_k():
    """Two processes per backend: rounds agree within each process, processes differ; the
    interval comes from the processes, never zero width from agreeing rounds."""
    benches = []
    for repeat, (torch_s, keras_s) in enumerate([(1.0, 2.0), (1.0, 2.4)], start=1):
        for variant, seconds, turn in (("torch-eager", torch_s, 0), ("keras-tf", keras_s, 1)):
            bench = _bench(variant, "train", 32, seconds,
                           **_rounds([seconds] * 3, 2 * (repeat - 1) + turn, 4))  # fmt: skip
            bench["extra_info"].update(process=f"p.{repeat}", repeat=repeat)
            benches.append(bench)
    merged = {**merged_run(), "benchmarks": benches}
    row = S.summarize(merged, []).set_index("variant").loc["keras-tf"]
    assert row["train_ratio_n"] == 2 and row["train_ratio_rounds"] == 3 and row["processes"] == 2
    expected = (0.5 * (1 / 2.4)) ** 0.5  # geometric mean of the two processes' ratios
    assert abs(row["train_ratio_to_torch_eager"] - expected) < 1e-12
    assert row["train_ratio_lo"] < expected < row["train_ratio_hi"]
    assert row["train_img_s"] == 32 / 2.2  # the median of all six rounds (2.0 ×3, 2.4 ×3)
    assert row["train_ratio_adjacent"]
    cell = markdown_table(S.summarize(merged, []))
    assert "2 processes × 3 rounds" in cell


def test_one_process_gives_a_ratio_and_no_interval():
    benches = [_bench("torch-eager", "train", 32, 1.0, **_rounds([1.0, 1.1, 0.9], 0, 2)),
               _bench("keras-tf", "train", 32, 2.0, **_rounds([2.0, 2.1, 1.9], 1, 2))]  # fmt: skip
    for bench in benches:
        bench["extra_info"].update(process=bench["extra_info"]["variant"], repeat=1)
    row = S.summarize({**merged_run(), "benchmarks": benches}, []).set_index("variant")
    keras = row.loc["keras-tf"]
    assert keras["train_ratio_n"] == 1 and pd.isna(keras["train_ratio_lo"])
    assert "(1 process: no interval)" in markdown_table(row.reset_index())


def tuned_run(tuned_s=(1.0, 1.2), base_s=(2.0, 2.2)) -> dict:
    """keras-torch and keras-torch-nchw in two processes each (plus the reference)."""
    benches = []
    for repeat in (1, 2):
        for turn, (variant, seconds) in enumerate(
            (("torch-eager", 1.0), ("keras-torch", base_s[repeat - 1]),
             ("keras-torch-nchw", tuned_s[repeat - 1]))
        ):  # fmt: skip
            bench = _bench(variant, "train", 32, seconds,
                           **_rounds([seconds] * 3, 3 * (repeat - 1) + turn, 6))  # fmt: skip
            bench["extra_info"].update(process=f"p.{repeat}", repeat=repeat)
            benches.append(bench)
    return {**merged_run(), "benchmarks": benches}


def test_a_tuned_variant_gets_its_gain_over_the_variant_it_tunes_from_the_same_run():
    from common.bench.report.summary_tables import gains_table

    summary = S.summarize(tuned_run(), [])
    row = summary.set_index("variant").loc["keras-torch-nchw"]
    assert row["tunes"] == "keras-torch" and row["train_gain_n"] == 2
    expected = ((2.0 / 1.0) * (2.2 / 1.2)) ** 0.5  # geometric mean of the per-process gains
    assert abs(row["train_gain"] - expected) < 1e-12
    assert row["train_gain_lo"] < expected < row["train_gain_hi"]
    assert pd.isna(summary.set_index("variant").loc["keras-torch", "train_gain"])  # untuned
    table = gains_table(summary)
    assert "| keras-torch-nchw | keras-torch | channels_first data format |" in table
    assert "2 processes" in table
    # without its base in the run, a tuned variant has no gain row
    alone = {**tuned_run(), "benchmarks": [b for b in tuned_run()["benchmarks"]
                                           if b["extra_info"]["variant"] != "keras-torch"]}  # fmt: skip
    assert gains_table(S.summarize(alone, [])) == ""
