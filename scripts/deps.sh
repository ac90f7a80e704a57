#!/bin/bash
# Install the Debian packages vtbench needs; quiet and idempotent when all
# are present. Run as root (or with sudo available).
set -euo pipefail
PKGS=(build-essential pkg-config libjansson-dev libpfm4-dev check gnuplot-nox
      qemu-system-x86 clang libclang-rt-14-dev clang-format jq python3-jsonschema chromium
      libbenchmark-tools python3-scipy linux-perf linux-libc-dev
      slurm-wlm parallel openssh-server openssh-client)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's 6.1 kernel and busybox for the kvm_amd rig (make check's smoke,
# make check-kvm-amd) and the Linux guest (its kernel; tests/scripts/
# linux_guest.sh): downloaded once into the build tree, not installed.
fetch_rig() { bash "$(dirname "$0")/kvm_amd/fetch.sh"; }
if [ ${#missing[@]} -eq 0 ]; then
  fetch_rig
  exit
fi
echo "deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
fetch_rig
