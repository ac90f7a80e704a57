#!/bin/bash
# bench/pio_ab.sh - the KVM exit path of two refvmm builds side by side: pio
# n=N under OLD and NEW, interleaved (order
# flipped each round), probes on and --no-probes; ns per exit = timed wall /
# bench-port writes; refvmm's own handling = the IO exits' latency p50.
set -uo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?usage: $0 OLD_REFVMM NEW_REFVMM} NEW=${2:?usage: $0 OLD_REFVMM NEW_REFVMM}
R=${R:-9} N=${N:-20000}
t=$(mktemp -d)
one() { "$1" run workloads/build/pio.elf --param n=$N --quiet --timeout 120 --json $t/r.json $2 >/dev/null
  jq -r '.runs[0] | [(.timed.wall_ns / .io.bench_port.writes), (.exits.by_reason.IO.latency_ns.p50 // 0)] | @tsv' $t/r.json; }
for i in $(seq 1 $R); do
  if [ $((i % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for side in $order; do
    b=$OLD; [ $side = new ] && b=$NEW
    echo "$side on $(one $b)"; echo "$side off $(one $b --no-probes)"
  done
done > $t/all
med() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
for side in old new; do
  on=$(grep "^$side on" $t/all | cut -f1 | awk '{print $3}' | med)
  h=$(grep "^$side on" $t/all | cut -f2 | med)
  off=$(grep "^$side off" $t/all | awk '{print $3}' | med)
  echo "$side: ns/exit probes on $on, --no-probes $off, handling p50 $h ns"
done
rm -rf $t
