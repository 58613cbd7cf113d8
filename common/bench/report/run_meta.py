"""The context of a bench run's summary: what ran, how, on what, from which command."""

from __future__ import annotations

from pathlib import Path

from common.bench.timing.options import DEFAULT_WIDTHS
from common.bench.timing.settings import bench_spec
from common.subjects.table import VARIANT_NAMES, quick_variant_names

STARTUP_NOTE = (
    " Start-up ran in every process at once (`--startup parallel`, the --quick default): first-call"
    " times include the other processes' start-up work (and torch-backed ones ran on one thread),"
    " so they are upper bounds; no timed round ever overlaps any other process's work"
    " (`--startup sequential` for uncontended first calls)."
)


def model_label(config) -> str:
    """'ResUNet-16' or 'ResNet34 U-Net (base_width 64)' for titles and the summary."""
    if getattr(config, "model", "resunet") == "resunet":
        return f"ResUNet-{config.width}"
    return f"ResNet34 U-Net (base_width {config.width})"


def run_meta(
    config, run_id: str, reports: dict, merged: dict, json_path: Path, seconds: float
) -> dict:
    procs = [p for p in reports["processes"].values() if "rooflines" in p]
    first = procs[0] if procs else {}
    roof = [r for p in procs for r in p["rooflines"].values()]
    devices = sorted({b["device"] for p in procs for b in p["builds"].values()}) or ["?"]
    infos = [b["extra_info"] for b in merged["benchmarks"]]
    rounds, warmup, _ = config.resolved_rounds()
    threads = infos[0]["threads"] if infos else config.threads
    default_width = DEFAULT_WIDTHS.get(config.model, 16)
    width_note = (
        ""
        if config.width == default_width
        else f" (reduced from the default {default_width} — numbers are not comparable to width "
        f"{default_width})"
    )
    command = "saltbench bench" + (" --quick" if config.quick else "")
    if config.model != "resunet":
        command += f" --model {config.model}"
    if config.processes is not None:
        command += f" --processes {config.processes}"
    if getattr(config, "breakdown", False):
        command += " --breakdown"
    default = quick_variant_names() if config.quick else list(VARIANT_NAMES)
    if config.variants != default:
        command += " --subjects " + ",".join(config.variants)
    return {
        "run_id": run_id,
        "startup_note": STARTUP_NOTE if config.startup_in_parallel() else "",
        "mode": f"--quick ({seconds:.0f} s wall)"
        if config.quick
        else f"full ({seconds:.0f} s wall)",
        "rounds": rounds,
        "warmup": warmup,
        "processes": config.resolved_processes(),
        "width": config.width,
        "width_note": width_note,
        "model_label": model_label(config),
        "spec_class": type(bench_spec(config.model, config.width)).__name__,
        "train_batch": config.train_batch,
        "infer_batch": config.infer_batch,
        "threads": threads,
        "device": ", ".join(devices),
        "numerics": _numerics_line(procs),
        "cpu": first.get("cpu", "?"),
        "versions": ", ".join(f"{k} {v}" for k, v in first.get("versions", {}).items()),
        "rooflines": roof,
        "order": getattr(config, "order", "interleaved"),
        "flops_forward": (infos[0]["flops_per_image_forward"] / 1e9) if infos else float("nan"),
        "command": command,
        "json": str(json_path),
    }


def _numerics_line(procs: list[dict]) -> str:
    """Each process's TF32 / cuDNN settings, as its framework read them back after setting them."""
    from common.core.device import numerics_flags

    seen: dict[str, list[str]] = {}
    for proc in procs:
        for name, build in proc.get("builds", {}).items():
            if build.get("numerics"):
                names = seen.setdefault(numerics_flags(build["numerics"]), [])
                names += [name] if name not in names else []  # --processes: once per variant
    return "; ".join(f"{', '.join(names)}: {cell}" for cell, names in seen.items()) or "n/a"
