"""--device and train.precision through compare, predict and bench; Keras on JAX and on torch
through the whole harness (train, kill, resume, predict), as the GPU machine will run it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.compare.conftest import (
    REPO_ROOT,
    SMOKE_ARGS,
    gone_within,
    predict_submission,
    saltbench,
    start_compare,
)
from tests.cpu_isa import TF_BF16_SKIP_REASON, tensorflow_bf16_blocked_by_cap

pytestmark = [pytest.mark.slow]


def cuda_visible() -> bool:
    import torch

    return torch.cuda.is_available()


NO_CUDA = "cuda: torch sees no CUDA device"


@pytest.mark.torch
def test_compare_on_a_missing_cuda_device_is_one_line_and_writes_nothing(smoke_cache, tmp_path):
    if cuda_visible():
        pytest.skip("this machine has a CUDA device")
    out = tmp_path / "results"
    result = saltbench(
        "compare", *SMOKE_ARGS, "--frameworks", "torch", "--device", "cuda", "--out", str(out),
        cache=smoke_cache, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "saltbench: error: --device cuda: torch sees no CUDA device (check the driver, "
        "CUDA_VISIBLE_DEVICES and that a CUDA build is installed), or use --device cpu"
    )
    assert not out.exists()


@pytest.mark.torch
def test_predict_and_bench_on_a_missing_cuda_device_are_one_line(smoke_run, smoke_cache, tmp_path):
    if cuda_visible():
        pytest.skip("this machine has a CUDA device")
    data_dir = json.loads((smoke_run / "config.json").read_text())["data_dir"]
    predict = saltbench(
        "predict", "--run", str(smoke_run), "--data", data_dir, "--frameworks", "torch",
        "--device", "cuda", "--out", str(tmp_path / "sub.csv"), cache=smoke_cache, check=False,
    )  # fmt: skip
    bench = saltbench(
        "bench", "--variants", "torch-eager", "--device", "cuda", "--out", str(tmp_path / "b"),
        cache=smoke_cache, check=False,
    )  # fmt: skip
    for result in (predict, bench):
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and NO_CUDA in lines[0]
    assert not (tmp_path / "sub.csv").exists() and not (tmp_path / "b").exists()


@pytest.mark.keras
@pytest.mark.torch
@pytest.mark.skipif(tensorflow_bf16_blocked_by_cap(), reason=TF_BF16_SKIP_REASON)
def test_bf16_applies_to_every_subject_and_the_report_says_so(smoke_cache, tmp_path):
    out = tmp_path / "results"
    run = saltbench(
        "compare", *SMOKE_ARGS, "--precision", "bf16", "--device", "cpu",
        "--set", "stages.lovasz.epochs=0", "--out", str(out), cache=smoke_cache,
    )  # fmt: skip
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for framework in ("keras", "torch"):
        numerics = metrics["subjects"][framework]["numerics"]
        assert numerics["precision"] == "bf16" and numerics["device"] == "cpu", framework
    row = [ln for ln in run.stdout.splitlines() if ln.startswith("| device, numerics")]
    assert row and row[0].count("cpu, bf16, TF32 off") == 2
    board = pd.read_csv(out / "leaderboard.csv", dtype=str, keep_default_na=False)
    assert set(board["precision"]) == {"bf16"} and set(board["device"]) == {"cpu"}
    assert set(board["tf32"]) == {"off"}


def wait_for(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.keras
def test_keras_on_torch_trains_resumes_and_predicts(smoke_cache, tmp_path):
    """Keras on the torch backend (`--keras-backend torch`, the `keras` alias) runs the whole
    harness: a run killed after its first epoch resumes, finishes and predicts."""
    out = tmp_path / "results"
    args = [*SMOKE_ARGS, "--frameworks", "keras", "--keras-backend", "torch", "--device", "cpu",
            "--set", "stages.bce.epochs=4", "--set", "stages.bce.early_stopping_patience=100",
            "--out", str(out)]  # fmt: skip
    compare = start_compare(args, smoke_cache)
    try:
        wait_for(lambda: out.is_dir() and any(p.is_dir() for p in out.iterdir()), "the run")
        (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
        state = run_dir / "keras" / "seed0" / "fold0" / "state.json"
        wait_for(state.is_file, "the first committed epoch")
        os.kill(compare.pid, signal.SIGKILL)
        compare.wait()
    finally:
        compare.kill()
    assert not (run_dir / "FINISHED").exists(), "the run ended before it was killed"
    holder = run_dir / "keras" / "seed0" / "fold0" / ".lock.holder"
    if holder.is_file():
        assert gone_within(json.loads(holder.read_text())["pid"], 10.0)
    saltbench("compare", "--resume", str(run_dir), cache=smoke_cache)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["subjects"]["keras"]["backend"] == "torch"
    assert metrics["subjects"]["keras"]["epochs"] == 5
    written = predict_submission(run_dir, smoke_cache, tmp_path / "sub.csv")
    assert len(written) == 8


@pytest.mark.keras
def test_keras_on_jax_predicts_and_exports(nway_run, smoke_cache, tmp_path):
    """The GPU machine has no TensorFlow: the N-way run's Keras-on-JAX subject (trained, killed
    and resumed in tests/compare/test_nway.py) predicts on its own, and its models export
    (.keras and reference on JAX, ONNX through a TensorFlow worker) and pass their checks."""
    pytest.importorskip("jax", reason="pip install 'saltbench[jax]'")
    run_dir, _ = nway_run
    data_dir = json.loads((run_dir / "config.json").read_text())["data_dir"]
    out = tmp_path / "sub.csv"
    saltbench("predict", "--run", str(run_dir), "--data", data_dir, "--frameworks", "keras-jax",
              "--out", str(out), cache=smoke_cache)  # fmt: skip
    assert len(pd.read_csv(out)) == 8
    assert "keras-jax" in (run_dir / "logs" / "predict_keras-jax.log").read_text()
    pytest.importorskip("onnxruntime", reason="pip install 'saltbench[onnx]'")
    export = tmp_path / "export"
    saltbench("export", "--run", str(run_dir), "--subject", "keras-jax", "--out", str(export),
              cache=smoke_cache)  # fmt: skip
    manifest = json.loads((export / "export.json").read_text())
    found = [(e["subject"], e["format"], e["ok"]) for e in manifest["files"]]
    assert found == [("keras-jax", "native", True), ("keras-jax", "onnx", True)]
    assert "(jax)" in manifest["files"][0]["loader"]
    assert (export / "keras-jax" / "seed0" / "fold0").is_dir()


def test_a_report_without_matplotlib_is_written_without_plots(smoke_run, tmp_path):
    """The GPU machine carries no matplotlib: report.md is still written, and says how to draw
    the plots later."""
    import shutil

    run_dir = Path(shutil.copytree(smoke_run, tmp_path / smoke_run.name))
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from common.compare.report.build import write_report\n"
        f"write_report({str(run_dir)!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "saltbench: warning: plots not drawn" in done.stderr
    assert f"saltbench report --run {run_dir}" in done.stderr
    report = (run_dir / "report.md").read_text()
    assert "## Plots" not in report and "| device, numerics |" in report
