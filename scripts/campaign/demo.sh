#!/bin/bash
# demo.sh - a campaign end to end on this machine (make campaign-demo; the
# walk-through in docs/MATRIX.md, "Campaigns", shows its output): a matrix
# of 5 workloads x 7 modes on the model and kvm backends, 5 repetitions,
# cut into 6 shards and run at two sites:
#
#   batch  as a Slurm job array on a one-node cluster started here
#          (scripts/campaign/local_slurm.sh), merged by a dependent job
#   ssh    through GNU parallel over an ssh login to 127.0.0.1
#          (scripts/campaign/local_sshd.sh), merged afterwards
#
# then the campaign's report compares the two sites. Both sites are this
# machine: the comparison is an A/A test (what two campaigns on one host
# differ by), not a comparison of two hosts. Results stay in OUT (default
# build/campaign-demo); the cluster and sshd are stopped at the end.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${1:-build/campaign-demo}
VTB=$ROOT/${VTBENCH:-bin/vtbench}
export VTBENCH_REFVMM=${VTBENCH_REFVMM:-$ROOT/${REFVMM:-bin/refvmm}}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RIG=$(mktemp -d /tmp/vtb_campaign_demo.XXXXXX)
cleanup() {
  bash "$ROOT/scripts/campaign/local_slurm.sh" stop "$RIG/cluster"
  bash "$ROOT/scripts/campaign/local_sshd.sh" stop "$RIG/sshd"
  rm -rf "$RIG"
}
trap cleanup EXIT
bash scripts/campaign/local_slurm.sh start "$RIG/cluster" || exit 1
bash scripts/campaign/local_sshd.sh start "$RIG/sshd" || exit 1
export SLURM_CONF=$RIG/cluster/slurm.conf
cat >"$OUT/matrix.json" <<'M'
{"backends": ["model", "kvm"],
 "workloads": [{"name": "pio", "params": {"n": 2000}}, {"name": "cpuid", "params": {"n": 2000}},
               {"name": "pgfault", "params": {"n": 500}}, {"name": "cr3switch", "params": {"n": 500}},
               {"name": "forkwait", "params": {"n": 20}}],
 "modes": ["native", "shadow/flush", "shadow/vpid", "ept/flush", "ept/vpid",
           "shadow/flush/window/poll", "shadow/flush/poll/window"],
 "reps": 5, "warmup": 1}
M
C=$OUT/campaign
run() { echo "\$ ${*/#$ROOT\//}"; "$@"; }
t0=$(date +%s)
run "$VTB" campaign init "$C" --shards 6 --matrix "$OUT/matrix.json"
# one shard per node at a time: concurrent shards would share the CPUs
run "$VTB" campaign slurm "$C" --site batch -- --exclusive | tee "$RIG/submit.log"
jobs=$(sed -n 's/.*array job \([0-9]*\).*/\1/p;s/.*merge and report as job \([0-9]*\).*/\1/p' "$RIG/submit.log" | paste -sd,)
while [ -n "$(squeue -h -j "$jobs" 2>/dev/null)" ]; do sleep 1; done
echo "(the Slurm site took $(($(date +%s) - t0)) s)"
run cat "$C"/batch/logs/slurm-merge-*.out
t1=$(date +%s)
run "$VTB" campaign parallel "$C" --site ssh --ssh "ssh -F $RIG/sshd/ssh_config" --sshlogin 1/vtbench-local
echo "(the ssh site took $(($(date +%s) - t1)) s)"
run "$VTB" campaign status "$C"
echo "report: $C/report/index.html"
