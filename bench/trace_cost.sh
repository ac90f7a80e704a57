#!/bin/bash
# bench/trace_cost.sh - what the KVM tracepoint probe (probes/kvm_trace.c)
# costs per iteration: refvmm with its default tracepoints and with every
# counted kvm/kvmmmu event (--events kvm:all) against the tracepoints off
# (--events kvm:off), interleaved in a rotating order, on a user-space exit
# path (pio) and a kernel-handled one (cpuid). Per iteration = timed-region
# wall time / n. Prints every repetition and the median ratios.
#
#   N=20000 REPS=7 bash bench/trace_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
REPS=${REPS:-7}
REFVMM=${REFVMM:-bin/refvmm}
[ -c /dev/kvm ] || { echo "trace_cost: /dev/kvm missing: skipped"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
one() { # WORKLOAD EVENTS -> ns per iteration
  "$REFVMM" run "workloads/build/$1.elf" --param "n=$N" --no-pmu --events "$2" --quiet \
    --json "$tmp/r.json" >/dev/null
  jq -r --argjson n "$N" '.runs[0].timed.wall_ns / $n' "$tmp/r.json"
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
for w in pio cpuid; do
  : >"$tmp/$w.def"
  : >"$tmp/$w.all"
  for ((i = 0; i < REPS; i++)); do
    case $((i % 3)) in
      0) o=$(one $w kvm:off); d=$(one $w kvm:default); a=$(one $w kvm:all) ;;
      1) d=$(one $w kvm:default); a=$(one $w kvm:all); o=$(one $w kvm:off) ;;
      2) a=$(one $w kvm:all); o=$(one $w kvm:off); d=$(one $w kvm:default) ;;
    esac
    echo "$o $d $a" | awk -v w=$w -v i=$i '{printf "trace_cost: %s rep %d: off %.1f ns, default %.1f ns (%.4f), kvm:all %.1f ns (%.4f)\n", w, i, $1, $2, $2/$1, $3, $3/$1}'
    echo "$o $d" | awk '{print $2/$1}' >>"$tmp/$w.def"
    echo "$o $a" | awk '{print $2/$1}' >>"$tmp/$w.all"
  done
  echo "trace_cost: $w: per iteration, median of $REPS: default/off $(median <"$tmp/$w.def"), kvm:all/off $(median <"$tmp/$w.all")"
done
