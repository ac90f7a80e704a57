/* syscall - N ring 3 -> ring 0 -> ring 3 round trips through the runtime's
 * system call (Adams & Agesen's syscall): native cost, no exit expected.
 * The mechanism is the runtime's: the UD2 trap (#UD handler, IRETQ back)
 * where boot info says so (refvmm on every KVM here) or SYSCALL/SYSRET;
 * syscall=trap|syscall overrides, and the JSON's rt.syscall records which
 * ran (0 trap, 1 SYSCALL). CPL3 only: the loop is a process's view.
 *
 * Iteration i calls SYS_ECHO(i), which returns ~i from the kernel.
 * checksum = sum_{i<n} ~i mod 2^64 = -(n + n*(n-1)/2) mod 2^64,
 * iterations = n. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 20000, 1, 1ull << 40, "system calls"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  mark_begin();
  for (uint64_t i = 0; i < n; i++)
    sum += sys_call1(SYS_ECHO, i);
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "syscall",
    .desc = "N ring 3 -> ring 0 -> ring 3 system calls: native cost, no exit expected",
    .params = params,
    .cpl_allowed = WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
