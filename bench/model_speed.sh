#!/bin/bash
# bench/model_speed.sh - `make bench`, part 2: the model backend's speed in
# guest instructions per second, every paging x tlb mode side by side with
# native, and the same images under QEMU TCG (qemu-system-x86_64 -accel tcg,
# PVH entry, as tests/scripts/qemu_boot.sh boots them).
#
# Method (the same for the model and for TCG): each workload runs at two
# sizes, a long one (N) and a short one (N/10, the same other parameters);
# rate = (instructions(N) - instructions(N/10)) / (wall(N) - wall(N/10)).
# The difference cancels process start-up, guest boot and the workload's
# set-up (e.g. gups' 64 MiB table), which both sizes share. The instruction
# counts are the model's exact `model.instructions` (the same in every mode,
# tests/unit/test_model_paging.c); TCG runs the same loop bodies, so the
# model's difference is TCG's too (QEMU cannot count them itself without
# -icount, which would change its speed). wall = the whole process, measured
# here with date +%s%N for both. Every cell is the median of REPS repetitions,
# each repetition runs every set-up once, in a rotating order.
#
#   MODEL_REPS=3 MODEL_MIN=30 MODEL_WORKLOADS="compute gups" MODEL_TCG=1 bash bench/model_speed.sh
# (MODEL_TCG=0: the model only)
#
# MODEL_CLOCK=cpu times each process by its CPU time (user + system, bash's
# `time`, 1 ms resolution) instead of its wall time: on a shared host, where
# the processes wait for a CPU, that measures the work and not the share of
# the CPU it got (QEMU's: all its threads).
#
# Exit status 1 when a mode is below MODEL_MIN M instructions/s on a
# workload and MODEL_STRICT=1 (default: report only).
set -euo pipefail
cd "$(dirname "$0")/.."

REFVMM=${REFVMM:-bin/refvmm}
QEMU=${QEMU:-qemu-system-x86_64}
REPS=${MODEL_REPS:-3}
MIN=${MODEL_MIN:-30}
STRICT=${MODEL_STRICT:-0}
WORKLOADS=${MODEL_WORKLOADS:-compute callret gups memstream cr3switch forkwait}
CLOCK=${MODEL_CLOCK:-wall}
case $CLOCK in wall | cpu) ;; *) echo "bench: MODEL_CLOCK is wall or cpu, not $CLOCK" >&2; exit 2 ;; esac
MODES=("native" "shadow flush" "shadow vpid" "ept flush" "ept vpid")

# workload -> "KEY LONG TCG-FACTOR OTHER-PARAMS": the key scaled by 10 between
# the sizes; TCG runs KEY x TCG-FACTOR (it is faster: a longer difference) and
# its instruction difference is the model's x TCG-FACTOR (the instructions
# are linear in KEY: the loop body is the same each time)
params_of() {
  case $1 in
  compute) echo "n 20000000 10" ;;
  callret) echo "n 20000000 10" ;;
  gups) echo "n 8000000 1 ws=67108864" ;;
  memstream) echo "passes 10 4 ws=67108864" ;;
  cr3switch) echo "n 300000 1" ;;
  forkwait) echo "n 20000 2" ;;
  *) echo "bench: no model-speed parameters for $1" >&2; return 1 ;;
  esac
}

[ -e "$REFVMM" ] || { echo "bench: $REFVMM does not exist (run make first)" >&2; exit 1; }
baseline_opt=0
"$REFVMM" --help 2>&1 | grep -q -- --model-baseline && baseline_opt=1
have_qemu=${MODEL_TCG:-1}
if [ "$have_qemu" = 1 ] && ! command -v "$QEMU" >/dev/null 2>&1; then
  echo "bench: $QEMU not found: no TCG comparison (install qemu-system-x86)"
  have_qemu=0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s%N; }
# timed CMD...: runs CMD (stdout, stderr as given), its time in ns on fd 3:
# the wall time, or with MODEL_CLOCK=cpu its CPU time (user + system)
timed() {
  local t0 t1 rc=0
  if [ "$CLOCK" = cpu ]; then
    local TIMEFORMAT='%3U %3S'
    { time "$@" 2>&4; } 4>&2 2>"$tmp/cpu.time" || rc=$?
    awk '{ printf "%.0f\n", ($1 + $2) * 1e9 }' "$tmp/cpu.time" >&3 # %d: 32 bits in mawk
  else
    t0=$(now)
    "$@" || rc=$?
    t1=$(now)
    echo $((t1 - t0)) >&3
  fi
  return $rc
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# model_run WL MODE SIZE: wall ns on stdout; instructions in $tmp/instr.WL.SIZE
model_run() {
  local wl=$1 mode=$2 size=$3 key long mult rest
  read -r key long mult rest < <(params_of "$wl")
  local n=$((size == 1 ? long : long / 10)) args=()
  for p in $rest; do args+=(--param "$p"); done
  # shellcheck disable=SC2086 # "ept flush" -> paging, tlb
  set -- $mode
  local mo=(--paging "$1")
  [ -n "${2:-}" ] && mo+=(--tlb "$2")
  # no native baseline run before a paging ept|shadow run (the cost model's
  # reference): it would be timed with the mode
  [ "$1" != native ] && [ "$baseline_opt" = 1 ] && mo+=(--model-baseline none)
  timed "$REFVMM" run "workloads/build/$wl.elf" --backend model "${mo[@]}" --param "$key=$n" \
    "${args[@]}" --quiet --no-probes --timeout 600 --json "$tmp/r.json" 3>"$tmp/ns" >/dev/null
  jq -e -r '.runs[0] | select(.status == "ok") | .model.instructions' "$tmp/r.json" \
    >"$tmp/instr.$wl.$size" || { echo "bench: $wl $mode $key=$n did not finish ok" >&2; exit 1; }
  cat "$tmp/ns"
}

# qemu_run WL SIZE: wall ns of the whole QEMU process
qemu_run() {
  local wl=$1 size=$2 key long mult rest
  read -r key long mult rest < <(params_of "$wl")
  long=$((long * mult))
  local n=$((size == 1 ? long : long / 10)) rc=0
  timed timeout 600 "$QEMU" -accel tcg -M pc -m 128 -nographic -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "workloads/build/$wl.elf" \
    -append "$key=$n $rest" </dev/null >"$tmp/qemu.out" 2>&1 3>"$tmp/ns" || rc=$?
  if [ "$rc" -ne 1 ]; then # isa-debug-exit: guest status 0 -> 1
    echo "bench: QEMU TCG $wl $key=$n: exit code $rc, want 1 (guest exit 0)" >&2
    tail -3 "$tmp/qemu.out" >&2
    exit 1
  fi
  cat "$tmp/ns"
}

setups=("${MODES[@]}")
[ "$have_qemu" -eq 1 ] && setups+=("tcg")
echo
echo "bench: model speed, M guest instructions per second of $CLOCK time (median of $REPS; rate over the"
echo "       difference between the long and the 1/10 run; x = rate / native; tcg = QEMU TCG)"
printf '%-10s' workload
for s in "${setups[@]}"; do printf ' %13s' "${s// //}"; done
printf ' %10s\n' "native/tcg"
low=0
for wl in $WORKLOADS; do
  read -r key long mult rest < <(params_of "$wl")
  for i in $(seq 1 "$REPS"); do
    k=0
    for s in "${setups[@]}"; do # rotate the order so drift favours none
      idx=$(((k + i) % ${#setups[@]}))
      k=$((k + 1))
      st=${setups[$idx]}
      f=$tmp/wall.$wl.${st// /_}
      if [ "$st" = tcg ]; then
        echo "$(qemu_run "$wl" 1) $(qemu_run "$wl" 0)" >>"$f"
      else
        echo "$(model_run "$wl" "$st" 1) $(model_run "$wl" "$st" 0)" >>"$f"
      fi
    done
  done
  dinstr=$(($(cat "$tmp/instr.$wl.1") - $(cat "$tmp/instr.$wl.0")))
  declare -A rate=()
  for st in "${setups[@]}"; do
    f=$tmp/wall.$wl.${st// /_}
    # per repetition: M instructions per second over the difference
    d=$dinstr
    [ "$st" = tcg ] && d=$((dinstr * mult))
    rate[$st]=$(awk -v d="$d" '{ if ($1 > $2) printf "%.2f\n", d / ($1 - $2) * 1000 }' "$f" | median)
  done
  printf '%-10s' "$wl"
  for st in "${setups[@]}"; do
    if [ "$st" = native ]; then
      printf ' %13s' "${rate[$st]}"
    else
      printf ' %6s (%4.2fx)' "${rate[$st]}" "$(awk -v a="${rate[$st]}" -v b="${rate[native]}" 'BEGIN {print a / b}')"
    fi
  done
  if [ "$have_qemu" -eq 1 ]; then
    printf ' %10.3f' "$(awk -v a="${rate[native]}" -v b="${rate[tcg]}" 'BEGIN {print a / b}')"
  fi
  printf '   (%s %s=%s vs %s, %d instructions apart; tcg x%s)\n' "$rest" "$key" "$long" \
    "$((long / 10))" "$dinstr" "$mult"
  for st in "${MODES[@]}"; do
    if awk -v r="${rate[$st]}" -v m="$MIN" 'BEGIN {exit !(r < m)}'; then
      echo "bench: note: $wl in ${st// //} runs ${rate[$st]} M/s, below the $MIN M/s target"
      low=1
    fi
  done
  unset rate
done
if [ "$low" -eq 0 ]; then
  echo "bench: every model mode reaches $MIN M guest instructions/s on: $WORKLOADS"
elif [ "$STRICT" = 1 ]; then
  exit 1
fi
exit 0
