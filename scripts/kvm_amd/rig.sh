#!/bin/bash
# rig.sh - the kvm_amd rig end to end: fetch the Debian kernel and busybox
# once (scripts/kvm_amd/fetch.sh), pack an initramfs with this build's
# binaries, boot it under QEMU TCG (-cpu max: AMD SVM with NPT), run PLAN
# inside (scripts/kvm_amd/guest_plan.sh), bring the results back and judge
# them (scripts/kvm_amd/check.sh).
#
#   bash scripts/kvm_amd/rig.sh smoke|full|linux|trace [OUT_DIR] [BIN_DIR]
#
# make check runs the smoke plan (tests/scripts/kvm_amd_smoke.sh), make
# check-kvm-amd the full one. Exit 0 all checks passed, 1 a check failed or
# the guest sent nothing back. Times of each part go to OUT_DIR/times.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
PLAN=${1:-smoke}
OUT=${2:-build/kvm-amd/$PLAN}
BIN=${3:-bin}
CACHE=${KVM_AMD_CACHE:-build/kvm-amd/cache}
case $PLAN in smoke | full | linux | trace) ;; *) echo "rig: unknown plan '$PLAN' (smoke, full, linux or trace)" >&2; exit 2 ;; esac
mkdir -p "$OUT"
times=$OUT/times.txt
: >"$times"
t() { echo "$1 $(($(date +%s) - $2)) s" | tee -a "$times"; }

t0=$(date +%s)
bash scripts/kvm_amd/fetch.sh "$CACHE" || exit 1
t fetch "$t0"
t0=$(date +%s)
bash scripts/kvm_amd/initramfs.sh "$CACHE" "$OUT/initramfs.cpio" "$BIN" || exit 1
t initramfs "$t0"
t0=$(date +%s)
timeout=${KVM_AMD_TIMEOUT:-$(case $PLAN in full) echo 3600 ;; linux | trace) echo 2400 ;; *) echo 300 ;; esac)}
bash scripts/kvm_amd/boot.sh "$CACHE" "$OUT/initramfs.cpio" "$PLAN" "$OUT" "$timeout" || exit 1
t "boot+plan" "$t0"
rm -f "$OUT/initramfs.cpio"
awk -F'\t' '{printf "  in the guest: %-22s %4d s (exit %d)\n", $1, $3, $2}' "$OUT/out/steps.tsv" | tee -a "$times"
t0=$(date +%s)
bash scripts/kvm_amd/check.sh "$PLAN" "$OUT/out" "$BIN"
rc=$?
t check "$t0"
exit $rc
