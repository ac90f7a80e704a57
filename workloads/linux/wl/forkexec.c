/* forkexec - lmbench's lat_proc exec: n times fork() and execve() of a
 * small static program (/bin/vtb-true, progs/true.c), wait for it. Adds to
 * fork the loading of a new image: the old address space torn down, a new
 * one built, the ELF mapped and demand-faulted in. Run i passes its number;
 * the program exits with vtb_mix64(0x666f726b65786563 + i) % 100
 * ("forkexec"), which the parent checks is below 100:
 *   checksum = sum_{i<n} (vtb_mix64(0x666f726b65786563 + i) % 100);  iterations = n. */
#include "lx.h"
#include "progs.h"

static const struct vtb_param params[] = {
    {"n", 300, 1, 1ull << 32, "fork + execve + wait rounds"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  char num[24];
  char *argv[] = {"vtb-true", num, 0}, *envp[] = {0};
  console_flush();
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    lx_utoa(i, num);
    long pid = sys_fork();
    if (!pid) {
      long r = sys_execve(LX_TRUE_PATH, argv, envp);
      printf("vtb: forkexec: execve %s: %s\n", LX_TRUE_PATH, lx_errname(r));
      console_flush();
      sys_exit(LX_EXEC_FAIL);
    }
    if (pid < 0) {
      mark_end();
      return lx_syserr("forkexec: fork", pid);
    }
    int st = 0;
    long r = sys_wait4((int)pid, &st, 0);
    if (r != pid || !LX_WIFEXITED(st) || LX_WEXITSTATUS(st) >= LX_TRUE_MOD) {
      mark_end();
      printf("vtb: forkexec: run %lu of %s: wait4 %s, status 0x%x (want an exit below %u)\n", i,
             LX_TRUE_PATH, r < 0 ? lx_errname(r) : "ok", st, LX_TRUE_MOD);
      return LX_EXIT_CHECK;
    }
    sum += (uint64_t)LX_WEXITSTATUS(st);
  }
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_forkexec = {
    .name = "forkexec",
    .desc = "fork + execve of a small static program + wait: image loading, address-space rebuild",
    .params = params,
    .run = run,
};
