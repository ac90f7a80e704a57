/* lx_mem.c - memory for the Linux guest's workloads: a check against what
 * the kernel has available (so a too-large parameter is a message, not the
 * OOM killer) and working sets mapped with 4 KiB or 2 MiB pages. */
#include "lx_mem.h"

#define PAGE_4K 4096ull
#define PAGE_2M (2ull << 20)

/* Value in KiB of a "Key:   N kB" line of a /proc file; -1 when absent. */
static long long proc_kb(const char *path, const char *key) {
  static char buf[8192];
  if (lx_read_file(path, buf, sizeof buf) < 0) return -1;
  size_t kn = strlen(key);
  for (const char *s = buf; *s;) {
    if (!strncmp(s, key, kn) && s[kn] == ':') {
      const char *v = s + kn + 1;
      while (*v == ' ')
        v++;
      long long x = 0;
      while (*v >= '0' && *v <= '9')
        x = x * 10 + (*v++ - '0');
      return x;
    }
    while (*s && *s != '\n')
      s++;
    if (*s) s++;
  }
  return -1;
}

int lx_check_mem(const char *key, uint64_t value, uint64_t bytes) {
  long long avail = proc_kb("/proc/meminfo", "MemAvailable");
  if (avail < 0) {
    printf("vtb: /proc/meminfo has no MemAvailable line: cannot check parameter '%s'\n", key);
    return LX_EXIT_SYSCALL;
  }
  if ((bytes >> 10) <= (uint64_t)avail) return 0;
  printf("vtb: parameter '%s'=%lu needs %lu KiB of guest memory but only %llu KiB are available "
         "(lower %s or give the guest more memory)\n",
         key, value, bytes >> 10, avail, key);
  return VTB_EXIT_BAD_PARAM;
}

long long lx_anon_huge_kb(void) {
  return proc_kb("/proc/self/smaps_rollup", "AnonHugePages");
}

int lx_wset(uint64_t ws, uint64_t page, uint8_t **out) {
  if (page != PAGE_4K && page != PAGE_2M) {
    printf("vtb: parameter 'page'=%lu must be 4k (4096) or 2m (2097152)\n", page);
    return VTB_EXIT_BAD_PARAM;
  }
  if (ws % page) {
    printf("vtb: parameter 'ws'=%lu is not a multiple of the page size %lu (page=%s)\n", ws, page,
           page == PAGE_4K ? "4k" : "2m");
    return VTB_EXIT_BAD_PARAM;
  }
  int rc = lx_check_mem("ws", ws, ws);
  if (rc) return rc;
  /* 2 MiB pages need a 2 MiB aligned range: map one page more and align */
  uint64_t len = ws + (page == PAGE_2M ? PAGE_2M : 0);
  uint8_t *p = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sys_mmap_failed(p)) return lx_syserr("mmap of the working set", (long)p);
  uint8_t *base = (uint8_t *)(((uint64_t)p + page - 1) & ~(page - 1));
  long r = sys_madvise(base, ws, page == PAGE_2M ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  if (r) return lx_syserr("madvise of the working set", r);
  for (uint64_t off = 0; off < ws; off += PAGE_4K) /* every page present before the region */
    base[off] = 0;
  *out = base;
  return 0;
}
