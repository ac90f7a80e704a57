/* vtb_abi.h - the guest ABI shared by refvmm (host) and the guest runtime.
 *
 * One header, included by both sides: every layout here is part of the
 * contract documented in docs/ABI.md. Only fixed-width types and no host
 * headers, so it compiles freestanding. Bump VTB_ABI_VERSION on any change.
 */
#ifndef VTB_ABI_H
#define VTB_ABI_H

#include <stdint.h>

#define VTB_ABI_VERSION 1u

/* ---- Guest-physical memory layout ------------------------------------ */

/* [0, VTB_RESERVED_END) belongs to the VMM: its page tables, GDT, boot info
 * and boot stack. ELF PT_LOAD segments must lie in [VTB_RESERVED_END, RAM). */
#define VTB_GDT_GPA 0x1000ull        /* boot GDT (see VTB_SEL_*) */
#define VTB_BOOTINFO_GPA 0x2000ull   /* struct vtb_boot_info, one page */
#define VTB_PGTABLE_GPA 0x10000ull   /* VMM identity map: PML4, PDPT, PDs */
#define VTB_PGTABLE_END 0x20000ull   /* 16 pages: PML4, PDPT, 4 PDs used */
#define VTB_BOOT_STACK_TOP 0x1ff000ull
#define VTB_RESERVED_END 0x200000ull /* 2 MiB: images link at or above this */

#define VTB_MEM_MIN (8ull << 20)     /* smallest --mem refvmm accepts */
#define VTB_MEM_MAX (3ull << 30)     /* largest: below the MMIO window */

/* Boot GDT selectors (same values in the runtime's own GDT). */
#define VTB_SEL_KCODE 0x08
#define VTB_SEL_KDATA 0x10
#define VTB_SEL_UDATA 0x1b /* 0x18 | RPL3 */
#define VTB_SEL_UCODE 0x23 /* 0x20 | RPL3 */
#define VTB_SEL_TSS 0x28   /* 16-byte system descriptor, runtime only */

/* ---- Boot info ---------------------------------------------------------
 * At entry: 64-bit long mode, CPL0, paging on with an identity map of all
 * guest RAM in 2 MiB pages (user-accessible, writable), IF=0, RSP =
 * VTB_BOOT_STACK_TOP, RDI = VTB_BOOTINFO_GPA. Free memory is zero-filled. */
#define VTB_BOOT_MAGIC 0x544f4f4242545624ull /* "$VTBBOOT" little-endian */
#define VTB_PARAMS_MAX 1024                  /* bytes of key=value text incl. NUL */

/* flags */
#define VTB_BOOT_F_SYSCALL_TRAP (1u << 0) /* use UD2 traps, not SYSCALL */
#define VTB_BOOT_F_QEMU_PVH (1u << 1)     /* set by the runtime on the PVH path */

struct vtb_boot_info {
  uint64_t magic;       /* VTB_BOOT_MAGIC */
  uint32_t version;     /* VTB_ABI_VERSION */
  uint32_t flags;       /* VTB_BOOT_F_* */
  uint64_t ram_size;    /* bytes of guest RAM, from GPA 0 */
  uint64_t free_start;  /* first free page after the image (page aligned) */
  uint64_t free_end;    /* end of free memory (== ram_size) */
  uint64_t tsc_hz;      /* host TSC frequency, 0 when unknown */
  uint32_t params_len;  /* strlen(params) */
  uint32_t reserved;
  /* whitespace-separated key=value pairs, NUL-terminated */
  char params[VTB_PARAMS_MAX];
};

/* ---- Hypercalls ----------------------------------------------------------
 * OUT dx=VTB_HC_PORT_BASE+nr, eax=GPA of the argument struct (32-bit, so the
 * struct lies below 4 GiB). The VMM bounds-checks every GPA and length. A
 * hypercall writes its result into the `ret` field where it has one. */
#define VTB_HC_PORT_BASE 0x500
#define VTB_HC_COUNT 16

enum vtb_hypercall {
  VTB_HC_CONSOLE = 0,   /* struct vtb_hc_console */
  VTB_HC_EXIT = 1,      /* struct vtb_hc_exit */
  VTB_HC_MARK = 2,      /* struct vtb_hc_mark */
  VTB_HC_REPORT = 3,    /* struct vtb_hc_report */
  VTB_HC_RAISE_NMI = 4, /* struct vtb_hc_raise */
  VTB_HC_RAISE_IRQ = 5, /* struct vtb_hc_raise */
  VTB_HC_EXCEPTION = 6, /* struct vtb_hc_exception: unhandled, run ends */
};

struct vtb_hc_console {
  uint64_t buf; /* GPA of the bytes */
  uint64_t len; /* at most VTB_CONSOLE_MAX */
};
#define VTB_CONSOLE_MAX 4096u

struct vtb_hc_exit {
  uint64_t status; /* 0 = success */
};

#define VTB_MARK_BEGIN 1u
#define VTB_MARK_END 2u
#define VTB_REGION_TIMED 0u /* the region every figure is measured over */
#define VTB_REGIONS_MAX 8u
struct vtb_hc_mark {
  uint32_t region; /* < VTB_REGIONS_MAX */
  uint32_t phase;  /* VTB_MARK_BEGIN or VTB_MARK_END */
  uint64_t tsc;    /* guest TSC at the mark, for the record */
};

#define VTB_REPORT_KEY_MAX 32 /* including the NUL */
struct vtb_hc_report {
  char key[VTB_REPORT_KEY_MAX]; /* [a-z0-9_.], NUL-terminated */
  uint64_t value;
};

struct vtb_hc_raise {
  uint32_t vector;   /* IRQ vector 32..255 (ignored for NMI) */
  uint32_t count;    /* events to raise, >= 1 */
  uint64_t delay_ns; /* raise after this delay (0 = at once) */
};

struct vtb_hc_exception {
  uint64_t vector;
  uint64_t error_code;
  uint64_t rip;
  uint64_t cr2;
  uint64_t cs;
  uint64_t rsp;
};

/* Well-known report keys */
#define VTB_KEY_CHECKSUM "checksum"
#define VTB_KEY_ITERATIONS "iterations"

/* ---- Other ports ---------------------------------------------------------- */
#define VTB_PORT_SERIAL 0x3f8   /* COM1 data register: console bytes */
#define VTB_PORT_BENCH 0x520    /* null device: the `pio` workload's target */
#define VTB_PORT_QEMU_EXIT 0xf4 /* isa-debug-exit under QEMU (PVH path only) */

/* MMIO: a guest-physical window with no RAM behind it. The VMM's identity
 * map covers [0, 4 GiB) so this window is mapped from the first instruction. */
#define VTB_MMIO_GPA 0xc0000000ull
#define VTB_MMIO_SIZE 0x1000ull

#endif
