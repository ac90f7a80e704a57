/* ptemod - N page-table-entry updates with INVLPG: the kernel points one
 * page's PTE at another frame, invalidates it, and the body reads through
 * it. Under shadow paging each write to the (shadowed) guest PTE traps
 * (KVM's mmu_pte_write) and INVLPG exits; under EPT neither does. The PTE
 * write and INVLPG are kernel work: from ring 3 (default) through the
 * runtime's system call (SYS_KCALL), at cpl=0 called directly.
 *
 * `frames` frames; frame j holds marker(j) = vtb_mix64(0x7074656d6f64 ^ j)
 * ("ptemod") in word 0. Update i maps the page at 512 GiB to frame i % frames
 * and reads word 0 through it:
 *   checksum = sum_{i<n} marker(i % frames) mod 2^64; iterations = n.
 * A stale translation (no INVLPG) reads the previous frame's marker. */
#include "rt.h"

#define TAG  0x7074656d6f64ull
#define PAGE ASPACE_PRIVATE_BASE

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 14000, 1, 1ull << 40, "PTE updates (each with INVLPG and a read)"},
    {"frames", 8, 2, 4096, "frames the page is pointed at in turn"},
    VTB_PARAM_END,
};

static struct aspace as;
static uint64_t *pte, frame0;

/* Ring 0: the whole kernel side of one update. */
static uint64_t set_pte(uint64_t pa, uint64_t unused) {
  (void)unused;
  *(volatile uint64_t *)pte = pa | PTE_P | PTE_W | PTE_U | PTE_NX;
  invlpg(PAGE);
  return 0;
}

static int setup(void) {
  uint64_t nf = param("frames");
  int rc = pmem_check_param("frames", nf, (nf + 8) * PAGE_SIZE);
  if (rc) return rc;
  if (aspace_create(&as) || !(pte = aspace_ptes(&as, PAGE, 1)) || !(frame0 = pmem_alloc_pages(nf)))
    return VTB_EXIT_NO_MEMORY;
  for (uint64_t j = 0; j < nf; j++)
    *(uint64_t *)(frame0 + j * PAGE_SIZE) = vtb_mix64(TAG ^ j);
  set_pte(frame0, 0);
  aspace_switch(&as);
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), nf = param("frames"), sum = 0, j = 0;
  volatile uint64_t *p = (volatile uint64_t *)PAGE;
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    kcall(set_pte, frame0 + j * PAGE_SIZE, 0);
    sum += *p;
    if (++j == nf) j = 0;
  }
  mark_end();
  hc_report("ptemod.frames", nf);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "ptemod",
    .desc = "N PTE updates with INVLPG, each read through: shadow write-protection traps",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
