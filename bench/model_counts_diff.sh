#!/bin/bash
# bench/model_counts_diff.sh - check that two refvmm builds model exactly the
# same thing: runs each workload (small parameters) on the model backend in
# every paging x tlb mode with both binaries and diffs, with jq, the JSON
# `model` section (instructions, tlb, walks, pwc hits, exits, timed, modeled
# cycles ...) plus the run's `exits` and `timed`. Use it around a speed-only
# change (e.g. the TLB model's internals): any difference is a bug.
#
#   bash bench/model_counts_diff.sh OLD_REFVMM [NEW_REFVMM (default bin/refvmm)]
#   COUNTS_WORKLOADS="forkwait gups" bash bench/model_counts_diff.sh /tmp/refvmm.old
#   COUNTS_WORKLOADS=all ...      every workloads/*.c, with the small parameters below
#   COUNTS_WORKLOADS="nmistorm irqstorm" COUNTS_POLICIES="window poll" \
#     bash bench/model_counts_diff.sh /tmp/refvmm.old
#
# COUNTS_POLICIES runs every workload and mode once per NMI/IRQ delivery
# policy (--nmi P --irq P); the run's `events` section is compared too.
#
# COUNTS_IGNORE_CYCLES=1 compares the counts only, for a change of the cost
# model (new figures, other costs): everything the cost model prices in
# cycles is left out (modeled_cycles and what derives from it: modeled_ns,
# cycles_by_group, overhead_vs_native, breakdown, profile; the guest's TSC
# over the timed region; the events' latencies), and of the model section only
# the keys OLD has are compared (a new counter is not a difference). A guest
# whose control flow reads the modeled clock (nmistorm and irqstorm pace
# their events by the TSC) runs differently under other costs: that is a
# difference this mode reports.
#
# Exit status 0 when every run is identical, 1 on any difference (printed).
set -euo pipefail
cd "$(dirname "$0")/.."

OLD=${1:?usage: $0 OLD_REFVMM [NEW_REFVMM]}
NEW=${2:-bin/refvmm}
WORKLOADS=${COUNTS_WORKLOADS:-forkwait cr3switch ptemod pgfault gups}
[ "$WORKLOADS" = all ] && WORKLOADS=$(cd workloads && ls *.c | sed 's/\.c$//' | tr '\n' ' ')
MODES=("native" "shadow flush" "shadow vpid" "ept flush" "ept vpid")
POLICIES=${COUNTS_POLICIES:-default}
for b in "$OLD" "$NEW"; do
  [ -x "$b" ] || { echo "counts-diff: $b is not an executable refvmm (build it or copy it first)" >&2; exit 2; }
done

# small parameters: a few seconds per run in the slowest mode
params_of() {
  case $1 in
  forkwait) echo "n=300" ;;
  cr3switch) echo "n=3000" ;;
  ptemod) echo "n=3000" ;;
  pgfault) echo "n=300" ;;
  gups) echo "n=20000 ws=4194304" ;;
  cpuid | vmcall | pio | mmio | cr8wr) echo "n=20000" ;;
  syscall) echo "n=5000" ;;
  divzero) echo "n=4000" ;;
  callret | compute) echo "n=2000000" ;;
  memstream) echo "passes=3 ws=4194304" ;;
  ptrchase) echo "n=200000 ws=4194304" ;;
  nmistorm) echo "n=20 period_us=200 block_us=50" ;;
  irqstorm) echo "n=20 period_us=200 block_us=50 sti_us=30 cli_us=30" ;;
  *) echo "" ;;
  esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the deterministic part of a run: everything but the host's clocks (the
# run's timed.wall_ns, tsc, tsc_hz; the guest's TSC is modeled: kept)
filter='.runs[0] | {status, exit_code, model, exits, events, timed: (.timed | del(.wall_ns, .tsc, .tsc_hz))}'
if [ "${COUNTS_IGNORE_CYCLES:-0}" = 1 ]; then
  # cycle-priced figures out; the events' latencies are in modeled cycles
  filter="$filter"' | del(.model.modeled_cycles, .model.modeled_cycles_scope,
    .model.modeled_cycles_whole_run, .model.modeled_ns, .model.cycles_by_group,
    .model.overhead_vs_native, .model.breakdown, .model.profile, .model.baseline)
    | del(.timed.guest_tsc) | del(.events | .. | objects | .latency_ns)
    | del(.events | .. | objects | .samples_ns) | del(.model.events | .. | objects | .latency_cycles)
    | del(.model.events | .. | objects | .samples_cycles)'
fi
fail=0 n=0
for wl in $WORKLOADS; do
  img=workloads/build/$wl.elf
  [ -e "$img" ] || { echo "counts-diff: $img missing (make first)" >&2; exit 2; }
  args=()
  for p in $(params_of "$wl"); do args+=(--param "$p"); done
  for mode in "${MODES[@]}"; do
   for pol in $POLICIES; do
    # shellcheck disable=SC2086 # "ept flush" -> paging, tlb
    set -- $mode
    mo=(--paging "$1")
    [ -n "${2:-}" ] && mo+=(--tlb "$2")
    [ "$pol" != default ] && mo+=(--nmi "$pol" --irq "$pol")
    for side in old new; do
      bin=$OLD
      [ $side = new ] && bin=$NEW
      "$bin" run "$img" --backend model "${mo[@]}" "${args[@]}" --quiet --no-probes \
        --timeout 300 --json "$tmp/$side.json" >/dev/null 2>"$tmp/$side.err" || true
      jq -S "$filter" "$tmp/$side.json" >"$tmp/$side.f" 2>/dev/null || echo "no json" >"$tmp/$side.f"
    done
    if [ "${COUNTS_IGNORE_CYCLES:-0}" = 1 ]; then # NEW's model section as OLD's keys
      jq -S --slurpfile o "$tmp/old.f" 'def keep($t): if ($t|type) == "object" and type == "object"
          then with_entries(select(.key as $k | $t | has($k)) | .key as $k | .value |= keep($t[$k]))
          else . end; if .model and $o[0].model then .model = (.model | keep($o[0].model)) else . end' \
        "$tmp/new.f" >"$tmp/new.k" 2>/dev/null && mv "$tmp/new.k" "$tmp/new.f"
    fi
    n=$((n + 1))
    tag="$wl ${mode// //}$([ "$pol" != default ] && echo " $pol") $(params_of "$wl")"
    if cmp -s "$tmp/old.f" "$tmp/new.f"; then
      printf 'same  %-40s instructions=%s modeled_cycles=%s\n' "$tag" \
        "$(jq -r .model.instructions "$tmp/new.f")" "$(jq -r .runs[0].model.modeled_cycles "$tmp/new.json")"
    else
      echo "DIFF  $tag"
      diff "$tmp/old.f" "$tmp/new.f" | head -20 || true
      fail=1
    fi
   done
  done
done
if [ $fail -eq 0 ]; then
  echo "counts-diff: all $n runs identical ($OLD vs $NEW)"
else
  echo "counts-diff: differences found ($OLD vs $NEW)"
fi
exit $fail
