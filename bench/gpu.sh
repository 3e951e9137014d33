#!/usr/bin/env bash
# GPU benchmark cases for the device machine: writes one JSON row per case to $OUT.
# Usage (device tool): bash bench/gpu.sh [LINE ...], LINE the first word of a line below
# (default: every line). The per-line limits bound it at 1170 s for every line, so run it in
# two or three calls (one command may take 600 s), e.g. `bash bench/gpu.sh iteration-gpu
# iteration-gpu256 gpu64 espirit-gpu batched-deep-decoder-gpu` first. iteration-gpu*:
# `bench.iteration` on the GPU (eager, compiled, reference); espirit-gpu: ESPIRiT's seconds
# on the CPU and the GPU (`bench.coil_maps --devices`).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-bench-gpu-out}"
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv" 2>&1
python3 -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())" \
  > "$out/torch.txt" 2>&1
wanted=" $* "
# Cases on one line share a process, so gpu256's 20 000-iteration reference runs once for
# both of its settings; that line runs last and longest. sweep-two-layer is the sweep
# engine's grid (issue 12): the loop of single fits on this machine's CPU, the in-process
# sweep on the GPU (its tasks take the GPU when there is one), and a 2-worker LocalCluster.
while read -r limit cases; do
  first="${cases%% *}"
  [ $# -eq 0 ] || [[ "$wanted" == *" $first "* ]] || continue
  if [ "$first" = "sweep-two-layer" ]; then
    command=(python3 -m bench.sweep_engine --grid two-layer --json)
  elif [ "$first" = "iteration-gpu" ]; then
    command=(python3 -m bench.iteration --device cuda --json)
  elif [ "$first" = "iteration-gpu256" ]; then
    command=(python3 -m bench.iteration --device cuda --size 256 --channels 256 --json)
  elif [ "$first" = "espirit-gpu" ]; then
    command=(python3 -m bench.coil_maps --devices)
  else
    # shellcheck disable=SC2206
    command=(python3 -m bench $cases --json)
  fi
  timeout "$limit" "${command[@]}" < /dev/null >> "$out/rows.jsonl" 2>> "$out/errors.log" \
    || echo "{\"case\": \"$cases\", \"error\": \"failed or timed out\"}" >> "$out/rows.jsonl"
done <<'CASES'
100 iteration-gpu
150 iteration-gpu256
150 gpu64 gpu64-compiled gpu64-tf32
120 espirit-gpu
100 batched-two-layer-gpu
100 batched-deep-decoder-gpu
100 memory1024-gpu
120 sweep-two-layer
280 gpu256 gpu256-compiled gpu256-tf32
CASES
cat "$out/rows.jsonl"
