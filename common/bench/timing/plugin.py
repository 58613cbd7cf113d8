"""pytest plugin of the model-throughput suite (common/bench/timing/suite.py): `saltbench`-prefixed options
and session fixtures. `saltbench bench` loads it with `-p common.bench.timing.plugin`; benchmarks/conftest.py
re-exports it for `pytest benchmarks/`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.bench.timing.options import PROCESS_OPTIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("saltbench-model", "saltbench model throughput")
    for option in PROCESS_OPTIONS:  # what the process measures (timing/options.py)
        option.add_to(group)
    group.addoption("--saltbench-report", type=Path, default=None, help="write a side report JSON")
    group.addoption(
        "--saltbench-gate",
        type=Path,
        default=None,
        help="start-up first: build and warm up every variant, then wait in this folder for "
        "<process>.go before timing (saltbench bench --quick starts all processes at once)",
    )
    group.addoption("--saltbench-process", default="bench", help="this process's name at the gate")
    group.addoption(
        "--saltbench-roofline-from",
        type=Path,
        default=None,
        help="reuse the roofline another process of the run wrote (measured once per run)",
    )
    group.addoption(
        "--saltbench-roofline-to",
        type=Path,
        default=None,
        help="with --saltbench-gate: measure the roofline in this process's first turn, write it here",
    )
    group.addoption(
        "--saltbench-contended-startup",
        action="store_true",
        help="start-up runs beside other processes' start-up: torch warms up on one thread",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Pin threads before any framework is imported (collection imports the benchmark module)."""
    if config.getoption("saltbench_threads", None):
        from common.core.runtime import pin_threads

        threads = pin_threads(config.getoption("saltbench_threads"))
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(
                0, cpus[:threads]
            )  # JAX/XLA has no thread knob: bound it by affinity


@pytest.fixture(scope="session")
def saltbench_settings(request: pytest.FixtureRequest):
    """The parsed model-benchmark options."""
    from common.bench.timing.settings import BenchSettings

    return BenchSettings.from_pytest(request.config)


@pytest.fixture(scope="session")
def saltbench_report(request: pytest.FixtureRequest, saltbench_settings):
    """Collects extra_info of every benchmark and every skip; written to --saltbench-report."""
    from common.bench.timing.settings import SideReport

    report = SideReport(saltbench_settings)
    yield report
    path = request.config.getoption("saltbench_report")
    if path is not None:
        from common.core.io import atomic_write_json

        atomic_write_json(path, report.to_dict())


@pytest.fixture(scope="session")
def saltbench_models(saltbench_settings, saltbench_report):
    """Model runners built once per variant and shared by the train and inference benchmarks."""
    from common.bench.timing.caches import RunnerCache

    cache = RunnerCache(saltbench_settings, saltbench_report)
    yield cache
    cache.close()


@pytest.fixture(scope="session")
def saltbench_rooflines(request: pytest.FixtureRequest, saltbench_settings, saltbench_report):
    """Roofline references (fp32 matmul, conv) per device: an earlier process's, else measured here."""
    from common.bench.timing.caches import RooflineCache

    shared = request.config.getoption("saltbench_roofline_from")
    return RooflineCache(saltbench_settings, saltbench_report, shared)


@pytest.fixture(scope="session")
def saltbench_turns(request: pytest.FixtureRequest):
    """With --saltbench-gate, every round waits for its turn (common/bench/timing/turns.py)."""
    from common.bench.timing.turns import NoTurns, Turns

    gate = request.config.getoption("saltbench_gate", None)
    if gate is None:
        return NoTurns()
    return Turns(gate, request.config.getoption("saltbench_process"))


@pytest.fixture(scope="session", autouse=True)
def saltbench_gate(request: pytest.FixtureRequest, saltbench_turns):
    """With --saltbench-gate: all untimed start-up work first; the roofline in the first turn."""
    if request.config.getoption("saltbench_gate", None) is None:
        return
    from common.bench.timing.caches import warm_up

    models = request.getfixturevalue("saltbench_models")
    contended = request.config.getoption("saltbench_contended_startup")
    warm_up(models, request.getfixturevalue("saltbench_settings"), contended)
    target = request.config.getoption("saltbench_roofline_to")
    if target is not None:
        saltbench_turns.take("train")  # the earliest phase: before anyone's first timed round
        process = request.config.getoption("saltbench_process")
        request.getfixturevalue("saltbench_rooflines").publish(target, process)
