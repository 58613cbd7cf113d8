"""One pytest-benchmark JSON and one side report from every process of a bench run."""

from __future__ import annotations

import json
from pathlib import Path

from common.bench.run.config import BenchConfig
from common.bench.run.processes import ProcessResult, repeat_of
from common.core.errors import SaltbenchError
from common.core.io import atomic_write_json


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
