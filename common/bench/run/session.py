"""One `saltbench bench` run end to end: its folder (new, or resumed from its config.json), the
device check, every benchmark process with a progress bar, then the merged results."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from common.bench.run.config import BenchConfig
from common.core.errors import SaltbenchError


def bench_run(config: BenchConfig | None, out: Path, resume: Path | None, verbose: bool) -> int:
    """Run (or resume: `resume` is a run folder and `config` None) every process, then finish."""
    from common.bench.run.finish import finish_run
    from common.bench.run.processes import ordered_processes
    from common.core.io import atomic_write_json

    if resume:
        config, run_dir = resume_config(resume), resume
        run_id = run_dir.name
    else:
        run_id, run_dir = new_run_dir(out)
        atomic_write_json(run_dir / "config.json", config.to_dict())
    out = run_dir.parent.parent
    started = time.perf_counter()
    results = _run_all(ordered_processes(config), config, run_dir, verbose)
    return finish_run(results, config, run_id, run_dir, out, time.perf_counter() - started)


def check_bench_device(config) -> None:
    """--device cuda: each backend process's framework must see a device (one line, before any run)."""
    from common.bench.run.processes import backend_of, ordered_processes, process_env
    from common.runs.probe import check_device

    backends = dict.fromkeys(backend_of(name) for name, _ in ordered_processes(config))
    subjects = [
        (name.partition("-")[0], process_env(name, config))
        for name in backends  # twin-backend
    ]
    check_device(subjects, config.device)


def resume_config(run_dir: Path) -> BenchConfig:
    path = run_dir / "config.json"
    if not path.is_file():
        raise SaltbenchError(
            f"{path}: not found; --run needs a run folder made by `saltbench bench`"
        )
    return BenchConfig(**json.loads(path.read_text()))


def new_run_dir(out: Path) -> tuple[str, Path]:
    run_id = dt.datetime.now().strftime("bench-%Y%m%d-%H%M%S")
    run_dir = out / "runs" / run_id
    if run_dir.exists():
        raise SaltbenchError(f"{run_dir}: already exists; not overwriting a finished run")
    run_dir.mkdir(parents=True)
    return run_id, run_dir


def _run_all(processes, config, run_dir: Path, verbose: bool):
    from tqdm import tqdm

    from common.bench.run.launch import run_processes

    startup = (
        "all start at once, then take turns"
        if config.startup_in_parallel()
        else "one after another, then take turns"
    )
    bar = tqdm(
        total=len(processes), desc=f"saltbench bench ({startup})", unit="process", file=sys.stderr
    )
    echo = (lambda line: tqdm.write(line, file=sys.stderr)) if verbose else (lambda line: None)

    def done(result) -> None:
        status = "reused" if result.reused else f"exit {result.returncode}, {result.seconds:.0f} s"
        tqdm.write(f"  {result.name} ({', '.join(result.variants)}): {status}", file=sys.stderr)
        bar.update(1)

    results = run_processes(processes, config, run_dir, echo, done)
    bar.close()
    return results
