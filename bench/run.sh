#!/bin/bash
# bench/run.sh - `make bench`: refvmm's user-space exit path against the floor,
# then the model backend's speed (bench/model_speed.sh: every paging x tlb
# mode side by side with native, and QEMU TCG on the same images), then
# vtbench report and merge on a million runs (bench/scale.sh).
#
# Runs the `pio` workload (N OUTs to the bench port inside the timed region)
# under bin/refvmm with all probes on (exit accounting, KVM stats, PMU),
# under bin/refvmm --no-probes, and under bin/pio_floor (a bare KVM_RUN loop
# on the same image, bench/pio_floor.c), interleaved with a rotating order,
# REPS times each. Per-exit time = timed-region wall time / exits. Prints
# every repetition, the medians, two ratios and refvmm's own per-exit
# handling time (p50 of the exit accounting, probes on):
#   refvmm/floor     must stay <= LIMIT (default 1.05: within 5% of the floor)
#   probes on/off    must stay <= LIMIT_PROBES (default 1.02: probes cost < 2%)
#
#   IMAGE=workloads/build/pio.elf N=20000 REPS=7 LIMIT=1.05 LIMIT_PROBES=1.02 bash bench/run.sh
#   (MODEL_SPEED=0: skip the model-speed part; its knobs: bench/model_speed.sh;
#    SCALE=0: skip the million-run part; its knobs: bench/scale.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-workloads/build/pio.elf}
N=${N:-20000}
REPS=${REPS:-7}
LIMIT=${LIMIT:-1.05}
LIMIT_PROBES=${LIMIT_PROBES:-1.02}
REFVMM=${REFVMM:-bin/refvmm}
FLOOR=${FLOOR:-bin/pio_floor}

if [ ! -c /dev/kvm ]; then
  echo "bench: /dev/kvm is missing: the pio floor comparison needs KVM; skipped"
  fail=0
  bash bench/model_speed.sh || fail=1
  [ "${SCALE:-1}" = 1 ] && { bash bench/scale.sh || fail=1; }
  exit "$fail"
fi
for f in "$IMAGE" "$REFVMM" "$FLOOR"; do
  [ -e "$f" ] || { echo "bench: $f does not exist (run make first)" >&2; exit 1; }
done
if [ "$REPS" -lt 5 ]; then echo "bench: REPS=$REPS, need at least 5" >&2; exit 1; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# $1: extra refvmm option (or empty). Per exit: timed wall time over the
# writes that reached the bench port (the device counts them, probes or not).
# With probes on, the exit accounting's own p50 (KVM_RUN return to re-entry:
# refvmm's handling of one exit) is kept in $tmp/handling.
run_refvmm() {
  "$REFVMM" run "$IMAGE" --param "n=$N" --quiet --timeout 120 --json "$tmp/r.json" ${1:+"$1"} >/dev/null
  [ -n "${1:-}" ] || jq -r '.runs[0].exits.by_reason.IO.latency_ns.p50' "$tmp/r.json" >>"$tmp/handling"
  jq -r '.runs[0] as $r | $r.io.bench_port.writes as $n
    | if $n > 0 then ($r.timed.wall_ns / $n) else error("no bench-port writes") end' "$tmp/r.json"
}

run_floor() {
  local out
  out=$("$FLOOR" "$IMAGE" "n=$N")
  echo "$out" | sed -n 's/.*ns_per_exit=\([0-9.]*\).*/\1/p'
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "bench: pio per-exit round trip, $IMAGE n=$N, $REPS repetitions (ns per exit)"
printf '%6s %12s %12s %12s\n' rep refvmm no-probes floor
: >"$tmp/on"
: >"$tmp/off"
: >"$tmp/floor"
: >"$tmp/handling"
for i in $(seq 1 "$REPS"); do
  case $((i % 3)) in # rotate the order so drift favours none
    1) r=$(run_refvmm); o=$(run_refvmm --no-probes); f=$(run_floor) ;;
    2) o=$(run_refvmm --no-probes); f=$(run_floor); r=$(run_refvmm) ;;
    0) f=$(run_floor); r=$(run_refvmm); o=$(run_refvmm --no-probes) ;;
  esac
  echo "$r" >>"$tmp/on"
  echo "$o" >>"$tmp/off"
  echo "$f" >>"$tmp/floor"
  printf '%6d %12.1f %12.1f %12.1f\n' "$i" "$r" "$o" "$f"
done
mr=$(median <"$tmp/on")
mo=$(median <"$tmp/off")
mf=$(median <"$tmp/floor")
ratio=$(awk -v a="$mr" -v b="$mf" 'BEGIN {printf "%.4f", a / b}')
pratio=$(awk -v a="$mr" -v b="$mo" 'BEGIN {printf "%.4f", a / b}')
printf '%6s %12.1f %12.1f %12.1f\n' median "$mr" "$mo" "$mf"
# the fastest repetition: what the path costs when nothing else interferes
printf '%6s %12.1f %12.1f %12.1f\n' min "$(sort -g "$tmp/on" | head -1)" \
  "$(sort -g "$tmp/off" | head -1)" "$(sort -g "$tmp/floor" | head -1)"
echo "bench: refvmm/floor = $ratio (limit $LIMIT)"
echo "bench: probes on/off = $pratio (limit $LIMIT_PROBES)"
echo "bench: refvmm's own handling per exit (KVM_RUN return to re-entry, p50, probes on): $(median <"$tmp/handling") ns"
fail=0
pct() { awk -v l="$1" 'BEGIN{printf "%.0f", (l-1)*100}'; }
if awk -v r="$ratio" -v l="$LIMIT" 'BEGIN {exit !(r > l)}'; then
  echo "bench: FAIL: refvmm's exit path is more than $(pct "$LIMIT")% slower than the floor" >&2
  fail=1
fi
if awk -v r="$pratio" -v l="$LIMIT_PROBES" 'BEGIN {exit !(r > l)}'; then
  echo "bench: FAIL: the probes cost more than $(pct "$LIMIT_PROBES")% per exit" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "bench: pio floor and probe overhead comparisons passed"
[ "${MODEL_SPEED:-1}" = 1 ] && { bash bench/model_speed.sh || fail=1; }
[ "${SCALE:-1}" = 1 ] && { bash bench/scale.sh || fail=1; }
exit "$fail"
