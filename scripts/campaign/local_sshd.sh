#!/bin/bash
# local_sshd.sh - an ssh server on 127.0.0.1 for this user, in a directory
# of its own: a host key and a client key made for it, an ssh_config whose
# host `vtbench-local` logs in with that key. For trying `vtbench campaign
# parallel --sshlogin` without other machines, and for its test
# (tests/scripts/campaign_parallel.sh). The system's sshd configuration,
# host keys and ~/.ssh are neither used nor changed.
#
#   bash scripts/campaign/local_sshd.sh start DIR
#   vtbench campaign parallel C --ssh "ssh -F DIR/ssh_config" --sshlogin vtbench-local
#   bash scripts/campaign/local_sshd.sh stop DIR
#
# Needs Debian's openssh-server (sshd) and openssh-client. sshd wants its
# privilege-separation directory /run/sshd: created when missing (a
# directory of the run-time tmpfs) and removed again at stop.
set -uo pipefail
ACTION=${1:-}
DIR=${2:-}
[ -n "$ACTION" ] && [ -n "$DIR" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
say() { echo "local_sshd: $*" >&2; }

if [ "$ACTION" = stop ]; then
  if [ -f "$DIR/sshd.pid" ]; then
    pid=$(cat "$DIR/sshd.pid")
    kill -TERM "$pid" 2>/dev/null
    t=0
    while kill -0 "$pid" 2>/dev/null && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
    rm -f "$DIR/sshd.pid"
  fi
  [ -f "$DIR/made_run_sshd" ] && rmdir /run/sshd 2>/dev/null
  rm -f "$DIR/made_run_sshd"
  exit 0
fi
[ "$ACTION" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || { say "sshd not installed (Debian: openssh-server; make deps installs it)"; exit 1; }
command -v ssh >/dev/null || { say "ssh not installed (Debian: openssh-client)"; exit 1; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
chmod 700 "$DIR"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_key" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$DIR/client_key" || exit 1
cp "$DIR/client_key.pub" "$DIR/authorized_keys"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1:$PORT
HostKey $DIR/host_key
AuthorizedKeysFile $DIR/authorized_keys
AllowUsers $(id -un)
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $DIR/sshd.pid
EOF
cat >"$DIR/ssh_config" <<EOF
Host vtbench-local
  HostName 127.0.0.1
  Port $PORT
  User $(id -un)
  IdentityFile $DIR/client_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile $DIR/known_hosts
  BatchMode yes
  LogLevel ERROR
EOF
if [ ! -d /run/sshd ]; then
  mkdir -m 755 /run/sshd 2>/dev/null && touch "$DIR/made_run_sshd"
fi
"$SSHD" -f "$DIR/sshd_config" -E "$DIR/sshd.log" || { say "sshd did not start: $(tail -3 "$DIR/sshd.log")"; exit 1; }
for _ in $(seq 50); do
  ssh -F "$DIR/ssh_config" vtbench-local true 2>/dev/null && { say "sshd on 127.0.0.1:$PORT; ssh -F $DIR/ssh_config vtbench-local"; exit 0; }
  sleep 0.1
done
say "cannot log in to 127.0.0.1:$PORT: $(tail -3 "$DIR/sshd.log")"
bash "$0" stop "$DIR"
exit 1
