"""`saltbench export`: drive the twins' workers to write each unit's best model, then check
every file in a fresh process that has only that format's loader, and write export.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from common.core.errors import SaltbenchError
from common.core.io import atomic_write_json
from common.export.write import NATIVE_FILE, ONNX_FILE, REFERENCE_FILE, export_dir
from common.runs import rundir
from common.subjects.selection import get_subject

TOLERANCE = 1e-4  # largest |logit difference| between a loaded file and saltbench's prediction
MANIFEST = "export.json"
CHECKS = Path(__file__).resolve().parent
FORMAT_CHOICES = {"all": ("native", "onnx"), "native": ("native",), "onnx": ("onnx",)}


class ExportCheckError(SaltbenchError):
    """An exported file failed its fresh-process check: not the user's input, and exit 1."""

    exit_code = 1


def planned_files(out: Path, subject: str, units, formats) -> list[tuple[str, int, int, Path]]:
    """(format, fold, seed, path) of every file the export writes for one subject."""
    names = {"native": NATIVE_FILE[get_subject(subject).twin], "onnx": ONNX_FILE}
    return [
        (fmt, fold, seed, export_dir(out, subject, fold, seed) / names[fmt])
        for fold, seed in units
        for fmt in formats
    ]


def check_arguments(
    run_dir: Path, subjects: list[str] | None, out: Path, force: bool
) -> tuple[dict[str, Any], list[str]]:
    """The run's config and subjects (default: all of them), after refusing an unfinished run, an
    unknown subject or an old export."""
    config = rundir.load_config(run_dir)
    subjects = list(subjects or config["subjects"])
    rundir.check_trained_run(run_dir, "export")
    trained = rundir.load_metrics(run_dir)["subjects"]
    unknown = [s for s in subjects if s not in trained]
    if unknown:
        raise SaltbenchError(
            f"--subjects {','.join(unknown)}: not in run {config['run_id']} "
            f"(it has {', '.join(trained) or 'no trained subject'})"
        )
    existing = [out / s for s in subjects if (out / s).exists()]
    if existing and not force:
        raise SaltbenchError(
            f"{existing[0]} already exists; pass --force to replace that export or choose --out"
        )
    return config, subjects


def run_export_worker(
    subject: str,
    config: dict[str, Any],
    run_dir: Path,
    out: Path,
    formats,
    tiles,
    keras_backend: str | None = None,
):
    """One worker process writes the subject's files for every unit of the run (a Keras subject
    on `keras_backend` instead of its own when given)."""
    from common.runs.processes import check_exit, run_worker_process

    args = [str(run_dir), "--out", str(out), "--formats", ",".join(formats)]
    log = run_dir / "logs" / f"export_{subject}.log"
    proc = run_worker_process(subject, [*args, "--tiles", str(tiles)], config, log,
                              keras_backend=keras_backend, module="common.export.worker")  # fmt: skip
    proc.wait()
    check_exit(proc)


def write_files(subject: str, config: dict[str, Any], run_dir: Path, out: Path, formats, tiles):
    """Reference logits and native file on the run's own backend; Keras's ONNX exporter needs
    TensorFlow, so a Keras run on another backend exports ONNX from a TensorFlow worker that
    loads the same weights (and is then checked against the run backend's logits)."""
    on_run_backend = ["reference", *formats]
    if "onnx" in formats and subject_backend(subject, config) not in (None, "tensorflow"):
        on_run_backend.remove("onnx")
        run_export_worker(subject, config, run_dir, out, ["onnx"], tiles, "tensorflow")
    run_export_worker(subject, config, run_dir, out, on_run_backend, tiles)


def subject_backend(subject: str, config: dict[str, Any]) -> str | None:
    """The Keras backend the subject trained on (None for the PyTorch twin)."""
    return get_subject(subject, config.get("keras_backend", "tensorflow")).keras_backend


def check_command(subject: str, fmt: str, path: Path) -> tuple[list[str], dict[str, str]]:
    """The fresh process of one check: ONNX in isolated mode (no saltbench at all), a native
    file with the repository importable for its twin's module and nothing else of saltbench."""
    from common.runs.processes import REPO_ROOT

    reference = str(path.parent / REFERENCE_FILE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    if fmt == "onnx":
        return [sys.executable, "-I", str(CHECKS / "onnx_check.py"), str(path), reference], env
    env.update(PYTHONPATH=str(REPO_ROOT), KERAS_BACKEND=os.environ.get("KERAS_BACKEND", ""))
    twin = get_subject(subject).twin
    return [sys.executable, str(CHECKS / "native_check.py"), twin, str(path), reference], env


def run_check(subject: str, fmt: str, path: Path, keras_backend: str | None) -> dict[str, Any]:
    """Load `path` in a fresh process; its logits against the reference, and a pass/fail."""
    command, env = check_command(subject, fmt, path)
    if fmt == "native" and keras_backend:
        env["KERAS_BACKEND"] = keras_backend
    done = subprocess.run(command, env=env, cwd=path.parent, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = [ln for ln in done.stderr.splitlines() if ln.strip()][-1:] or ["no output"]
        return {"ok": False, "error": f"loader exited {done.returncode}: {tail[0][:200]}"}
    result = json.loads(lines[-1])
    leaked = fmt == "onnx" and result["saltbench_modules"]
    result["rule"] = passing_rule(result)
    result["ok"] = bool(result["shape_ok"] and result["rule"] and not leaked)
    if not result["ok"]:
        diff = result["max_abs_diff"]
        result["error"] = (
            f"imported saltbench ({', '.join(leaked)})"
            if leaked
            else f"max |Δ| {diff} > {TOLERANCE} (and {result['max_abs_diff_float64']} from the "
            f"float64 function, farther than saltbench's own {result['saltbench_diff_float64']})"
        )
    return result


def passing_rule(result: dict[str, Any]) -> str | None:
    """Which rule the file passes, or None.

    - "1e-4": within TOLERANCE of saltbench's own (float32) logits;
    - "float64": farther than that, but no farther from the float64 function of the same weights
      than saltbench's float32 prediction is (both are round-off of one function: a trained
      model's float32 conv stack can be 2e-4 off float64 in torch itself, see the README).
    """
    diff, exact, own = (
        result.get(k) for k in ("max_abs_diff", "max_abs_diff_float64", "saltbench_diff_float64")
    )
    if diff is not None and diff <= TOLERANCE:
        return "1e-4"
    if exact is not None and own is not None and exact <= max(TOLERANCE, own):
        return "float64"
    return None


def export_run(run_dir: Path, subjects, fmt: str, out: Path | None, tiles: int, force: bool):
    """Write and check every subject's files; returns the manifest (also written to export.json)."""
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "export"
    config, subjects = check_arguments(run_dir, subjects, out, force)
    formats = FORMAT_CHOICES[fmt]
    units = rundir.run_units(config)
    entries = []
    for subject in subjects:
        print(f"{subject}: writing {', '.join(formats)} for {len(units)} unit(s)", file=sys.stderr)
        write_files(subject, config, run_dir, out, formats, tiles)
        files = planned_files(out, subject, units, formats)
        for kind, fold, seed, path in tqdm(files, desc=f"{subject} checks", file=sys.stderr):
            check = run_check(subject, kind, path, subject_backend(subject, config))
            entries.append({"subject": subject, "keras_backend": subject_backend(subject, config),
                            "format": kind, "fold": fold, "seed": seed,
                            "path": str(path.relative_to(out)), "bytes": path.stat().st_size,
                            **check})  # fmt: skip
    manifest = {
        "run_id": config["run_id"],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "tolerance": TOLERANCE,
        "reference": "TwinTrainer.predict_logits of model_best.npz (no TTA) on the unit's "
        "validation tiles, the run's Keras backend",
        "keras_backend": config["keras_backend"],
        "files": entries,
    }
    atomic_write_json(out / MANIFEST, manifest)
    return out, manifest


RULES = {"1e-4": "≤ 1e-4", "float64": "round-off: no farther from float64 than saltbench"}


def _sci(value: float | None) -> str:
    return "" if value is None else f"{value:.1e}"


def export_table(out: Path, manifest: dict[str, Any]) -> str:
    """The Markdown table `saltbench export` prints."""
    rows = [
        "| subject | seed | fold | file | MiB | loaded by (fresh process) | max abs Δ vs saltbench "
        "| vs float64 (saltbench's own) | check |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in manifest["files"]:
        exact = f"{_sci(e.get('max_abs_diff_float64'))} ({_sci(e.get('saltbench_diff_float64'))})"
        verdict = f"ok ({RULES[e['rule']]})" if e["ok"] else f"FAILED: {e['error']}"
        rows.append(
            f"| {e['subject']} | {e['seed']} | {e['fold']} | {e['path']} | {e['bytes'] / 2**20:.2f} "
            f"| {e.get('loader', '')} | {_sci(e.get('max_abs_diff'))} | {exact} | {verdict} |"
        )
    return "\n".join(rows) + f"\n\n{out / MANIFEST}: tolerance {manifest['tolerance']:g}"
