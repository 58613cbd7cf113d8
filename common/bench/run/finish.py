"""The end of a `saltbench bench` run: one merged pytest-benchmark JSON, summary.csv/.md,
harness_overhead.csv and the chart, written atomically beside the run and in its output folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from common.core.errors import SaltbenchError
from common.runs.processes import how_it_ended


def finish_run(results, config, run_id: str, run_dir: Path, out: Path, seconds: float) -> int:
    """Merge the processes' files, write the summaries, print them; the run's exit code."""
    from common.bench.report import summary as S
    from common.bench.report.charts import bar_chart_png
    from common.bench.report.run_meta import model_label, run_meta
    from common.bench.report.summary_md import render_markdown
    from common.bench.run.merge import merge_reports, merge_runs, save_merged
    from common.core.io import atomic_write_bytes, atomic_write_csv, atomic_write_text
    from common.subjects.table import quick_left_out_skips, quick_variant_names

    merged = merge_runs(results)
    reports = merge_reports(results)
    if config.quick and config.variants == quick_variant_names():  # say what --quick left out
        reports["skips"] += quick_left_out_skips()
    json_path = save_merged(run_dir, merged, reports, config)
    stored = atomic_write_json_copy(json_path, out / f"{run_id}.json")
    summary = S.summarize(merged, reports["skips"])
    overhead = S.harness_overhead(merged)
    meta = run_meta(config, run_id, reports, merged, stored, seconds)
    meta["epoch_skips"] = [s for s in reports["skips"] if s["operation"] == "epoch"]
    md = render_markdown(summary, overhead, meta)
    title = f"{model_label(config)} throughput, {meta['device']}, {meta['threads']} thread(s) — {run_id}"
    png = bar_chart_png(summary, title)
    for folder in (run_dir, out):
        atomic_write_csv(folder / "summary.csv", summary)
        atomic_write_csv(folder / "harness_overhead.csv", overhead)
        atomic_write_text(folder / "summary.md", md)
        atomic_write_bytes(folder / "throughput.png", png)
    if reports.get("breakdowns"):
        write_breakdown(reports["breakdowns"], meta, (run_dir, out), summary)
    shutil.rmtree(run_dir / "xla", ignore_errors=True)  # XLA's module dumps served the profiles
    _print_side_by_side(stored)
    print(md)
    print(
        f"wrote {out / 'summary.md'}, {out / 'summary.csv'}, {out / 'throughput.png'}, {stored} ({seconds:.0f} s)"
    )
    return _exit_code(results, config)


def write_breakdown(breakdowns: list[dict], meta: dict, folders, summary=None) -> None:
    """breakdown.csv/.md/.png (common/bench/breakdown/output.py) in the run and output folders,
    the .md closing with the tuned variants' measured advice (summary: the run's summary.csv)."""
    from common.bench.breakdown.advice import advice_section
    from common.bench.breakdown.output import breakdown_markdown, breakdown_png, breakdown_rows
    from common.core.io import atomic_write_bytes, atomic_write_csv, atomic_write_text

    context = (
        f"{meta['cpu']} ({meta['device']}), {meta['threads']} thread(s), {meta['model_label']}, "
        f"batch {meta['train_batch']} (train) / {meta['infer_batch']} (infer); run {meta['run_id']}"
    )
    advice = advice_section(breakdowns, summary, meta["cpu"])
    rows, md = breakdown_rows(breakdowns), breakdown_markdown(breakdowns, context, advice)
    png = breakdown_png(breakdowns, f"Where the time goes: {context}")
    for folder in folders:
        atomic_write_csv(folder / "breakdown.csv", rows)
        atomic_write_text(folder / "breakdown.md", md)
        atomic_write_bytes(folder / "breakdown.png", png)
    print(f"wrote {folders[-1] / 'breakdown.md'}, breakdown.csv, breakdown.png")


def atomic_write_json_copy(src: Path, dst: Path) -> Path:
    """The merged JSON next to the summaries, named by run id (never overwrites another run; an
    identical copy from an interrupted attempt of this run stands)."""
    from common.core.io import atomic_write_bytes

    if dst.exists() and dst.read_bytes() == src.read_bytes():
        return dst
    if dst.exists():
        raise SaltbenchError(f"{dst}: already exists; not overwriting a finished run")
    return atomic_write_bytes(dst, src.read_bytes())


def _print_side_by_side(json_path: Path) -> None:
    """pytest-benchmark's own comparison table of the merged run, grouped by (model, operation, batch)."""
    exe = shutil.which("pytest-benchmark", path=str(Path(sys.executable).parent)) or shutil.which(
        "pytest-benchmark"
    )
    if exe is None:
        return
    columns = "--columns=median,iqr,min,max,rounds"
    cmd = [exe, "compare", str(json_path), "--group-by=group", "--sort=name", columns]
    subprocess.run(cmd, check=False)


def _exit_code(results, config) -> int:
    regressed = [r.name for r in results if r.regressed]
    failed = [r for r in results if r.returncode not in (0, 5) and not r.regressed]
    for r in failed:
        oom = " (the kernel's out-of-memory killer sends it)" if r.returncode == -9 else ""
        print(
            f"saltbench: benchmark process {r.name} {how_it_ended(r.returncode)}{oom}; "
            f"its variants are missing from the results; see {r.log_path}",
            file=sys.stderr,
        )
    if regressed:
        bound = f"{config.fail_regression:g}%"
        print(
            f"saltbench: performance regressed by more than {bound} (median) in: {', '.join(regressed)}",
            file=sys.stderr,
        )
        return 1
    return 1 if failed else 0
