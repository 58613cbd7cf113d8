"""The packaged model benchmarks (common/bench/timing/suite.py, as `saltbench bench` runs them) work under
--benchmark-disable (tiny width, batch 2) and report the right fields; benchmarks/ collects the same suite."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.bench.breakdown.classes import UNATTRIBUTED
from common.bench.run.launch import breakdown_env
from common.bench.run.processes import PLUGIN, SUITE_FILE, own_session_env

REPO = Path(__file__).resolve().parents[2]
FIELDS = {
    "variant", "framework", "backend", "operation", "batch", "images_per_s", "gflops_per_s", "pct_of_peak",
    "peak_matmul_gflops", "threads", "device", "versions", "first_call_s", "flops_per_image", "flops_convention",
    "ceiling_gflops", "ceiling_source", "peak_rss_mib", "working_set_mib", "memory_method",
    "round_seconds", "round_turns", "first_call_working_set_mib",
}  # fmt: skip

pytestmark = [pytest.mark.slow, pytest.mark.torch, pytest.mark.keras]


def run_suite(tmp_path: Path, backend: str, variants: str) -> dict:
    report = tmp_path / f"{backend}.json"
    cmd = [
        sys.executable, "-m", "pytest", str(SUITE_FILE), "-p", PLUGIN, "-q", "-p", "no:cacheprovider",
        "--benchmark-disable", f"--saltbench-variants={variants}", "--saltbench-width=2",
        "--saltbench-train-batch=2", "--saltbench-infer-batch=2", "--saltbench-rounds=1",
        "--saltbench-warmup=0", "--saltbench-epoch-batches=1", "--saltbench-threads=1",
        f"--saltbench-report={report}", "--saltbench-breakdown=2",
    ]  # fmt: skip
    env = {**own_session_env(os.environ), "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.update(breakdown_env(tmp_path / "xla", env))
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(report.read_text())


def test_torch_variants_and_tensorflow_keras_report_every_field(tmp_path):
    report = run_suite(
        tmp_path,
        "tensorflow",
        "torch-eager,torch-channels-last,torch-bf16,torch-fp16,keras-tf,keras-jax",
    )
    steps = {(r["name"], r["extra_info"]["operation"]): r for r in report["records"]}
    for variant in ("torch-eager", "torch-channels-last", "torch-bf16", "keras-tf"):
        for op in ("train", "infer"):
            info = steps[(variant, op)]["extra_info"]
            assert set(info) >= FIELDS and info["batch"] == 2 and info["threads"] == 1
            assert steps[(variant, op)]["group"] == f"resunet2-{op}-b2"
            assert info["timed"] is False  # --benchmark-disable: no statistics were taken
    epochs = {
        r["name"]: r["extra_info"]
        for r in report["records"]
        if r["extra_info"]["operation"] == "epoch"
    }
    assert set(epochs) == {"torch-eager", "keras-tf"}
    assert {"overhead_pct", "harness_work_pct", "bare_images_per_s", "harness_loop"} <= set(
        epochs["keras-tf"]
    )
    reasons = {(s["variant"], s["operation"]): s["reason"] for s in report["skips"]}
    # keras-jax needs its own process; without the optional JAX extra it says how to get it
    expected = "KERAS_BACKEND=jax" if importlib.util.find_spec("jax") else "jax is not installed"
    assert expected in reasons[("keras-jax", "train")]
    if report["builds"]["torch-eager"]["device"] == "cpu":
        assert "GPU-only" in reasons[("torch-fp16", "train")]
    assert (
        report["rooflines"]["cpu"]["threads"] == 1
        and report["rooflines"]["cpu"]["matmul_gflops"] > 0
    )
    breakdowns = assert_breakdowns(report, ["torch-eager", "torch-bf16", "keras-tf"])
    assert breakdowns[("torch-eager", "train")]["profiler"] == "torch.profiler"
    assert breakdowns[("keras-tf", "train")]["profiler"] == "tensorflow+xprof"


def assert_breakdowns(report: dict, variants: list[str]) -> dict:
    """Every variant's train and infer breakdown: its classes plus unattributed are the profiled
    step, and the model's own work (convolutions, batch norm) is found; (variant, phase) -> it."""
    found = {(b["variant"], b["phase"]): b for b in report["breakdowns"]}
    for variant in variants:
        for phase in ("train", "infer"):
            b = found[(variant, phase)]
            assert "reason" not in b, b.get("reason")
            total = sum(b["class_ms"].values())
            if b["class_ms"][UNATTRIBUTED] > 0:  # else ops overlapped, and the note says so
                assert total == pytest.approx(b["profiled_ms"])
            else:
                assert "overlapped" in b["note"]
            assert b["class_ms"].get("conv_fwd", 0) > 0, (variant, phase, b["class_ms"])
            if phase == "train":
                assert (
                    b["class_ms"].get("conv_bwd", 0) > 0 and b["class_ms"].get("batchnorm", 0) > 0
                )
    return found


@pytest.mark.parametrize(("backend", "variant"), [("torch", "keras-torch"), ("jax", "keras-jax")])
def test_keras_on_other_backends_in_their_own_process(tmp_path, backend, variant):
    if backend == "jax":
        pytest.importorskip("jax")
    report = run_suite(tmp_path, backend, variant)
    ops = {r["extra_info"]["operation"]: r["extra_info"] for r in report["records"]}
    assert set(ops) == {"train", "infer"} and ops["train"]["backend"] == backend
    assert set(ops["infer"]) >= FIELDS
    assert_breakdowns(report, [variant])


def test_benchmarks_folder_collects_the_packaged_suite(tmp_path):
    """`pytest benchmarks/test_model_bench.py` is the thin, user-visible layer over common.bench.suite."""

    def collect(*target: str) -> list[str]:
        cmd = [sys.executable, "-m", "pytest", *target, "--collect-only", "-q", "-p", "no:cacheprovider",
               "--saltbench-variants=torch-eager,keras-tf"]  # fmt: skip
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return sorted(line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line)

    packaged = collect(str(SUITE_FILE), "-p", PLUGIN)
    assert packaged == collect("benchmarks/test_model_bench.py")
    assert (
        "test_epoch_overhead[keras-tf]" in packaged and "test_train_step[torch-eager]" in packaged
    )


def test_quick_bench_starts_up_side_by_side_and_interleaves_its_rounds(tmp_path):
    """Two backend processes under `--startup parallel`: both warm up, then their rounds alternate,
    one at a time, and the second reads the roofline the first measured in its first turn."""
    from common.cli import main

    argv = ["bench", "--quick", "--subjects", "torch-eager,keras-torch", "--width", "2",
            "--train-batch", "2", "--infer-batch", "2", "--rounds", "1", "--threads", "1",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    (run,) = (tmp_path / "runs").iterdir()
    (attempt,) = json.loads((run / "turns.json").read_text())["attempts"]
    turns = attempt["turns"]
    order = [(t["process"], t["operation"]) for t in turns]
    # torch's roofline turn beside keras-torch's first round, then one round each in turn
    assert order[:3] == [("torch", "train"), ("keras-torch", "train"), ("torch", "train")]
    assert order.index(("torch", "infer")) > order.index(("keras-torch", "train"))
    report = json.loads((run / "keras-torch.report.json").read_text())
    assert report["rooflines"]["cpu"]["measured_in"] == "torch"
    infos = [
        b["extra_info"] for b in json.loads((run / "benchmarks.json").read_text())["benchmarks"]
    ]
    assert all(len(i["round_turns"]) == 1 and i["peak_rss_mib"] > 0 for i in infos)
    summary = (tmp_path / "summary.md").read_text()
    assert "| keras-torch |" in summary and "upper bounds" in summary
