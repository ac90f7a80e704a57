#!/bin/bash
# newcomer_cli.sh - what a new user meets first on the command line, on the
# model backend (no /dev/kvm needed):
#  - refvmm refuses a mistyped or out-of-range --param before the guest
#    starts (usage exit 2, the key named, the valid keys listed, even with
#    --quiet; no guest output);
#  - every vtbench message names its command ("vtbench run: ..."), a
#    missing required option is named, a range error says the range;
#  - the model's summary table counts its VM exits by reason.
# Each check prints PASS or FAIL; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.."
REFVMM=${REFVMM:-bin/refvmm}
VTB=${VTBENCH:-bin/vtbench}
[ -x "$REFVMM" ] && [ -x "$VTB" ] || { echo "newcomer_cli: build first (make)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_newcomer.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
pass=0 failed=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
# expect NAME WANT_RC NEEDLE... -- CMD...: exit code and every needle in
# stdout+stderr
expect() {
  local name=$1 want=$2
  shift 2
  local needles=()
  while [ "$1" != -- ]; do needles+=("$1"); shift; done
  shift
  "$@" >"$TMP/out" 2>&1
  local rc=$?
  [ "$rc" = "$want" ] || { bad "$name: exit $rc, expected $want"; sed 's/^/    /' "$TMP/out" | head -5; return; }
  for n in "${needles[@]}"; do
    grep -qF -- "$n" "$TMP/out" || { bad "$name: '$n' not in the output"; sed 's/^/    /' "$TMP/out" | head -5; return; }
  done
  ok "$name"
}
# absent NAME NEEDLE: the last command's output lacks NEEDLE
absent() { if grep -qF -- "$2" "$TMP/out"; then bad "$1: '$2' in the output"; else ok "$1"; fi; }

IMG=workloads/build/gups.elf
# ---- parameters: refused before the guest starts
expect "refvmm: mistyped --param refused" 2 \
  "refvmm: --param nn=5: gups.elf has no parameter 'nn'; its parameters: n ws page seed" -- \
  "$REFVMM" run "$IMG" --backend model --param nn=5
absent "refvmm: mistyped --param starts no guest" "vtb: unknown parameter"
absent "refvmm: mistyped --param dumps no registers" "registers:"
expect "refvmm: mistyped --param named with --quiet" 2 "no parameter 'nn'" -- \
  "$REFVMM" run "$IMG" --backend model --param nn=5 --quiet
expect "refvmm: --param out of range" 2 "ws is 4096, outside its range [8192, 2147483648]" -- \
  "$REFVMM" run "$IMG" --backend model --param ws=4k
expect "refvmm: --param not a number" 2 "'12q' is not a number" -- \
  "$REFVMM" run "$IMG" --backend model --param n=12q
expect "refvmm: a good --param runs" 0 "status ok" -- \
  "$REFVMM" run workloads/build/pio.elf --backend model --param n=100 --param cpl=0

echo '{"backends": ["model"], "workloads": [{"name": "gups", "params": {"ws": 4096}}], "modes": ["native"]}' >"$TMP/bad.json"
expect "vtbench run: a size out of the image's range refused before any run" 2 \
  "vtbench run: workload gups: --param ws=4096: ws is 4096, outside its range [8192, 2147483648]" -- \
  "$VTB" run --matrix "$TMP/bad.json" -o "$TMP/bad_out.json"
[ -e "$TMP/bad_out.json" ] && bad "vtbench run: wrote a document for a refused matrix" ||
  ok "vtbench run: no document for a refused matrix"

# ---- the model's summary: its VM exits in the exits table, modeled time first
"$REFVMM" run workloads/build/pio.elf --backend model --paging shadow --param n=1000 >"$TMP/out" 2>&1
if grep -qE '^IO_INSTRUCTION +1001 +100\.00% +1001 +[0-9]+$' "$TMP/out"; then
  ok "refvmm model: VM exits by SDM reason with count, share, reached refvmm, cycles/exit"
else
  bad "refvmm model: no IO_INSTRUCTION row in the VM exits table"; sed 's/^/    /' "$TMP/out" | head -30
fi
m=$(grep -n 'ms modeled' "$TMP/out" | head -1 | cut -d: -f1)
w=$(grep -n 'host wall time' "$TMP/out" | head -1 | cut -d: -f1)
if [ -n "$m" ] && [ -n "$w" ] && [ "$m" -lt "$w" ]; then
  ok "refvmm model: modeled time first, the host's wall time named as such"
else
  bad "refvmm model: modeled time line ($m) not before the host wall time line ($w)"
fi
expect "refvmm model: EPT violations counted, none reached refvmm" 0 "EPT_VIOLATION" -- \
  "$REFVMM" run workloads/build/pgfault.elf --backend model --paging ept --param n=100
grep -qE '^EPT_VIOLATION +101 +[0-9.]+% +0 +[0-9]+$' "$TMP/out" &&
  ok "refvmm model: EPT_VIOLATION row shows 0 to refvmm" || bad "refvmm model: EPT_VIOLATION row"

# ---- messages: the command named, what is missing said, ranges as ranges
expect "vtbench run: an unknown option names the command" 2 "vtbench run: unrecognized option '--frob'" -- \
  "$VTB" run --frob
grep -q '^run: ' "$TMP/out" && bad "vtbench run: a bare 'run:' prefix" || ok "vtbench run: no bare 'run:' prefix"
expect "vtbench report: a missing file names the command" 20 "vtbench report: $TMP/nosuch.json: cannot read" -- \
  "$VTB" report "$TMP/nosuch.json"
expect "vtbench merge: says -o is missing" 2 "vtbench merge: -o OUT.json missing" -- \
  "$VTB" merge "$TMP/a.json"
expect "vtbench validate: --timeout on the usage line" 0 "[--only W1,W2,...] [--timeout S]" -- \
  "$VTB" validate --help
expect "refvmm: --mem beyond the range says the range" 2 "--mem '1T': outside the range refvmm gives a guest, 8M to 3G" -- \
  "$REFVMM" run workloads/build/pio.elf --mem 1T
v1=$("$REFVMM" --version | sed 's/^refvmm //; s/(git [0-9a-f]*\(-dirty\)*)/(git REV)/')
v2=$("$VTB" --version | sed 's/^vtbench //; s/(git [0-9a-f]*\(-dirty\)*)/(git REV)/')
[ "$v1" = "$v2" ] && [[ $v1 == *"(git "* ]] && ok "--version: one format for both tools ($v1)" ||
  bad "--version formats differ: refvmm '$v1', vtbench '$v2'"
"$VTB" workloads >"$TMP/out" 2>&1
if grep -q '/\.\./' "$TMP/out" || grep -q "Images: /" "$TMP/out"; then
  bad "vtbench workloads: prints an absolute or /../ path"
else ok "vtbench workloads: the images' path as typed from here"; fi
# every row's parameters start in the same column as the header's
col=$(head -1 "$TMP/out" | awk '{print index($0, "parameters")}')
badrows=$(awk -v c="$col" 'NR > 1 && /^[a-z:]+ +[0-9]/ && substr($0, c - 1, 1) != " " {n++} END {print n + 0}' "$TMP/out")
[ "$badrows" = 0 ] && ok "vtbench workloads: columns line up" || bad "vtbench workloads: $badrows rows overflow their column"
expect "vtbench workloads NAME: the image's table with ranges" 0 "ws" "8192" "2147483648" -- \
  "$VTB" workloads gups
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  "$REFVMM" run workloads/build/pio.elf --backend kvm --param n=100 >"$TMP/out" 2>&1
  n=$(grep -c 'unsupported' "$TMP/out")
  [ "$n" -le 1 ] && ok "refvmm kvm: an unsupported PMU reason said once ($n line)" ||
    bad "refvmm kvm: $n lines of unsupported PMU events"
else
  echo "SKIP refvmm kvm: no usable /dev/kvm here"
fi

# ---- every option --help lists is accepted, every default stated
expect "vtbench run: --kvm-exits (in its usage) accepted" 0 "configurations" -- \
  "$VTB" run --quick --kvm-exits --dry-run -o "$TMP/d.json"
"$VTB" run --help >"$TMP/out" 2>&1
# an option taking a value: its paragraph (the line and the next two) says "default"
no_default() { # HELP_FILE OPTION...
  local f=$1 o missing=""
  shift
  for o in "$@"; do grep -A2 -- "^  $o " "$f" | grep -q "default" || missing="$missing $o"; done
  echo "$missing"
}
m=$(no_default "$TMP/out" --matrix --backends --workloads --modes --reps --warmup --model-reps --cpu \
  --shard --timeout --baseline -o)
[ -z "$m" ] && ok "vtbench run --help: every option with a value states its default" ||
  bad "vtbench run --help: no default stated for$m"
"$REFVMM" --help >"$TMP/out" 2>&1
m=$(no_default "$TMP/out" --backend --paging --tlb --nmi --irq --poll-us --mem --timeout --json \
  --events --profile --model-baseline)
[ -z "$m" ] && ok "refvmm --help: every option with a value states its default" ||
  bad "refvmm --help: no default stated for$m"
"$REFVMM" run workloads/build/pio.elf --backend model --paging shadow --param n=10 >"$TMP/out" 2>&1
grep -q "nmi poll (default)  irq poll (default)" "$TMP/out" &&
  ok "refvmm: nmi and irq default to poll, as vtbench's modes" || bad "refvmm: nmi/irq defaults differ from vtbench's modes"

expect "refvmm model: default sizes get a note before the run" 13 "runs at its default sizes, which are sized for KVM" -- \
  "$REFVMM" run workloads/build/memstream.elf --backend model --timeout 1
"$REFVMM" run workloads/build/pio.elf --backend model --param n=10 >"$TMP/out" 2>&1
absent "refvmm model: no note when a size is given" "sized for KVM"

# ---- progress without a terminal: refvmm's long model runs, vtbench run's matrix
VTB_PROGRESS_S=0.05 "$REFVMM" run workloads/build/compute.elf --backend model --paging ept \
  --param n=3000000 >"$TMP/out" 2>&1
n=$(grep -c 'refvmm: the .*: running for [0-9.]* s' "$TMP/out")
[ "$n" -ge 2 ] && ok "refvmm: a long model run says it is still running ($n lines)" ||
  bad "refvmm: $n progress lines in a long model run"
echo '{"backends": ["model"], "workloads": [{"name": "compute", "params": {"n": 400000}}],
 "modes": ["native", "shadow", "ept", "ept/vpid"]}' >"$TMP/m.json"
VTB_PROGRESS_S=0.2 "$VTB" run --matrix "$TMP/m.json" -o "$TMP/p.json" >/dev/null 2>"$TMP/out" </dev/null
n=$(grep -c '^vtbench run: \[[0-9]*/[0-9]*\] [0-9:]* elapsed' "$TMP/out")
[ "$n" -ge 2 ] && ok "vtbench run: progress lines when stderr is a file ($n)" ||
  bad "vtbench run: $n progress lines when stderr is a file"

echo "newcomer_cli: $pass passed, $failed failed"
[ "$failed" = 0 ]
