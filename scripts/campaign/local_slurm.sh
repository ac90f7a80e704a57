#!/bin/bash
# local_slurm.sh - a single-node Slurm cluster on this machine, in a
# directory of its own: munged, slurmctld and slurmd on 127.0.0.1 with a
# generated slurm.conf, for trying `vtbench campaign slurm` without a
# cluster and for its test (tests/scripts/campaign_slurm.sh). Nothing of
# the system's configuration is used or changed: every file, socket, port
# and log is under DIR; `stop` ends the daemons it started.
#
#   bash scripts/campaign/local_slurm.sh start DIR   # then: export SLURM_CONF=DIR/slurm.conf
#   bash scripts/campaign/local_slurm.sh stop DIR
#
# Needs root (the daemons run as root, jobs as the submitting user) and
# Debian's slurm-wlm (slurmctld, slurmd, slurm-client, munge). Exit 0 when
# the node is idle and takes jobs; 1 with the reason and the daemons' log
# tails otherwise (what was started is stopped again).
set -uo pipefail
ACTION=${1:-}
DIR=${2:-}
[ -n "$ACTION" ] && [ -n "$DIR" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
say() { echo "local_slurm: $*" >&2; }

stop() {
  local d=$1
  [ -f "$d/slurm.conf" ] || return 0
  SLURM_CONF=$d/slurm.conf scontrol shutdown >/dev/null 2>&1
  for pidfile in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    local pid t=0
    pid=$(cat "$pidfile" 2>/dev/null)
    [ -n "$pid" ] || continue
    # scontrol shutdown ends the Slurm daemons; munged is told here
    [ "$pidfile" = "$d/munge/munged.pid" ] && kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
    kill -0 "$pid" 2>/dev/null && { say "pid $pid ($pidfile) did not end: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
    rm -f "$pidfile"
  done
  return 0
}

if [ "$ACTION" = stop ]; then
  stop "$DIR"
  exit 0
fi
[ "$ACTION" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for b in munged slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$b" >/dev/null || { say "$b not installed (Debian: slurm-wlm; make deps installs it)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { say "needs root (slurmctld and slurmd run as root here)"; exit 1; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool"
chmod 700 "$DIR/munge"

fail() {
  say "$*"
  for l in "$DIR/munge/munged.log" "$DIR/slurmctld.log" "$DIR/slurmd.log"; do
    [ -f "$l" ] && { echo "--- $l" >&2; tail -5 "$l" >&2; }
  done
  stop "$DIR"
  exit 1
}

# munge: its own key and socket
head -c 1024 /dev/urandom >"$DIR/munge/munge.key"
chmod 600 "$DIR/munge/munge.key"
munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
  --seed-file="$DIR/munge/munged.seed" || fail "munged did not start"

# two free ports on the loopback
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
[ -n "$SLURMD_PORT" ] || fail "no free port on 127.0.0.1"
NODE=$(hostname -s)
cat >"$DIR/slurm.conf" <<EOF
# A one-node cluster for vtbench's campaign test (scripts/campaign/local_slurm.sh).
ClusterName=vtbench-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$DIR/slurm.conf
slurmctld -i || fail "slurmctld did not start"
slurmd || fail "slurmd did not start"
for _ in $(seq 100); do
  state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null)
  [ "$state" = idle ] && { say "node $NODE idle; export SLURM_CONF=$DIR/slurm.conf"; exit 0; }
  sleep 0.1
done
fail "node $NODE not idle after 10 s (state '${state:-none}')"
