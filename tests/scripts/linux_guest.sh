#!/usr/bin/env bash
# linux_guest.sh - the Linux guest end to end (docs/LINUX.md):
#   1. the initramfs is a newc archive with the programs, /dev/console and
#      the directories init needs; mkinitramfs refuses malformed entries;
#   2. vtbench knows linux:NAME workloads, refuses to run them while refvmm
#      cannot boot Linux (naming what is missing) and plans their command line;
#   3. under QEMU TCG with Debian's kernel: two workloads end with status 0
#      and the checksum the host computes (scripts/linux_guest/expect.py), a
#      bad parameter ends with status 2 and the freestanding runtime's
#      message, and the hypercall page's GPA (from /proc/self/pagemap) is
#      right: after power-off QEMU's QMP socket reads init's last report struct
#      at that guest-physical address and finds the key and value it printed.
# Part 3 skips, with the reason, when qemu-system-x86_64 or the kernel
# (make deps) is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
QEMU=${QEMU:-qemu-system-x86_64}
VTBENCH=${VTBENCH:-bin/vtbench}
KERNEL=${KERNEL:-$(ls build/kvm-amd/cache/root/boot/vmlinuz-* 2>/dev/null | head -1)}
OUT=workloads/build/linux
INITRD=$OUT/initramfs.cpio
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "linux_guest: FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "linux_guest: ok: $*"; }

# ---- 1. the archive -------------------------------------------------------------
[ -f "$INITRD" ] || { echo "linux_guest: FAIL: $INITRD not built (make)"; exit 1; }
if python3 - "$INITRD" "$OUT/stripped" <<'PY'; then ok "initramfs: newc entries, modes and sizes"; else fail "initramfs contents (above)"; fi
import os, stat, sys
data = open(sys.argv[1], "rb").read()
off, ents = 0, {}
while True:
    h = data[off:off + 110]
    assert h[:6] == b"070701", "bad magic at %d" % off
    f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
    mode, size, rmaj, rmin, nsz = f[1], f[6], f[9], f[10], f[11]
    name = data[off + 110:off + 110 + nsz - 1].decode()
    off = (off + 110 + nsz + 3) & ~3
    body = data[off:off + size]
    off = (off + size + 3) & ~3
    if name == "TRAILER!!!":
        break
    ents[name] = (mode, body, rmaj, rmin)
assert len(data) % 512 == 0, "archive not padded to 512 bytes"
want_dirs = ["dev", "proc", "sys", "tmp", "bin"]
for d in want_dirs:
    assert stat.S_ISDIR(ents[d][0]), d
m, _, ma, mi = ents["dev/console"]
assert stat.S_ISCHR(m) and (ma, mi) == (5, 1), "dev/console"
for name, src in (("init", "init"), ("bin/vtb-true", "vtb-true"), ("bin/vtb-cc", "vtb-cc")):
    m, body, _, _ = ents[name]
    assert stat.S_ISREG(m) and m & 0o111, name + " not an executable file"
    assert body == open(os.path.join(sys.argv[2], src), "rb").read(), name + " differs"
    assert body[:4] == b"\x7fELF", name + " not ELF"
PY
mk=$OUT/mkinitramfs
if $mk "$TMP/a.cpio" dir:x:79 2>"$TMP/err"; then fail "mkinitramfs accepted mode 79"
elif ! grep -q "MODE is not an octal permission" "$TMP/err"; then fail "mkinitramfs bad mode: $(cat "$TMP/err")"
else ok "mkinitramfs refuses a mode that is not octal"; fi
$mk "$TMP/b.cpio" file:init:755:"$TMP/none" 2>"$TMP/err"
if [ $? -ne 2 ] || [ -e "$TMP/b.cpio" ] || [ -e "$TMP/b.cpio.tmp" ]; then fail "mkinitramfs missing source: want exit 2 and no archive"
else ok "mkinitramfs: a missing source is exit 2, nothing written"; fi

# ---- 2. vtbench -----------------------------------------------------------------------
if "$VTBENCH" workloads | grep -q '^linux:make '; then ok "vtbench workloads lists linux:make"; else fail "vtbench workloads lacks linux:make"; fi
"$VTBENCH" run --workloads linux:forkexec --backends model --modes native -o "$TMP/r.json" >"$TMP/out" 2>&1
rc=$?
if ! "${REFVMM:-bin/refvmm}" --help 2>&1 | grep -q -- '--kernel'; then
  if [ $rc -ne 3 ] || ! grep -q "linux:forkexec) cannot run here yet: missing a refvmm that boots Linux" "$TMP/out" || [ -e "$TMP/r.json" ]; then
    fail "vtbench run linux:forkexec: want exit 3 naming what is missing and no result file, got $rc: $(cat "$TMP/out")"
  else
    ok "vtbench run refuses linux:forkexec and names what is missing"
  fi
else
  echo "linux_guest: note: refvmm lists --kernel: the refusal case does not apply"
fi
cat >"$TMP/m.json" <<'JSON'
{"workloads": [{"name": "linux:gups", "params": {"n": 50, "ws": 65536, "page": "2m"}}],
 "modes": ["native"], "backends": ["model"], "reps": 1, "warmup": 0}
JSON
"$VTBENCH" run --dry-run --matrix "$TMP/m.json" >"$TMP/out" 2>&1
if grep -q -- '--cmdline ".* vtb.workload=gups vtb.n=50 vtb.ws=65536 vtb.page=2m"' "$TMP/out"; then
  ok "vtbench run --dry-run plans the kernel command line"
else
  fail "dry run: no planned command line: $(cat "$TMP/out")"
fi

# ---- 3. under QEMU TCG -------------------------------------------------------------
if ! command -v "$QEMU" >/dev/null 2>&1; then
  echo "linux_guest: SKIP (QEMU part): $QEMU not found (make deps installs qemu-system-x86)"
elif [ -z "$KERNEL" ] || [ ! -f "$KERNEL" ]; then
  echo "linux_guest: SKIP (QEMU part): no kernel in build/kvm-amd/cache (make deps fetches it)"
else
  run() { KERNEL=$KERNEL INITRD=$INITRD bash scripts/linux_guest/qemu_run.sh --quiet --timeout 120 --console "$TMP/console" "$@"; }
  for w in "forkexec n=40" "mprotect n=200 pages=40"; do
    # shellcheck disable=SC2086
    if run $w >"$TMP/out"; then ok "QEMU: $w: $(grep -o 'checksum [0-9]* matches.*' "$TMP/out")"
    else fail "QEMU: $w: $(cat "$TMP/out")"; tail -5 "$TMP/console"; fi
  done
  run ctx n=0 >"$TMP/out"
  if [ $? -ne 1 ] || ! grep -q "status=2" "$TMP/out" ||
    ! grep -q "vtb: parameter 'n'=0 out of range \[1, 4294967296\]" "$TMP/console"; then
    fail "QEMU: ctx n=0: want status 2 and the range message: $(cat "$TMP/out")"
  else
    ok "QEMU: ctx n=0 ends with status 2 and the runtime's range message"
  fi

  # The hypercall page: boot with QEMU kept alive after power-off, then read
  # init's report slot (offset VTB_HC_REPORT * 64 = 192) at the printed GPA.
  sock=$TMP/mon
  timeout 120 "$QEMU" -accel tcg -cpu max -m 512 -smp 1 -display none -no-reboot -no-shutdown \
    -serial file:"$TMP/console" -qmp unix:"$sock",server=on,wait=off \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 nokaslr panic=-1 quiet loglevel=3 vtb.workload=null vtb.n=100" </dev/null &
  qpid=$!
  if python3 - "$sock" "$TMP/console" <<'PY'; then ok "QEMU: the report struct is at the GPA pagemap gave"; else fail "hypercall page GPA check (above)"; fi
import json, re, socket, sys, time
sock_path, console = sys.argv[1], sys.argv[2]
def text():
    try:
        return open(console, "rb").read().decode("latin-1").replace("\r", "")
    except OSError:
        return ""
deadline = time.time() + 110
while "vtb-linux: result" not in text() or "reboot: Power down" not in text():
    if time.time() > deadline:
        sys.exit("no result line / power-off on the console:\n" + text()[-600:])
    time.sleep(0.3)
gpa = int(re.search(r"hypercall page at GPA (0x[0-9a-f]+)", text()).group(1), 16)
reports = dict(re.findall(r"^report ([a-z0-9_.]+)=(\d+)$", text(), re.M))
s = socket.socket(socket.AF_UNIX)
for _ in range(50):
    try:
        s.connect(sock_path)
        break
    except OSError:
        time.sleep(0.2)
# QMP, not the human monitor: every command gets exactly one JSON "return"
# (asynchronous events are separate lines and skipped), so replies cannot
# drift out of step with the commands as prompts read off a socket can.
f = s.makefile("rwb")
def qmp(execute, **args):
    f.write((json.dumps({"execute": execute, "arguments": args} if args else {"execute": execute}) + "\n").encode())
    f.flush()
    while True:
        line = f.readline()
        if not line:
            sys.exit("QMP closed before answering %s" % execute)
        msg = json.loads(line)
        if "return" in msg:
            return msg["return"]
        if "error" in msg:
            sys.exit("QMP %s: %s" % (execute, msg["error"]))
json.loads(f.readline())  # the greeting
qmp("qmp_capabilities")
for _ in range(100):
    if qmp("query-status").get("status") == "shutdown":
        break
    time.sleep(0.2)
out = qmp("human-monitor-command", **{"command-line": "xp /5gx 0x%x" % (gpa + 3 * 64)})
words = [int(w, 16) for w in re.findall(r"0x([0-9a-f]{16})", out)]
f.write(b'{"execute": "quit"}\n')
f.flush()
try:  # QEMU closes the socket when it quits
    s.settimeout(10)
    while s.recv(4096):
        pass
except OSError:
    pass
if len(words) != 5:
    sys.exit("xp gave no 5 words:\n" + out)
key = b"".join(w.to_bytes(8, "little") for w in words[:4]).split(b"\0")[0].decode()
print("linux_guest: GPA 0x%x holds report %s=%d" % (gpa + 192, key, words[4]))
if key not in reports or int(reports[key]) != words[4]:
    sys.exit("the console says report %s=%s" % (key, reports.get(key)))
PY
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $qpid 2>/dev/null || break; sleep 0.5; done
  if kill -0 $qpid 2>/dev/null; then
    fail "QEMU did not quit on QMP's quit"
    kill $qpid
  fi
  wait $qpid 2>/dev/null
fi

if [ "$fails" -ne 0 ]; then
  echo "linux_guest: $fails failure(s)"
  exit 1
fi
echo "linux_guest: all passed"
