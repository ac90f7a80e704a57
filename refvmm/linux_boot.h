/* linux_boot.h - load an x86-64 Linux kernel for the 64-bit boot protocol
 * (the kernel's Documentation/arch/x86/boot.rst): the bzImage's
 * protected-mode kernel at its preferred address, the zero page
 * (struct boot_params) with the e820 map, the command line and the initrd,
 * the MP table of refvmm's platform, a GDT with __BOOT_CS/__BOOT_DS and an
 * identity map of [0, 4 GiB); entry at load address + 0x200 in 64-bit mode
 * with RSI = the zero page and interrupts off. The kernel decompresses
 * itself.
 *
 * Guest-physical layout (all below 1 MiB is e820 RAM except the MP table's
 * KiB and the BIOS area, and Linux keeps the first MiB to itself):
 *
 *   0x1000   GDT: 0x10 __BOOT_CS (64-bit code), 0x18 __BOOT_DS
 *   0x2000   identity map: PML4, PDPT, 4 PDs of 2 MiB pages
 *   0x8000   zero page (boot_params)
 *   0x9000   command line (NUL-terminated, at most the kernel's cmdline_size)
 *   0x70000  top of the entry stack (the kernel switches to its own at once)
 *   0x9fc00  MP floating pointer and table (e820 reserved, to 0xa0000)
 *   pref_address (16 MiB for x86-64 kernels): the protected-mode kernel,
 *            init_size bytes reserved from there for it to decompress into
 *   top of RAM (below initrd_addr_max): the initrd, page-aligned
 */
#ifndef REFVMM_LINUX_BOOT_H
#define REFVMM_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define LINUX_GDT_GPA       0x1000ull
#define LINUX_PGTABLE_GPA   0x2000ull
#define LINUX_ZERO_PAGE_GPA 0x8000ull
#define LINUX_CMDLINE_GPA   0x9000ull
#define LINUX_CMDLINE_MAX   4096ull /* bytes at LINUX_CMDLINE_GPA, NUL included */
#define LINUX_STACK_TOP     0x70000ull
#define LINUX_EBDA_GPA      0x9fc00ull /* the MP table: last KiB of base memory */
#define LINUX_BIOS_GPA      0xf0000ull /* e820 reserved to 1 MiB, as on a PC */
#define LINUX_HIGH_GPA      0x100000ull
#define LINUX_BOOT_CS       0x10 /* __BOOT_CS */
#define LINUX_BOOT_DS       0x18 /* __BOOT_DS */
#define LINUX_E820_MAX      8

/* What was loaded where (for the summary and the result). */
struct linux_image {
  uint16_t protocol;   /* boot protocol version (0x20f = 2.15) */
  gpa_t kernel_lo;     /* the protected-mode kernel */
  uint64_t kernel_len; /* bytes copied */
  uint64_t init_size;  /* bytes reserved for it from kernel_lo */
  gpa_t initrd_lo;     /* 0: no initrd */
  uint64_t initrd_len;
  uint64_t cmdline_len;
  unsigned e820_entries;
  gpa_t e820_addr[LINUX_E820_MAX];
  uint64_t e820_size[LINUX_E820_MAX];
  uint32_t e820_type[LINUX_E820_MAX];
};

/* Load cfg->kernel (and cfg->initrd, cfg->cmdline) into gm and fill *bs.
 * 0, or -1 with err naming the file, the field or value and what to do
 * (not a bzImage, no 64-bit entry, --mem too small, command line too
 * long). */
int linux_boot__load(struct guest_mem *gm, const struct vm_config *cfg, struct linux_image *img,
                     struct boot_state *bs, char *err, size_t errlen);
/* The same from buffers (tests, fuzzing): kernel and initrd (may be NULL)
 * with their names for messages. */
int linux_boot__load_buf(struct guest_mem *gm, const uint8_t *kernel, size_t kernel_len,
                         const char *kernel_name, const uint8_t *initrd, size_t initrd_len,
                         const char *cmdline, struct linux_image *img, struct boot_state *bs,
                         char *err, size_t errlen);

/* A Linux guest's HLT reached refvmm's run loop: the kernel halted with
 * interrupts disabled (the end of its power-off and halt paths, "reboot:
 * System halted"), or with interrupts enabled and nothing left to wake it
 * (backends that wait for interrupts themselves report only those).
 * Sets vm->status: a power-off is a clean end for a kernel whose command
 * line names no vtbench workload; one that does (vtb.workload=) must end
 * with init's exit hypercall first, so its power-off without one is a
 * failure. Returns 1 (stop). */
int linux_halt__end(struct vm *vm, bool interrupts_enabled);

#endif
