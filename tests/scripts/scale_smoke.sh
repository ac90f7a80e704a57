#!/bin/bash
# scale_smoke.sh - the million-run measurement (bench/scale.sh, make bench)
# at a size make check can afford: `vtbench report` and `vtbench merge` of
# 20000 synthetic runs (bench/big_doc.sh) stay within a memory bound that
# holding the runs in memory breaks (the runs take 14 MB as text; loaded
# into jansson they took ~250 MB), merge keeps every run and
# marks the whole set of shards complete, a merge killed with SIGKILL while
# writing leaves no temporary next to its output, and a document holding
# every run twice is refused.
set -u
cd "$(dirname "$0")/../.."
VTB=$PWD/${VTBENCH:-bin/vtbench}
[ -x "$VTB" ] || { echo "scale_smoke: $VTB not built (run make)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_scale_smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
err() { echo "scale_smoke: FAIL: $*"; fail=1; }
RUNS=20000
# ASan's shadow memory and quarantine add ~500 MB to a sanitized build (SAN=1)
case $VTB in *-san/*) LIMIT_MB=${LIMIT_MB:-1024} ;; *) LIMIT_MB=${LIMIT_MB:-120} ;; esac
export VTBENCH_PLOTS=$PWD/plots

bash bench/big_doc.sh -n $RUNS "$TMP/big.json"
bash bench/big_doc.sh -n $RUNS -s 4 "$TMP/shard"
bash bench/big_doc.sh -n 2000 -d "$TMP/twice.json"
bash bench/big_doc.sh -n 2000 -s 2 "$TMP/small"
bash bench/big_doc.sh -n 100000 -s 2 "$TMP/kill"

# peak RSS (MB) of a command; its exit status in $TMP/rc
peak() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024), rc)
PY
}

read -r mb rc < <(peak "$VTB" report "$TMP/big.json" -o "$TMP/rep")
[ "$rc" = 0 ] || [ "$rc" = 1 ] || err "report exit $rc"
[ "$mb" -le "$LIMIT_MB" ] || err "report of $RUNS runs peaked at $mb MB (limit $LIMIT_MB)"
grep -q "$RUNS runs ($RUNS ok) in 120 configurations" "$TMP/rep/summary.md" ||
  err "report does not count the $RUNS runs"
read -r mb2 rc < <(peak "$VTB" merge -o "$TMP/merged.json" "$TMP"/shard.{1,2,3,4}.json)
[ "$rc" = 0 ] || err "merge exit $rc"
[ "$mb2" -le "$LIMIT_MB" ] || err "merge of $RUNS runs peaked at $mb2 MB (limit $LIMIT_MB)"
[ "$(grep -c '"repetition":' "$TMP/merged.json")" = $RUNS ] || err "the merged document lost runs"
[ "$(jq -r .session.status "$TMP/merged.json")" = complete ] || err "merge of all 4 shards not complete"
"$VTB" merge -o "$TMP/small.json" "$TMP"/small.{1,2}.json >/dev/null || err "merge of 2 shards failed"
python3 tests/scripts/validate_json.py "$TMP/small.json" >/dev/null || err "merged document invalid"
echo "scale_smoke: $RUNS runs: report peak $mb MB, merge peak $mb2 MB (limit $LIMIT_MB)"

# killed while writing: nothing but the inputs stays
mkdir "$TMP/k"
"$VTB" merge -o "$TMP/k/out.json" "$TMP"/kill.{1,2}.json >/dev/null 2>&1 &
pid=$!
sleep 1
if kill -KILL $pid 2>/dev/null; then
  echo "scale_smoke: merge killed while writing"
else
  echo "scale_smoke: SKIP kill test: the merge of 100000 runs ended within 1 s"
fi
wait $pid 2>/dev/null
left=$(ls -A "$TMP/k")
[ -z "$left" ] || [ "$left" = out.json ] || err "a killed merge left: $left"

"$VTB" report "$TMP/twice.json" -o "$TMP/rep2" >"$TMP/out" 2>&1
rc=$?
[ $rc = 6 ] || err "report of a document with every run twice: exit $rc, expected 6"
grep -q "is runs\[0\] again" "$TMP/out" || err "duplicate message: $(cat "$TMP/out")"

[ $fail = 0 ] && echo "scale_smoke: passed"
exit $fail
