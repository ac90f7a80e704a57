/* cr3switch - ping-pong between k address spaces: switch (a CR3 load,
 * kernel work: from ring 3 through the runtime's system call SYS_KCALL, at
 * cpl=0 directly), then touch w pages of the new space. Under shadow paging
 * every CR3 load exits; with tlb=flush each switch also loses the other
 * space's translations.
 *
 * Every space maps w private zero frames at 512 GiB. Switch t (t < n) goes
 * to space t % k; each touch reads word 0 of a page (v) and writes v + 1,
 * so the value read is how often that space was visited before:
 *   q = n / k, r = n % k
 *   checksum = w * (k * q * (q - 1) / 2 + r * q) mod 2^64; iterations = n.
 * A stale translation (CR3 load without flush) or shared frames change it. */
#include "rt.h"

#define BASE ASPACE_PRIVATE_BASE
#define KMAX 64

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 20000, 1, 1ull << 40, "address-space switches (CR3 loads)"},
    {"k", 2, 2, KMAX, "address spaces"},
    {"w", 16, 1, 512, "pages touched after each switch"},
    VTB_PARAM_END,
};

static struct aspace spaces[KMAX];

static uint64_t switch_to(uint64_t pml4, uint64_t unused) {
  (void)unused;
  write_cr3(pml4);
  return 0;
}

static int setup(void) {
  uint64_t k = param("k"), w = param("w");
  int rc = pmem_check_param("w", w, k * (w + 4) * PAGE_SIZE);
  if (rc) return rc;
  for (uint64_t j = 0; j < k; j++) {
    uint64_t *pte, frames;
    if (aspace_create(&spaces[j]) || !(pte = aspace_ptes(&spaces[j], BASE, w)) ||
        !(frames = pmem_alloc_pages(w)))
      return VTB_EXIT_NO_MEMORY;
    for (uint64_t p = 0; p < w; p++)
      pte[p] = (frames + p * PAGE_SIZE) | PTE_P | PTE_W | PTE_U | PTE_NX;
  }
  aspace_switch(&spaces[k - 1]);
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), k = param("k"), w = param("w"), sum = 0, j = 0;
  volatile uint64_t *base = (volatile uint64_t *)BASE;
  mark_begin();
  for (uint64_t t = 0; t < n; t++) {
    kcall(switch_to, spaces[j].pml4, 0);
    for (uint64_t p = 0; p < w; p++) {
      uint64_t v = base[p * 512];
      base[p * 512] = v + 1;
      sum += v;
    }
    if (++j == k) j = 0;
  }
  mark_end();
  hc_report("cr3switch.loads", n);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "cr3switch",
    .desc = "ping-pong between k address spaces, w pages touched in each: CR3 loads",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
