#!/bin/bash
# fuzz_smoke.sh - run every libFuzzer harness (tests/fuzz/fuzz_*.c) for a
# bounded time over its committed seeds (tests/fuzz/corpus/NAME/); with
# --run new inputs are kept in build/fuzz/NAME/. A crash, leak or sanitizer
# report fails (the input is saved in build/fuzz/artifacts/).
#
#   bash tests/scripts/fuzz_smoke.sh              make check: ~4 s each (the seeds, then new inputs)
#   bash tests/scripts/fuzz_smoke.sh --run SECS   make fuzz-run / fuzz-long
#
# Prints per harness: executions, coverage (cov: edges, ft: features) and
# corpus size, the figures docs/RELIABILITY.md records. Skips (exit 0, with
# the reason) when clang cannot build libFuzzer programs.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SMOKE_SECONDS:-4}
building=1
if [ "${1:-}" = --run ]; then
  secs=$2
  building=0 # make fuzz-run/fuzz-long built them already
fi
names=${FUZZ_NAMES:-$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|')}
cc=${FUZZ_CC:-clang}
probe=$(mktemp -d /tmp/vtb_fuzz_probe.XXXXXX)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address -o "$probe/p" "$probe/p.c" >"$probe/log" 2>&1; then
  echo "fuzz_smoke: SKIP: $cc cannot build libFuzzer programs: $(head -1 "$probe/log")"
  exit 0
fi
if [ $building = 1 ]; then
  # the harnesses are sanitizer builds of their own, independent of SAN=1
  make -s -j2 fuzz FUZZ_CC="$cc" >"$probe/build" 2>&1 || {
    echo "fuzz_smoke: FAIL: make fuzz:"
    tail -20 "$probe/build"
    exit 1
  }
fi
fail=0
for n in $names; do
  bin=bin/fuzz_$n
  [ -x "$bin" ] || { echo "fuzz_smoke: FAIL: $bin not built"; fail=1; continue; }
  # make check: a fresh corpus from the seeds (bounded time, not spent re-reading
  # what earlier runs found); --run: the persistent corpus in build/fuzz/NAME.
  corpus=build/fuzz/$n
  [ $building = 1 ] && corpus=$probe/corpus_$n
  mkdir -p "$corpus" "build/fuzz/artifacts"
  seeds=tests/fuzz/corpus/$n
  [ -d "$seeds" ] || seeds=
  "$bin" -max_total_time="$secs" -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$n-" \
    "$corpus" $seeds >"$probe/$n.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$probe/$n.log")
  last=$(grep -E '^#[0-9]+' "$probe/$n.log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  edges=$(sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' "$probe/$n.log" | head -1)
  corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
  if [ $rc != 0 ]; then
    echo "fuzz_smoke: FAIL: $n (exit $rc):"
    grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$probe/$n.log" | head -10
    fail=1
  else
    echo "fuzz_smoke: $n: ${secs}s, ${execs:-?} execs, cov ${cov:-?} of ${edges:-?} edges, ft ${ft:-?}, corpus ${corp:-?}"
  fi
done
exit $fail
