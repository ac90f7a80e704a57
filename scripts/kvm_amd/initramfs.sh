#!/bin/bash
# initramfs.sh - pack the kvm_amd rig's initramfs: busybox, the KVM modules,
# bin/refvmm and bin/vtbench with the shared libraries they load, perf, the
# workload images and the guest scripts (guest_init.sh as /init, guest_plan.sh).
#
#   bash scripts/kvm_amd/initramfs.sh CACHE_DIR OUT.cpio [BIN_DIR]
#
# The tree inside mirrors a checkout (/vtb/bin, /vtb/workloads/build) so
# vtbench finds refvmm and the images where it looks in a build tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=$1
OUT=$2
BIN=${3:-bin}
for f in "$BIN/refvmm" "$BIN/vtbench" "$CACHE/root/bin/busybox"; do
  [ -x "$f" ] || { echo "kvm_amd initramfs: $f missing (make; bash scripts/kvm_amd/fetch.sh)" >&2; exit 1; }
done
ls workloads/build/*.elf >/dev/null 2>&1 || { echo "kvm_amd initramfs: no workloads/build/*.elf (make images)" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/vtb-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,lib/modules,vtb/bin,vtb/workloads/build,vtb/out,usr/bin}
cp "$CACHE/root/bin/busybox" "$root/bin/busybox"
cp -r "$CACHE"/modules/. "$root/lib/modules/"

# copy_elf FILE DEST: the file and every library ldd resolves for it, at the
# paths the dynamic loader looks in.
copy_elf() {
  install -D -m 755 "$1" "$root$2"
  ldd "$1" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | while read -r lib; do
    [ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
  done
}
copy_elf "$BIN/refvmm" /vtb/bin/refvmm
copy_elf "$BIN/vtbench" /vtb/bin/vtbench
PERF=${PERF:-$(command -v perf || true)}
if [ -n "$PERF" ]; then
  copy_elf "$(readlink -f "$PERF")" /usr/bin/perf
else
  echo "kvm_amd initramfs: note: no perf on this host (linux-perf): the perf kvm stat cross-check is skipped inside"
fi
cp workloads/build/*.elf "$root/vtb/workloads/build/"
install -m 755 scripts/kvm_amd/guest_init.sh "$root/init"
install -m 755 scripts/kvm_amd/guest_plan.sh "$root/vtb/guest_plan.sh"

bb=$(readlink -f "$CACHE/root/bin/busybox")
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "kvm_amd initramfs: $OUT ($(($(stat -c %s "$OUT") / 1048576)) MiB)"
