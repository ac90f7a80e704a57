#!/bin/bash
# fetch.sh - download, once, the kernel the Linux guest boots: Debian's stock
# 6.1 kernel (linux-image-6.1.0-*-amd64, the version linux-image-amd64
# depends on). Only its bzImage (boot/vmlinuz-*) and config are kept, unpacked
# from the .deb with dpkg-deb into the build tree; nothing is installed on the
# host. Idempotent: a second call only checks.
#
#   bash scripts/linux_guest/fetch.sh [DIR]     (default build/linux-guest/kernel)
#
# Leaves DIR/vmlinuz (the bzImage), DIR/config and DIR/package (package name
# and kernel release). Exit 0 done, 1 a download or an unpack failed (the
# message says which package and why).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-build/linux-guest/kernel}
if [ -s "$DIR/package" ] && [ -s "$DIR/vmlinuz" ]; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "linux_guest fetch: apt-get not found: the Linux guest needs a Debian host" >&2; exit 1; }

kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ {print $2; exit}'
}
pkg=$(kernel_pkg)
if [ -z "$pkg" ]; then # no package lists yet (a fresh machine)
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  pkg=$(kernel_pkg)
fi
[ -n "$pkg" ] || { echo "linux_guest fetch: apt-cache finds no linux-image-6.1.0-*-amd64 behind linux-image-amd64 (is this Debian 12?)" >&2; exit 1; }

mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "linux_guest fetch: apt-get download $pkg into $DIR"
# -o APT::Sandbox::User=root: the download directory belongs to us, not _apt
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg") ||
  { echo "linux_guest fetch: apt-get download $pkg failed (see above)" >&2; exit 1; }
deb=$(ls "$tmp"/"$pkg"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "linux_guest fetch: no $pkg .deb in $tmp after the download" >&2; exit 1; }
mkdir -p "$tmp/root"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/root" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
  { echo "linux_guest fetch: cannot unpack boot/vmlinuz-* from $deb" >&2; exit 1; }
kimg=$(ls "$tmp"/root/boot/vmlinuz-* | head -1)
kver=${kimg##*/vmlinuz-}
mv "$kimg" "$DIR/vmlinuz"
mv "$tmp/root/boot/config-$kver" "$DIR/config"
echo "$pkg $kver" >"$DIR/package"
echo "linux_guest fetch: $pkg ($kver): $DIR/vmlinuz"
