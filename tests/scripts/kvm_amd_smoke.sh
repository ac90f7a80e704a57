#!/usr/bin/env bash
# kvm_amd_smoke.sh - the kvm_amd rig's smoke plan (scripts/kvm_amd/rig.sh
# smoke): a Debian 6.1 kernel with kvm_amd under QEMU TCG (-cpu max), boot,
# vtbench host show, pio/cpuid/pgfault with npt=1 and npt=0 (one reload),
# host set refused while a VM runs, host restore, and the per-reason exits
# against perf kvm stat. About 30 s. Skips, with the reason, without
# qemu-system-x86_64 or apt-get (not a Debian host). The full plan: make
# check-kvm-amd.
set -u
cd "$(dirname "$0")/../.." || exit 1
if ! command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1; then
  echo "kvm_amd_smoke: SKIP: qemu-system-x86_64 not found (make deps installs qemu-system-x86)"
  exit 0
fi
if [ ! -f build/kvm-amd/cache/fetched.stamp ] && ! command -v apt-get >/dev/null 2>&1; then
  echo "kvm_amd_smoke: SKIP: no cached kernel (build/kvm-amd/cache) and no apt-get to fetch one"
  exit 0
fi
bin=$(dirname "${REFVMM:-bin/refvmm}")
mkdir -p build/kvm-amd # the log goes there before rig.sh makes anything
bash scripts/kvm_amd/rig.sh smoke build/kvm-amd/smoke "$bin" >build/kvm-amd/smoke.log 2>&1
rc=$?
grep -E '^kvm_amd: (FAIL|[0-9]+ passed)|^(fetch|initramfs|boot\+plan|check) ' build/kvm-amd/smoke.log
[ $rc -eq 0 ] || { echo "kvm_amd_smoke: FAILED (log: build/kvm-amd/smoke.log)"; tail -20 build/kvm-amd/smoke.log; }
exit $rc
