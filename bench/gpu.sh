#!/usr/bin/env bash
# GPU benchmark cases 2-5 for the device machine: writes one JSON row per case to $OUT.
# Usage (device tool): bash bench/gpu.sh   — about 5 minutes on an H100/H200.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-bench-gpu-out}"
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv" 2>&1
python3 -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())" \
  > "$out/torch.txt" 2>&1
# gpu256 runs last and longest: 20 000 reference iterations, then two project settings.
for case in gpu64 batched-two-layer-gpu batched-deep-decoder-gpu memory1024-gpu gpu256; do
  limit=100
  [ "$case" = gpu256 ] && limit=280
  timeout "$limit" python3 -m bench "$case" --json >> "$out/rows.jsonl" 2>> "$out/errors.log" \
    || echo "{\"case\": \"$case\", \"error\": \"failed or timed out\"}" >> "$out/rows.jsonl"
done
cat "$out/rows.jsonl"
