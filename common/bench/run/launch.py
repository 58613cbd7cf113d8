"""Starting the benchmark processes of a run and conducting their timed rounds (turns.py).

Start-up (imports, builds, tracing, compiling, exports, first epochs) is untimed: with
`--startup parallel` (the --quick default) every process does it at once; with `sequential`
one after the other, so first-call times are uncontended. Then every process waits at the gate,
and the conductor hands out one round at a time: interleaved (A B C … A B C …) or in blocks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from common.bench.run.config import BREAKDOWN_STEPS, BenchConfig
from common.bench.run.headroom import check_headroom, footprint
from common.bench.run.processes import ProcessResult, process_env, pytest_command, repeat_of
from common.bench.timing.options import process_argv
from common.bench.timing.turns import Conductor, wait_for_first_request
from common.core.errors import SaltbenchError
from common.core.io import atomic_write_json
from common.subjects.table import Variant

REGRESSION_MARK = "Performance has regressed"
ROOFLINE_FILE = "roofline.json"  # measured by the first process in its first turn, read by the rest
TURNS_FILE = "turns.json"


def paths(name: str, run_dir: Path) -> tuple[Path, Path, Path]:
    """Absolute JSON, side-report and log paths: the process runs in the caller's directory."""
    run_dir = run_dir.resolve()
    return run_dir / f"{name}.json", run_dir / f"{name}.report.json", run_dir / f"{name}.log"


def reused(name: str, variants: list[Variant], run_dir: Path) -> ProcessResult | None:
    """The result of a process that finished in an earlier, interrupted attempt, else None."""
    json_path, report_path, log_path = paths(name, run_dir)
    if json_path.is_file() and report_path.is_file():
        names = [v.name for v in variants]
        return ProcessResult(name, names, 0, 0.0, json_path, report_path, log_path, reused=True)
    return None


@dataclass
class Launched:
    """A started benchmark process writing to its log file."""

    name: str
    variants: list[str]
    proc: subprocess.Popen
    log: object
    started: float

    def poll(self):
        return self.proc.poll()

    def finish(self, run_dir: Path, echo) -> ProcessResult:
        returncode = self.proc.wait()
        self.log.close()
        json_path, report_path, log_path = paths(self.name, run_dir)
        text = log_path.read_text(errors="replace")
        for line in text.splitlines()[1:]:
            echo(line)
        seconds = time.perf_counter() - self.started
        return ProcessResult(self.name, self.variants, returncode, seconds, json_path,
                             report_path, log_path, REGRESSION_MARK in text)  # fmt: skip


def launch(
    name: str, variants: list[Variant], config: BenchConfig, run_dir: Path, extra: list[str]
) -> Launched:
    json_path, report_path, log_path = paths(name, run_dir)
    cmd = pytest_command(variants, config, json_path, report_path) + extra
    env = process_env(name, config)
    if config.breakdown and repeat_of(name) == 1:  # one profile per backend: its first process
        cmd += process_argv({"breakdown": BREAKDOWN_STEPS})
        env.update(breakdown_env(run_dir / "xla" / name, env))
    log = open(log_path, "w")  # noqa: SIM115 (closed by Launched.finish)
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Launched(name, [v.name for v in variants], proc, log, time.perf_counter())


def breakdown_env(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """A Keras-on-JAX or -TF process dumps its XLA-compiled step functions into `folder`, so the
    XLA instruction names of its trace can be read (torch processes need nothing)."""
    if env.get("KERAS_BACKEND") not in ("jax", "tensorflow"):
        return {}
    from common.bench.breakdown.profilers import XLA_DUMP_ENV, xla_dump_flags

    folder = str(Path(folder).resolve())
    flags = " ".join(filter(None, [env.get("XLA_FLAGS", ""), xla_dump_flags(folder)]))
    return {"XLA_FLAGS": flags, XLA_DUMP_ENV: folder}


def _gate_args(index: int, name: str, gate: Path, run_dir: Path, contended: bool) -> list[str]:
    roofline = run_dir.resolve() / ROOFLINE_FILE
    own = f"--saltbench-roofline-{'to' if index == 0 else 'from'}={roofline}"
    args = [own, f"--saltbench-gate={gate}", f"--saltbench-process={name}"]
    return args + (["--saltbench-contended-startup"] if contended else [])


def _record_turns(path: Path, order: str, log: list[dict]) -> None:
    """turns.json: one entry per attempt, this one's turns after those of interrupted ones."""
    earlier = json.loads(path.read_text())["attempts"] if path.is_file() else []
    atomic_write_json(path, {"attempts": [*earlier, {"order": order, "turns": log}]})


def start_wave(wave, config: BenchConfig, run_dir: Path, gate: Path, jobs: dict) -> None:
    """Launch `wave` ((index, name, variants) each) into `jobs`, start-up as configured; return
    when every one of them waits at the gate for its first turn (or has exited)."""
    parallel = config.startup_in_parallel()
    for index, name, variants in wave:
        args = _gate_args(index, name, gate, run_dir, parallel)
        jobs[name] = launch(name, variants, config, run_dir, args)
        if not parallel:  # its start-up alone; it then waits at the gate while the next starts
            wait_for_first_request(gate, name, jobs[name])
    for _, name, _ in wave:
        wait_for_first_request(gate, name, jobs[name])


def stop_all(jobs: dict) -> None:
    """End every started process (a refused run times nothing)."""
    for job in jobs.values():
        job.proc.kill()
        job.proc.wait()
        job.log.close()


def run_processes(
    processes: list[tuple[str, list[Variant]]], config: BenchConfig, run_dir: Path, echo, on_result
) -> list[ProcessResult]:
    """Every backend's process, start-up as configured, then conducted turns; `on_result(result)`
    as each process ends. Processes that finished in an interrupted attempt are reused; the
    copies past each backend's first start only when the memory holds them (headroom.py)."""
    results: dict[str, ProcessResult] = {}
    pending = []
    for index, (name, variants) in enumerate(processes):
        earlier = reused(name, variants, run_dir)
        if earlier is not None:
            results[name] = earlier
        else:
            pending.append((index, name, variants))
    gate = run_dir.resolve() / "gate"
    shutil.rmtree(gate, ignore_errors=True)
    gate.mkdir(parents=True)
    jobs: dict[str, Launched] = {}
    first = [p for p in pending if repeat_of(p[1]) == 1]
    start_wave(first, config, run_dir, gate, jobs)
    rest = [p for p in pending if repeat_of(p[1]) > 1]
    if rest:  # the further copies start only if they fit beside the measured first ones
        measured = {name: footprint(job.proc.pid) for name, job in jobs.items()}
        try:
            check_headroom(measured, [name for _, name, _ in rest], config.resolved_processes())
        except SaltbenchError:
            stop_all(jobs)
            raise
        start_wave(rest, config, run_dir, gate, jobs)

    def ended(name: str) -> None:
        results[name] = jobs[name].finish(run_dir, echo)
        on_result(results[name])

    log = Conductor(gate, jobs, config.order).run(on_exit=ended)
    _record_turns(run_dir / TURNS_FILE, config.order, log)
    shutil.rmtree(gate, ignore_errors=True)
    return [results[name] for name, _ in processes]
