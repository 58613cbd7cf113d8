"""`saltbench bench --sweep AXIS=V1,V2,...`: one bench run per point (its own processes, rounds
interleaved within it), resumable point by point, then scaling_<axis>.csv/.png/.md."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

from common.bench.run.config import BenchConfig
from common.bench.run.merge import merge_reports, merge_runs, save_merged
from common.bench.run.processes import ordered_processes
from common.core.errors import SaltbenchError
from common.core.io import (
    atomic_write_bytes,
    atomic_write_csv,
    atomic_write_json,
    atomic_write_text,
)

SWEEP_FILE = "sweep.json"
NO_EPOCH = ["-k", "not test_epoch_overhead"]  # a sweep times the step and inference only
SWEEP_ROUNDS = {
    "rounds": 5,
    "warmup": 1,
}  # per point unless --rounds/--warmup/--quick say otherwise


def point_config(config: BenchConfig, axis: str, value: int) -> BenchConfig:
    changes = {"batch": {"train_batch": value, "infer_batch": value}, "width": {"width": value},
               "threads": {"threads": value}}[axis]  # fmt: skip
    extra = list(config.extra_pytest_args) + NO_EPOCH
    if config.processes is None:  # a curve's points: one process each (ratios without intervals)
        changes["processes"] = 1
    if not config.quick:
        changes.update({k: v for k, v in SWEEP_ROUNDS.items() if getattr(config, k) is None})
    return dataclasses.replace(config, extra_pytest_args=extra, **changes)


def new_sweep_dir(out: Path, axis: str, points: list[int], config: BenchConfig) -> Path:
    run_dir = out / "runs" / dt.datetime.now().strftime(f"sweep-{axis}-%Y%m%d-%H%M%S")
    if run_dir.exists():
        raise SaltbenchError(f"{run_dir}: already exists; not overwriting a finished run")
    run_dir.mkdir(parents=True)
    record = {"axis": axis, "points": points, "config": config.to_dict()}
    atomic_write_json(run_dir / SWEEP_FILE, record)
    return run_dir


def load_sweep(run_dir: Path) -> tuple[str, list[int], BenchConfig]:
    record = json.loads((run_dir / SWEEP_FILE).read_text())
    return record["axis"], record["points"], BenchConfig(**record["config"])


def _run_point(config: BenchConfig, point_dir: Path, echo) -> tuple[dict, dict, list]:
    """A point's merged benchmarks and reports: from an earlier attempt, else run now."""
    from common.bench.run.launch import run_processes

    done = point_dir / "benchmarks.json"
    if done.is_file() and (point_dir / "reports.json").is_file():
        return (
            json.loads(done.read_text()),
            json.loads((point_dir / "reports.json").read_text()),
            [],
        )
    point_dir.mkdir(parents=True, exist_ok=True)
    results = run_processes(ordered_processes(config), config, point_dir, echo, lambda r: None)
    failed = [r for r in results if r.returncode not in (0, 5)]
    merged, reports = merge_runs(results), merge_reports(results)
    if not failed:
        save_merged(point_dir, merged, reports, config)
    return merged, reports, failed


def run_sweep(config: BenchConfig, axis: str, points: list[int], run_dir: Path, verbose: bool):
    """Every point in order; returns (scaling table, failed process results)."""
    from tqdm import tqdm

    from common.bench.report.summary import summarize
    from common.bench.sweep.scaling import point_rows

    echo = (lambda line: tqdm.write(line, file=sys.stderr)) if verbose else (lambda line: None)
    tables, failures = [], []
    bar = tqdm(points, desc=f"saltbench bench --sweep {axis}", unit="point", file=sys.stderr)
    for value in bar:
        bar.set_postfix_str(f"{axis}={value}")
        merged, reports, failed = _run_point(
            point_config(config, axis, value), run_dir / f"{axis}-{value}", echo
        )
        failures += [(value, r) for r in failed]
        tables.append(point_rows(axis, value, summarize(merged, reports["skips"])))
    bar.close()
    return pd.concat(tables, ignore_index=True), failures


def write_scaling(
    axis: str, table: pd.DataFrame, run_dir: Path, out: Path, meta: dict
) -> list[Path]:
    from common.bench.report.charts import scaling_png
    from common.bench.sweep.scaling import scaling_markdown

    md = scaling_markdown(axis, table, meta)
    png = scaling_png(axis, table, meta["title"])
    written = []
    for folder in (run_dir, out):
        written = [
            atomic_write_csv(folder / f"scaling_{axis}.csv", table),
            atomic_write_bytes(folder / f"scaling_{axis}.png", png),
            atomic_write_text(folder / f"scaling_{axis}.md", md),
        ]
    print(md)
    return written
