/* null - lmbench's lat_syscall null: n getppid() calls, the cheapest trip
 * into the kernel and back (system-call entry and exit, no work inside; no
 * VM exit expected). The workload process's parent is init (PID 1):
 *   checksum = sum of getppid() = n;  iterations = n. */
#include "lx.h"

static const struct vtb_param params[] = {
    {"n", 200000, 1, 1ull << 40, "getppid() calls"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  if (sys_getppid() != 1) {
    printf("vtb: null: the workload process's parent is %ld, not init (1)\n", sys_getppid());
    return LX_EXIT_CHECK;
  }
  mark_begin();
  for (uint64_t i = 0; i < n; i++)
    sum += (uint64_t)sys_getppid();
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_null = {
    .name = "null",
    .desc = "getppid() system calls: system-call entry and exit",
    .params = params,
    .run = run,
};
