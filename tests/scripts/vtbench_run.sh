#!/bin/bash
# vtbench_run.sh - `vtbench run` against a fake refvmm (so it runs on any
# host): interleaved order, warm-ups not recorded, a backend refvmm reports
# as not built is skipped with a note, Ctrl-C keeps the finished runs and
# marks the document incomplete, --resume completes the matrix without
# repeating a run, the union of --shard I/N documents merged equals the
# unsharded matrix, and the progress line appears on a terminal only.
set -u
cd "$(dirname "$0")/../.."
VTB=$PWD/${VTBENCH:-bin/vtbench}
[ -x "$VTB" ] || { echo "vtbench_run: $VTB not built (run make)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_run_test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
err() { echo "vtbench_run: FAIL: $*"; fail=1; }

mkdir -p "$TMP/images"
for w in pio cpuid compute; do : >"$TMP/images/$w.elf"; done
cat >"$TMP/refvmm" <<'FAKE'
#!/bin/bash
# Fake refvmm: records its arguments, writes a one-run result document.
args="$*"
img=$2; shift 2
backend=kvm paging=shadow tlb=flush nmi=poll irq=poll json= params=
while [ $# -gt 0 ]; do
  case $1 in
    --backend) backend=$2; shift ;; --paging) paging=$2; shift ;; --tlb) tlb=$2; shift ;;
    --nmi) nmi=$2; shift ;; --irq) irq=$2; shift ;; --json) json=$2; shift ;;
    --param) params="$params${params:+,}\"${2%%=*}\":\"${2#*=}\""; shift ;;
  esac
  shift
done
echo "$backend $(basename "$img" .elf) $paging/$tlb/$nmi/$irq" >>"$FAKE_LOG"
echo "$backend $args" >>"$FAKE_LOG.args"
if [ "$backend" = model ]; then
  echo "refvmm: backend 'model' is not built yet; use --backend kvm" >&2
  exit 5
fi
sleep "${FAKE_SLEEP:-0}"
wall=$((1000000 + RANDOM))
cat >"$json" <<DOC
{"schema": {"name": "vtbench-result", "version": 1},
 "context": {"host": "fake", "tsc_hz": 1000000000},
 "runs": [{"workload": "$(basename "$img" .elf)", "params": {$params}, "backend": "$backend",
   "modes": {"paging": "$paging", "tlb": "$tlb", "nmi": "$nmi", "irq": "$irq"},
   "status": "ok", "exit_code": 0, "guest": {"checksum": 42, "iterations": 1000},
   "timed": {"wall_ns": $wall, "tsc": $wall, "tsc_hz": 1000000000},
   "exits": {"total": 1000, "by_reason": {"IO": {"count": 1000}}}}],
 "aggregates": []}
DOC
FAKE
chmod +x "$TMP/refvmm"
export VTBENCH_REFVMM=$TMP/refvmm VTBENCH_WORKLOADS=$TMP/images FAKE_LOG=$TMP/calls.log
mkdir -p "$TMP/tmp"
export TMPDIR=$TMP/tmp # vtbench's scratch directories (refvmm's run.json, run.log)
cat >"$TMP/matrix.json" <<'EOF2'
{"backends": ["kvm", "model"],
 "workloads": [{"name": "pio", "params": {"n": 10}}, "cpuid", "compute"],
 "modes": ["shadow/flush/poll/poll", "shadow/flush/window/window"],
 "reps": 3, "warmup": 1}
EOF2
keys() { jq -r '.runs[] | "\(.config) #\(.repetition)"' "$1"; }

# 1. A whole run: 3 workloads x 2 modes x 3 reps on kvm; model skipped.
: >"$TMP/calls.log"
"$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/full.json" >"$TMP/out" 2>&1 || err "run failed: $(cat "$TMP/out")"
grep -q "cannot run the model backend" "$TMP/out" || err "no note about the model backend"
[ "$(jq '.runs | length' "$TMP/full.json")" = 18 ] || err "expected 18 runs, got $(jq '.runs | length' "$TMP/full.json")"
[ "$(jq -r .session.status "$TMP/full.json")" = complete ] || err "session not complete"
[ "$(keys "$TMP/full.json" | sort -u | wc -l)" = 18 ] || err "duplicate runs"
[ "$(jq '[.aggregates[] | select(.metric == "wall_ns")] | length' "$TMP/full.json")" = 6 ] ||
  err "expected wall_ns aggregates for 6 configurations"
# Warm-ups ran (6 kvm calls more than recorded) and the order interleaves:
# the first 6 recorded runs are 6 different configurations.
[ "$(grep -c '^kvm' "$TMP/calls.log")" = 24 ] || err "expected 24 kvm calls (6 warm-up + 18)"
[ "$(jq -r '.runs[0:6][] | .config' "$TMP/full.json" | sort -u | wc -l)" = 6 ] || err "not interleaved"

# 2. Interrupt and resume.
FAKE_SLEEP=0.3 "$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/int.json" >"$TMP/out" 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -s "$TMP/int.json" ] && [ "$(jq '.runs | length' "$TMP/int.json" 2>/dev/null || echo 0)" -ge 3 ] && break
  sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || err "interrupted run exit status $rc, expected 130"
[ "$(jq -r .session.status "$TMP/int.json")" = incomplete ] || err "interrupted document not marked incomplete"
before=$(jq '.runs | length' "$TMP/int.json")
[ "$before" -ge 3 ] && [ "$before" -lt 18 ] || err "interrupted document has $before runs"
keys "$TMP/int.json" >"$TMP/before.txt"
: >"$TMP/calls.log"
"$VTB" run --resume -o "$TMP/int.json" >"$TMP/out" 2>&1 || err "resume failed: $(cat "$TMP/out")"
[ "$(jq -r .session.status "$TMP/int.json")" = complete ] || err "resumed document not complete"
[ "$(jq '.runs | length' "$TMP/int.json")" = 18 ] || err "resumed document: $(jq '.runs | length' "$TMP/int.json") runs, expected 18"
[ "$(keys "$TMP/int.json" | sort -u | wc -l)" = 18 ] || err "resume repeated a run"
keys "$TMP/int.json" | head -n "$before" | cmp -s - "$TMP/before.txt" || err "resume changed the finished runs"
calls=$(grep -c '^kvm' "$TMP/calls.log")
[ "$calls" = $((18 - before + 6)) ] || err "resume made $calls kvm calls, expected $((18 - before)) + 6 warm-ups"

# 2b. A SIGKILLed run cannot remove its scratch directory: the next start
# does, but not one another vtbench holds (flock).
FAKE_SLEEP=0.5 "$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/killed.json" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/killed.json" ] && break; sleep 0.05; done
{ kill -KILL $pid && wait $pid; } 2>/dev/null # (no "Killed" job notice in the log)
stale=$(ls -d "$TMPDIR"/vtbench-tmp-run.* 2>/dev/null | wc -l)
[ "$stale" = 1 ] || err "expected the killed run's scratch directory in \$TMPDIR, found $stale"
mkdir "$TMPDIR/vtbench-tmp-run.held"
flock "$TMPDIR/vtbench-tmp-run.held" sleep 30 &
holder=$!
sleep 0.2
"$VTB" run --matrix "$TMP/matrix.json" --reps 1 --warmup 0 -o "$TMP/after_kill.json" >/dev/null 2>&1 ||
  err "run after a SIGKILLed one failed"
left=$(ls -d "$TMPDIR"/vtbench-tmp-* 2>/dev/null)
[ "$left" = "$TMPDIR/vtbench-tmp-run.held" ] ||
  err "scratch directories after the next run: '$left' (expected only the held one)"
kill $holder 2>/dev/null
wait $holder 2>/dev/null

# 2c. One writer per document: a second run onto the same -o while the
# first is running is refused (exit 4, naming the holder) and the first
# keeps all its runs; an existing document is not replaced without --force
# (exit 5, byte for byte unchanged), --force replaces it.
FAKE_SLEEP=0.2 "$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/c.json" >"$TMP/out1" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/c.json" ] && break; sleep 0.05; done
"$VTB" run --matrix "$TMP/matrix.json" -o "$TMP/c.json" >"$TMP/out2" 2>&1
rc=$?
[ $rc = 4 ] || err "second writer: exit $rc, expected 4: $(cat "$TMP/out2")"
grep -q "c.json is being written by another vtbench (pid $pid" "$TMP/out2" ||
  err "second writer's message: $(cat "$TMP/out2")"
"$VTB" run --resume -o "$TMP/c.json" >"$TMP/out3" 2>&1
[ $? = 4 ] || err "a --resume while the first runs was not refused: $(cat "$TMP/out3")"
wait $pid || err "first writer failed: $(cat "$TMP/out1")"
[ "$(jq '.runs | length' "$TMP/c.json")" = 18 ] || err "first writer's document lost runs"
[ ! -e "$TMP/c.json.lock" ] || err "lock file left behind"
cp "$TMP/c.json" "$TMP/c.before"
"$VTB" run --matrix "$TMP/matrix.json" --reps 1 -o "$TMP/c.json" >"$TMP/out" 2>&1
rc=$?
[ $rc = 5 ] || err "run onto an existing document: exit $rc, expected 5"
grep -q "c.json exists (.*): continue it with --resume, replace it with --force" "$TMP/out" ||
  err "existing document message: $(cat "$TMP/out")"
cmp -s "$TMP/c.json" "$TMP/c.before" || err "the existing document changed"
"$VTB" run --matrix "$TMP/matrix.json" --reps 1 --warmup 0 --force -o "$TMP/c.json" >"$TMP/out" 2>&1 ||
  err "--force failed: $(cat "$TMP/out")"
[ "$(jq '.runs | length' "$TMP/c.json")" = 6 ] || err "--force did not replace the document"
: >"$TMP/empty.json" # an empty file (mktemp) is not a document: written without --force
"$VTB" run --matrix "$TMP/matrix.json" --reps 1 --warmup 0 -o "$TMP/empty.json" >/dev/null 2>&1 ||
  err "run onto an empty file refused"

# 3. Shards: the union of 1/3, 2/3, 3/3 is the whole matrix.
for i in 1 2 3; do
  "$VTB" run --matrix "$TMP/matrix.json" --shard $i/3 -o "$TMP/shard$i.json" >/dev/null 2>&1 || err "shard $i/3 failed"
done
"$VTB" merge -o "$TMP/merged.json" "$TMP"/shard{1,2,3}.json >/dev/null || err "merge failed"
diff <(keys "$TMP/merged.json" | sort) <(keys "$TMP/full.json" | sort) >/dev/null ||
  err "merged shards differ from the unsharded matrix"
"$VTB" merge -o "$TMP/dup.json" "$TMP/shard1.json" "$TMP/shard1.json" >"$TMP/out" 2>&1
rc=$?
[ $rc = 6 ] || err "merging the same shard twice: exit $rc, expected 6"
grep -q "shard1.json and .*shard1.json are both shard 1/3" "$TMP/out" || err "same shard twice: $(cat "$TMP/out")"
# an incomplete set of shards is said so, not marked complete
"$VTB" merge -o "$TMP/part.json" "$TMP/shard1.json" "$TMP/shard3.json" >"$TMP/out" 2>&1
rc=$?
[ $rc = 6 ] || err "merging 2 of 3 shards: exit $rc, expected 6"
grep -q "shard 2/3 of the matrix of .*shard1.json is missing (given: 1/3, 3/3)" "$TMP/out" ||
  err "missing shard message: $(cat "$TMP/out")"
[ ! -e "$TMP/part.json" ] || err "an incomplete merge wrote its output"
"$VTB" merge --allow-incomplete -o "$TMP/part.json" "$TMP/shard1.json" "$TMP/shard3.json" >"$TMP/out" 2>&1 ||
  err "--allow-incomplete failed: $(cat "$TMP/out")"
[ "$(jq -r .session.status "$TMP/part.json")" = incomplete ] || err "partial merge not marked incomplete"
[ "$(jq -c .session.missing_shards "$TMP/part.json")" = '["2/3"]' ] ||
  err "missing_shards: $(jq -c .session.missing_shards "$TMP/part.json")"
# shards of another matrix do not complete this one
"$VTB" run --matrix "$TMP/matrix.json" --reps 2 --shard 2/3 -o "$TMP/other2.json" >/dev/null 2>&1
"$VTB" merge -o "$TMP/mixed.json" "$TMP/shard1.json" "$TMP/other2.json" "$TMP/shard3.json" >"$TMP/out" 2>&1
rc=$?
[ $rc = 6 ] || err "shards of two matrices: exit $rc, expected 6"
grep -q "different matrices" "$TMP/out" || err "two matrices message: $(cat "$TMP/out")"
# a run present twice: refused by report and export as by merge, and by --resume
jq '.runs += .runs' "$TMP/full.json" >"$TMP/twice.json"
for cmd in "report $TMP/twice.json -o $TMP/rep_twice" "export --csv $TMP/twice.json -o $TMP/csv_twice" \
           "run --resume -o $TMP/twice.json"; do
  # shellcheck disable=SC2086 # the words of each command
  "$VTB" $cmd >"$TMP/out" 2>&1
  rc=$?
  [ $rc = 6 ] || err "$cmd on a document with every run twice: exit $rc, expected 6"
  grep -q "runs\[18\] is runs\[0\] again" "$TMP/out" || err "$cmd: $(cat "$TMP/out")"
done

# 4. Errors name their place.
echo '{"workloads": [{"name": "pio", "params": {"n": "x"}}], "modes": ["shadow"]}' >"$TMP/bad.json"
"$VTB" run --matrix "$TMP/bad.json" -o "$TMP/x.json" 2>"$TMP/err" && err "bad matrix accepted"
grep -q 'bad.json: workloads\[0\].params.n: expected a non-negative integer, got "x"' "$TMP/err" ||
  err "matrix error message: $(cat "$TMP/err")"
# numeric options are bounded, named, and refused with the usage status (2)
for bad in "--reps 0" "--reps 12x" "--warmup 101" "--cpu 5000" "--timeout -1"; do
  # shellcheck disable=SC2086 # "--reps 0" -> option, value
  "$VTB" run --matrix "$TMP/matrix.json" $bad -o "$TMP/x.json" 2>"$TMP/err"
  rc=$?
  [ $rc = 2 ] || err "run $bad: exit status $rc, expected 2 (usage)"
  grep -q "vtbench run: ${bad%% *} '${bad#* }': expected [0-9]*\.\.[0-9]*" "$TMP/err" ||
    err "run $bad: message: $(cat "$TMP/err")"
done

# 5. Progress: on a terminal one line per job on stderr (done/total,
# elapsed, estimate left, the configuration), each overwriting the last
# (\r, erase line) and cut to the terminal's width; nothing when stderr is
# not a terminal (checked in 1: the output holds only notes and the summary).
grep -q $'\r' "$TMP/out" && err "progress written although stderr is not a terminal"
if command -v script >/dev/null; then
  script -q -c "stty cols 60; $VTB run --matrix $TMP/matrix.json --reps 1 --warmup 0 -o $TMP/tty.json" \
    "$TMP/tty.log" >/dev/null 2>&1 </dev/null || err "run under script(1) failed"
  tr '\r' '\n' <"$TMP/tty.log" | sed 's/\x1b\[K//' >"$TMP/tty.lines"
  for k in 1 2 3 4 5 6; do
    grep -q "^\[$k/6\] [0-9]*:[0-9][0-9] elapsed, ~[0-9?:]* left | kvm " "$TMP/tty.lines" ||
      err "no progress line [$k/6] on the terminal: $(head -c 300 "$TMP/tty.lines")"
  done
  grep -q "^\[2/6\] .* left | kvm" "$TMP/tty.lines" && ! grep -q "^\[2/6\] .*~? left" "$TMP/tty.lines" ||
    err "no time estimate after the first run"
  awk 'length($0) > 59 && /^\[/ { bad = 1 } END { exit bad }' "$TMP/tty.lines" ||
    err "progress line longer than the 60-column terminal"
else
  echo "vtbench_run: skip progress check: script(1) missing (util-linux)"
fi

# --kvm-exits asks refvmm for KVM's per-reason exits (--events kvm:exits) on
# kvm runs only; the model has its own exits by reason.
: >"$TMP/calls.log.args"
if "$VTB" run -B kvm,model -W pio -M shadow/flush/poll/poll --reps 1 --warmup 0 --kvm-exits \
  -o "$TMP/kx.json" >"$TMP/kx.log" 2>&1; then
  grep -q '^kvm .*--events kvm:exits' "$TMP/calls.log.args" || err "--kvm-exits: kvm run without --events kvm:exits"
  ! grep -q '^model .*--events' "$TMP/calls.log.args" || err "--kvm-exits: model run got --events"
else
  err "vtbench run --kvm-exits failed: $(cat "$TMP/kx.log")"
fi

[ $fail = 0 ] && echo "vtbench_run: passed"
exit $fail
