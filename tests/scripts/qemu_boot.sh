#!/usr/bin/env bash
# qemu_boot.sh - boot each workload image under QEMU TCG through its PVH entry
# note and check what it prints on the serial console against checksums this
# script computes itself (formulas in docs/ABI.md), plus the exit status
# isa-debug-exit gives (guest status s -> QEMU exit code 2*s+1).
# Skips, with the reason, when qemu-system-x86_64 or the images are missing.
set -u
cd "$(dirname "$0")/../.." || exit 1

QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${QEMU_TIMEOUT:-60}
BUILD=workloads/build

if ! command -v "$QEMU" >/dev/null 2>&1; then
  echo "qemu_boot: SKIP: $QEMU not found (install qemu-system-x86)"
  exit 0
fi
if ! ls $BUILD/*.elf >/dev/null 2>&1; then
  echo "qemu_boot: SKIP: no images in $BUILD (run make images)"
  exit 0
fi

fails=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# qemu_run IMAGE PARAMS: console output in $out, QEMU's exit code in $rc.
qemu_run() {
  timeout "$TIMEOUT" "$QEMU" -accel tcg -M pc -m 128 -nographic -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$1" -append "$2" \
    </dev/null >"$out" 2>&1
  rc=$?
}

fail() {
  echo "qemu_boot: FAIL: $*"
  sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$out" | tail -5 | sed 's/^/    | /'
  fails=$((fails + 1))
}

report() { # KEY: value of the last "report KEY=VALUE" line
  tr -d '\r' <"$out" | sed -n "s/^.*report $1=\([0-9]*\)\$/\1/p" | tail -1
}

# splitmix64 finalizer in 64-bit bash arithmetic (>> is arithmetic: mask it).
mix64() {
  local z=$1
  z=$(((z ^ ((z >> 30) & 0x3ffffffff)) * 0xbf58476d1ce4e5b9))
  z=$(((z ^ ((z >> 27) & 0x1fffffffff)) * 0x94d049bb133111eb))
  m=$((z ^ ((z >> 31) & 0x1ffffffff)))
}

expect_compute() { # n seed
  local h=$2 i
  for ((i = 0; i < $1; i++)); do
    mix64 $((h + 0x9e3779b97f4a7c15))
    h=$m
  done
  printf '%u' "$h"
}
expect_cpuid() { # n leaf
  mix64 $((0x6370756964 ^ $1 ^ ($2 << 32)))
  printf '%u' "$m"
}
expect_sum() { printf '%u' $(($1 * ($1 - 1) / 2)); } # n <= 2^32
expect_vmcall() { # n: cpl=0 user=1, refvmm's answer i ^ cookie (vtb_abi.h)
  local s=0 i
  for ((i = 0; i < $1; i++)); do s=$((s + (i ^ 0x766d6d63616c6c) + i)); done
  printf '%u' "$s"
}
expect_cr8wr() { # n: sum of i & 15
  local s=0 i
  for ((i = 0; i < $1; i++)); do s=$((s + (i & 15))); done
  printf '%u' "$s"
}
expect_syscall() { printf '%u' $((-($1 + $1 * ($1 - 1) / 2))); } # sum of ~i
expect_callret() { # n seed: h = rotl(h, 7) + i
  local h=$2 i
  for ((i = 0; i < $1; i++)); do h=$((((h << 7) | ((h >> 57) & 0x7f)) + i)); done
  printf '%u' "$h"
}

# check NAME PARAMS EXPECTED_CHECKSUM EXPECTED_ITERATIONS
check() {
  local img=$BUILD/$1.elf
  if [ ! -f "$img" ]; then
    echo "qemu_boot: SKIP: $img not built"
    return
  fi
  qemu_run "$img" "$2"
  local got it
  got=$(report checksum)
  it=$(report iterations)
  if [ "$rc" -ne 1 ]; then
    fail "$1 $2: QEMU exit code $rc, want 1 (guest exit 0)"
  elif [ "$got" != "$3" ]; then
    fail "$1 $2: checksum '$got', want $3"
  elif [ "$it" != "$4" ]; then
    fail "$1 $2: iterations '$it', want $4"
  else
    echo "qemu_boot: ok: $1 $2: checksum $got"
  fi
}

# check_fails NAME PARAMS WANT_RC PATTERN: the guest must fail this way.
check_fails() {
  local img=$BUILD/$1.elf
  [ -f "$img" ] || { echo "qemu_boot: SKIP: $img not built"; return; }
  qemu_run "$img" "$2"
  if [ "$rc" -ne "$3" ]; then
    fail "$1 $2: QEMU exit code $rc, want $3"
  elif ! grep -q "$4" "$out"; then
    fail "$1 $2: console lacks '$4'"
  else
    echo "qemu_boot: ok: $1 $2: fails as expected ($4)"
  fi
}

check compute "n=1000 seed=1" "$(expect_compute 1000 1)" 1000
check compute "n=500 seed=7 cpl=0" "$(expect_compute 500 7)" 500
check compute "n=500 seed=7 syscall=trap" "$(expect_compute 500 7)" 500
check cpuid "n=100" "$(expect_cpuid 100 0)" 100
check cpuid "n=50 leaf=1 cpl=3" "$(expect_cpuid 50 1)" 50
check pio "n=100" "$(expect_sum 100)" 100
check mmio "n=100" "$(expect_sum 100)" 100
check mmio "n=100 cpl=3" "$(expect_sum 100)" 100
CPU_WORKLOADS="vmcall cr8wr syscall callret divzero"
# vmcall: no hypervisor under TCG, the guest's #UD handler answers as
# refvmm (cpl=0 user=1), KVM in the kernel (user=0: 0) or KVM at CPL3 (-1).
check vmcall "n=100" "$(expect_vmcall 100)" 100
check vmcall "n=100 user=0" "$(expect_sum 100)" 100
check vmcall "n=100 cpl=3" "$(printf '%u' $((100 * 99 / 2 - 100)))" 100
check cr8wr "n=100" "$(expect_cr8wr 100)" 100
check syscall "n=100" "$(expect_syscall 100)" 100
check syscall "n=100 syscall=trap" "$(expect_syscall 100)" 100
check callret "n=1000" "$(expect_callret 1000 1)" 1000
check callret "n=500 seed=9 cpl=0" "$(expect_callret 500 9)" 500
check divzero "n=100" "$(expect_sum 101)" 100
check divzero "n=50 cpl=0" "$(expect_sum 51)" 50

# Parameter errors name the key; exit status 2 -> QEMU 5.
check_fails compute "n=10 bogus=1" 5 "unknown parameter 'bogus'"
check_fails compute "n=0" 5 "parameter 'n'=0 out of range"
check_fails pio "cpl=3" 5 "parameter 'cpl'"
check_fails cr8wr "cpl=3" 5 "parameter 'cpl'"
check_fails syscall "cpl=0" 5 "parameter 'cpl'"
check_fails vmcall "user=2" 5 "parameter 'user'=2 out of range"
check_fails divzero "n=0" 5 "parameter 'n'=0 out of range"
# Unhandled #DE in ring 3: status 64 + 0 -> QEMU 129.
check_fails hostile/unhandled_exception "" 129 "unhandled exception #DE"

# ---- Memory workloads (pgfault ptemod cr3switch forkwait gups memstream) ----
# Formulas: docs/ABI.md, "Memory workloads". Kept in this block and its own
# functions so the other cases above stay independent.
MEM_WORKLOADS="pgfault ptemod cr3switch forkwait gups memstream"
M64=0xffffffffffffffff

expect_pgfault() { # n: sum_{i<n} mix64(0x70676661756c74 + i)
  local s=0 i
  for ((i = 0; i < $1; i++)); do
    mix64 $((0x70676661756c74 + i))
    s=$((s + m))
  done
  printf '%u' "$s"
}
expect_ptemod() { # n frames: sum_{i<n} mix64(0x7074656d6f64 ^ (i % frames))
  local s=0 j q=$(($1 / $2)) r=$(($1 % $2))
  for ((j = 0; j < $2; j++)); do
    mix64 $((0x7074656d6f64 ^ j))
    s=$((s + m * (q + (j < r ? 1 : 0))))
  done
  printf '%u' "$s"
}
expect_cr3switch() { # n k w
  local q=$(($1 / $2)) r=$(($1 % $2))
  printf '%u' $(($3 * ($2 * (q * (q - 1) / 2) + r * q)))
}
expect_forkwait() { printf '%u' $(($2 * ($1 * ($1 + 1) / 2))); } # n pages
expect_gups() { # n ws seed: replay the xorshift64 updates
  local words=$(($2 / 8)) x=$3 i s=0
  local -a t
  for ((i = 0; i < words; i++)); do t[i]=$i; done
  for ((i = 0; i < $1; i++)); do
    x=$((x ^ (x << 13)))
    x=$((x ^ ((x >> 7) & 0x1ffffffffffffff)))
    x=$((x ^ (x << 17)))
    t[x & (words - 1)]=$((t[x & (words - 1)] ^ x))
  done
  for ((i = 0; i < words; i++)); do
    mix64 $((t[i] + i))
    s=$((s + m))
  done
  printf '%u' "$s"
}
expect_memstream() { # ws passes
  local w=$(($1 / 8)) p=$2
  printf '%u' $(((p + 1) * (w * (w - 1) / 2) + w * (p * (p + 1) / 2)))
}

check_mem_workloads() {
  check pgfault "n=300" "$(expect_pgfault 300)" 300
  if [ -f $BUILD/pgfault.elf ] && [ "$(report pgfault.faults)" != 300 ]; then
    fail "pgfault n=300: faults '$(report pgfault.faults)', want 300"
  fi
  check ptemod "n=500 frames=5" "$(expect_ptemod 500 5)" 500
  check ptemod "n=200 frames=2 cpl=0" "$(expect_ptemod 200 2)" 200
  check cr3switch "n=101 k=3 w=5" "$(expect_cr3switch 101 3 5)" 101
  check cr3switch "n=40 k=2 w=3 cpl=0" "$(expect_cr3switch 40 2 3)" 40
  check forkwait "n=20 pages=70" "$(expect_forkwait 20 70)" 20
  check forkwait "n=3 pages=10000" "$(expect_forkwait 3 10000)" 3
  check gups "n=2000 ws=64k seed=5" "$(expect_gups 2000 65536 5)" 2000
  check gups "n=2000 ws=64k page=4k seed=9" "$(expect_gups 2000 65536 9)" 2000
  check memstream "ws=64k passes=3" "$(expect_memstream 65536 3)" 3
  check memstream "ws=4m passes=2 page=2m" "$(expect_memstream 4194304 2)" 2
  # -m 128: a working set of 256 MiB cannot fit; the message names 'ws'.
  check_fails gups "ws=256m" 5 "parameter 'ws'=268435456 needs"
  check_fails memstream "ws=3m page=2m" 5 "parameter 'ws'=3145728 is not a multiple"
  check_fails pgfault "n=10 cpl=0" 5 "parameter 'cpl'"
}
check_mem_workloads
# ---- end of memory workloads ------------------------------------------------

# Workloads this script does not know yet still must boot; list them.
for img in $BUILD/*.elf; do
  name=$(basename "$img" .elf)
  case " compute cpuid pio mmio $CPU_WORKLOADS $MEM_WORKLOADS " in
  *" $name "*) ;;
  *) echo "qemu_boot: note: $name has no small-parameter case here yet" ;;
  esac
done

if [ "$fails" -ne 0 ]; then
  echo "qemu_boot: $fails failure(s)"
  exit 1
fi
echo "qemu_boot: all passed"
