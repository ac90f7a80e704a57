/* main.c - boot sequence: check boot info, descriptors, memory, parameters,
 * then the workload body at its CPL, its reports and the exit. */
#include "desc.h"
#include "rt.h"

const struct vtb_boot_info *rt_boot;
int rt_cpl;

static struct wl_result result;

static uint64_t body(uint64_t arg) {
  (void)arg;
  return (uint64_t)WORKLOAD.run(&result);
}

void rt_main(struct vtb_boot_info *bi) {
  if (bi->magic != VTB_BOOT_MAGIC || bi->version != VTB_ABI_VERSION) {
    /* Not ours: we cannot trust the flags, so talk to refvmm's ports. */
    static const char msg[] = "vtb: bad boot info magic/version\n";
    hc__kernel(VTB_HC_CONSOLE, (uint64_t) & (struct vtb_hc_console){(uint64_t)msg, sizeof msg - 1});
    hc_exit(VTB_EXIT_BAD_BOOT);
  }
  rt_boot = bi;
  desc__init();
  aspace__init();
  pmem__init(bi->free_start, bi->free_end, !(bi->flags & VTB_BOOT_F_QEMU_PVH));
  rt_use_syscall_insn = !(bi->flags & VTB_BOOT_F_SYSCALL_TRAP);
  rt_cpl = WORKLOAD.cpl_default;
  params__parse();
  if (rt_use_syscall_insn) syscall__init();

  int rc = WORKLOAD.setup ? WORKLOAD.setup() : 0;
  if (rc == 0) rc = rt_cpl == 3 ? (int)user_call(body, 0) : WORKLOAD.run(&result);
  console_flush();
  if (rc == 0) {
    hc_report(VTB_KEY_CHECKSUM, result.checksum);
    hc_report(VTB_KEY_ITERATIONS, result.iterations);
    hc_report("rt.cpl", (uint64_t)rt_cpl);
    hc_report("rt.syscall", (uint64_t)rt_use_syscall_insn); /* 0 trap, 1 SYSCALL */
  }
  hc_exit((uint64_t)rc);
}
