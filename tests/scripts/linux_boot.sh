#!/usr/bin/env bash
# linux_boot.sh - refvmm boots Debian's kernel (docs/LINUX.md, "Booting Linux
# with refvmm"):
#   1. the command line refuses what cannot boot, before anything starts:
#      an ELF image as --kernel (exit 3, naming it), --initrd or --cmdline
#      without --kernel and --param with it (exit 2);
#   2. on the model in every paging mode (native, shadow/flush, ept/vpid) the
#      kernel boots to hello.cpio's init, which prints a line and powers off:
#      status ok with the kernel's last words, the boot's figures
#      (model.boot_to_user) and the VM exits each mode must show;
#   3. a power-off under a vtbench workload's command line, without init's
#      exit hypercall, is a failure (exit 10).
# Boots run two at a time. Skips, with the reason, without the kernel
# (make deps fetches it).
set -u
cd "$(dirname "$0")/../.." || exit 1
REFVMM=${REFVMM:-bin/refvmm}
KERNEL=${KERNEL:-$(ls build/kvm-amd/cache/root/boot/vmlinuz-* 2>/dev/null | head -1)}
HELLO=workloads/build/linux/hello.cpio
CMDLINE="console=ttyS0 pci=off acpi=off nokaslr panic=-1 quiet loglevel=4 cryptomgr.notests=1"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "linux_boot: FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "linux_boot: ok: $*"; }

# ---- 1. refusals -----------------------------------------------------------------
"$REFVMM" run --kernel workloads/build/pio.elf --backend model >"$TMP/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q "an ELF file.*not a bzImage" "$TMP/out"; then ok "an ELF --kernel: exit 3, named"
else fail "ELF as --kernel: want exit 3 and 'not a bzImage', got $rc: $(cat "$TMP/out")"; fi
"$REFVMM" run workloads/build/pio.elf --initrd "$HELLO" >"$TMP/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--initrd without --kernel" "$TMP/out"; then ok "--initrd without --kernel: exit 2"
else fail "--initrd without --kernel: want exit 2, got $rc: $(cat "$TMP/out")"; fi
"$REFVMM" run --kernel /nonexistent --param n=1 >"$TMP/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--param n=1 with --kernel" "$TMP/out"; then ok "--param with --kernel: exit 2"
else fail "--param with --kernel: want exit 2, got $rc: $(cat "$TMP/out")"; fi

if [ -z "$KERNEL" ] || [ ! -f "$KERNEL" ]; then
  echo "linux_boot: SKIP (boots): no kernel in build/kvm-amd/cache (make deps fetches it)"
  [ "$fails" -eq 0 ] || exit 1
  exit 0
fi
[ -f "$HELLO" ] || { echo "linux_boot: FAIL: $HELLO not built (make)"; exit 1; }

# ---- 2. boots in every paging mode, two at a time ----------------------------------
boot() { # NAME CMDLINE-EXTRA MODE-ARGS...
  local name=$1 extra=$2
  shift 2
  "$REFVMM" run --kernel "$KERNEL" --initrd "$HELLO" --cmdline "$CMDLINE$extra" --backend model \
    --model-baseline none --timeout 600 --quiet --json "$TMP/$name.json" "$@" \
    >"$TMP/$name.out" 2>&1
  echo $? >"$TMP/$name.rc"
}
start=$(date +%s)
boot native "" --paging native &
boot shadow "" --paging shadow --tlb flush &
wait
boot ept "" --paging ept --tlb vpid &
boot vtbwl " vtb.workload=null" --paging native &
wait
echo "linux_boot: four boots in $(($(date +%s) - start)) s"

for m in native shadow ept; do
  rc=$(cat "$TMP/$m.rc")
  if [ "$rc" -ne 0 ] || [ ! -s "$TMP/$m.json" ]; then
    fail "$m: exit $rc: $(tail -5 "$TMP/$m.out")"
    continue
  fi
  if python3 - "$TMP/$m.json" "$m" <<'PY'; then ok "$m: boots to user space, the line printed, powered off"; else fail "$m boot (above)"; fi
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
mode = sys.argv[2]
def need(cond, what):
    if not cond:
        sys.exit("%s: %s" % (mode, what))
need(run["status"] == "ok", "status %s: %s" % (run["status"], run["status_detail"]))
need("powered off" in run["status_detail"], "status detail: " + run["status_detail"])
con = run["console"]
need("vtb-linux: hello from user space" in con, "init's line missing:\n" + con[-400:])
need("reboot: System halted" in con, "no 'reboot: System halted':\n" + con[-400:])
need(run["workload"] == "linux" and run["linux"]["boot_protocol"] == "2.15", "linux object")
need(run["linux"]["e820"][0] == {"addr": 0, "size": 0x9fc00, "type": "ram"}, "e820")
m = run["model"]
boot = m["boot_to_user"]
need(boot and boot["instructions"] > 10**9, "boot_to_user: %s" % boot)
need(boot["instructions"] < m["instructions"], "boot figures taken before the end")
need(boot["modeled_ns"] > 0 and boot["wall_ns"] > 0, "boot times")
ex = boot["exits"]
want = {"native": [], "shadow": ["EXCEPTION_NMI", "CR_ACCESS", "INVLPG", "IO_INSTRUCTION",
                                 "MSR_WRITE", "EXTERNAL_INTERRUPT"],
        "ept": ["EPT_VIOLATION", "EPT_MISCONFIG", "IO_INSTRUCTION", "MSR_WRITE"]}[mode]
for r in want:
    need(ex.get(r, 0) > 0, "no %s exit in the boot: %s" % (r, ex))
if mode == "native":
    need(ex == {}, "native mode has no VM exits: %s" % ex)
irq = m["events"]["irq"]
need(irq["delivered"] > 10 and irq["pending_at_end"] <= 1, "timer interrupts: %s" % irq)
print("linux_boot: %s: %.2f G instructions to user space, %.0f ms modeled, %.1f s wall; exits %s"
      % (mode, boot["instructions"] / 1e9, boot["modeled_ns"] / 1e6, boot["wall_ns"] / 1e9,
         ex))
PY
done

# ---- 3. a vtbench workload's power-off without the exit hypercall -------------------
rc=$(cat "$TMP/vtbwl.rc")
if [ "$rc" -eq 10 ] && grep -q "powered off (halted) before init's exit hypercall" "$TMP/vtbwl.out"; then
  ok "vtb.workload= and a power-off without the exit hypercall: exit 10, named"
else
  fail "vtb.workload= power-off: want exit 10, got $rc: $(tail -3 "$TMP/vtbwl.out")"
fi

if [ "$fails" -ne 0 ]; then
  echo "linux_boot: $fails failure(s)"
  exit 1
fi
echo "linux_boot: all passed"
