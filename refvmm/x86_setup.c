/* x86_setup.c - the long-mode world before the first instruction: an
 * identity map of [0, 4 GiB) in 2 MiB pages, the boot GDT, and the initial
 * state (struct boot_state) every backend applies. */
#include <errno.h>
#include <string.h>

#include "x86_setup.h"

#define PT_PAGE   4096ull
#define PML4_GPA  (VTB_PGTABLE_GPA)
#define PDPT_GPA  (VTB_PGTABLE_GPA + PT_PAGE)
#define PD_GPA(i) (VTB_PGTABLE_GPA + (2 + (i)) * PT_PAGE)
#define NR_PD     (X86_IDMAP_BYTES >> 30)

_Static_assert(PD_GPA(NR_PD) <= VTB_PGTABLE_END, "identity map tables exceed their area");

/* Accessed (and dirty) pre-set so the walker never writes to the tables:
 * some hosts emulate those writes slowly, and the tables stay constant. */
#define TABLE_FLAGS (X86_PTE_P | X86_PTE_W | X86_PTE_U | X86_PTE_A)
#define LEAF_FLAGS  (TABLE_FLAGS | X86_PTE_D | X86_PTE_PS)

/* Descriptors with the accessed bit set, for the same reason. */
static const uint64_t boot_gdt[X86_BOOT_GDT_ENTRIES] = {
    0,                     /* null */
    0x00af9b000000ffffull, /* 0x08 kernel code64: P, DPL0, code RX accessed, L, G */
    0x00cf93000000ffffull, /* 0x10 kernel data: P, DPL0, data RW accessed, D/B, G */
    0x00cff3000000ffffull, /* 0x18 user data: P, DPL3, data RW accessed, D/B, G */
    0x00affb000000ffffull, /* 0x20 user code64: P, DPL3, code RX accessed, L, G */
};

int x86__setup_long_mode(struct guest_mem *gm, gpa_t entry, struct boot_state *bs) {
  if (!gm || !bs || gm->size < VTB_MEM_MIN || entry >= gm->size) return -EINVAL;
  if (!guest_mem__ptr(gm, VTB_PGTABLE_GPA, VTB_PGTABLE_END - VTB_PGTABLE_GPA) ||
      !guest_mem__ptr(gm, VTB_GDT_GPA, PT_PAGE))
    return -EINVAL;

  /* each table page built here, then stored (guest_mem__write) */
  uint64_t t[512];
  guest_mem__fill(gm, VTB_PGTABLE_GPA, 0, VTB_PGTABLE_END - VTB_PGTABLE_GPA);
  memset(t, 0, sizeof t);
  t[0] = PDPT_GPA | TABLE_FLAGS;
  guest_mem__write(gm, PML4_GPA, t, sizeof t);
  memset(t, 0, sizeof t);
  for (uint64_t i = 0; i < NR_PD; i++)
    t[i] = PD_GPA(i) | TABLE_FLAGS;
  guest_mem__write(gm, PDPT_GPA, t, sizeof t);
  for (uint64_t i = 0; i < NR_PD; i++) {
    for (uint64_t j = 0; j < 512; j++)
      t[j] = ((i << 30) | (j << 21)) | LEAF_FLAGS;
    guest_mem__write(gm, PD_GPA(i), t, sizeof t);
  }

  memset(t, 0, sizeof t);
  memcpy(t, boot_gdt, sizeof(boot_gdt));
  guest_mem__write(gm, VTB_GDT_GPA, t, PT_PAGE);

  *bs = (struct boot_state){
      .entry = entry,
      .stack_top = VTB_BOOT_STACK_TOP,
      .boot_info = VTB_BOOTINFO_GPA,
      .cr3 = PML4_GPA,
      .gdt_base = VTB_GDT_GPA,
      .gdt_limit = X86_BOOT_GDT_LIMIT,
  };
  return 0;
}

void x86__decode_segment(uint64_t desc, uint16_t selector, struct x86_segment *seg) {
  uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
  seg->g = (desc >> 55) & 1;
  seg->limit = seg->g ? (limit << 12) | 0xfff : limit;
  seg->base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24);
  seg->selector = selector;
  seg->type = (desc >> 40) & 0xf;
  seg->s = (desc >> 44) & 1;
  seg->dpl = (desc >> 45) & 3;
  seg->present = (desc >> 47) & 1;
  seg->avl = (desc >> 52) & 1;
  seg->l = (desc >> 53) & 1;
  seg->db = (desc >> 54) & 1;
}

int x86__boot_segment(uint16_t selector, struct x86_segment *seg) {
  unsigned idx = selector >> 3;
  if (idx == 0 || idx >= X86_BOOT_GDT_ENTRIES || (selector & 4)) return -1;
  /* the RPL must match the descriptor's DPL, as a CPU load requires for SS */
  x86__decode_segment(boot_gdt[idx], selector, seg);
  if ((selector & 3) != seg->dpl) return -1;
  return 0;
}
