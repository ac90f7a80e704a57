#!/bin/bash
# bench/linux.sh - `make bench-linux`: the Linux guest's workloads
# (docs/LINUX.md) on the model in every paging x tlb mode with the window
# policies (bench/linux_matrix.json), plus null and ctx with the IRQ poll
# policy next to their ept/vpid window runs (bench/linux_matrix_poll.json:
# the IRQ window's effect on timer interrupts, the NMI policy unchanged so
# the report can tell it apart), merged into one document and
# reported (the savings table: EPT vs shadow, VPID vs flush, IRQ window vs
# poll, per workload). Each run boots the kernel (the boot stays outside the
# timed region); the model is deterministic, so one repetition each. The
# shards run two at a time (one per core of a 2-core machine).
#
#   bash bench/linux.sh [OUT_DIR]      (default results/out/bench-linux)
#   SHARDS=2 TIMEOUT=1800 ...
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/out/bench-linux}
SHARDS=${SHARDS:-2}
TIMEOUT=${TIMEOUT:-1800} # per run: a boot on a loaded machine takes minutes
VTBENCH=${VTBENCH:-bin/vtbench}
mkdir -p "$OUT"
t0=$(date +%s)
pids=()
for i in $(seq 1 "$SHARDS"); do
  "$VTBENCH" run --matrix bench/linux_matrix.json --shard "$i/$SHARDS" --timeout "$TIMEOUT" \
    -o "$OUT/shard-$i.json" >"$OUT/shard-$i.log" 2>&1 &
  pids+=($!)
done
"$VTBENCH" run --matrix bench/linux_matrix_poll.json --timeout "$TIMEOUT" -o "$OUT/poll.json" >"$OUT/poll.log" 2>&1 &
pids+=($!)
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
if [ $fail -ne 0 ]; then
  echo "bench-linux: a vtbench run failed (logs in $OUT/*.log)" >&2
  tail -3 "$OUT"/*.log >&2
  exit 1
fi
"$VTBENCH" merge -o "$OUT/linux.json" "$OUT"/shard-*.json "$OUT/poll.json"
"$VTBENCH" report "$OUT/linux.json" -o "$OUT/report" >"$OUT/report.log"
echo "bench-linux: $(jq '.runs | length' "$OUT/linux.json") runs in $(($(date +%s) - t0)) s -> $OUT/linux.json, $OUT/report/summary.md"
