#!/usr/bin/env bash
# linux_boot.sh - refvmm boots Debian's kernel (docs/LINUX.md, "Booting Linux
# with refvmm"):
#   1. the command line refuses what cannot boot, before anything starts:
#      an ELF image as --kernel (exit 3, naming it), --initrd or --cmdline
#      without --kernel and --param with it (exit 2), and on a kvm_pvm host
#      --backend kvm (exit 5: PVM runs only PVM-enabled kernels);
#   2. on the model in every paging mode the kernel boots to user space and
#      the run records the boot's figures (model.boot_to_user) and the VM
#      exits each mode must show: native boots hello.cpio, whose init prints
#      a line and powers off (status ok, the kernel's last words); shadow/flush
#      and ept/vpid are the smoke run of two Linux workloads through vtbench
#      (linux:forkexec, linux:mprotect: status ok, init's result line, the
#      checksum scripts/linux_guest/expect.py computes).
# The three boots run at once. How a power-off under a workload's command line
# ends (exit 10) is tested in tests/unit/test_linux_boot.c. Skips, with the reason, without the kernel
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

# kvm_pvm runs only PVM-enabled kernels: refused before anything starts
if "${VTBENCH:-bin/vtbench}" host show 2>/dev/null | grep -q '^flavour *kvm_pvm'; then
  timeout 60 "$REFVMM" run --kernel "$KERNEL" --initrd "$HELLO" --backend kvm >"$TMP/out" 2>&1
  rc=$?
  if [ $rc -eq 5 ] && grep -q "kvm_pvm, which runs only PVM-enabled guest kernels" "$TMP/out"; then
    ok "kvm_pvm: --kernel on --backend kvm refused before starting (exit 5, the reason named)"
  else fail "--kernel on kvm_pvm: want exit 5 and the reason, got $rc: $(cat "$TMP/out")"; fi
else
  echo "linux_boot: SKIP (kvm_pvm refusal): this host's KVM is not kvm_pvm"
fi

# ---- 2. boots in every paging mode, at once ----------------------------------------
# native: hello.cpio through refvmm; shadow/flush and ept/vpid: the smoke run
# of two Linux workloads through vtbench (a boot each, their init prints its
# result line and ends with the exit hypercall).
start=$(date +%s)
"$REFVMM" run --kernel "$KERNEL" --initrd "$HELLO" --cmdline "$CMDLINE" --backend model \
  --paging native --model-baseline none --timeout 600 --quiet --json "$TMP/native.json" \
  >"$TMP/native.out" 2>&1 &
pn=$!
smoke() { # NAME WORKLOAD PARAMS-JSON MODE
  cat >"$TMP/$1.matrix.json" <<JSON
{"workloads": [{"name": "$2", "params": $3}], "modes": ["$4"],
 "backends": ["model"], "reps": 1, "warmup": 0}
JSON
  "$VTBENCH" run --matrix "$TMP/$1.matrix.json" --timeout 600 -o "$TMP/$1.doc.json" \
    >"$TMP/$1.out" 2>&1 &
}
smoke shadow linux:forkexec '{"n": 40}' shadow/flush/window/window
ps=$!
smoke ept linux:mprotect '{"n": 200, "pages": 40}' ept/vpid/window/window
pe=$!
wait $pn
echo $? >"$TMP/native.rc"
wait $ps
echo $? >"$TMP/shadow.rc"
wait $pe
echo $? >"$TMP/ept.rc"
echo "linux_boot: three boots in $(($(date +%s) - start)) s"
for m in shadow ept; do # the vtbench document's run record, as refvmm wrote it
  jq '{runs: [.runs[0]]}' "$TMP/$m.doc.json" >"$TMP/$m.json" 2>/dev/null || rm -f "$TMP/$m.json"
done

for m in native shadow ept; do
  rc=$(cat "$TMP/$m.rc")
  if [ "$rc" -ne 0 ] || [ ! -s "$TMP/$m.json" ]; then
    fail "$m: exit $rc: $(tail -5 "$TMP/$m.out")"
    continue
  fi
  case $m in
    native) want_ck=none ;;
    shadow) want_ck=$(python3 scripts/linux_guest/expect.py forkexec n=40) ;;
    ept) want_ck=$(python3 scripts/linux_guest/expect.py mprotect n=200 pages=40) ;;
  esac
  if python3 - "$TMP/$m.json" "$m" "$want_ck" <<'PY'; then ok "$m: boots to user space (above)"; else fail "$m boot (above)"; fi
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
mode, want_ck = sys.argv[2], sys.argv[3]
def need(cond, what):
    if not cond:
        sys.exit("%s: %s" % (mode, what))
need(run["status"] == "ok", "status %s: %s" % (run["status"], run["status_detail"]))
con = run["console"]
if mode == "native":  # hello.cpio: a line, then the kernel powers off
    need("powered off" in run["status_detail"], "status detail: " + run["status_detail"])
    need("vtb-linux: hello from user space" in con, "init's line missing:\n" + con[-400:])
    need("reboot: System halted" in con, "no 'reboot: System halted':\n" + con[-400:])
    need(run["workload"] == "linux", "workload " + run["workload"])
else:  # a workload: init's result line, its exit hypercall, the host's checksum
    need(run["workload"] in ("linux:forkexec", "linux:mprotect"), "workload " + run["workload"])
    need("vtb-linux: result workload=" in con and " status=0 vmm=refvmm" in con,
         "init's result line missing:\n" + con[-400:])
    need(str(run["guest"]["checksum"]) == want_ck,
         "checksum %s, expect.py says %s" % (run["guest"]["checksum"], want_ck))
    if mode == "shadow":  # vtbench runs Linux with KVM's unsync policy
        need(run["model"]["shadow"]["unsynced"] > 0, "no table went unsync: %s" % run["model"]["shadow"])
    t, b = run["model"]["timed"]["instructions"], run["model"]["boot_to_user"]["instructions"]
    need(run["timed"]["complete"] and 0 < t <= run["model"]["instructions"] - b,
         "the timed region (%d instructions) is not after the boot (%d)" % (t, b))
need(run["linux"]["boot_protocol"] == "2.15", "linux object")
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
print("linux_boot: %s %s: %.2f G instructions to user space, %.0f ms modeled, %.1f s wall; exits %s"
      % (mode, run["workload"], boot["instructions"] / 1e9, boot["modeled_ns"] / 1e6,
         boot["wall_ns"] / 1e9, ex))
PY
done

if [ "$fails" -ne 0 ]; then
  echo "linux_boot: $fails failure(s)"
  exit 1
fi
echo "linux_boot: all passed"
