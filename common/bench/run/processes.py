"""The processes of a bench run: one pytest-benchmark process per backend (and its copies with
--processes), their environment and command line."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from common.bench.run.config import BenchConfig
from common.bench.timing.options import process_argv
from common.core.device import device_env
from common.core.runtime import THREAD_VARS
from common.subjects.table import Variant, group_by_process, parse_variants

SUITE_FILE = Path(__file__).resolve().parents[1] / "timing" / "suite.py"  # ships in the package
PLUGIN = "common.bench.timing.plugin"
PROCESS_ORDER = ("torch", "keras-tensorflow", "keras-torch", "keras-jax")


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


def backend_of(process: str) -> str:
    """'keras-jax.2' (the second keras-jax process) -> 'keras-jax'."""
    return process.split(".", 1)[0]


def repeat_of(process: str) -> int:
    """'keras-jax.2' -> 2; a run with one process per backend names it without a number: 1."""
    tail = process.split(".", 1)[1:]
    return int(tail[0]) if tail and tail[0].isdigit() else 1


def own_session_env(environ) -> dict[str, str]:
    """The environment without pytest-xdist's worker variables: each benchmark process is a
    pytest session of its own (pytest-benchmark disables timing in what it takes for a worker)."""
    return {k: v for k, v in environ.items() if not k.startswith("PYTEST_XDIST_")}


def process_env(process: str, config: BenchConfig) -> dict[str, str]:
    """The environment of one backend's process: KERAS_BACKEND fixed, TF quiet, threads pinned."""
    process = backend_of(process)
    env = own_session_env(os.environ)
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
        f"--saltbench-report={report_path}",
        *process_argv({
            "variants": ",".join(v.name for v in variants), "width": config.width,
            "model": config.model, "train_batch": config.train_batch,
            "infer_batch": config.infer_batch, "rounds": rounds, "warmup": warmup,
            "epoch_batches": epoch_batches, "threads": config.threads or None,
            "quick": config.quick,
        }),
    ]  # fmt: skip
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
