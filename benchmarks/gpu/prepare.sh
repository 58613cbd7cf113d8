#!/usr/bin/env bash
# Before the device call, on the CPU machine: fill the git-ignored .device/ folder the device tool
# carries (`carry: [".device"]`): Python 3.12 x86_64 wheels of what the GPU machine lacks
# (wheels.txt) and a copy of the Kaggle-layout data. Fails when the folder exceeds 60 MiB (the
# tool carries 64 MiB in all).
#   bash benchmarks/gpu/prepare.sh [DATA_DIR]      (default ../shared/tgs-salt)
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=.device
DATA=${1:-../shared/tgs-salt}
PIP=${PIP:-.venv/bin/pip}
[ -f "$DATA/train.csv" ] || { echo "prepare.sh: $DATA: not a Kaggle-layout folder" >&2; exit 2; }
KERAS=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('keras'))")
rm -rf "$CARRY"
mkdir -p "$CARRY/wheels"
grep -v '^#' benchmarks/gpu/wheels.txt | sed "s/^keras\$/keras==$KERAS/" > "$CARRY/wheels.txt"
"$PIP" download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --dest "$CARRY/wheels" -r "$CARRY/wheels.txt"
cp -r "$DATA" "$CARRY/tgs-salt"
BYTES=$(du -sb "$CARRY" | cut -f1)
MIB=$((BYTES / 1048576))
echo "$CARRY: $MIB MiB ($(ls "$CARRY/wheels" | wc -l) wheels, data $(du -sh "$CARRY/tgs-salt" | cut -f1))"
if [ "$MIB" -gt 60 ]; then
  echo "prepare.sh: $CARRY is $MIB MiB, more than the 60 MiB this run allows" >&2
  exit 1
fi
echo "device call: command 'bash benchmarks/gpu/run.sh', carry [\"$CARRY\"], timeout_s 600"
