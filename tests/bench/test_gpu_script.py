"""benchmarks/gpu/run.sh, rehearsed on the CPU: every step of the one device call runs (tiny
profile, --device cpu), and what it leaves in $OUT fits what the device tool brings back. It
rehearses as on an AVX2-only CPU (tests/cpu_isa.py), the slowest CI runs on, so its limits hold
there too: the bench step once spent minutes in a bf16 roofline such a CPU emulates."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.cpu_isa import EMULATED, avx2_only

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "benchmarks" / "gpu" / "run.sh"
MAX_FILES, MAX_BYTES = 8, 16 * 2**20  # the device tool's limits on what comes back

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]


def test_the_device_script_rehearses_on_the_cpu(tmp_path):
    pytest.importorskip(
        "jax", reason="the device run is Keras on JAX: pip install 'saltbench[jax]'"
    )
    out = tmp_path / "out"
    env = avx2_only({**os.environ, "OUT": str(out), "PYTHON": sys.executable})
    done = subprocess.run(
        ["bash", str(SCRIPT), "--rehearse"], cwd=REPO_ROOT, env=env, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert files == ["bench.tar.gz", "console.log", "device.txt", "report.md", "run.tar.gz"]
    assert len(files) <= MAX_FILES and all((out / f).stat().st_size <= MAX_BYTES for f in files)
    report = (out / "report.md").read_text()
    assert "| backend | jax | torch |" in report
    assert report.count("cpu, fp32, TF32 off") == 2
    with tarfile.open(out / "run.tar.gz") as run:
        names = run.getnames()
    assert any(n.endswith("/metrics.json") for n in names) and "leaderboard.csv" in names
    assert not any(n.endswith(("model_best.npz", ".pt")) or "ckpt_" in n for n in names)
    with tarfile.open(out / "bench.tar.gz") as bench:
        summary = bench.extractfile("bench/summary.md").read().decode()
    assert "torch-fp16" in summary and "GPU-only" in summary  # the GPU rows are there, skipped
    assert "Numerics (set the same way in every process" in summary
    if EMULATED:  # bf16 without native support: its references shrink to the call budget
        assert "(bf16), shrunk from" in summary, summary
    device = (out / "device.txt").read_text()
    assert "mode: --rehearse  device: cpu  compare exit: 0  bench exit: 0" in device
