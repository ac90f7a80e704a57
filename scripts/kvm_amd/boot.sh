#!/bin/bash
# boot.sh - boot the kvm_amd rig under QEMU TCG (-cpu max: AMD SVM with
# nested paging) and unpack what it sends back.
#
#   bash scripts/kvm_amd/boot.sh CACHE_DIR INITRAMFS PLAN OUT_DIR [TIMEOUT_S]
#
# OUT_DIR receives console.log (the guest's console), and out/ (the rig's
# results and rig.log). Exit 0 when the guest sent its results back, 1 when it
# did not (timeout, crash: console.log says where it stopped).
set -uo pipefail
CACHE=$1 INITRD=$2 PLAN=$3 OUT=$4 TIMEOUT=${5:-1800}
QEMU=${QEMU:-qemu-system-x86_64}
kernel=$(ls "$CACHE"/root/boot/vmlinuz-* | head -1)
mkdir -p "$OUT"
rm -rf "$OUT/out" "$OUT/channel.b64"
start=$SECONDS
timeout "$TIMEOUT" "$QEMU" -accel tcg -cpu max -m "${QEMU_MEM:-2048}" -smp "${QEMU_SMP:-1}" \
  -nographic -no-reboot -kernel "$kernel" -initrd "$INITRD" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4 vtb.plan=$PLAN" \
  -serial mon:stdio -serial file:"$OUT/channel.b64" \
  </dev/null >"$OUT/console.log" 2>&1
rc=$?
echo "kvm_amd boot: QEMU exit $rc after $((SECONDS - start)) s (console: $OUT/console.log)"
if ! grep -q '^VTB-RIG-END' "$OUT/channel.b64" 2>/dev/null; then
  echo "kvm_amd boot: the guest sent no results (rc $rc); last console lines:" >&2
  tail -15 "$OUT/console.log" | sed 's/^/    | /' >&2
  exit 1
fi
tr -d '\r' <"$OUT/channel.b64" | sed -n '/^VTB-RIG-BEGIN/,/^VTB-RIG-END/p' | sed '1d;$d' |
  base64 -d | tar xz -C "$OUT" || { echo "kvm_amd boot: the results channel did not decode" >&2; exit 1; }
echo "kvm_amd boot: results in $OUT/out"
