#!/bin/bash
# campaign_parallel.sh - `vtbench campaign parallel` through GNU parallel,
# for real:
#
# 1. A small matrix (model; kvm too where /dev/kvm opens) as 4 shards over
#    2 local job slots, merged: the merged document must equal an
#    unsharded `vtbench run` of the same matrix (tests/scripts/same_runs.py).
# 2. The same matrix as a second site over ssh (--sshlogin, to an sshd on
#    127.0.0.1 started here: scripts/campaign/local_sshd.sh), merged and
#    equal again; the campaign's report compares the two sites (--compare:
#    both are this machine, so no configuration may differ significantly
#    in its counts... the check is that the comparison is there).
# 3. A shard killed with SIGKILL while it runs: GNU parallel reports it,
#    the merge refuses the set and names the shard ("ended without a
#    record"), the shard run again alone (--only 2) resumes and keeps the
#    runs the killed attempt finished, and the merge is complete.
#
# Skips (exit 0, printed reason) without GNU parallel (make deps installs
# it); part 2 skips without sshd (openssh-server, also from make deps).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
VTB=$ROOT/${VTBENCH:-bin/vtbench}
export VTBENCH_REFVMM=${VTBENCH_REFVMM:-$ROOT/${REFVMM:-bin/refvmm}}
[ -x "$VTB" ] || { echo "campaign_parallel: FAIL: $VTB not built (run make)"; exit 1; }
command -v parallel >/dev/null || { echo "campaign_parallel: SKIP: GNU parallel not installed (Debian parallel: make deps installs it)"; exit 0; }
command -v jq >/dev/null || { echo "campaign_parallel: FAIL: jq missing (make deps)"; exit 1; }

TMP=$(mktemp -d /tmp/vtb_campaign_parallel.XXXXXX)
cleanup() {
  [ -d "$TMP/sshd" ] && bash "$ROOT/scripts/campaign/local_sshd.sh" stop "$TMP/sshd"
  rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
err() { echo "campaign_parallel: FAIL: $*"; fail=1; }
t0=$(date +%s)

cat >"$TMP/matrix.json" <<'M'
{"backends": ["model", "kvm"],
 "workloads": [{"name": "pio", "params": {"n": 200}}, {"name": "cpuid", "params": {"n": 200}},
               {"name": "pgfault", "params": {"n": 50}}, {"name": "cr3switch", "params": {"n": 100}}],
 "modes": ["native", "shadow/flush", "ept/vpid"], "reps": 2, "warmup": 0}
M

# ---- 1. local job slots ------------------------------------------------------------------
"$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/whole.json" >"$TMP/whole.log" 2>&1 ||
  { cat "$TMP/whole.log"; err "the unsharded run failed"; exit 1; }
C=$TMP/c
"$VTB" campaign init "$C" --shards 4 --matrix "$TMP/matrix.json" >/dev/null 2>&1 || { err "campaign init failed"; exit 1; }
"$VTB" campaign parallel "$C" --site local -j 2 >"$TMP/local.log" 2>&1 || { cat "$TMP/local.log"; err "campaign parallel (local slots) failed"; }
grep -q "parallel job [1-4]" "$C/local/tasks/shard-3.json" || err "shard 3's record does not name its parallel job"
python3 tests/scripts/same_runs.py "$TMP/whole.json" "$C/local/merged-local.json" || err "merged campaign (local slots) differs from the unsharded run"
[ -s "$C/report/index.html" ] || err "no report after the local campaign"
echo "campaign_parallel: 4 shards on 2 local job slots merged, equal to the unsharded run ($(($(date +%s) - t0)) s)"

# ---- 2. ssh logins ------------------------------------------------------------------------
if ! command -v sshd >/dev/null && [ ! -x /usr/sbin/sshd ]; then
  echo "campaign_parallel: SKIP --sshlogin: sshd not installed (openssh-server: make deps installs it)"
elif ! bash scripts/campaign/local_sshd.sh start "$TMP/sshd" 2>"$TMP/sshd.log"; then
  cat "$TMP/sshd.log"
  err "the ssh server on 127.0.0.1 did not start"
else
  "$VTB" campaign parallel "$C" --site ssh --ssh "ssh -F $TMP/sshd/ssh_config" --sshlogin 2/vtbench-local \
    >"$TMP/ssh.log" 2>&1 || { cat "$TMP/ssh.log"; err "campaign parallel --sshlogin failed"; }
  jq -e '.attempts[-1].scheduler | startswith("parallel job")' "$C/ssh/tasks/shard-1.json" >/dev/null ||
    err "shard 1 (ssh) does not record its parallel job"
  python3 tests/scripts/same_runs.py "$TMP/whole.json" "$C/ssh/merged-ssh.json" || err "merged campaign (ssh) differs from the unsharded run"
  [ "$(jq '.comparison | length' "$C/report/report.json")" -gt 0 ] || err "the campaign's report does not compare the two sites"
  grep -q "merged-ssh.json" "$C/report/summary.md" || err "the report does not name the second site's document"
  echo "campaign_parallel: 4 shards over --sshlogin merged, equal; the report compares sites local and ssh ($(($(date +%s) - t0)) s)"
fi

# ---- 3. a shard killed with SIGKILL ---------------------------------------------------------
K=$TMP/k
"$VTB" campaign init "$K" --shards 4 --matrix "$TMP/matrix.json" --reps 5 --model-reps 5 >/dev/null 2>&1 || err "init (kill) failed"
# how many runs the whole matrix and shard 2 hold on this host, as vtbench run plans them
jobs() { "$VTB" run --matrix "$TMP/matrix.json" --reps 5 --model-reps 5 --dry-run "$@" -o "$TMP/plan.json" 2>/dev/null |
  tail -1 | sed -n 's/.* \([0-9]*\) jobs.*/\1/p'; }
TOTAL=$(jobs) SHARD2=$(jobs --shard 2/4)
[ -n "$TOTAL" ] && [ -n "$SHARD2" ] && [ "$SHARD2" -ge 3 ] || err "vtbench run --dry-run gave no job counts ($TOTAL, $SHARD2)"
"$VTB" campaign parallel "$K" -j 2 >"$TMP/kill.log" 2>&1 &
camp=$!
DOC=$K/default/shards/shard-2.json
n=0
for _ in $(seq 600); do
  n=$(jq '.runs | length' "$DOC" 2>/dev/null || echo 0)
  [ "$n" -ge 2 ] && break
  sleep 0.05
done
pid=$(jq -r '.attempts[-1].pid' "$K/default/tasks/shard-2.json" 2>/dev/null)
[ "$n" -ge 2 ] && [ -n "$pid" ] || err "shard 2 never wrote 2 runs"
kill -KILL "$pid" 2>/dev/null
wait $camp
rc=$?
[ $rc = 6 ] || { cat "$TMP/kill.log"; err "campaign parallel with a killed shard exited $rc (expected 6: not merged)"; }
grep -q "GNU parallel ended with exit 1" "$TMP/kill.log" || err "parallel's failure not reported"
grep -q "shard 2/4: interrupted after [0-9]* of $SHARD2 runs (attempt 1 on .*: ended without a record" "$TMP/kill.log" ||
  { cat "$TMP/kill.log"; err "the merge does not name the killed shard"; }
[ -f "$K/default/merged-default.json" ] && err "an incomplete set was merged"
kept=$(jq '.runs | length' "$DOC")
jq -c '.runs[] | [.config, .repetition, .timed.wall_ns]' "$DOC" >"$TMP/kept.txt"
[ "$kept" -ge 2 ] && [ "$kept" -lt "$SHARD2" ] || err "the killed shard kept $kept runs (expected 2..$((SHARD2 - 1)))"
"$VTB" campaign parallel "$K" --only 2 >"$TMP/again.log" 2>&1 || { cat "$TMP/again.log"; err "running shard 2 again failed"; }
grep -q "attempt 2 on .*: resuming its document" "$TMP/again.log" || err "the second attempt did not resume"
[ "$(jq -r .session.status "$K/default/merged-default.json")" = complete ] || err "not complete after shard 2 ran again"
[ "$(jq '.runs | length' "$K/default/merged-default.json")" = "$TOTAL" ] || err "$(jq '.runs | length' "$K/default/merged-default.json") runs merged, expected $TOTAL"
jq -c '.runs[] | [.config, .repetition, .timed.wall_ns]' "$K/default/merged-default.json" >"$TMP/final.txt"
[ "$(grep -cxFf "$TMP/kept.txt" "$TMP/final.txt")" = "$kept" ] || err "runs the killed attempt finished were not kept as they were"
echo "campaign_parallel: shard killed with SIGKILL named, not merged; run again alone: $kept runs kept, 80 merged ($(($(date +%s) - t0)) s)"

[ $fail = 0 ] && echo "campaign_parallel: all checks passed"
exit $fail
