/* cr8wr - N writes of CR8, the task-priority register (Adams & Agesen's
 * cr8wr): TPR handling. CPL0 only (CR8 is privileged). With IF=0 and
 * nothing pending no interrupt is ever unmasked. On hosts that emulate
 * ring 0 (kvm_pvm) every instruction of the loop is emulated: that is what
 * it measures there. Without an in-kernel LAPIC, VMX/SVM KVM leaves a write
 * that lowers the TPR to user space (KVM_EXIT_SET_TPR), refvmm re-enters.
 *
 * Iteration i writes (i & 15); after the loop CR8 must read back
 * ((n-1) & 15) (else exit status 5), then is reset to 0.
 * checksum = sum_{i<n} (i & 15) mod 2^64, iterations = n; cr8.last reports
 * the value read back. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 150000, 1, 1ull << 40, "CR8 writes"},
    VTB_PARAM_END,
};

static inline void write_cr8(uint64_t v) {
  __asm__ volatile("mov %0, %%cr8" ::"r"(v) : "memory");
}
static inline uint64_t read_cr8(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr8, %0" : "=r"(v));
  return v;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    write_cr8(i & 15);
    sum += i & 15;
  }
  mark_end();
  uint64_t last = read_cr8();
  write_cr8(0);
  hc_report("cr8.last", last);
  if (last != ((n - 1) & 15)) {
    printf("vtb: cr8wr: CR8 reads back %lu after the loop, expected %lu\n", last, (n - 1) & 15);
    return 5;
  }
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "cr8wr",
    .desc = "N writes of CR8 (ring 0): TPR handling",
    .params = params,
    .cpl_allowed = WL_CPL0,
    .cpl_default = 0,
    .run = run,
};
