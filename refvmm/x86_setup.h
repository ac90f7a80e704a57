/* x86_setup.h - the long-mode world the VMM builds before the first entry:
 * identity page tables for [0, 4 GiB) in 2 MiB pages at VTB_PGTABLE_GPA
 * (present, writable, user), the boot GDT at VTB_GDT_GPA, and the initial
 * register state (struct boot_state) the backend applies. */
#ifndef REFVMM_X86_SETUP_H
#define REFVMM_X86_SETUP_H

#include "vm.h"

/* Build tables in gm (RAM must be >= VTB_MEM_MIN) and fill *bs for `entry`. */
int x86__setup_long_mode(struct guest_mem *gm, gpa_t entry, struct boot_state *bs);
/* The identity map of [0, 4 GiB) in 2 MiB pages alone: PML4 at `base`, then
 * the PDPT and 4 PDs (X86_IDMAP_TABLE_BYTES). 0 or -EINVAL when they do not
 * fit in RAM. */
int x86__identity_map(struct guest_mem *gm, gpa_t base);

/* Descriptor values shared with backends that load segment state. */
#define X86_CR0_PE         (1ull << 0)
#define X86_CR0_MP         (1ull << 1)
#define X86_CR0_ET         (1ull << 4)
#define X86_CR0_NE         (1ull << 5)
#define X86_CR0_WP         (1ull << 16)
#define X86_CR0_AM         (1ull << 18)
#define X86_CR0_PG         (1ull << 31)
#define X86_CR4_PAE        (1ull << 5)
#define X86_CR4_PGE        (1ull << 7)
#define X86_CR4_OSFXSR     (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_EFER_SCE       (1ull << 0)
#define X86_EFER_LME       (1ull << 8)
#define X86_EFER_LMA       (1ull << 10)
#define X86_EFER_NXE       (1ull << 11)
/* Initial control registers for every backend. */
#define BOOT_CR0  (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG)
#define BOOT_CR4  (X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)
#define BOOT_EFER (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

/* Page-table entry bits used by the identity map. */
#define X86_PTE_P         (1ull << 0)
#define X86_PTE_W         (1ull << 1)
#define X86_PTE_U         (1ull << 2)
#define X86_PTE_A         (1ull << 5)
#define X86_PTE_D         (1ull << 6)
#define X86_PTE_PS        (1ull << 7)
#define X86_PTE_ADDR_MASK 0x000ffffffffff000ull

/* Boot GDT layout: null, kernel code64, kernel data, user data, user code64. */
#define X86_BOOT_GDT_ENTRIES  5
#define X86_BOOT_GDT_LIMIT    (X86_BOOT_GDT_ENTRIES * 8 - 1)
#define X86_IDMAP_BYTES       (4ull << 30) /* [0, 4 GiB), MMIO window included */
#define X86_IDMAP_TABLE_BYTES ((2 + (X86_IDMAP_BYTES >> 30)) * 4096ull) /* PML4, PDPT, PDs */

/* A segment register's hidden state, decoded from a descriptor and free of
 * any backend's types (the KVM backend copies it into struct kvm_segment,
 * the model into its own). limit is in bytes (already scaled by g). */
struct x86_segment {
  uint64_t base;
  uint32_t limit;
  uint16_t selector;
  uint8_t type, s, dpl, present, avl, l, db, g;
};

/* Decode an 8-byte code/data descriptor loaded with `selector`. */
void x86__decode_segment(uint64_t desc, uint16_t selector, struct x86_segment *seg);
/* The boot GDT's segment for `selector` (VTB_SEL_KCODE, VTB_SEL_KDATA,
 * VTB_SEL_UDATA, VTB_SEL_UCODE); 0, or -1 for any other selector. */
int x86__boot_segment(uint16_t selector, struct x86_segment *seg);

#endif
