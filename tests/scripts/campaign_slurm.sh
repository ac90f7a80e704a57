#!/bin/bash
# campaign_slurm.sh - `vtbench campaign slurm` on a real Slurm cluster: a
# single-node one started here (scripts/campaign/local_slurm.sh: munged,
# slurmctld and slurmd on 127.0.0.1, its slurm.conf in a temporary
# directory, stopped at the end).
#
# 1. A small matrix (model; kvm too where /dev/kvm opens) as an array of 4
#    shards, merged by a dependent job: the merged document must equal an
#    unsharded `vtbench run` of the same matrix in every configuration and
#    count (tests/scripts/same_runs.py), every shard must name its Slurm
#    task, and the report must render.
# 2. A shard cancelled while it runs (scancel: SIGTERM): the merge job
#    refuses the set and names the shard; status names it; merge
#    --allow-incomplete writes an incomplete document; the shard
#    resubmitted alone (--only 2) resumes, keeps the runs the cancelled
#    attempt finished, and the new merge job writes the complete document.
#
# Skips (exit 0, printed reason) without slurm-wlm (make deps installs it)
# or without root.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
VTB=$ROOT/${VTBENCH:-bin/vtbench}
export VTBENCH_REFVMM=${VTBENCH_REFVMM:-$ROOT/${REFVMM:-bin/refvmm}}
[ -x "$VTB" ] || { echo "campaign_slurm: FAIL: $VTB not built (run make)"; exit 1; }
for b in munged slurmctld slurmd sbatch squeue scancel; do
  command -v $b >/dev/null || { echo "campaign_slurm: SKIP: $b not installed (Debian slurm-wlm: make deps installs it)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "campaign_slurm: SKIP: the one-node cluster's daemons need root"; exit 0; }
command -v jq >/dev/null || { echo "campaign_slurm: FAIL: jq missing (make deps)"; exit 1; }

TMP=$(mktemp -d /tmp/vtb_campaign_slurm.XXXXXX)
cleanup() {
  bash "$ROOT/scripts/campaign/local_slurm.sh" stop "$TMP/cluster"
  rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
err() { echo "campaign_slurm: FAIL: $*"; fail=1; }
t0=$(date +%s)

bash scripts/campaign/local_slurm.sh start "$TMP/cluster" || { echo "campaign_slurm: FAIL: the one-node cluster did not start"; exit 1; }
export SLURM_CONF=$TMP/cluster/slurm.conf

cat >"$TMP/matrix.json" <<'M'
{"backends": ["model", "kvm"],
 "workloads": [{"name": "pio", "params": {"n": 200}}, {"name": "cpuid", "params": {"n": 200}},
               {"name": "pgfault", "params": {"n": 50}}, {"name": "cr3switch", "params": {"n": 100}}],
 "modes": ["native", "shadow/flush", "ept/vpid"], "reps": 2, "warmup": 0}
M

# Wait until the jobs given leave the queue (120 s at most).
wait_jobs() {
  for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  err "jobs $1 still queued after 120 s: $(squeue -h -j "$1")"
  return 1
}
jobs_of() { sed -n 's/.*array job \([0-9]*\).*/\1/p;s/.*merge and report as job \([0-9]*\).*/\1/p' "$1" | paste -sd,; }

# ---- 1. the whole campaign ----------------------------------------------------------------
"$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/whole.json" >"$TMP/whole.log" 2>&1 ||
  { cat "$TMP/whole.log"; err "the unsharded run failed"; exit 1; }
C=$TMP/c
"$VTB" campaign init "$C" --shards 4 --matrix "$TMP/matrix.json" >"$TMP/init.log" 2>&1 ||
  { cat "$TMP/init.log"; err "campaign init failed"; exit 1; }
"$VTB" campaign slurm "$C" >"$TMP/submit.log" 2>&1 || { cat "$TMP/submit.log"; err "campaign slurm failed"; exit 1; }
cat "$TMP/submit.log"
grep -q "array job" "$TMP/submit.log" || err "no array job submitted"
grep -q "dependency=afterany:" "$TMP/submit.log" || err "the merge job does not depend on the array"
wait_jobs "$(jobs_of "$TMP/submit.log")"
[ -f "$C/default/merged-default.json" ] || { cat "$C"/default/logs/slurm-merge-*.out; err "no merged document"; }
python3 tests/scripts/same_runs.py "$TMP/whole.json" "$C/default/merged-default.json" || err "merged campaign differs from the unsharded run"
[ "$(jq -r .session.status "$C/default/merged-default.json")" = complete ] || err "merged document not complete"
[ "$(jq -r '[.session.merged_from[].session.shard] | sort | join(",")' "$C/default/merged-default.json")" = "1/4,2/4,3/4,4/4" ] ||
  err "merged_from does not list shards 1/4..4/4"
for i in 1 2 3 4; do
  grep -q "slurm job [0-9]*_$i" <(jq -r '.attempts[-1].scheduler' "$C/default/tasks/shard-$i.json") ||
    err "shard $i's task record does not name its Slurm array task"
done
"$VTB" campaign status "$C" >"$TMP/status.log" || { cat "$TMP/status.log"; err "status says incomplete"; }
[ -s "$C/report/index.html" ] && [ -s "$C/report/summary.md" ] || err "the report did not render ($C/report)"
grep -q "merged from" "$C/report/summary.md" || err "the report does not say which shards it merged"
echo "campaign_slurm: array of 4 shards merged by its dependent job, equal to the unsharded run, report rendered ($(($(date +%s) - t0)) s)"

# ---- 2. a shard cancelled while it runs ----------------------------------------------------
K=$TMP/k
"$VTB" campaign init "$K" --shards 4 --matrix "$TMP/matrix.json" --reps 5 --model-reps 5 >/dev/null 2>&1 || err "init (kill) failed"
# how many runs the whole matrix and shard 2 hold on this host, as vtbench run plans them
jobs() { "$VTB" run --matrix "$TMP/matrix.json" --reps 5 --model-reps 5 --dry-run "$@" -o "$TMP/plan.json" 2>/dev/null |
  tail -1 | sed -n 's/.* \([0-9]*\) jobs.*/\1/p'; }
TOTAL=$(jobs) SHARD2=$(jobs --shard 2/4)
[ -n "$TOTAL" ] && [ -n "$SHARD2" ] && [ "$SHARD2" -ge 3 ] || err "vtbench run --dry-run gave no job counts ($TOTAL, $SHARD2)"
"$VTB" campaign slurm "$K" >"$TMP/submit2.log" 2>&1 || { cat "$TMP/submit2.log"; err "campaign slurm (kill) failed"; }
ARRAY=$(sed -n 's/.*array job \([0-9]*\).*/\1/p' "$TMP/submit2.log")
DOC=$K/default/shards/shard-2.json
n=0
for _ in $(seq 600); do
  n=$(jq '.runs | length' "$DOC" 2>/dev/null || echo 0)
  [ "$n" -ge 2 ] && break
  sleep 0.05
done
[ "$n" -ge 2 ] || err "shard 2 never wrote 2 runs"
scancel "${ARRAY}_2"
wait_jobs "$(jobs_of "$TMP/submit2.log")"
[ -f "$K/default/merged-default.json" ] && err "the merge job merged an incomplete set"
grep -q "shard 2/4: interrupted after [0-9]* of $SHARD2 runs" "$K"/default/logs/slurm-merge-*.out ||
  { cat "$K"/default/logs/slurm-merge-*.out; err "the merge job's log does not name the cancelled shard"; }
[ "$(jq -r .session.status "$DOC")" = incomplete ] || err "the cancelled shard's document is not marked incomplete"
kept=$(jq '.runs | length' "$DOC")
[ "$kept" -ge 2 ] && [ "$kept" -lt "$SHARD2" ] || err "the cancelled shard kept $kept runs (expected 2..$((SHARD2 - 1)))"
jq -c '.runs[] | [.config, .repetition, .timed.wall_ns]' "$DOC" >"$TMP/kept.txt"
"$VTB" campaign status "$K" >"$TMP/status2.log"
[ $? = 1 ] || err "status of an incomplete campaign did not exit 1"
grep -q "shard 2/4: interrupted" "$TMP/status2.log" || { cat "$TMP/status2.log"; err "status does not name shard 2"; }
grep -q -- "--only 2" "$TMP/status2.log" || err "status does not say how to resubmit shard 2"
"$VTB" campaign merge "$K" >"$TMP/merge2.log" 2>&1
[ $? = 6 ] || err "campaign merge of an incomplete set did not exit 6"
"$VTB" campaign merge "$K" --allow-incomplete >"$TMP/merge3.log" 2>&1 || { cat "$TMP/merge3.log"; err "merge --allow-incomplete failed"; }
[ "$(jq -r .session.status "$K/default/merged-default.json")" = incomplete ] || err "--allow-incomplete: document not marked incomplete"
[ "$(jq '.runs | length' "$K/default/merged-default.json")" = $((60 + kept)) ] || err "--allow-incomplete: not every finished run merged"

"$VTB" campaign slurm "$K" --only 2 >"$TMP/submit3.log" 2>&1 || { cat "$TMP/submit3.log"; err "resubmitting shard 2 failed"; }
wait_jobs "$(jobs_of "$TMP/submit3.log")"
[ "$(jq -r .session.status "$K/default/merged-default.json")" = complete ] || { cat "$K"/default/logs/slurm-merge-*.out; err "after the resubmission the merge is not complete"; }
[ "$(jq '.runs | length' "$K/default/merged-default.json")" = "$TOTAL" ] || err "after the resubmission: $(jq '.runs | length' "$K/default/merged-default.json") runs, expected $TOTAL"
[ "$(jq -r '.runs[] | "\(.config) \(.repetition)"' "$K/default/merged-default.json" | sort | uniq -d | wc -l)" = 0 ] || err "a run is in the merge twice"
jq -c '.runs[] | [.config, .repetition, .timed.wall_ns]' "$K/default/merged-default.json" >"$TMP/final.txt"
[ "$(grep -cxFf "$TMP/kept.txt" "$TMP/final.txt")" = "$kept" ] || err "runs the cancelled attempt finished were not kept as they were"
[ "$(jq '.attempts | length' "$K/default/tasks/shard-2.json")" = 2 ] || err "shard 2 does not record 2 attempts"
[ "$(jq -r '.attempts[1].resumed' "$K/default/tasks/shard-2.json")" = true ] || err "shard 2's second attempt did not resume"
echo "campaign_slurm: cancelled shard named by the merge job and status, merged with --allow-incomplete, resubmitted alone: $kept runs kept, 80 merged ($(($(date +%s) - t0)) s)"

[ $fail = 0 ] && echo "campaign_slurm: all checks passed"
exit $fail
