#!/bin/bash
# check.sh - judge what the kvm_amd rig brought back (rig.sh runs it).
#
#   bash scripts/kvm_amd/check.sh smoke|full|linux|trace OUT_DIR [BIN_DIR]
#
# Counts are exact on KVM under TCG, so every figure a workload promises is
# checked for equality: KVM's own statistics, refvmm's exit accounting, the
# kvm_exit tracepoint probe (kvm_exits) and `perf kvm stat report` on the
# same run. Timings are not checked (the CPU is emulated). Ends with the
# line "kvm_amd: N passed, N failed".
set -uo pipefail
PLAN=$1 OUT=$2 BIN=${3:-bin}
pass=0 failn=0
ok() { echo "kvm_amd: ok: $*"; pass=$((pass + 1)); }
bad() { echo "kvm_amd: FAIL: $*"; failn=$((failn + 1)); }
# expect WHAT GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1 = $3"; else bad "$1: got '$2', want '$3'"; fi; }
j() { jq -r ".runs[0] | $2" "$OUT/$1.json" 2>/dev/null; }
vcpu() { j "$1" ".kvm_stats.vcpu.$2.value // \"absent\""; }
grep_log() { # NAME PATTERN WHY
  if grep -q -- "$2" "$OUT/$1.log" 2>/dev/null; then ok "$1: $3"; else bad "$1: $3: '$2' not in $OUT/$1.log"; fi
}

# Every step ran to exit 0.
while IFS=$'\t' read -r name rc secs; do
  expect "step $name exit" "$rc" 0
done <"$OUT/steps.tsv"

# The Linux steps (plans full and linux; docs/LINUX.md, "On KVM").
linux_checks() {
  local r
  for r in linux_hello_npt1 linux_hello_npt0; do
    expect "$r status" "$(j $r .status)" ok
    expect "$r: powered off" "$(j $r '.status_detail | test("powered off")')" true
    expect "$r: init's line" "$(j $r '.console | test("vtb-linux: hello from user space")')" true
    expect "$r: the kernel's last words" "$(j $r '.console | test("reboot: System halted")')" true
    expect "$r backend" "$(j $r .backend)" kvm
  done
  expect "linux_hello_npt1 paging" "$(j linux_hello_npt1 .modes.paging)" ept
  expect "linux_hello_npt0 paging" "$(j linux_hello_npt0 .modes.paging)" shadow
  expect "linux_null_npt1 status" "$(j linux_null_npt1 .status)" ok
  expect "linux_null_npt1 checksum (getppid n=1000)" "$(j linux_null_npt1 .guest.checksum)" 1000
  # getppid exits nowhere under NPT: the region's only exit is its end mark
  # (an OUT: KVM's io_exits; refvmm counts the exits between the marks)
  expect "linux_null_npt1: exits between the marks" "$(j linux_null_npt1 '.exits.total')" 0
  expect "linux_null_npt1: io_exits (the end mark)" "$(vcpu linux_null_npt1 io_exits)" 1
  expect "linux vtbench runs ok" \
    "$(jq '[.runs[] | select(.status == "ok")] | length' "$OUT/linux_npt1.json" 2>/dev/null)" 2
  local w ck want
  for w in forkexec ctx; do
    ck=$(jq -r --arg w "linux:$w" '.runs[] | select(.workload == $w) | .guest.checksum' "$OUT/linux_npt1.json")
    ck=$(python3 -c 'import sys; print(int(sys.argv[1], 0))' "$ck" 2>/dev/null || echo "$ck")
    case $w in forkexec) want=$(python3 scripts/linux_guest/expect.py forkexec n=300) ;;
      ctx) want=$(python3 scripts/linux_guest/expect.py ctx n=5000 ws=0) ;; esac
    expect "linux:$w checksum on kvm_amd = expect.py" "$ck" "$want"
  done
  # vtbench validate on npt=0: KVM's side came back from the guest, the
  # model's runs here (docs/LINUX.md, "Validation on kvm_amd")
  local v=$OUT/validate-linux-npt0 lw=linux:null,linux:fork,linux:forkexec,linux:pgfault,linux:mprotect,linux:ctx
  "$BIN/vtbench" validate --kvm-runs "$v" --only "$lw" --timeout 900 --out "$v/model" \
    >"$v/model.log" 2>&1
  local rc=$? # 1: rows differ (docs/LINUX.md explains them), the comparison written
  expect "validate --kvm-runs (npt=0, the model here) compared" "$([ $rc -le 1 ] && echo yes)" yes
  local vj=$v/model/validation.json
  expect "validate npt=0: paging" "$(jq -r .paging "$vj" 2>/dev/null)" shadow
  expect "validate npt=0: every workload ran on both sides with equal checksums" \
    "$(jq '[.workloads[] | select(.ok and .checksums_equal)] | length' "$vj" 2>/dev/null)" 6
  # what both count the same way (docs/LINUX.md, "Validation on kvm_amd")
  row() { jq -r --arg w "$1" --arg s "$2" '.workloads[] | select(.name == $w) | .pairs[]
          | select(.stat == $s) | "\(.kvm) \(.model_value)"' "$vj" 2>/dev/null | head -1; }
  local w r m
  # KVM's io_exits: the end mark; the model's port exits in the region are
  # that mark and, in some runs, a read of the UART (IIR, 0x3fa: a
  # THR-empty interrupt whose arrival moves with modeled time), which
  # refvmm handles as a user exit (exits.by_sub)
  for w in null fork forkexec pgfault mprotect ctx; do
    r=$(row "linux:$w" io_exits)
    m=$(jq -r '.runs[0] | (.model.timed.exits.IO_INSTRUCTION // 0) - ([.exits.by_sub[]
          | select(.kind == "io_port" and .key >= 1016 and .key <= 1023) | .count] | add // 0)' \
      "$v"/model/runs/linux:$w.model.*.json 2>/dev/null)
    expect "validate npt=0 linux:$w: io_exits = the model's port exits but UART reads (the end mark)" \
      "${r% *}" "$m"
  done
  for w in fork forkexec pgfault mprotect ctx; do
    r=$(row "linux:$w" pf_guest)
    expect "validate npt=0 linux:$w: pf_guest = the model's true faults" "${r% *}" "${r#* }"
  done
  for w in fork forkexec mprotect; do # forkexec: since the guest has no LA57 on KVM either
    r=$(row "linux:$w" invlpg)
    expect "validate npt=0 linux:$w: invlpg = the model's INVLPG exits" "${r% *}" "${r#* }"
  done
  # the writes to write-protected tables: emulated (mmu_pte_write) or
  # unprotected and retried (pf_emulate counts both; docs/VALIDATION.md)
  for w in fork forkexec; do
    r=$(row "linux:$w" pf_emulate)
    expect "validate npt=0 linux:$w: pf_emulate = the model's pt-write exits" "${r% *}" "${r#* }"
    r=$(row "linux:$w" mmu_pte_write)
    expect "validate npt=0 linux:$w: mmu_pte_write = the model's emulated pt writes" "${r% *}" "${r#* }"
  done
  for w in pgfault mprotect; do
    r=$(row "linux:$w" tlb_flush)
    expect "validate npt=0 linux:$w: tlb_flush = the model's flush exits" "${r% *}" "${r#* }"
  done
}

# The trace plan: every step ran and left its trace (docs/VALIDATION.md reads them).
if [ "$PLAN" = trace ]; then
  for t in "$OUT"/trace_*.json; do
    n=$(basename "$t" .json)
    if [ -s "$OUT/$n.trace.gz" ]; then ok "$n: trace recorded"; else bad "$n: no trace"; fi
  done
  echo "kvm_amd: $pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit
fi

if [ "$PLAN" = linux ]; then
  linux_checks
  echo "kvm_amd: $pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit
fi

grep_log host_show 'flavour   kvm_amd (AMD SVM)' "host show names kvm_amd"
grep_log host_show 'paging  ept      set by kvm_amd.npt' "npt=1 gives ept"
grep_log host_show_npt0 'paging  shadow   set by kvm_amd.npt' "after host set npt=0: shadow"
grep_log host_show_restored 'paging  ept      set by kvm_amd.npt' "host restore: ept again"
grep_log refusal 'stop the other VMs first; nothing was changed' "host set refused while a VM runs"
expect "npt unchanged by the refused host set" "$(sed -n 's/^npt after: //p' "$OUT/refusal.log")" \
  "$(sed -n 's/^npt before: //p' "$OUT/refusal.log")"

# run_checks NAME PAGING: what every run promises on both settings.
run_checks() {
  local r=$1
  expect "$r status" "$(j "$r" .status)" ok
  expect "$r paging" "$(j "$r" .modes.paging)" "$2"
  expect "$r kvm_exits available" "$(j "$r" .kvm_exits.available)" true
  expect "$r kvm_exits.total = the exits statistic" "$(j "$r" .kvm_exits.total)" "$(vcpu "$r" exits)"
  expect "$r kvm_exits lost records" "$(j "$r" .kvm_exits.lost)" 0
  expect "$r kvm_emulate_insn - failed = insn_emulation" \
    "$(j "$r" '(.kvm_events.region["kvm:kvm_emulate_insn"] // 0) - (.kvm_events.region["kvm:kvm_emulate_insn (failed != 0)"] // 0)')" \
    "$(j "$r" '.kvm_stats.vcpu.insn_emulation.value // 0')"
}
for p in npt1 npt0; do
  pg=$([ $p = npt1 ] && echo ept || echo shadow)
  for w in pio cpuid pgfault; do run_checks ${p}_$w $pg; done
  expect "$p pio: user-space IO exits" "$(j ${p}_pio .exits.by_reason.IO.count)" 1000
  expect "$p pio: io_exits (1000 OUTs + the end mark)" "$(vcpu ${p}_pio io_exits)" 1001
  expect "$p pio: kvm_exit io" "$(j ${p}_pio '.kvm_exits.by_reason.io.count')" 1001
  expect "$p pio: io is IO_INSTRUCTION" "$(j ${p}_pio '.kvm_exits.by_reason.io.sdm')" IO_INSTRUCTION
  expect "$p cpuid: kvm_exit cpuid" "$(j ${p}_cpuid '.kvm_exits.by_sdm_reason.CPUID')" 1000
  # no NRIP save in TCG's SVM: KVM skips each intercepted CPUID with its emulator
  expect "$p cpuid: insn_emulation (skip without nrips)" "$(vcpu ${p}_cpuid insn_emulation)" 1000
done
expect "npt1 pgfault: NPF = pf_fixed" "$(j npt1_pgfault '.kvm_exits.by_sdm_reason.EPT_VIOLATION')" \
  "$(vcpu npt1_pgfault pf_fixed)"
expect "npt1 pgfault: one NPF per new page + 1" "$(vcpu npt1_pgfault pf_fixed)" 501
expect "npt1 pgfault: no #PF intercepted" "$(j npt1_pgfault '.kvm_exits.by_reason["PF excp"].count // 0')" 0
expect "npt0 pgfault: pf_guest" "$(vcpu npt0_pgfault pf_guest)" 500
expect "npt0 pgfault: #PF exits = pf_taken" "$(j npt0_pgfault '.kvm_exits.by_reason["PF excp"].count')" \
  "$(vcpu npt0_pgfault pf_taken)"
expect "npt0 pgfault: injected #PF = pf_guest" "$(j npt0_pgfault '.kvm_events.inj_exception_by_vector.PF')" \
  "$(vcpu npt0_pgfault pf_guest)"

# perf kvm stat report vs kvm_exits.run_by_reason, reason by reason.
perf_compare() { # NAME
  local n=$1 f=$OUT/$1.perf.txt
  if [ ! -s "$f" ] || grep -q "perf not in the initramfs" "$f"; then
    bad "$n: no perf kvm stat report ($f)"
    return
  fi
  local ours theirs
  # perf counts an exit at its kvm_entry: the run's last exit (run_unpaired) is not in its table
  ours=$(jq -r '.runs[0].kvm_exits as $k | $k.run_by_reason | to_entries
               | map({k: (.key | sub(" \\(.*\\)$"; "")), v: .value}) | group_by(.k)
               | map({k: .[0].k, v: ((map(.v) | add) - (if .[0].k == $k.run_unpaired then 1 else 0 end))})
               | map(select(.v > 0)) | map("\(.k)\t\(.v)") | .[]' "$OUT/$n.json" | LC_ALL=C sort)
  theirs=$(sed -nE 's/^ *([A-Za-z_0-9][A-Za-z_0-9 ]*[A-Za-z_0-9]) +([0-9]+) +[0-9.]+%.*/\1\t\2/p' "$f" |
    grep -v '^VM-EXIT' | LC_ALL=C sort)
  if [ -n "$theirs" ] && [ "$ours" = "$theirs" ]; then
    ok "$n: refvmm's kvm_exits per reason (less the run's last, unpaired exit: $(jq -r .runs[0].kvm_exits.run_unpaired "$OUT/$n.json")) = perf kvm stat report's ($(echo "$ours" | tr '\t\n' '= ' ))"
  else
    bad "$n: per-reason counts differ: refvmm [$(echo "$ours" | tr '\t\n' '= ')] perf [$(echo "$theirs" | tr '\t\n' '= ')]"
  fi
}
perf_compare npt1_perf_cpuid
perf_compare npt0_perf_pgfault

if [ "$PLAN" = full ]; then
  linux_checks
  for n in npt1_perf_pio npt1_perf_pgfault npt0_perf_cpuid npt0_perf_ptemod; do perf_compare $n; done
  # ring-0 work-arounds for kvm_pvm are off: VMMCALL from ring 0 reaches refvmm
  expect "vmcall cpl=0: hypercall exits to refvmm" "$(j npt1_vmcall0 '.exits.by_reason.HYPERCALL.count')" 1000
  expect "vmcall cpl=0: KVM's hypercalls stat" "$(vcpu npt1_vmcall0 hypercalls)" 1000
  expect "vmcall cpl=0: kvm_exit hypercall (VMMCALL)" "$(j npt1_vmcall0 '.kvm_exits.by_reason.hypercall.count')" 1000
  expect "vmcall: not moved to ring 3" "$(j npt1_vmcall0 '.guest.reports["vmcall.moved_to_cpl3"]')" 0
  # NMIs without vNMI: KVM finds the handler's end by intercepting IRET
  expect "nmistorm: NMIs delivered" "$(j npt1_nmistorm '.events.nmi.delivered')" 200
  expect "nmistorm: IRET exits = nmi_window_exits" "$(j npt1_nmistorm '.kvm_exits.by_reason.iret.count')" \
    "$(vcpu npt1_nmistorm nmi_window_exits)"
  expect "irqstorm: IRQs delivered" "$(j npt1_irqstorm '.events.irq.delivered')" 200
  expect "irqstorm: VINTR exits = irq_window_exits" "$(j npt1_irqstorm '.kvm_exits.by_sdm_reason.INTERRUPT_WINDOW')" \
    "$(vcpu npt1_irqstorm irq_window_exits)"
  for v in npt1 npt0; do
    if [ -f "$OUT/validate-$v/validation.json" ]; then
      expect "validate $v: paging" "$(jq -r .paging "$OUT/validate-$v/validation.json")" \
        "$([ $v = npt1 ] && echo ept || echo shadow)"
      expect "validate $v: every workload ran, same checksums" \
        "$(jq '[.workloads[] | select(.ok and .checksums_equal)] | length' "$OUT/validate-$v/validation.json")" \
        "$(jq '.workloads | length' "$OUT/validate-$v/validation.json")"
    else
      bad "validate $v: no validation.json"
    fi
  done
  verdict() { # DIR WORKLOAD STAT
    jq -r --arg w "$2" --arg s "$3" '.workloads[] | select(.name == $w) | .pairs[] | select(.stat == $s)
      | "\(.verdict) (KVM \(.kvm), model \(.model_value))"' "$OUT/$1/validation.json" 2>/dev/null | head -1
  }
  for row in "validate-npt1 pgfault pf_fixed" "validate-npt1 pio io_exits" "validate-npt1 mmio mmio_exits" \
    "validate-npt0 pgfault pf_guest" "validate-npt0 pgfault pf_fixed" "validate-npt0 ptemod invlpg" \
    "validate-npt0 pio io_exits" "validate-npt0 cpuid exits"; do
    set -- $row
    got=$(verdict "$1" "$2" "$3")
    case $got in
      exact* | agree*) ok "$1 $2 $3: $got" ;;
      *) bad "$1 $2 $3: '$got', want exact or agree" ;;
    esac
  done
  # the probe's cost on kvm_amd (TCG: a ratio of emulated times, not a hardware figure)
  for w in pio cpuid; do
    for ev in default exits; do
      r=$(for i in 1 2 3 4 5; do
        jq -n --slurpfile a "$OUT/cost_${w}_${ev}_$i.json" --slurpfile b "$OUT/cost_${w}_off_$i.json" \
          '$a[0].runs[0].timed.wall_ns / $b[0].runs[0].timed.wall_ns'
      done | sort -g | sed -n 3p)
      echo "kvm_amd: note: $w n=5000: tracepoints $ev / off, median of 5 (TCG): $r" | tee -a "$OUT/trace_cost.txt"
    done
  done
  expect "quick matrix: every run ok" \
    "$(jq '[.runs[] | select(.status != "ok")] | length' "$OUT/quick.json")" 0
  expect "quick matrix: shadow and ept cells" \
    "$(jq -r '[.runs[].modes.paging] | unique | join(",")' "$OUT/quick.json")" "ept,shadow"
  expect "context: CPU emulated" "$(jq -r '.context.cpu.emulated' "$OUT/quick.json")" true
  # The model's side of the comparison runs here, on the host (it is
  # deterministic: the same counts anywhere), and joins the rig's KVM runs.
  modes=$(jq -r '[.runs[].modes | "\(.paging)/\(.tlb)/\(.nmi)/\(.irq)"] | unique | join(",")' "$OUT/quick.json")
  if "$BIN/vtbench" run --quick --backends model --modes "$modes" --reps 1 --warmup 0 \
    -o "$OUT/quick-model.json" >"$OUT/quick-model.log" 2>&1 &&
    "$BIN/vtbench" merge -o "$OUT/quick-all.json" "$OUT/quick.json" "$OUT/quick-model.json" \
      >>"$OUT/quick-model.log" 2>&1; then
    ok "model runs of the same matrix merged ($OUT/quick-all.json)"
  else
    bad "model side of the quick matrix: $(tail -3 "$OUT/quick-model.log")"
  fi
  if "$BIN/vtbench" report "$OUT/quick-all.json" -o "$OUT/report" >"$OUT/report.log" 2>&1; then
    ok "vtbench report on the rig's quick matrix ($OUT/report/summary.md)"
    for want in "is emulated by QEMU TCG" "VM exits by reason: model vs KVM"; do
      if grep -q "$want" "$OUT/report/summary.md"; then
        ok "report: '$want'"
      else
        bad "report lacks '$want'"
      fi
    done
  else
    bad "vtbench report failed: $(tail -3 "$OUT/report.log")"
  fi
  expect "host restored at the end" "$(grep -c 'paging  ept      set by kvm_amd.npt' "$OUT/host_show_end.log")" 1
fi
echo "kvm_amd: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
