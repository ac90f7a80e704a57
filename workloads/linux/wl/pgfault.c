/* pgfault - anonymous page faults: n pages of fresh private anonymous
 * memory, mapped `chunk` pages at a time (mmap), each written once (the
 * first touch: a fault that allocates and zeroes a 4 KiB page and maps it),
 * read back, then unmapped (munmap: pages freed, TLB entries flushed).
 * Huge pages are off (init: transparent_hugepage=madvise). The kernel's
 * fault path; under shadow paging each new PTE is also the VMM's work.
 * Page i gets word 0 = vtb_mix64(0x70676661756c74 + i) ("pgfault", as the
 * freestanding pgfault):
 *   checksum = sum_{i<n} vtb_mix64(0x70676661756c74 + i);  iterations = n.
 * Reports pgfault.chunk and pgfault.minflt (the kernel's minor-fault count
 * of the region: about n). */
#include <linux/resource.h>

#include "lx.h"
#include "lx_mem.h"

#define TAG 0x70676661756c74ull

static const struct vtb_param params[] = {
    {"n", 20000, 1, 1ull << 24, "pages touched, one fault each"},
    {"chunk", 256, 1, 1ull << 18, "pages per mapping (mmap, touch, munmap)"},
    VTB_PARAM_END,
};

static uint64_t minflt(void) {
  struct rusage ru = {0};
  SYS2(__NR_getrusage, RUSAGE_SELF, &ru);
  return (uint64_t)ru.ru_minflt;
}

static int setup(void) {
  return lx_check_mem("chunk", param("chunk"), param("chunk") * 4096);
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), chunk = param("chunk"), sum = 0;
  uint64_t f0 = minflt();
  mark_begin();
  for (uint64_t i = 0; i < n; i += chunk) {
    uint64_t c = n - i < chunk ? n - i : chunk;
    volatile uint64_t *p =
        sys_mmap(0, c * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sys_mmap_failed((void *)p)) {
      mark_end();
      return lx_syserr("pgfault: mmap", (long)p);
    }
    for (uint64_t j = 0; j < c; j++)
      p[j * 512] = vtb_mix64(TAG + i + j);
    for (uint64_t j = 0; j < c; j++)
      sum += p[j * 512];
    sys_munmap((void *)p, c * 4096);
  }
  mark_end();
  hc_report("pgfault.chunk", chunk);
  hc_report("pgfault.minflt", minflt() - f0);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_pgfault = {
    .name = "pgfault",
    .desc = "anonymous page faults: mmap, first touch of each page, munmap",
    .params = params,
    .setup = setup,
    .run = run,
};
