"""Settings and the side report of one model-benchmark process (framework-free)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from importlib import metadata

from common.bench.timing.options import PROCESS_OPTIONS, default
from common.core.cpu import cpu_info
from common.subjects.table import Variant, batch_size, parse_variants

VERSIONED = ("numpy", "torch", "tensorflow", "keras", "jax", "jaxlib", "pytest-benchmark")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that matter for speed (without importing them)."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo where it exists) and whether it computes bf16 natively."""
    info = cpu_info()
    return f"{info.model}, {info.bf16_note()}"


def threads_in_force() -> int:
    """Intra-op threads: the pinned count if set, else the CPUs this process may use."""
    pinned = os.environ.get("OMP_NUM_THREADS")
    if pinned and pinned.isdigit():
        return int(pinned)
    return usable_cpus()


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass
class BenchSettings:
    """What one benchmark process measures and how many rounds it spends."""

    variants: list[Variant]
    width: int = default("width")
    train_batch: int = default("train_batch")
    infer_batch: int = default("infer_batch")
    rounds: int = default("rounds")
    warmup: int = default("warmup")
    epoch_batches: int = default("epoch_batches")
    threads: int = 1
    quick: bool = default("quick")
    model: str = default("model")
    breakdown: int = default("breakdown")  # profiled steps per variant and phase (0: none)

    @classmethod
    def from_pytest(cls, config) -> BenchSettings:
        values = {option.name: option.read(config) for option in PROCESS_OPTIONS}
        values["variants"] = parse_variants(values["variants"])
        values["threads"] = values["threads"] or threads_in_force()
        return cls(**values)

    def spec(self):
        """The benchmarked model's spec: `width` is start_neurons (resunet) or base_width."""
        return bench_spec(self.model, self.width)

    def batch(self, operation: str) -> int:
        return {
            "train": self.train_batch,
            "infer": self.infer_batch,
            "epoch": self.train_batch,
        }.get(operation, batch_size(operation))

    def to_dict(self) -> dict:
        values = {option.name: getattr(self, option.name) for option in PROCESS_OPTIONS}
        return {**values, "variants": [v.name for v in self.variants]}


@dataclass
class SideReport:
    """What pytest-benchmark's JSON cannot hold: skips with reasons, per-process facts."""

    settings: BenchSettings
    records: list[dict] = field(default_factory=list)
    skips: list[dict] = field(default_factory=list)
    rooflines: dict[str, dict] = field(default_factory=dict)
    builds: dict[str, dict] = field(default_factory=dict)
    breakdowns: list[dict] = field(default_factory=list)

    def skip(self, variant: str, operation: str, reason: str) -> str:
        self.skips.append({"variant": variant, "operation": operation, "reason": reason})
        return reason

    def record(self, name: str, group: str, extra_info: dict) -> None:
        self.records.append({"name": name, "group": group, "extra_info": dict(extra_info)})

    def to_dict(self) -> dict:
        return {
            "settings": self.settings.to_dict(),
            "records": self.records,
            "skips": self.skips,
            "rooflines": self.rooflines,
            "builds": self.builds,
            "breakdowns": self.breakdowns,
            "versions": library_versions(),
            "cpu": cpu_name(),
            "keras_backend": os.environ.get("KERAS_BACKEND"),
        }


def bench_spec(model: str, width: int):
    """A registered model's spec at `width` (its width field: start_neurons or base_width)."""
    import dataclasses

    from common.core.errors import SaltbenchError
    from common.models.spec import MODEL_SPECS

    if model not in MODEL_SPECS:
        raise SaltbenchError(f"unknown model {model!r}; known: {', '.join(sorted(MODEL_SPECS))}")
    cls = MODEL_SPECS[model]
    fields = {f.name for f in dataclasses.fields(cls)}
    field = "start_neurons" if "start_neurons" in fields else "base_width"
    return cls(**{field: width})
