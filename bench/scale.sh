#!/bin/bash
# bench/scale.sh - `vtbench report` and `vtbench merge` on a million runs
# (part of `make bench`; alone: bash bench/scale.sh).
#
# Generates (bench/big_doc.sh) a document of RUNS runs (default 10^6, 120
# configurations, ~721 MB) and the same runs as 4 shards, then measures,
# REPS times each, interleaved:
#   report  vtbench report BIG.json -o DIR          (CSVs, plots, pages)
#   merge   vtbench merge -o OUT.json SHARD1..4     (streamed, aggregates)
# and prints every repetition's wall time, CPU time (user + sys, children
# included: gnuplot) and peak RSS, then the medians. Fails when a median
# wall time passes LIMIT_S (60) or a peak RSS LIMIT_MB (2048).
#
#   RUNS=1000000 REPS=3 LIMIT_S=60 LIMIT_MB=2048 WORK=/tmp bash bench/scale.sh
#
# The machine is shared: the load average is printed next to the figures
# (a loaded machine stretches wall time, not CPU time).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1000000}
REPS=${REPS:-3}
LIMIT_S=${LIMIT_S:-60}
LIMIT_MB=${LIMIT_MB:-2048}
VTB=${VTBENCH:-bin/vtbench}
[ -x "$VTB" ] || { echo "scale: $VTB not built (run make)" >&2; exit 1; }
work=$(mktemp -d "${WORK:-${TMPDIR:-/tmp}}/vtb_scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
export VTBENCH_PLOTS=${VTBENCH_PLOTS:-$PWD/plots}

echo "scale: generating $RUNS runs (bench/big_doc.sh) into $work"
bash bench/big_doc.sh -n "$RUNS" "$work/big.json"
bash bench/big_doc.sh -n "$RUNS" -s 4 "$work/shard"
echo "scale: big.json $(du -m "$work/big.json" | cut -f1) MB, shards $(du -mc "$work"/shard.*.json | tail -1 | cut -f1) MB"

# Run a command; print "WALL CPU RSS_MB" (CPU: user + sys of it and its
# children; RSS: the peak of the largest of them).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if rc.returncode not in (0, 1):
    sys.stderr.write(rc.stderr.decode())
    sys.exit(rc.returncode)
print("%.2f %.2f %.0f" % (wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024))
PY
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

printf '%4s %-7s %9s %9s %9s %s\n' rep what wall_s cpu_s rss_mb load
: >"$work/report" && : >"$work/merge"
for i in $(seq 1 "$REPS"); do
  for what in report merge; do
    if [ "$what" = report ]; then
      r=$(measure "$VTB" report "$work/big.json" -o "$work/rep")
    else
      r=$(measure "$VTB" merge -o "$work/merged.json" "$work"/shard.{1,2,3,4}.json)
    fi
    echo "$r" >>"$work/$what"
    printf '%4d %-7s %9s %9s %9s %s\n' "$i" "$what" $r "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
fail=0
for what in report merge; do
  w=$(cut -d' ' -f1 "$work/$what" | median)
  c=$(cut -d' ' -f2 "$work/$what" | median)
  m=$(cut -d' ' -f3 "$work/$what" | sort -g | tail -1)
  echo "scale: $what of $RUNS runs: median wall $w s (limit $LIMIT_S), CPU $c s, peak RSS $m MB (limit $LIMIT_MB)"
  awk -v w="$w" -v l="$LIMIT_S" 'BEGIN {exit !(w > l)}' && { echo "scale: FAIL: $what slower than $LIMIT_S s" >&2; fail=1; }
  awk -v m="$m" -v l="$LIMIT_MB" 'BEGIN {exit !(m > l)}' && { echo "scale: FAIL: $what used more than $LIMIT_MB MB" >&2; fail=1; }
done
[ "$(grep -c "\"repetition\":" "$work/merged.json")" = "$RUNS" ] || { echo "scale: FAIL: the merged document lost runs" >&2; fail=1; }
[ $fail = 0 ] && echo "scale: passed"
exit $fail
