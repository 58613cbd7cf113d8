"""`saltbench bench` options: clear one-line errors, per-process commands and environments."""

import json
from pathlib import Path

import pytest

from common.bench.run.config import BenchConfig, parse_percent
from common.bench.run.processes import ordered_processes, process_env, pytest_command
from common.cli import main
from common.core.errors import SaltbenchError


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--variants", "torch-eager,nope"], "unknown benchmark variant 'nope'"),
        (["--fail-regression", "10%"], "--fail-regression needs --compare"),
        (["--compare", "missing.json"], "missing.json: --compare file not found"),
        (["--threads", "0"], "--threads must be >= 1"),
        (["--processes", "0"], "--processes must be >= 1"),
    ],
)
def test_bad_options_are_one_line_errors(argv, message, tmp_path, capsys):
    assert main(["bench", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("saltbench: error:") and message in err and "\n" not in err


def test_compare_file_must_be_pytest_benchmark_json(tmp_path, capsys):
    bad = tmp_path / "prev.json"
    bad.write_text(json.dumps({"rows": []}))
    assert main(["bench", "--compare", str(bad), "--out", str(tmp_path)]) == 2
    assert "not a pytest-benchmark JSON file" in capsys.readouterr().err


def test_parse_percent():
    assert parse_percent("10%") == 10.0 and parse_percent("25") == 25.0
    for bad in ("ten", "2.5%", "0%"):
        with pytest.raises(SaltbenchError):
            parse_percent(bad)


def test_each_backend_runs_in_its_own_pytest_process_with_its_keras_backend(tmp_path):
    config = BenchConfig(variants=["keras-jax", "torch-eager", "keras-tf"], quick=True, threads=1,
                         compare=str(tmp_path / "prev.json"), fail_regression=10.0)  # fmt: skip
    processes = ordered_processes(config)
    assert [name for name, _ in processes] == ["torch", "keras-tensorflow", "keras-jax"]
    env = process_env("keras-jax", config)
    assert env["KERAS_BACKEND"] == "jax" and env["OMP_NUM_THREADS"] == "1"
    cmd = pytest_command(processes[1][1], config, Path("a.json"), Path("a.report.json"))
    assert "--saltbench-variants=keras-tf" in cmd and "--saltbench-quick" in cmd
    assert "--benchmark-json=a.json" in cmd and "--benchmark-group-by=group" in cmd
    assert f"--benchmark-compare={tmp_path / 'prev.json'}" in cmd
    assert "--benchmark-compare-fail=median:10%" in cmd
    assert "--saltbench-rounds=3" in cmd and "--saltbench-warmup=0" in cmd


def test_a_gated_process_asks_for_its_turn_then_waits(tmp_path):
    import threading

    from common.bench.timing.turns import Turns

    turns = Turns(tmp_path, "keras-jax", poll_s=0.01)
    waited = threading.Thread(target=turns.take, args=("train",))
    waited.start()
    for _ in range(500):
        if (tmp_path / "keras-jax.want.0").exists():
            break
        threading.Event().wait(0.01)
    assert (tmp_path / "keras-jax.want.0").read_text() == "train" and waited.is_alive()
    (tmp_path / "keras-jax.go.0").write_text("7")
    waited.join(timeout=5)
    assert not waited.is_alive() and turns.count == 1


def test_later_processes_read_the_first_process_roofline(tmp_path):
    from common.bench.timing.caches import RooflineCache
    from common.bench.timing.settings import BenchSettings, SideReport

    settings = BenchSettings(variants=[], threads=2, quick=True)
    first = tmp_path / "torch.report.json"
    first.write_text(json.dumps({"rooflines": {"cpu": {"matmul_gflops": 123.0, "threads": 2}}}))
    report = SideReport(settings)
    roofline = RooflineCache(settings, report, shared=first).get("cpu")
    assert roofline["matmul_gflops"] == 123.0 and roofline["measured_in"] == "torch"
    assert report.rooflines["cpu"] is roofline  # recorded in this process's side report too


def test_quick_starts_processes_in_parallel_unless_told_otherwise():
    assert BenchConfig(variants=["torch-eager"], quick=True).startup_in_parallel()
    assert not BenchConfig(variants=["torch-eager"]).startup_in_parallel()
    assert not BenchConfig(
        variants=["torch-eager"], quick=True, parallel_startup=False
    ).startup_in_parallel()


def test_processes_repeat_every_backend_and_keep_its_environment():
    config = BenchConfig(variants=["torch-eager", "keras-jax"], processes=2)
    names = [name for name, _ in ordered_processes(config)]
    assert names == ["torch.1", "keras-jax.1", "torch.2", "keras-jax.2"]  # one cycle: each once
    assert process_env("keras-jax.2", config)["KERAS_BACKEND"] == "jax"
    assert process_env("torch.2", config)["KERAS_BACKEND"] == "torch"
    assert BenchConfig(variants=["torch-eager"]).resolved_processes() == 2  # full: the unit
    assert BenchConfig(variants=["torch-eager"], quick=True).resolved_processes() == 1
    quick = [n for n, _ in ordered_processes(BenchConfig(variants=["torch-eager"], quick=True))]
    assert quick == ["torch"]


def test_quick_leaves_out_keras_on_torch_by_default_and_says_so():
    from common.commands.bench import default_variants

    quick = default_variants(quick=True).split(",")
    assert "keras-torch" not in quick and "keras-tf" in quick and "torch-eager" in quick
    assert default_variants(quick=False) == "all"
    from common.subjects.table import quick_left_out_skips

    reasons = {s["reason"] for s in quick_left_out_skips()}
    assert all("not in --quick" in r and "keras-torch" in r for r in reasons)


def test_a_benchmark_process_is_its_own_pytest_session(monkeypatch):
    """Started from inside a pytest-xdist worker (as `make test` runs), a benchmark process must not
    inherit the worker's variables: pytest-benchmark would take it for a worker and refuse to time."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    env = process_env("torch", BenchConfig(variants=["torch-eager"], quick=True))
    assert not [k for k in env if k.startswith("PYTEST_XDIST_")]
