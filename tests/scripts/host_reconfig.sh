#!/bin/bash
# host_reconfig.sh - `vtbench run --allow-host-reconfig` on a
# scratch copy of the kvm_intel sysfs fixture with a fake modprobe and a
# fake refvmm: kvm cells the module does not give run in groups, each with
# the module reloaded with exactly the parameters it needs, and the
# original parameters are back afterwards (state file removed), also when
# the run is interrupted inside a reconfigured group. On this host's real
# KVM (kvm_pvm) the same request is refused and nothing changes.
set -u
cd "$(dirname "$0")/../.."
VTB=$PWD/${VTBENCH:-bin/vtbench}
[ -x "$VTB" ] || { echo "host_reconfig: $VTB not built (run make)"; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "host_reconfig: skipped: reloading a KVM module needs root (even a fake one)"
  exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  echo "host_reconfig: skipped: /dev/kvm is not usable (vtbench drops the kvm backend)"
  exit 0
fi
TMP=$(mktemp -d /tmp/vtb_host_reconfig.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
err() { echo "host_reconfig: FAIL: $*"; fail=1; }

SYS=$TMP/sys
mkdir -p "$SYS" "$TMP/bin" "$TMP/images"
cp -r tests/fixtures/sysfs/kvm_intel/module "$SYS/"
echo 0 >"$SYS/module/kvm_intel/refcnt"
PARAMS=$SYS/module/kvm_intel/parameters
[ "$(cat "$PARAMS/ept") $(cat "$PARAMS/vpid")" = "Y Y" ] || err "fixture is not ept=Y vpid=Y"

# Fake modprobe: `-r M` does nothing; `M k=v ...` writes v (bools as the
# kernel shows them) into the scratch tree.
cat >"$TMP/bin/modprobe" <<'FAKE'
#!/bin/bash
echo "modprobe $*" >>"$FAKE_MODPROBE_LOG"
[ "$1" = -r ] && exit 0
mod=$1; shift
for kv in "$@"; do
  v=${kv#*=}
  case $v in 1|y) v=Y ;; 0|n) v=N ;; esac
  echo "$v" >"$VTBENCH_HOST_SYSFS/module/$mod/parameters/${kv%%=*}"
done
FAKE
# Fake refvmm: logs the modes asked for and the module parameters it sees.
cat >"$TMP/refvmm" <<'FAKE'
#!/bin/bash
img=$2; shift 2
paging= tlb= nmi= irq= json=
while [ $# -gt 0 ]; do
  case $1 in
    --paging) paging=$2; shift ;; --tlb) tlb=$2; shift ;; --nmi) nmi=$2; shift ;;
    --irq) irq=$2; shift ;; --json) json=$2; shift ;;
  esac
  shift
done
P=$VTBENCH_HOST_SYSFS/module/kvm_intel/parameters
echo "$paging/$tlb ept=$(cat "$P/ept") vpid=$(cat "$P/vpid")" >>"$FAKE_LOG"
sleep "${FAKE_SLEEP:-0}"
cat >"$json" <<DOC
{"schema": {"name": "vtbench-result", "version": 1}, "context": {"host": "fake"},
 "runs": [{"workload": "$(basename "$img" .elf)", "params": {}, "backend": "kvm",
   "modes": {"paging": "$paging", "tlb": "$tlb", "nmi": "$nmi", "irq": "$irq"},
   "status": "ok", "exit_code": 0, "timed": {"wall_ns": 1000}}],
 "aggregates": []}
DOC
FAKE
chmod +x "$TMP/bin/modprobe" "$TMP/refvmm"
: >"$TMP/images/pio.elf"
export PATH=$TMP/bin:$PATH VTBENCH_HOST_SYSFS=$SYS VTB_HOST_STATE=$TMP/state/host-state.json
export VTBENCH_REFVMM=$TMP/refvmm VTBENCH_WORKLOADS=$TMP/images
export FAKE_LOG=$TMP/calls.log FAKE_MODPROBE_LOG=$TMP/modprobe.log
MODES=ept/vpid/poll/poll,shadow/vpid/poll/poll,shadow/flush/poll/poll

# 1. Without the flag only the mode the host gives runs.
: >"$FAKE_LOG"
"$VTB" run --backends kvm --workloads pio --modes "$MODES" --reps 2 --warmup 0 \
  -o "$TMP/plain.json" >"$TMP/out" 2>&1 || err "plain run failed: $(cat "$TMP/out")"
[ "$(sort -u "$FAKE_LOG")" = "ept/vpid ept=Y vpid=Y" ] || err "plain run ran: $(cat "$FAKE_LOG")"

# 2. With it: three groups (as it is; ept=0; ept=0 vpid=0), each run sees
# the parameters its mode needs, and the originals come back.
: >"$FAKE_LOG"
: >"$FAKE_MODPROBE_LOG"
"$VTB" run --backends kvm --workloads pio --modes "$MODES" --reps 2 --warmup 1 \
  --allow-host-reconfig -o "$TMP/re.json" >"$TMP/out" 2>&1 || err "reconfig run failed: $(cat "$TMP/out")"
for want in "ept/vpid ept=Y vpid=Y" "shadow/vpid ept=N vpid=Y" "shadow/flush ept=N vpid=N"; do
  [ "$(grep -c "^$want\$" "$FAKE_LOG")" = 3 ] || err "expected 3 runs (1 warm-up + 2) of '$want': $(cat "$FAKE_LOG")"
done
[ "$(wc -l <"$FAKE_LOG")" = 9 ] || err "expected 9 refvmm calls, got $(wc -l <"$FAKE_LOG")"
[ "$(cat "$PARAMS/ept") $(cat "$PARAMS/vpid")" = "Y Y" ] || err "not restored: ept=$(cat "$PARAMS/ept") vpid=$(cat "$PARAMS/vpid")"
[ ! -e "$VTB_HOST_STATE" ] || err "state file left behind"
[ "$(grep -c '^modprobe -r kvm_intel' "$FAKE_MODPROBE_LOG")" = 4 ] ||
  err "expected 2 reloads + 2 restores: $(cat "$FAKE_MODPROBE_LOG")"
[ "$(jq -r .session.status "$TMP/re.json")" = complete ] || err "session not complete"
[ "$(jq '.runs | length' "$TMP/re.json")" = 6 ] || err "expected 6 runs"
[ "$(jq -c '[.session.host_reconfig[].result]' "$TMP/re.json")" = '["restored","restored"]' ] ||
  err "session.host_reconfig: $(jq -c .session.host_reconfig "$TMP/re.json")"
[ "$(jq -r '[.runs[] | select(.modes.paging == "ept") | has("host_reconfig")] | unique | .[]' "$TMP/re.json")" = false ] ||
  err "runs on the host as it is carry host_reconfig"
[ "$(jq -r '[.runs[] | select(.modes.tlb == "flush") | .host_reconfig.params | "\(.ept) \(.vpid)"] | unique | .[]' "$TMP/re.json")" = "0 0" ] ||
  err "shadow/flush runs do not record ept=0 vpid=0"
python3 tests/scripts/validate_json.py "$TMP/re.json" || err "document does not validate"

# 3. Ctrl-C inside a reconfigured group: restored, document incomplete.
: >"$FAKE_LOG"
FAKE_SLEEP=0.5 "$VTB" run --backends kvm --workloads pio --modes shadow/flush/poll/poll --reps 20 \
  --warmup 0 --allow-host-reconfig -o "$TMP/int.json" >"$TMP/out" 2>&1 &
pid=$!
# the second reconfigured run has started: the first is in the document
for _ in $(seq 100); do [ "$(grep -c "ept=N" "$FAKE_LOG" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
sleep 0.2
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] || err "interrupted run exited $rc, expected 130: $(cat "$TMP/out")"
[ "$(cat "$PARAMS/ept") $(cat "$PARAMS/vpid")" = "Y Y" ] || err "not restored after SIGINT"
[ ! -e "$VTB_HOST_STATE" ] || err "state file left behind after SIGINT"
[ "$(jq -r .session.status "$TMP/int.json")" = incomplete ] || err "interrupted session not incomplete"
n=$(jq '.runs | length' "$TMP/int.json")
[ "$n" -ge 1 ] && [ "$n" -lt 20 ] || err "interrupted session kept $n runs"

# 4. An earlier `vtbench host set` not yet restored: refused, nothing run.
mkdir -p "$(dirname "$VTB_HOST_STATE")"
echo '{"module": "kvm_intel", "params": {"ept": "Y"}}' >"$VTB_HOST_STATE"
: >"$FAKE_MODPROBE_LOG"
: >"$FAKE_LOG"
"$VTB" run --backends kvm --workloads pio --modes "$MODES" --allow-host-reconfig \
  -o "$TMP/pending.json" >"$TMP/out" 2>&1
rc=$?
[ "$rc" = 3 ] || err "pending restore: exit $rc, expected 3"
grep -q "pending restore" "$TMP/out" || err "pending restore not named: $(cat "$TMP/out")"
[ ! -s "$FAKE_MODPROBE_LOG" ] && [ ! -s "$FAKE_LOG" ] || err "pending restore: something ran"
rm -f "$VTB_HOST_STATE"

# 5. The real host (no VTBENCH_HOST_SYSFS): kvm_pvm cannot give ept.
if [ -d /sys/module/kvm_pvm ]; then
  : >"$FAKE_MODPROBE_LOG"
  env -u VTBENCH_HOST_SYSFS "$VTB" run --backends kvm --workloads pio --modes ept/vpid/poll/poll \
    --allow-host-reconfig -o "$TMP/pvm.json" >"$TMP/out" 2>&1
  rc=$?
  [ "$rc" = 3 ] || err "kvm_pvm: exit $rc, expected 3"
  grep -q "kvm_pvm" "$TMP/out" && grep -q "nothing was changed" "$TMP/out" ||
    err "kvm_pvm refusal does not say why: $(cat "$TMP/out")"
  [ ! -s "$FAKE_MODPROBE_LOG" ] || err "kvm_pvm: modprobe ran"
  [ ! -e "$TMP/pvm.json" ] || err "kvm_pvm: a document was written"
fi

[ $fail = 0 ] && echo "host_reconfig: ok"
exit $fail
