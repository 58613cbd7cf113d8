"""`saltbench bench` works from an installed wheel, with no source checkout on the path."""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.cpu_isa import avx2_only

pytestmark = [pytest.mark.slow, pytest.mark.torch]
REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "common", "keras_impl", "torch_impl")


def build_wheel(tmp_path: Path) -> Path:
    """The project's wheel, built offline from a copy of the sources (the checkout stays clean)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
           "--no-index", "-q", "-w", str(tmp_path / "dist")]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    (wheel,) = (tmp_path / "dist").glob("saltbench-*.whl")
    return wheel


def venv_with_test_packages(tmp_path: Path) -> Path:
    """A fresh venv whose .pth lists this environment's site-packages as plain paths: torch, pytest and
    friends are found, while .pth files there (the editable saltbench finder) are never run."""
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (site_dir,) = (venv / "lib").glob("python3*/site-packages")
    (site_dir / "test_environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv


def test_bench_runs_from_an_installed_wheel(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = venv_with_test_packages(tmp_path)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env = avx2_only(env)  # its 300 s limit must hold on the slowest CPU CI runs on
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
               "-q", str(wheel)]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True, text=True, env=env, timeout=120)
    work = tmp_path / "elsewhere"  # neither the checkout nor the venv
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import common; print(common.__file__)"], cwd=work,
                           env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert Path(where.strip()).is_relative_to(venv), where
    bench = [str(venv / "bin" / "saltbench"), "bench", "--variants", "torch-eager", "--rounds", "1",
             "--width", "2", "--train-batch", "2", "--infer-batch", "2", "--threads", "1",
             "--out", "out"]  # fmt: skip
    done = subprocess.run(bench, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (log,) = (work / "out" / "runs").glob("bench-*/torch.1.log")  # full mode: 2 processes
    assert str(venv) in log.read_text().splitlines()[0]  # the suite ran from the installed package
    row = pd.read_csv(work / "out" / "summary.csv").set_index("variant").loc["torch-eager"]
    assert row["train_img_s"] > 0 and row["infer_img_s"] > 0 and row["status"] == "ok"
    assert (work / "out" / "harness_overhead.csv").is_file()
