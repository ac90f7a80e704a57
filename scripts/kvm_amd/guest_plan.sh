#!/bin/sh
# guest_plan.sh PLAN - what the kvm_amd rig runs inside the guest (PLAN smoke,
# full, or linux: the Linux steps of full alone; docs/KVM_MODES.md, "Testing on
# a standard KVM"). Every step's
# output goes to out/STEP.log, its exit status and seconds to out/steps.tsv;
# the host side (scripts/kvm_amd/check.sh) judges them.
PLAN=${1:-smoke}
cd /vtb || exit 1
mkdir -p out
: >out/steps.tsv
export VTB_HOST_STATE=/tmp/host-state.json

# step NAME CMD...: run CMD, log, record status and duration.
step() {
  name=$1
  shift
  t0=$(date +%s)
  echo "== $name: $*"
  "$@" >"out/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - t0))" >>out/steps.tsv
  tail -3 "out/$name.log"
  return 0
}

# A VM that runs while `host set` is tried: it must refuse and change nothing.
refusal() {
  echo "npt before: $(cat /sys/module/kvm_amd/parameters/npt)"
  bin/refvmm run workloads/build/compute.elf --param n=2000000000 --timeout 120 --quiet &
  vm=$!
  i=0
  while [ $i -lt 100 ] && [ "$(cat /sys/module/kvm_amd/refcnt)" = 0 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  echo "kvm_amd refcnt with the VM running: $(cat /sys/module/kvm_amd/refcnt)"
  bin/vtbench host set npt=0 --yes
  echo "host set exit: $?"
  echo "npt after: $(cat /sys/module/kvm_amd/parameters/npt)"
  kill $vm
  wait $vm
  echo "vm exit: $?"
}

# perf kvm stat over one refvmm run, for the per-reason comparison with
# refvmm's kvm_exits.run_by_reason (the same run: perf records system-wide,
# this VM is the only one).
perfkvm() { # NAME IMAGE PARAMS...
  name=$1 img=$2
  shift 2
  if ! command -v perf >/dev/null; then
    echo "perf not in the initramfs" >"out/$name.perf.txt"
    return
  fi
  step "$name" perf kvm stat record -o "/tmp/$name.data" bin/refvmm run "workloads/build/$img.elf" "$@" \
    --events kvm:exits --json "out/$name.json"
  perf kvm -i "/tmp/$name.data" stat report --event=vmexit --key=sample >"out/$name.perf.txt" 2>&1
  rm -f "/tmp/$name.data"
}

run() { # NAME IMAGE PARAMS...: one refvmm run into out/NAME.json
  name=$1 img=$2
  shift 2
  step "$name" bin/refvmm run "workloads/build/$img.elf" "$@" --events kvm:all --json "out/$name.json"
}

modprobe kvm_amd npt=1 || echo "modprobe kvm_amd npt=1 failed"
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null

# Linux on kvm_amd (docs/LINUX.md): refvmm boots Debian's kernel with KVM's
# local APIC and refvmm's I/O APIC, npt=1 and npt=0; the Linux guest's
# workloads through vtbench; KVM's side of vtbench validate on npt=0 (the
# model's side runs on the host: scripts/kvm_amd/check.sh).
linux_steps() {
  K=$(ls build/kvm-amd/cache/root/boot/vmlinuz-* 2>/dev/null | head -1)
  LXCL="console=ttyS0 pci=off acpi=off nokaslr panic=-1 quiet loglevel=4 cryptomgr.notests=1"
  step linux_hello_npt1 bin/refvmm run --kernel "$K" --initrd workloads/build/linux/hello.cpio \
    --cmdline "$LXCL" --timeout 900 --quiet --json out/linux_hello_npt1.json
  step linux_null_npt1 bin/refvmm run --kernel "$K" --initrd workloads/build/linux/initramfs.cpio \
    --cmdline "$LXCL vtb.workload=null vtb.n=1000" --events kvm:all --timeout 900 --quiet \
    --json out/linux_null_npt1.json
  step linux_vtbench_npt1 bin/vtbench run --workloads linux:forkexec,linux:ctx --backends kvm --modes ept/vpid \
    --reps 1 --warmup 0 -o out/linux_npt1.json
  step set_npt0_l bin/vtbench host set npt=0 --yes
  step linux_hello_npt0 bin/refvmm run --kernel "$K" --initrd workloads/build/linux/hello.cpio \
    --cmdline "$LXCL" --timeout 900 --quiet --json out/linux_hello_npt0.json
  # KVM's side only: the model would boot the kernel inside TCG (a slow
  # interpreter inside an emulator); check.sh runs its side on the host
  step linux_kvm_npt0 bin/vtbench validate --kvm-only --quick --reps 1 \
    --only linux:null,linux:fork,linux:forkexec,linux:pgfault,linux:mprotect,linux:ctx \
    --out out/validate-linux-npt0 --timeout 900
  step restore_l bin/vtbench host restore
}
# ktrace NAME CMD...: CMD (one refvmm run) with KVM's MMU traced from the
# region's first mark (a port write to 0x502, the mark hypercall) on: the
# kvm/kvmmmu tracepoints and, through the function tracer with a stack each,
# the functions that count KVM's MMU statistics (docs/VALIDATION.md, "Where
# the Linux workloads differ, traced"). out/NAME.trace.gz: the trace to the
# end of the run (check.sh's host side cuts it at the second mark).
ktrace() {
  name=$1
  shift
  T=/sys/kernel/tracing
  echo 0 >$T/tracing_on
  echo nop >$T/current_tracer
  echo >$T/trace
  echo 65536 >$T/buffer_size_kb
  : >$T/set_ftrace_filter
  for f in kvm_flush_remote_tlbs kvm_flush_remote_tlbs_with_address kvm_mmu_invlpg \
    kvm_mmu_invalidate_gva kvm_mmu_unprotect_page kvm_mmu_unprotect_page_virt kvm_mmu_sync_roots \
    kvm_mmu_sync_prev_roots kvm_mmu_free_roots kvm_mmu_new_pgd kvm_mmu_pte_write mmu_sync_children \
    kvm_mmu_commit_zap_page kvm_vcpu_flush_tlb_all kvm_vcpu_flush_tlb_guest \
    kvm_vcpu_flush_tlb_current svm_flush_tlb_current svm_flush_tlb_all svm_flush_tlb_guest \
    x86_emulate_instruction retry_instruction reexecute_instruction kvm_mmu_page_fault \
    kvm_mmu_free_guest_mode_roots kvm_mmu_zap_oldest_mmu_pages kvm_mmu_remote_flush_or_zap \
    mmu_zap_unsync_children kvm_mmu_zap_all_fast kvm_sync_page kvm_mmu_get_child_sp; do
    echo "$f" >>$T/set_ftrace_filter 2>/dev/null && echo "traced: $f" || echo "not traceable: $f"
  done
  echo function >$T/current_tracer
  echo 1 >$T/options/func_stack_trace
  for e in kvm/kvm_exit kvm/kvm_page_fault kvm/kvm_emulate_insn kvm/kvm_pio kvm/kvm_cr kvm/kvm_inj_exception \
    kvmmmu/kvm_mmu_get_page kvmmmu/kvm_mmu_prepare_zap_page kvmmmu/kvm_mmu_sync_page \
    kvmmmu/kvm_mmu_unsync_page kvmmmu/kvm_mmu_pagetable_walk kvmmmu/kvm_mmu_set_spte \
    kvmmmu/kvm_mmu_spte_requested; do
    echo 1 >$T/events/$e/enable || echo "no event $e"
  done
  echo stacktrace >$T/events/kvmmmu/kvm_mmu_prepare_zap_page/trigger
  echo 'traceon if port == 0x502' >$T/events/kvm/kvm_pio/trigger
  step "$name" "$@"
  echo 0 >$T/tracing_on
  gzip -c $T/trace >"out/$name.trace.gz"
  echo '!traceon if port == 0x502' >$T/events/kvm/kvm_pio/trigger
  echo '!stacktrace' >$T/events/kvmmmu/kvm_mmu_prepare_zap_page/trigger
  echo 0 >$T/events/enable
  echo 0 >$T/options/func_stack_trace
  echo nop >$T/current_tracer
  echo >$T/trace
}

# The trace plan: the Linux workloads and freestanding ones that differ on
# npt=0, one run each at validate's quick sizes, traced (ktrace).
trace_steps() {
  K=$(ls build/kvm-amd/cache/root/boot/vmlinuz-* 2>/dev/null | head -1)
  LXCL="console=ttyS0 pci=off acpi=off nokaslr panic=-1 quiet loglevel=4 cryptomgr.notests=1"
  step set_npt0_t bin/vtbench host set npt=0 --yes
  # the kernel's text symbols (this kernel is the Linux guest's too, which
  # runs at the unrandomized base: symbolize its RIPs against _text)
  grep ' [tTwW] ' /proc/kallsyms | gzip >out/kallsyms.gz
  for w in fork:25 forkexec:15 null:5000 ctx:100; do
    ktrace "trace_linux_${w%%:*}" bin/refvmm run --kernel "$K" \
      --initrd workloads/build/linux/initramfs.cpio \
      --cmdline "$LXCL vtb.workload=${w%%:*} vtb.n=${w#*:}" --events kvm:all --timeout 900 \
      --quiet --json "out/trace_linux_${w%%:*}.json"
  done
  ktrace trace_cr3switch bin/refvmm run workloads/build/cr3switch.elf --param n=500 --events kvm:all \
    --json out/trace_cr3switch.json
  ktrace trace_forkwait bin/refvmm run workloads/build/forkwait.elf --param n=25 --events kvm:all \
    --json out/trace_forkwait.json
  step restore_t bin/vtbench host restore
}
if [ "$PLAN" = trace ]; then
  trace_steps
  echo "plan $PLAN done"
  exit 0
fi
if [ "$PLAN" = linux ]; then
  linux_steps
  echo "plan $PLAN done"
  exit 0
fi
step host_show bin/vtbench host show
# npt=1: exits the workloads promise, with the kernel's view of every exit
run npt1_pio pio --param n=1000
run npt1_cpuid cpuid --param n=1000
run npt1_pgfault pgfault --param n=500
perfkvm npt1_perf_cpuid cpuid --param n=1000
step set_npt0 bin/vtbench host set npt=0 --yes
step host_show_npt0 bin/vtbench host show
run npt0_pio pio --param n=1000
run npt0_cpuid cpuid --param n=1000
run npt0_pgfault pgfault --param n=500
perfkvm npt0_perf_pgfault pgfault --param n=500
step refusal refusal
step restore bin/vtbench host restore
step host_show_restored bin/vtbench host show

if [ "$PLAN" = full ]; then
  linux_steps
  perfkvm npt1_perf_pio pio --param n=1000
  perfkvm npt1_perf_pgfault pgfault --param n=500
  step set_npt0_p bin/vtbench host set npt=0 --yes
  perfkvm npt0_perf_cpuid cpuid --param n=1000
  perfkvm npt0_perf_ptemod ptemod --param n=500
  step restore_p bin/vtbench host restore
  run npt1_vmcall0 vmcall --param n=1000 --param cpl=0
  run npt1_nmistorm nmistorm --param n=200 --param period_us=200 --param block_us=50
  run npt1_irqstorm irqstorm --param n=200 --param period_us=200 --param block_us=50
  step validate_npt1 bin/vtbench validate --quick --reps 3 --out out/validate-npt1
  step set_npt0_v bin/vtbench host set npt=0 --yes
  step validate_npt0 bin/vtbench validate --quick --reps 3 --out out/validate-npt0
  step restore_v bin/vtbench host restore
  step quick bin/vtbench run --quick --backends kvm --reps 3 --allow-host-reconfig --kvm-exits \
    --modes shadow/vpid/window/window,shadow/vpid/poll/poll,ept/vpid/window/window -o out/quick.json
  step host_show_end bin/vtbench host show
  # the probe's own cost here: default tracepoints and kvm:exits vs off, interleaved
  for i in 1 2 3 4 5; do
    for ev in kvm:off kvm:default kvm:exits; do
      for w in pio cpuid; do
        bin/refvmm run workloads/build/$w.elf --param n=5000 --no-pmu --events $ev --quiet \
          --json out/cost_${w}_${ev#kvm:}_$i.json >/dev/null 2>&1
      done
    done
  done
fi
echo "plan $PLAN done"
