#!/bin/bash
# scripts/pgo_train.sh - the training run of the profile-guided build of the
# model backend (Makefile, "profile-guided build of the model"): runs an
# instrumented refvmm (-fprofile-generate) over the exit-heavy and the
# memory-heavy workloads in every paging x tlb mode, so gcc sees where the
# interpreter and the TLB model spend their time. Model backend only (never
# /dev/kvm); small parameters: a few seconds in all.
#
#   bash scripts/pgo_train.sh REFVMM_BIN
#
# The profiles land where the binary's libgcov writes them: the Makefile sets
# GCOV_PREFIX to a private directory (without it they would merge into
# build/refvmm/model/NAME.gcda). Exit status 1, naming the command, if any run
# fails.
set -euo pipefail

bin=${1:?usage: $0 REFVMM_BIN (an instrumented refvmm, see the Makefile)}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
cd "$(dirname "$0")/.."
[ -x "$bin" ] || { echo "pgo_train: $bin is not an executable refvmm (make builds it)" >&2; exit 1; }

# workload and parameters; gups and memstream on a small working set (the
# default 64 MiB set-up would dominate), still far larger than the TLB
RUNS=("forkwait n=1000" "gups n=200000 ws=4194304" "cr3switch n=20000" "compute n=2000000"
      "memstream passes=2 ws=1048576")
MODES=("shadow flush" "shadow vpid" "ept flush" "ept vpid" "native")

run() {
  if ! "$bin" run "$@" --backend model --model-baseline none --quiet --timeout 60 >/dev/null; then
    echo "pgo_train: failed: $bin run $* --backend model --model-baseline none --quiet --timeout 60" >&2
    exit 1
  fi
}

for r in "${RUNS[@]}"; do
  # shellcheck disable=SC2086 # "gups n=... ws=..." -> workload, parameters
  set -- $r
  img=workloads/build/$1.elf
  shift
  if [ ! -e "$img" ]; then
    [ "$img" = workloads/build/memstream.elf ] && continue # optional
    echo "pgo_train: $img missing (make images first)" >&2
    exit 1
  fi
  params=()
  for p in "$@"; do params+=(--param "$p"); done
  for mode in "${MODES[@]}"; do
    # shellcheck disable=SC2086 # "ept flush" -> paging, tlb
    set -- $mode
    mo=(--paging "$1")
    [ -n "${2:-}" ] && mo+=(--tlb "$2")
    run "$img" "${mo[@]}" "${params[@]}"
  done
done

# event injection: NMIs that arrive blocked and wait for an NMI window
if [ -e workloads/build/nmistorm.elf ]; then
  run workloads/build/nmistorm.elf --paging ept --tlb vpid --nmi window \
    --param n=50 --param period_us=100 --param block_us=200
fi
