/* pt_beyond_ram - the guest rewrites its page tables to point at
 * guest-physical addresses with no RAM behind them, then touches them.
 *   case 0: a 4 KiB leaf at VA 512 GiB -> GPA 64 GiB (no memslot, below
 *           the CPU's physical-address width): KVM treats the access as
 *           MMIO; reads come back all ones, the run ends ok.
 *   case 1: a leaf -> GPA 2^51 (at or above MAXPHYADDR: reserved bits set
 *           in the PTE): the CPU raises #PF with the RSVD bit; the runtime
 *           reports an unhandled exception.
 *   case 2: a PML4 entry whose next-level table is at GPA 64 GiB: the
 *           page walk itself reads non-RAM. Whatever KVM does (a #PF, an
 *           MMIO exit for the walk, an emulation failure) the run must end
 *           with a clear status and a valid record, never hang or crash.
 *   case 3: two pages, the first RAM, the second -> GPA 64 GiB; an 8-byte
 *           write 4 bytes before the end of the first: half RAM, half MMIO.
 *           KVM splits it (an MMIO exit for the second half); a backend that
 *           cannot must end the run saying so.
 * checksum (cases 0, 3): the value read back. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 3, "0: leaf -> 64 GiB, 1: leaf -> 2^51, 2: table at 64 GiB, 3: write across"},
    VTB_PARAM_END,
};

#define VA_PRIVATE ASPACE_PRIVATE_BASE
#define GPA_FAR    (64ull << 30)

static uint64_t k_touch(uint64_t which, uint64_t unused) {
  (void)unused;
  uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffull);
  uint64_t va = VA_PRIVATE;
  if (which == 2) {
    pml4[(va >> 39) & 511] = GPA_FAR | 0x7; /* present, writable, user */
  } else if (which == 3) {
    uint64_t pa = pmem_alloc();
    if (!pa || aspace_map(&aspace_kernel, va, pa, 8192, AS_WRITE) < 0) return ~0ull - 1;
    uint64_t *pdpt = (uint64_t *)(pml4[(va >> 39) & 511] & 0x000ffffffffff000ull);
    uint64_t *pd = (uint64_t *)(pdpt[(va >> 30) & 511] & 0x000ffffffffff000ull);
    uint64_t *pt = (uint64_t *)(pd[(va >> 21) & 511] & 0x000ffffffffff000ull);
    pt[((va >> 12) & 511) + 1] = GPA_FAR | 0x3;
    invlpg(va + 4096);
    volatile uint64_t *p = (volatile uint64_t *)(va + 4092);
    *p = 0x1122334455667788ull;
    return *(volatile uint32_t *)(va + 4092);
  } else {
    /* Map one page normally, then rewrite its PTE to point beyond RAM. */
    uint64_t pa = pmem_alloc();
    if (!pa || aspace_map(&aspace_kernel, va, pa, 4096, AS_WRITE) < 0) return ~0ull - 1;
    uint64_t *pdpt = (uint64_t *)(pml4[(va >> 39) & 511] & 0x000ffffffffff000ull);
    uint64_t *pd = (uint64_t *)(pdpt[(va >> 30) & 511] & 0x000ffffffffff000ull);
    uint64_t *pt = (uint64_t *)(pd[(va >> 21) & 511] & 0x000ffffffffff000ull);
    pt[(va >> 12) & 511] = (which == 0 ? GPA_FAR : (1ull << 51)) | 0x3;
  }
  invlpg(va);
  write_cr3(read_cr3());
  volatile uint64_t *p = (volatile uint64_t *)va;
  *p = 0x1234;
  return *p;
}

static int run(struct wl_result *res) {
  uint64_t which = param("case");
  printf("pt_beyond_ram: case %lu\n", which);
  mark_begin();
  uint64_t v = kcall(k_touch, which, 0);
  mark_end();
  printf("pt_beyond_ram: read 0x%lx\n", v);
  res->checksum = v;
  res->iterations = 1;
  return v == (which == 3 ? 0x55667788u : ~0ull) ? 0 : 1;
}

const struct workload WORKLOAD = {
    .name = "pt_beyond_ram",
    .desc = "hostile: page tables pointing at guest-physical addresses beyond RAM",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
