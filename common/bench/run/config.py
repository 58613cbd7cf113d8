"""A bench run's settings (saved as config.json, so --run repeats it exactly) and the checks of the
options that name files or percentages."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.bench.timing.options import ROUNDS, default
from common.core.errors import SaltbenchError

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
    width: int = default("width")
    model: str = default("model")
    train_batch: int = default("train_batch")
    infer_batch: int = default("infer_batch")
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
