"""What one bench process measures, defined once: the `--saltbench-*` pytest options (plugin.py),
the fields of BenchSettings (settings.py) and the flags `saltbench bench` passes each process
(run/processes.py) all come from PROCESS_OPTIONS, with one default each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.subjects.table import INFER_BATCH, TRAIN_BATCH

DEFAULT_WIDTHS = {"resunet": 16, "resnet34_unet": 64}  # the seeds' sizes
DEFAULT_MODEL = "resunet"
# Per mode: timed rounds, warm-up rounds, batches per harness epoch. Every benchmark first makes one
# untimed call (tracing/compilation, reported as first_call_s); --quick counts it as its only warm-up.
ROUNDS = {"quick": (3, 0, 2), "full": (10, 2, 4)}


@dataclass(frozen=True)
class ProcessOption:
    """One setting of a bench process: its pytest option, its default and its lower bound."""

    name: str  # the BenchSettings field; the option is --saltbench-<name with dashes>
    type: Callable | None  # None: an on/off flag
    default: Any
    help: str
    minimum: int | None = None  # a smaller value is raised to it

    @property
    def flag(self) -> str:
        return "--saltbench-" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        return "saltbench_" + self.name

    def add_to(self, group) -> None:
        """Declare the option on a pytest option group."""
        if self.type is None:
            group.addoption(self.flag, action="store_true", help=self.help)
        else:
            group.addoption(self.flag, type=self.type, default=self.default, help=self.help)

    def read(self, config) -> Any:
        """The option's value in a pytest config, raised to its minimum."""
        value = config.getoption(self.dest)
        return value if self.minimum is None or value is None else max(self.minimum, value)

    def argv(self, value: Any) -> list[str]:
        """The command-line words that set `value` (none where it is unset, or a flag is off)."""
        if value is None or (self.type is None and not value):
            return []
        return [self.flag] if self.type is None else [f"{self.flag}={value}"]


_FULL_ROUNDS, _FULL_WARMUP, _FULL_EPOCH = ROUNDS["full"]
PROCESS_OPTIONS = (
    ProcessOption("variants", str, None, "comma-separated variants (default: all)"),
    ProcessOption("model", str, DEFAULT_MODEL, "resunet | resnet34_unet (width = base_width)"),
    ProcessOption("width", int, DEFAULT_WIDTHS[DEFAULT_MODEL], "ResUNet start_neurons"),
    ProcessOption("train_batch", int, TRAIN_BATCH, "training batch"),
    ProcessOption("infer_batch", int, INFER_BATCH, "inference batch"),
    ProcessOption("rounds", int, _FULL_ROUNDS, "timed rounds per benchmark", minimum=1),
    ProcessOption("warmup", int, _FULL_WARMUP, "untimed warm-up rounds", minimum=0),
    ProcessOption("epoch_batches", int, _FULL_EPOCH, "batches per harness epoch", minimum=1),
    ProcessOption("threads", int, None, "intra-op threads (pinned)"),
    ProcessOption("quick", None, False, "leave out the --quick skips"),
    ProcessOption(
        "breakdown",
        int,
        0,
        "profile this many steps per variant and phase after its timed rounds (0: none)",
        minimum=0,
    ),  # fmt: skip
)
OPTIONS = {option.name: option for option in PROCESS_OPTIONS}


def default(name: str) -> Any:
    return OPTIONS[name].default


def process_argv(values: dict[str, Any]) -> list[str]:
    """The --saltbench-* words that give a process these settings (names of PROCESS_OPTIONS)."""
    unknown = set(values) - set(OPTIONS)
    if unknown:
        raise KeyError(f"not a bench process option: {', '.join(sorted(unknown))}")
    return [word for name, value in values.items() for word in OPTIONS[name].argv(value)]
