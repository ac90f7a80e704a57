#!/bin/bash
# qemu_run.sh - run Linux guest workloads under QEMU TCG (no VMM answers the
# hypercall ports there: the init prints its reports and result line) and
# check each checksum against the host's reference (expect.py).
#
#   bash scripts/linux_guest/qemu_run.sh [options] WORKLOAD [KEY=VALUE...]
#   bash scripts/linux_guest/qemu_run.sh [options] --all
#     --all            every workload once with small parameters (~1-2 min)
#     --mem MIB        guest RAM (default 512)
#     --timeout S      per boot (default 300)
#     --console FILE   keep the (last) guest console here
#     --quiet          only the result lines
#   KERNEL / INITRD in the environment override the kernel
#   (build/kvm-amd/cache/root/boot/vmlinuz-*, make deps) and the initramfs
#   (workloads/build/linux/initramfs.cpio, make).
#
# Prints the guest's `vtb-linux: result ...` line per workload and whether
# its checksum matches. Exit 0 when every workload ended with status 0 and
# the expected checksum, 1 otherwise, 2 for a usage error or missing files.
set -uo pipefail
cd "$(dirname "$0")/../.."
QEMU=${QEMU:-qemu-system-x86_64}
# Debian's kernel as scripts/kvm_amd/fetch.sh caches it (make deps)
KERNEL=${KERNEL:-$(ls build/kvm-amd/cache/root/boot/vmlinuz-* 2>/dev/null | head -1)}
INITRD=${INITRD:-workloads/build/linux/initramfs.cpio}
MEM=512 TIMEOUT=300 KEEP="" QUIET=0 ALL=0
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
  --all) ALL=1 ;;
  --mem) MEM=${2:?--mem needs MIB}; shift ;;
  --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
  --console) KEEP=${2:?--console needs a file}; shift ;;
  --quiet) QUIET=1 ;;
  -h | --help) usage ;;
  -*) echo "qemu_run: unknown option $1" >&2; usage ;;
  *) break ;;
  esac
  shift
done
[ $ALL = 1 ] || [ $# -ge 1 ] || usage
command -v "$QEMU" >/dev/null || { echo "qemu_run: $QEMU not found (make deps installs qemu-system-x86)" >&2; exit 2; }
[ -n "$KERNEL" ] && [ -f "$KERNEL" ] || { echo "qemu_run: no kernel${KERNEL:+ at $KERNEL} (make deps fetches Debian's into build/kvm-amd/cache)" >&2; exit 2; }
[ -f "$INITRD" ] || { echo "qemu_run: no initramfs at $INITRD (make)" >&2; exit 2; }

log=$(mktemp "${TMPDIR:-/tmp}/vtb-linux-console.XXXXXX")
trap 'rm -f "$log"' EXIT
fails=0

# boot WORKLOAD KEY=VALUE...: one guest; checks its result line.
boot() {
  local wl=$1 words="" kv
  shift
  for kv in "$@"; do words+=" vtb.$kv"; done
  local start=$SECONDS
  timeout "$TIMEOUT" "$QEMU" -accel tcg -cpu max -m "$MEM" -smp 1 -nographic -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 nokaslr panic=-1 quiet loglevel=3 cryptomgr.notests=1 vtb.workload=$wl$words" \
    </dev/null 2>&1 | tr -d '\r' | sed 's/\x1bc/\n/g; s/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$log"
  local rc=${PIPESTATUS[0]} secs=$((SECONDS - start))
  [ -n "$KEEP" ] && cp "$log" "$KEEP"
  [ $QUIET = 1 ] || grep -E '^(vtb|report)' "$log" | grep -v '^vtb-linux: result' | sed 's/^/  | /'
  local line
  line=$(grep -a '^vtb-linux: result ' "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "qemu_run: $wl$words: no result line (QEMU exit $rc after ${secs}s); last console lines:"
    tail -8 "$log" | sed 's/^/  | /'
    fails=$((fails + 1))
    return
  fi
  echo "$line (${secs}s boot to power-off)"
  local status sum params want
  status=$(sed -n 's/.* status=\([0-9]*\).*/\1/p' <<<"$line")
  sum=$(sed -n 's/.* checksum=\([0-9]*\).*/\1/p' <<<"$line")
  params=$(grep -o 'vtb\.[a-z0-9_]*=[0-9]*' <<<"$line" | tr '\n' ' ')
  if [ "$status" != 0 ]; then
    echo "qemu_run: $wl: status $status (see the messages above; docs/LINUX.md lists the statuses)"
    fails=$((fails + 1))
    return
  fi
  # shellcheck disable=SC2086
  want=$(python3 scripts/linux_guest/expect.py "$wl" $params) || { fails=$((fails + 1)); return; }
  if [ "$sum" = "$want" ]; then
    echo "qemu_run: $wl: checksum $sum matches the host's reference"
  else
    echo "qemu_run: $wl: checksum $sum, the host's reference says $want"
    fails=$((fails + 1))
  fi
}

if [ $ALL = 1 ]; then
  boot null n=20000
  boot fork n=200
  boot forkexec n=100
  boot pgfault n=2000 chunk=64
  boot mprotect n=300 pages=40
  boot ctx n=1000 ws=16k
  boot ptrchase n=100000 ws=8m
  boot gups n=100000 ws=8m
  boot make n=2 files=8 jobs=2 size=8k
else
  boot "$@"
fi
exit $((fails ? 1 : 0))
