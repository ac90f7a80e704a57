#!/bin/bash
# sigkill_resume.sh - results are never lost: `vtbench run` on a small real
# matrix (refvmm on KVM) is killed with SIGKILL mid-matrix, several times at
# different moments. After every kill the document on disk must be the
# previous complete write (valid JSON, valid against results/schema.json,
# the runs it had before unchanged), and `--resume` must finish the matrix
# without repeating a finished run. Skips (exit 0, printed reason) where
# /dev/kvm cannot be opened.
set -u
cd "$(dirname "$0")/../.."
VTB=$PWD/${VTBENCH:-bin/vtbench}
export VTBENCH_REFVMM=${VTBENCH_REFVMM:-$PWD/${REFVMM:-bin/refvmm}}
[ -x "$VTB" ] || { echo "sigkill_resume: FAIL: $VTB not built (run make)"; exit 1; }
if ! python3 -c 'import os; os.close(os.open("/dev/kvm", os.O_RDWR))' 2>/dev/null; then
  echo "sigkill_resume: SKIP: /dev/kvm cannot be opened on this host"
  exit 0
fi
TMP=$(mktemp -d /tmp/vtb_sigkill.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
err() { echo "sigkill_resume: FAIL: $*"; fail=1; }
OUT=$TMP/session.json
cat >"$TMP/matrix.json" <<'M'
{"backends": ["kvm"],
 "workloads": [{"name": "pio", "params": {"n": 200}}, {"name": "compute", "params": {"n": 20000}},
               {"name": "cpuid", "params": {"n": 200}}],
 "modes": ["shadow/flush/poll/poll"], "reps": 4, "warmup": 1}
M
TOTAL=12
nruns() { jq '.runs | length' "$1" 2>/dev/null || echo -1; }
keys() { jq -r '.runs[] | "\(.config) #\(.repetition)"' "$1"; }
valid() {
  jq -e '.schema.name == "vtbench-result"' "$1" >/dev/null 2>&1 || return 1
  python3 tests/scripts/validate_json.py "$1" >"$TMP/val" 2>&1 || { cat "$TMP/val"; return 1; }
}

# Start (or resume) and SIGKILL once the document holds at least $1 runs.
kill_after() {
  local want=$1 t=0
  "$VTB" run "${@:2}" -o "$OUT" >"$TMP/log" 2>&1 &
  local pid=$!
  while [ "$(nruns "$OUT")" -lt "$want" ] && kill -0 $pid 2>/dev/null && [ $t -lt 600 ]; do
    sleep 0.02
    t=$((t + 1))
  done
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  sleep 0.3 # the orphaned refvmm child finishes its own (temporary) file
}

kill_after 2 --matrix "$TMP/matrix.json"
[ -f "$OUT" ] || { err "no document after the first kill"; exit 1; }
for round in 1 2 3; do
  valid "$OUT" || err "round $round: document invalid after SIGKILL"
  n=$(nruns "$OUT")
  keys "$OUT" >"$TMP/before"
  [ "$(sort -u "$TMP/before" | wc -l)" = "$n" ] || err "round $round: repeated runs in $OUT"
  echo "sigkill_resume: round $round: killed with $n/$TOTAL runs on disk, document valid"
  [ "$n" -ge "$TOTAL" ] && break
  kill_after $((n + 2)) --resume
  valid "$OUT" || err "round $round: document invalid after SIGKILL during --resume"
  keys "$OUT" | head -n "$(wc -l <"$TMP/before")" | cmp -s - "$TMP/before" ||
    err "round $round: a kill changed runs finished before it"
done
"$VTB" run --resume -o "$OUT" >"$TMP/log" 2>&1 || err "final --resume failed: $(tail -5 "$TMP/log")"
valid "$OUT" || err "final document invalid"
[ "$(nruns "$OUT")" = $TOTAL ] || err "final document has $(nruns "$OUT") runs, expected $TOTAL"
[ "$(keys "$OUT" | sort -u | wc -l)" = $TOTAL ] || err "resume repeated a finished run"
[ "$(jq -r .session.status "$OUT")" = complete ] || err "final document not marked complete"
bad=$(jq '[.runs[] | select(.status != "ok")] | length' "$OUT")
[ "$bad" = 0 ] || err "$bad runs not ok"
# --resume onto a full disk: refused before any run, the document untouched.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  jq '.runs |= .[:9] | .session.status = "incomplete"' "$OUT" >"$TMP/partial.json"
  mkdir -p "$TMP/mnt"
  unshare -m bash -c '
    mount --make-rprivate / && mount -t tmpfs -o size=2m tmpfs "$1" || exit 99
    cp "$2" "$1/s.json" && dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
    "$3" run --resume -o "$1/s.json" >"$4" 2>&1; rc=$?
    cmp -s "$2" "$1/s.json" || rc=98
    exit $rc' _ "$TMP/mnt" "$TMP/partial.json" "$VTB" "$TMP/full.log"
  rc=$?
  if [ $rc = 99 ]; then
    echo "sigkill_resume: SKIP disk-full resume: cannot mount a private tmpfs"
  else
    [ $rc = 20 ] || err "--resume on a full disk: exit $rc, expected 20: $(cat "$TMP/full.log")"
    grep -q "free" "$TMP/full.log" || err "--resume on a full disk: message: $(cat "$TMP/full.log")"
    [ $rc = 98 ] && err "--resume on a full disk changed the document"
    echo "sigkill_resume: --resume on a full disk refused before running: $(cat "$TMP/full.log")"
  fi
fi
# the next run on the document removes what killed writers left next to it
stray=$(find "$TMP" -maxdepth 1 -name 'session.json.tmp*' | wc -l)
[ "$stray" = 0 ] || err "$stray temporary file(s) of killed writers left next to the document"
[ $fail = 0 ] && echo "sigkill_resume: ok ($TOTAL runs, killed 3 times, resumed)"
exit $fail
