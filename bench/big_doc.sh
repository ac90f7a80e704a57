#!/bin/bash
# bench/big_doc.sh - synthetic result documents of any size, for measuring
# `vtbench report` and `vtbench merge` at scale (bench/scale.sh) and for the
# scaled-down test in make check (tests/scripts/scale_smoke.sh).
#
#   bash bench/big_doc.sh [-n RUNS] [-c CONFIGS] [-s SHARDS] [-d] [-S SEED] OUT
#
# Writes a document shaped like `vtbench run`'s (schema, context, session
# with its matrix and shard, runs[], aggregates[]) holding RUNS runs of
# CONFIGS configurations (default 10^6 runs of 120: 20 workload parameter
# sets x 2 kvm modes + 4 model modes, ~8300 repetitions each), every run a
# trimmed refvmm record (~740 bytes: guest, timed, exits by reason with
# latencies, kvm_stats or the model section) with values drawn around a
# per-configuration mean (deterministic: awk's srand(SEED)).
#
# -s SHARDS: instead, OUT.1.json .. OUT.SHARDS.json, shard I holding the
# configurations c with c mod SHARDS == I - 1 (as `vtbench run --shard`),
# each a complete session of the same matrix; their merge is the whole
# document. -d: every run written twice (a document `vtbench report` must
# refuse). Runs are one per line, as compact JSON.
set -euo pipefail
RUNS=1000000 CONFIGS=120 SHARDS=0 DUP=0 SEED=1
while getopts "n:c:s:dS:" opt; do
  case $opt in
    n) RUNS=$OPTARG ;; c) CONFIGS=$OPTARG ;; s) SHARDS=$OPTARG ;; d) DUP=1 ;; S) SEED=$OPTARG ;;
    *) echo "usage: big_doc.sh [-n RUNS] [-c CONFIGS] [-s SHARDS] [-d] [-S SEED] OUT" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || { echo "usage: big_doc.sh [-n RUNS] [-c CONFIGS] [-s SHARDS] [-d] [-S SEED] OUT" >&2; exit 2; }
OUT=$1

awk -v runs="$RUNS" -v nconf="$CONFIGS" -v shards="$SHARDS" -v dup="$DUP" -v seed="$SEED" \
  -v out="$OUT" '
function q(s) { return "\"" s "\"" }
function gauss() { return (rand() + rand() + rand() + rand() - 2) * 1.7 } # ~N(0,1)
function header(f, shard, nshard) {
  printf "{\"schema\":{\"name\":\"vtbench-result\",\"version\":1},\n" > f
  printf "\"context\":{\"date\":\"2026-12-01T00:00:00Z\",\"host\":\"bigdoc\",\"kernel\":{\"release\":\"6.1.0\",\"version\":\"#1 SMP\",\"machine\":\"x86_64\"},\"cpu\":{\"vendor\":\"AuthenticAMD\",\"family\":25,\"model\":1,\"model_name\":\"synthetic\"},\"tool\":{\"name\":\"vtbench\",\"version\":\"0.1.0\",\"git_revision\":\"synthetic\"},\"command_line\":\"bench/big_doc.sh -n %d -c %d\",\"kvm\":{\"flavour\":\"kvm_pvm\",\"module\":\"kvm_pvm\",\"params\":{},\"dev_kvm\":{\"path\":\"/dev/kvm\",\"present\":true,\"openable\":true,\"error\":null},\"api_version\":12,\"modes\":{\"paging\":\"shadow\",\"paging_param\":null,\"tlb\":null,\"tlb_param\":null,\"vnmi\":null}},\"tsc_hz\":2450000000},\n", runs, nconf > f
  printf "\"session\":{\"tool\":\"vtbench\",\"status\":\"complete\",\"matrix\":%s,\"shard\":\"%d/%d\",\"seed\":30787925225076744,\"baseline\":null},\n", matrix, shard, nshard > f
  printf "\"runs\":[\n" > f
}
function footer(f) { printf "\n],\n\"aggregates\":[]}\n" > f; close(f) }
BEGIN {
  srand(seed)
  split("pio cpuid mmio vmcall compute", wl, " ")
  split("1000 2000 5000 10000", sizes, " ")
  split("kvm kvm model model model model", be, " ")
  split("shadow/flush/poll/poll shadow/flush/window/window native/flush/poll/poll shadow/flush/poll/poll shadow/vpid/poll/poll ept/vpid/poll/poll", md, " ")
  # configuration c: parameter set p = int(c / 6) mod 20, mode m = c mod 6
  for (c = 0; c < nconf; c++) {
    p = int(c / 6) % 20; m = c % 6
    W[c] = wl[p % 5 + 1]; N[c] = sizes[int(p / 5) % 4 + 1] + int(c / 120)
    B[c] = be[m + 1]; M[c] = md[m + 1]
    base = (W[c] == "compute" ? 40 : 2000 + 700 * (p % 5))
    MEAN[c] = base * (m == 2 ? 0.2 : m == 5 ? 1.3 : 1 + m * 0.05)
    split(M[c], mp, "/"); MODES[c] = "{\"paging\":" q(mp[1]) ",\"tlb\":" q(mp[2]) ",\"nmi\":" q(mp[3]) ",\"irq\":" q(mp[4]) "}"
    KEY[c] = B[c] " " W[c] " {\\\"n\\\":" N[c] "} " M[c]
  }
  matrix = "{\"backends\":[\"kvm\",\"model\"],\"workloads\":[{\"name\":\"pio\",\"params\":{}}],\"modes\":[\"shadow/flush/poll/poll\"],\"reps\":" int((runs + nconf - 1) / nconf) ",\"warmup\":0}"
  nfiles = shards > 0 ? shards : 1
  for (i = 1; i <= nfiles; i++) {
    F[i] = shards > 0 ? out "." i ".json" : out
    header(F[i], i, nfiles); first[i] = 1
  }
  for (r = 0; r < runs; r++) {
    c = r % nconf; rep = int(r / nconf); f = F[shards > 0 ? c % shards + 1 : 1]
    n = N[c]; ns = MEAN[c] * (1 + 0.03 * gauss()); wall = int(ns * n)
    p50 = int(ns * 0.8); if (p50 < 1) p50 = 1
    run = "{\"workload\":" q(W[c]) ",\"image\":\"workloads/build/" W[c] ".elf\",\"params\":{\"n\":" n "},\"backend\":" q(B[c]) ",\"modes\":" MODES[c] ",\"repetition\":" rep ",\"status\":\"ok\",\"exit_code\":0,\"config\":\"" KEY[c] "\",\"guest\":{\"checksum\":\"0x" sprintf("%08x", int(rand() * 2147483647)) "\",\"iterations\":" n ",\"exit_status\":0},\"timed\":{\"wall_ns\":" wall ",\"tsc\":" int(wall * 2.45) ",\"tsc_hz\":2450000000},\"exits\":{\"total\":" n + 3 ",\"by_reason\":{\"IO\":{\"count\":" n ",\"latency_ns\":{\"min\":" int(p50 * 0.7) ",\"p50\":" p50 ",\"p99\":" int(p50 * 2.5) ",\"max\":" int(p50 * 9) "}},\"HLT\":{\"count\":3,\"latency_ns\":{\"min\":900,\"p50\":" 1000 + int(50 * rand()) ",\"p99\":1400,\"max\":1500}}}}"
    if (B[c] == "kvm")
      run = run ",\"kvm_stats\":{\"available\":true,\"error\":null,\"vm\":{},\"vcpu\":{\"exits\":{\"value\":" n + 3 + int(3 * rand()) ",\"type\":\"cumulative\",\"unit\":\"none\",\"base\":10,\"exponent\":0}}}}"
    else
      run = run ",\"model\":{\"modeled_cycles\":" int(wall * 2.45) ",\"modeled_ns\":" wall ",\"instructions\":" 12 * n ",\"tlb\":{\"misses\":" int(n * 0.01 + 3 * rand()) ",\"hits\":" 11 * n "},\"walk_refs\":" int(n * 0.04 + 4 * rand()) "}}"
    for (d = 0; d <= dup; d++) {
      k = shards > 0 ? c % shards + 1 : 1
      printf "%s%s", first[k] ? "" : ",\n", run > f
      first[k] = 0
    }
  }
  for (i = 1; i <= nfiles; i++) footer(F[i])
}'
