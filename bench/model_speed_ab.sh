#!/bin/bash
# bench/model_speed_ab.sh - two refvmm builds side by side: bench/model_speed.sh
# (MODEL_REPS=1, no TCG) runs OLD and NEW alternately
# R times (the order flipped each round); per workload and mode the median
# M guest instructions/s of each and NEW/OLD, then their geometric mean.
#
#   R=5 MODEL_WORKLOADS="forkwait cr3switch" bash bench/model_speed_ab.sh OLD NEW
#   MODEL_CLOCK=cpu ...   rates of CPU time, not wall time (a shared host)
#
# Each repetition runs fresh copies of the two binaries: byte-identical
# copies of one build, in different files (so different page-cache pages
# for the text), differed by 3-7 % in CPU time on forkwait here, more than
# many changes measured with this script; the median over R copies is over
# R placements of each.
set -uo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?usage: $0 OLD_REFVMM NEW_REFVMM} NEW=${2:?usage: $0 OLD_REFVMM NEW_REFVMM}
for b in "$OLD" "$NEW"; do
  [ -x "$b" ] || { echo "model_speed_ab: $b is not an executable refvmm (build it first)" >&2; exit 2; }
done
R=${R:-5}
OUT=$(mktemp)
COPIES=$(mktemp -d)
trap 'rm -rf "$OUT" "$COPIES"' EXIT
: > "$OUT"
for i in $(seq 1 "$R"); do
  if [ $((i % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  cp "$OLD" "$COPIES/old.$i" && cp "$NEW" "$COPIES/new.$i" ||
    { echo "model_speed_ab: cannot copy the binaries into $COPIES" >&2; exit 2; }
  for side in $order; do
    bin=$COPIES/old.$i; [ $side = new ] && bin=$COPIES/new.$i
    REFVMM=$bin MODEL_REPS=1 MODEL_TCG=0 bash bench/model_speed.sh 2>/dev/null |
      grep -E '^(compute|callret|gups|memstream|cr3switch|forkwait) ' | sed "s/^/$side $i /" >> "$OUT"
  done
done
python3 - "$OUT" <<'PY'
import sys,re,statistics as st
rows={}
modes=["native","shadow/flush","shadow/vpid","ept/flush","ept/vpid"]
for l in open(sys.argv[1]):
    f=l.split(); side,rep,wl=f[0],f[1],f[2]
    nums=[x for x in f[3:] if re.match(r'^[0-9.]+$',x)][:5]
    for m,v in zip(modes,nums): rows.setdefault((wl,m),{}).setdefault(side,[]).append(float(v))
print("%-10s %-13s %9s %9s %7s"%("workload","mode","old M/s","new M/s","new/old"))
rat=[]
for (wl,m),d in rows.items():
    o=st.median(d.get('old',[0])); n=st.median(d.get('new',[0])); r=n/o if o else 0; rat.append(r)
    print("%-10s %-13s %9.2f %9.2f %7.3f"%(wl,m,o,n,r))
print("geomean new/old: %.3f"%(st.geometric_mean(rat)))
PY
