#!/usr/bin/env bash
# The prepared GPU run (issue 23), one device call: fold 0 of the real tiles with the `full`
# profile, torch against Keras on JAX, both at once on the one GPU; then `saltbench bench` with the
# GPU rows. Everything the tool brings back is written under $OUT (at most 8 files, 16 MiB each).
#
#   device: bash benchmarks/gpu/run.sh                (after prepare.sh; carry [".device"])
#   CPU rehearsal: OUT=/tmp/out PYTHON=.venv/bin/python bash benchmarks/gpu/run.sh --rehearse
#
# The rehearsal runs every step on the CPU with a tiny profile and --device cpu (no install, a
# synthetic dataset), so the device call cannot fail on a typo; tests/bench/test_gpu_script.py
# runs it in CI.
#
# Sizing (FLOPs, H200): ResUNet-16 is 2.167 GFLOP/image forward, a training step 3x that; fold 0
# trains on 2560 tiles (fewer in the BCE stage) and validates 640, so an epoch is ~17 TFLOP, about
# 1.5 s at 10-15 TFLOP/s of fp32 (TF32 off) on small 101x101 convolutions, plus ~80 launch-bound
# steps and the epoch's checkpoint and validation: ~3 s an epoch per subject, both subjects
# sharing the GPU. The seeds' 100 + 120 epochs (~11 min) do not fit the ~8 minutes the device
# budget leaves, so the run caps them at 60 BCE + 40 Lovasz epochs, early stopping kept
# (patience 10 and 20 as in the seeds): ~5 min, and `timeout` stops it at 7.5 min whatever happens.
set -uo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-device}
OUT=${OUT:?set OUT: the folder whose files come back}
CARRY=${SALTBENCH_CARRY:-.device}
WORK=$(mktemp -d)
mkdir -p "$OUT"
exec > >(tee -a "$OUT/console.log") 2>&1
echo "=== $(date -u +%FT%TZ) benchmarks/gpu/run.sh $MODE (work $WORK)"

if [ "$MODE" = "--rehearse" ]; then
  PY=${PYTHON:-.venv/bin/python}
  DEVICE=cpu
  "$PY" -m common.cli data synth --out "$WORK/data" --n-train 40 --n-test 8 --seed 0 || exit 2
  DATA="$WORK/data"
  COMPARE=(--profile smoke --threads 1 --set stages.lovasz.epochs=0)  # one stage: one JAX compile
  BENCH=(--processes 1 --subjects torch-eager,torch-fp16,keras-jax --rounds 1 --warmup 0 --width 4
         --train-batch 4 --infer-batch 4 --threads 1)
  LIMIT_COMPARE=600
  LIMIT_BENCH=300
elif [ "$MODE" = "device" ]; then
  PY=${PYTHON:-python3}
  DEVICE=cuda
  [ -d "$CARRY/wheels" ] || { echo "run.sh: $CARRY/wheels missing: run benchmarks/gpu/prepare.sh first and carry $CARRY"; exit 2; }
  # Only what is missing: never replace the machine's torch, JAX or numpy.
  MISSING=$("$PY" - "$CARRY/wheels" <<'PYEOF'
import importlib.metadata as md, pathlib, sys
for wheel in sorted(pathlib.Path(sys.argv[1]).glob("*.whl")):
    name = wheel.name.split("-")[0].replace("_", "-")
    try:
        md.version(name)
    except md.PackageNotFoundError:
        print(wheel)
PYEOF
)
  if [ -n "$MISSING" ]; then
    # shellcheck disable=SC2086
    "$PY" -m pip install --quiet --no-index --no-deps $MISSING || exit 2
  fi
  "$PY" -m pip install --quiet --no-deps --no-build-isolation . || export PYTHONPATH="$PWD"
  DATA="$CARRY/tgs-salt"
  COMPARE=(--profile full --folds 0 --set stages.bce.epochs=60 --set stages.lovasz.epochs=40)
  # one process per backend: the device budget has no room for a second (ratios without intervals)
  BENCH=(--processes 1 --subjects torch-eager,torch-compile,torch-bf16,torch-fp16,keras-jax,keras-torch --rounds 5)
  LIMIT_COMPARE=450
  LIMIT_BENCH=150
else
  echo "run.sh: unknown mode $MODE (use --rehearse, or nothing on the device)"
  exit 2
fi

export SALTBENCH_CACHE="$WORK/cache" TF_CPP_MIN_LOG_LEVEL=2
RESULTS="$WORK/results"
timeout "$LIMIT_COMPARE" "$PY" -m common.cli compare --data "$DATA" --device "$DEVICE" \
  --keras-backend jax "${COMPARE[@]}" --out "$RESULTS"
COMPARE_RC=$?
echo "=== compare exit $COMPARE_RC"
timeout "$LIMIT_BENCH" "$PY" -m common.cli bench --device "$DEVICE" "${BENCH[@]}" --out "$WORK/bench"
BENCH_RC=$?
echo "=== bench exit $BENCH_RC"

# What comes back: the run without its weights, the bench folder, the report, the machine.
RUN=$(ls -d "$RESULTS"/2* 2>/dev/null | head -1)
if [ -n "$RUN" ]; then
  tar -czf "$OUT/run.tar.gz" -C "$RESULTS" --exclude='model_best.npz' --exclude='init_weights_*' \
    --exclude='ckpt_*' --exclude='best_e*.npz' --exclude='snapshot_*' --exclude='.lock*' --exclude='oof*.npz' --exclude='test.npz' \
    "$(basename "$RUN")" $( [ -f "$RESULTS/leaderboard.csv" ] && echo leaderboard.csv )
  [ -f "$RUN/report.md" ] && cp "$RUN/report.md" "$OUT/report.md"
fi
[ -d "$WORK/bench" ] && tar -czf "$OUT/bench.tar.gz" -C "$WORK" --exclude='*.log' bench
{
  echo "mode: $MODE  device: $DEVICE  compare exit: $COMPARE_RC  bench exit: $BENCH_RC"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  command -v nvidia-smi >/dev/null && nvidia-smi
  "$PY" - <<'PYEOF'
import importlib.metadata as md, os, platform
print("python", platform.python_version(), platform.machine())
for name in ("torch", "jax", "jaxlib", "keras", "numpy", "pandas", "scipy", "tensorflow"):
    try:
        print(name, md.version(name))
    except md.PackageNotFoundError:
        print(name, "not installed")
try:
    import torch
    print("torch.version.cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
except Exception as err:
    print("torch cuda info:", err)
for var in ("CUDA_VISIBLE_DEVICES", "XLA_PYTHON_CLIENT_PREALLOCATE", "TF_FORCE_GPU_ALLOW_GROWTH"):
    print(var, os.environ.get(var))
PYEOF
} > "$OUT/device.txt" 2>&1
echo "=== $(date -u +%FT%TZ) done: $(ls "$OUT" | tr '\n' ' ')"
[ "$COMPARE_RC" -eq 0 ] && [ "$BENCH_RC" -eq 0 ]
