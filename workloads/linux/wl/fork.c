/* fork - lmbench's lat_proc fork: n times fork(), the child exits at once
 * with a status, the parent waits for it. Process creation and teardown:
 * copying the address space (page tables, copy-on-write), the scheduler,
 * exit and reaping; under shadow paging every new page table is the VMM's
 * work. Child i exits with vtb_mix64(0x666f726b + i) & 0xff ("fork"):
 *   checksum = sum_{i<n} (vtb_mix64(0x666f726b + i) & 0xff);  iterations = n. */
#include "lx.h"

#define TAG 0x666f726bull

static const struct vtb_param params[] = {
    {"n", 1000, 1, 1ull << 32, "fork + exit + wait rounds"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  console_flush();
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    long pid = sys_fork();
    if (!pid) sys_exit((int)(vtb_mix64(TAG + i) & 0xff));
    if (pid < 0) {
      mark_end();
      return lx_syserr("fork: fork", pid);
    }
    int st = 0;
    long r = sys_wait4((int)pid, &st, 0);
    if (r != pid || !LX_WIFEXITED(st)) {
      mark_end();
      printf("vtb: fork: child %lu: wait4 %s, status 0x%x\n", i, r < 0 ? lx_errname(r) : "ok", st);
      return LX_EXIT_CHECK;
    }
    sum += (uint64_t)LX_WEXITSTATUS(st);
  }
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_fork = {
    .name = "fork",
    .desc = "fork + exit + wait: process creation, copy-on-write address spaces, teardown",
    .params = params,
    .run = run,
};
