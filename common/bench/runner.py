"""`saltbench bench` orchestration: one pytest-benchmark process per backend, then one merged JSON."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.core.device import device_env
from common.core.errors import SaltbenchError
from common.core.io import atomic_write_json
from common.core.runtime import THREAD_VARS
from common.subjects.table import Variant, group_by_process, parse_variants

SUITE_FILE = Path(__file__).resolve().with_name("suite.py")  # ships inside the package (wheel too)
PLUGIN = "common.bench.plugin"
# Per mode: timed rounds, warm-up rounds, batches per harness epoch. Every benchmark first makes one
# untimed call (tracing/compilation, reported as first_call_s); --quick counts it as its only warm-up.
ROUNDS = {"quick": (3, 0, 2), "full": (10, 2, 4)}
PROCESS_ORDER = ("torch", "keras-tensorflow", "keras-torch", "keras-jax")
BREAKDOWN_STEPS = (
    3  # profiled steps per variant and phase with --breakdown (after the timed rounds)
)
PROCESSES = 2  # full mode: each backend's process twice, so ratio intervals sample the process


@dataclass
class BenchConfig:
    """Everything a run needs; saved as config.json so --resume repeats it exactly."""

    variants: list[str]
    quick: bool = False
    threads: int | None = None
    width: int = 16
    model: str = "resunet"
    train_batch: int = 32
    infer_batch: int = 64
    rounds: int | None = None
    warmup: int | None = None
    epoch_batches: int | None = None
    compare: str | None = None
    fail_regression: float | None = None  # percent slower (median) that fails the run
    parallel_startup: bool | None = None  # None: with --quick (see launch.run_processes)
    order: str = "interleaved"  # timed rounds: "interleaved" across processes | "block" (turns.py)
    processes: int | None = None  # processes per backend; None: 1 with --quick, else PROCESSES
    device: str = "auto"  # auto | cpu | cuda (common/core/device.py), every variant alike
    breakdown: bool = False  # profile each variant after its timed rounds (common/bench/breakdown)
    extra_pytest_args: list[str] = field(default_factory=list)

    def resolved_rounds(self) -> tuple[int, int, int]:
        rounds, warmup, epoch = ROUNDS["quick" if self.quick else "full"]
        pick = lambda value, default: default if value is None else value  # noqa: E731
        return pick(self.rounds, rounds), pick(self.warmup, warmup), pick(self.epoch_batches, epoch)

    def resolved_processes(self) -> int:
        """How many times each backend's process runs (the unit of the ratio intervals)."""
        return self.processes or (1 if self.quick else PROCESSES)

    def startup_in_parallel(self) -> bool:
        return self.quick if self.parallel_startup is None else self.parallel_startup

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ProcessResult:
    name: str
    variants: list[str]
    returncode: int
    seconds: float
    json_path: Path
    report_path: Path
    log_path: Path
    regressed: bool = False
    reused: bool = False


def parse_percent(text: str) -> float:
    """'10%' or '10' -> 10.0; clear error otherwise."""
    try:
        value = float(str(text).strip().rstrip("%"))
    except ValueError:
        raise SaltbenchError(
            f"--fail-regression: expected a percentage such as 10%, got {text!r}"
        ) from None
    if value != int(value) or not 1 <= value < 1000:  # pytest-benchmark takes whole percentages
        raise SaltbenchError(
            f"--fail-regression must be a whole percentage from 1% to 999%, got {text!r}"
        )
    return value


def check_previous(path: str | None) -> str | None:
    """The --compare file as an absolute path, after checking it is pytest-benchmark JSON."""
    if path is None:
        return None
    file = Path(path)
    if not file.is_file():
        raise SaltbenchError(f"{file}: --compare file not found")
    try:
        data = json.loads(file.read_text())
        benchmarks = data["benchmarks"]
    except (ValueError, KeyError, TypeError):
        raise SaltbenchError(
            f"{file}: not a pytest-benchmark JSON file (no 'benchmarks' list)"
        ) from None
    if not benchmarks:
        raise SaltbenchError(f"{file}: holds no benchmarks to compare against")
    return str(file.resolve())


def backend_of(process: str) -> str:
    """'keras-jax.2' (the second keras-jax process) -> 'keras-jax'."""
    return process.split(".", 1)[0]


def repeat_of(process: str) -> int:
    """'keras-jax.2' -> 2; a run with one process per backend names it without a number: 1."""
    tail = process.split(".", 1)[1:]
    return int(tail[0]) if tail and tail[0].isdigit() else 1


def process_env(process: str, config: BenchConfig) -> dict[str, str]:
    """The environment of one backend's process: KERAS_BACKEND fixed, TF quiet, threads pinned."""
    process = backend_of(process)
    env = dict(os.environ)
    env["KERAS_BACKEND"] = process.split("-", 1)[1] if process.startswith("keras-") else "torch"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(device_env(config.device), SALTBENCH_DEVICE=config.device)
    if config.threads:  # the same variables common.core.runtime.pin_threads sets, before any import
        env.update({var: str(config.threads) for var in THREAD_VARS})
        env["TF_NUM_INTEROP_THREADS"] = "1"
    return env


def pytest_command(
    variants: list[Variant], config: BenchConfig, json_path: Path, report_path: Path
) -> list[str]:
    rounds, warmup, epoch_batches = config.resolved_rounds()
    cmd = [
        sys.executable, "-m", "pytest", str(SUITE_FILE), "-p", PLUGIN,
        "-p", "no:cacheprovider", "-q", "-rs", "--benchmark-only",
        f"--benchmark-json={json_path}",
        "--benchmark-group-by=group", "--benchmark-sort=name",
        "--benchmark-columns=median,iqr,min,max,rounds",
        "--saltbench-variants=" + ",".join(v.name for v in variants),
        f"--saltbench-width={config.width}",
        f"--saltbench-model={config.model}",
        f"--saltbench-train-batch={config.train_batch}",
        f"--saltbench-infer-batch={config.infer_batch}",
        f"--saltbench-rounds={rounds}",
        f"--saltbench-warmup={warmup}",
        f"--saltbench-epoch-batches={epoch_batches}",
        f"--saltbench-report={report_path}",
    ]  # fmt: skip
    if config.threads:
        cmd.append(f"--saltbench-threads={config.threads}")
    if config.quick:
        cmd.append("--saltbench-quick")
    if config.compare:
        cmd.append(f"--benchmark-compare={config.compare}")
        if config.fail_regression is not None:
            cmd.append(f"--benchmark-compare-fail=median:{config.fail_regression:.0f}%")
    return cmd + list(config.extra_pytest_args)


def ordered_processes(config: BenchConfig) -> list[tuple[str, list[Variant]]]:
    """Every process of the run: each backend's, then each again (`torch.2`, …) with --processes,
    so an interleaved cycle of turns visits the first copy of every backend, then the second."""
    groups = group_by_process(parse_variants(",".join(config.variants)))
    backends = sorted(groups.items(), key=lambda kv: PROCESS_ORDER.index(kv[0]))
    copies = config.resolved_processes()
    if copies == 1:
        return backends
    return [(f"{name}.{k}", variants) for k in range(1, copies + 1) for name, variants in backends]


def merge_runs(results: list[ProcessResult]) -> dict:
    """One pytest-benchmark JSON holding every process's benchmarks (machine/commit info of the first)."""
    merged: dict | None = None
    for result in results:
        if not result.json_path.is_file():
            continue
        data = json.loads(result.json_path.read_text())
        for bench in data["benchmarks"]:
            info = bench.setdefault("extra_info", {})
            info.update(process=result.name, repeat=repeat_of(result.name))
        if merged is None:
            merged = data
        else:
            merged["benchmarks"].extend(data["benchmarks"])
    if merged is None:
        raise SaltbenchError("no benchmark produced results; see the .log files in the run folder")
    return merged


def merge_reports(results: list[ProcessResult]) -> dict:
    """Skips, rooflines, builds and settings of every process, keyed by process."""
    out: dict = {"processes": {}, "skips": []}
    for result in results:
        entry = {
            "variants": result.variants,
            "returncode": result.returncode,
            "seconds": result.seconds,
            "log": str(result.log_path),
            "regressed": result.regressed,
        }
        if result.report_path.is_file():
            report = json.loads(result.report_path.read_text())
            out["skips"].extend(report["skips"])
            out.setdefault("breakdowns", []).extend(report.get("breakdowns", []))
            entry.update(
                {k: report[k] for k in ("rooflines", "builds", "settings", "versions", "cpu")}
            )
        out["processes"][result.name] = entry
    return out


def save_merged(run_dir: Path, merged: dict, reports: dict, config: BenchConfig) -> Path:
    atomic_write_json(run_dir / "reports.json", reports)
    path = run_dir / "benchmarks.json"
    atomic_write_json(path, merged)
    atomic_write_json(run_dir / "config.json", config.to_dict())
    return path
