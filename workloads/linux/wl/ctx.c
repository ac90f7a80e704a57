/* ctx - lmbench's lat_ctx with two processes: a token goes back and forth
 * through two pipes, n round trips, each a pair of context switches (and on
 * every switch an address-space switch: CR3 loads, with or without the TLB
 * surviving them). Each process reads its own buffer of ws bytes after
 * receiving the token (lmbench's -s size: a working set to refill after
 * each switch).
 *
 * Buffers hold word i = i, so each read sums to S = W(W-1)/2 (W = ws / 8).
 * x = 0x637478 ("ctx"); each round the parent sends x, the child answers
 * y = vtb_mix64(x + S), the parent continues with x = vtb_mix64(y + S):
 *   checksum = x after n rounds;  iterations = n. Reports ctx.ws. */
#include "lx.h"
#include "lx_mem.h"

#define TAG 0x637478ull

static const struct vtb_param params[] = {
    {"n", 5000, 1, 1ull << 32, "round trips (two context switches each)"},
    {"ws", 0, 0, 64ull << 20, "bytes each process reads after each switch (multiple of 8)"},
    VTB_PARAM_END,
};

static int to_child[2], to_parent[2];

/* The process's own buffer, word i = i. */
static int buffer(volatile uint64_t **out) {
  uint64_t ws = param("ws");
  *out = 0;
  if (!ws) return 0;
  volatile uint64_t *b =
      sys_mmap(0, ws, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sys_mmap_failed((void *)b)) return lx_syserr("ctx: mmap of the buffer", (long)b);
  for (uint64_t i = 0; i < ws / 8; i++)
    b[i] = i;
  *out = b;
  return 0;
}

static uint64_t touch(volatile uint64_t *b) {
  uint64_t s = 0, w = param("ws") / 8;
  for (uint64_t i = 0; i < w; i++)
    s += b[i];
  return s;
}

static int xfer(long r, const char *what) {
  if (r == 8) return 0;
  printf("vtb: ctx: %s of the token: %s\n", what, r < 0 ? lx_errname(r) : "short transfer");
  return LX_EXIT_SYSCALL;
}

static __attribute__((noreturn)) void child(uint64_t n) {
  sys_close(to_child[1]); /* so that a dead parent is an end of file, not a hang */
  sys_close(to_parent[0]);
  volatile uint64_t *b;
  int rc = buffer(&b);
  for (uint64_t k = 0; k < n && !rc; k++) {
    uint64_t x;
    rc = xfer(sys_read(to_child[0], &x, 8), "child's read");
    x = vtb_mix64(x + touch(b));
    if (!rc) rc = xfer(sys_write(to_parent[1], &x, 8), "child's write");
  }
  console_flush();
  sys_exit(rc);
}

static int setup(void) {
  uint64_t ws = param("ws");
  if (ws % 8) {
    printf("vtb: parameter 'ws'=%lu is not a multiple of 8\n", ws);
    return VTB_EXIT_BAD_PARAM;
  }
  int rc = lx_check_mem("ws", ws, 2 * ws);
  if (rc) return rc;
  long r = sys_pipe(to_child);
  if (!r) r = sys_pipe(to_parent);
  return r ? lx_syserr("ctx: pipe", r) : 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), x = TAG;
  volatile uint64_t *b;
  int rc = buffer(&b);
  if (rc) return rc;
  long pid = lx_fork();
  if (pid < 0) return lx_syserr("ctx: fork", pid);
  if (!pid) child(n);
  sys_close(to_child[0]); /* so that a dead child is an end of file, not a hang */
  sys_close(to_parent[1]);
  mark_begin();
  for (uint64_t k = 0; k < n && !rc; k++) {
    rc = xfer(sys_write(to_child[1], &x, 8), "parent's write");
    if (!rc) rc = xfer(sys_read(to_parent[0], &x, 8), "parent's read");
    x = vtb_mix64(x + touch(b));
  }
  mark_end();
  if (rc) sys_kill((int)pid, SIGKILL);
  int st = 0;
  sys_wait4((int)pid, &st, 0);
  if (!rc && !(LX_WIFEXITED(st) && LX_WEXITSTATUS(st) == 0)) {
    printf("vtb: ctx: the partner process ended with status 0x%x\n", st);
    rc = LX_EXIT_CHECK;
  }
  if (rc) return rc;
  hc_report("ctx.ws", param("ws"));
  res->checksum = x;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_ctx = {
    .name = "ctx",
    .desc = "a token through two pipes between two processes: context and address-space switches",
    .params = params,
    .setup = setup,
    .run = run,
};
