#!/bin/bash
# fetch.sh - download, once, what the kvm_amd rig boots: Debian's stock 6.1
# kernel (linux-image-6.1.0-*-amd64, the version linux-image-amd64 depends
# on) and busybox-static, unpacked with dpkg-deb -x into the build tree.
# Nothing is installed on the host. Idempotent: a second call only checks.
#
#   bash scripts/kvm_amd/fetch.sh [DIR]     (default build/kvm-amd/cache)
#
# Prints the unpacked root on success. Exit 0 done, 1 a download or an
# unpack failed (the message says which package and why).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-build/kvm-amd/cache}
STAMP=$DIR/fetched.stamp
if [ -f "$STAMP" ] && [ -x "$DIR/root/bin/busybox" ] && ls "$DIR"/root/boot/vmlinuz-* >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "kvm_amd fetch: apt-get not found: the rig needs a Debian host" >&2; exit 1; }

kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ {print $2; exit}'
}
pkg=$(kernel_pkg)
if [ -z "$pkg" ]; then # no package lists yet (a fresh machine)
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  pkg=$(kernel_pkg)
fi
[ -n "$pkg" ] || { echo "kvm_amd fetch: apt-cache finds no linux-image-6.1.0-*-amd64 behind linux-image-amd64 (is this Debian 12?)" >&2; exit 1; }

mkdir -p "$DIR/debs"
rm -rf "$DIR/root" "$DIR/modules" "$STAMP"
echo "kvm_amd fetch: apt-get download $pkg busybox-static into $DIR/debs"
# -o APT::Sandbox::User=root: the download directory belongs to us, not _apt
(cd "$DIR/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" busybox-static) ||
  { echo "kvm_amd fetch: apt-get download $pkg busybox-static failed (see above)" >&2; exit 1; }
mkdir -p "$DIR/root"
for deb in "$DIR"/debs/"$pkg"_*.deb "$DIR"/debs/busybox-static_*.deb; do
  [ -f "$deb" ] || { echo "kvm_amd fetch: $deb missing after the download" >&2; exit 1; }
  dpkg-deb -x "$deb" "$DIR/root" || { echo "kvm_amd fetch: dpkg-deb -x $deb failed" >&2; exit 1; }
done
# Keep only what the rig uses: the kernel and the modules KVM needs.
kver=$(basename "$(ls -d "$DIR"/root/lib/modules/*/ | head -1)")
for m in arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko drivers/crypto/ccp/ccp.ko virt/lib/irqbypass.ko; do
  [ -f "$DIR/root/lib/modules/$kver/kernel/$m" ] || { echo "kvm_amd fetch: $pkg lacks $m" >&2; exit 1; }
  install -D -m 644 "$DIR/root/lib/modules/$kver/kernel/$m" "$DIR/modules/$kver/kernel/$m"
done
rm -rf "$DIR/root/lib/modules" "$DIR/root/usr/share" "$DIR/root/usr/lib"
rm -f "$DIR"/debs/"$pkg"_*.deb # 70 MB, unpacked now
echo "$pkg $kver" >"$STAMP"
echo "kvm_amd fetch: $pkg ($kver) and busybox-static in $DIR"
