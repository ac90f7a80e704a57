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
#define VTB_GDT_GPA        0x1000ull  /* boot GDT (see VTB_SEL_*) */
#define VTB_BOOTINFO_GPA   0x2000ull  /* struct vtb_boot_info, one page */
#define VTB_PGTABLE_GPA    0x10000ull /* VMM identity map: PML4, PDPT, PDs */
#define VTB_PGTABLE_END    0x20000ull /* 16 pages: PML4, PDPT, 4 PDs used */
#define VTB_BOOT_STACK_TOP 0x1ff000ull
#define VTB_RESERVED_END   0x200000ull /* 2 MiB: images link at or above this */

#define VTB_MEM_MIN (8ull << 20) /* smallest --mem refvmm accepts */
#define VTB_MEM_MAX (3ull << 30) /* largest: below the MMIO window */

/* Boot GDT selectors (same values in the runtime's own GDT). */
#define VTB_SEL_KCODE 0x08
#define VTB_SEL_KDATA 0x10
#define VTB_SEL_UDATA 0x1b /* 0x18 | RPL3 */
#define VTB_SEL_UCODE 0x23 /* 0x20 | RPL3 */
#define VTB_SEL_TSS   0x28 /* 16-byte system descriptor, runtime only */

/* ---- Boot info ---------------------------------------------------------
 * At entry: 64-bit long mode, CPL0, paging on with an identity map of all
 * guest RAM in 2 MiB pages (user-accessible, writable), IF=0, RSP =
 * VTB_BOOT_STACK_TOP, RDI = VTB_BOOTINFO_GPA. Free memory is zero-filled. */
#define VTB_BOOT_MAGIC 0x544f4f4242545624ull /* "$VTBBOOT" little-endian */
#define VTB_PARAMS_MAX 1024                  /* bytes of key=value text incl. NUL */

/* flags */
#define VTB_BOOT_F_SYSCALL_TRAP   (1u << 0) /* use UD2 traps, not SYSCALL */
#define VTB_BOOT_F_QEMU_PVH       (1u << 1) /* set by the runtime on the PVH path */
#define VTB_BOOT_F_RING0_EMULATED (1u << 2) /* host emulates ring 0 (kvm_pvm): no VMCALL there */
#define VTB_BOOT_F_MODEL          (1u << 3) /* refvmm's model backend: a software CPU, modeled time */

struct vtb_boot_info {
  uint64_t magic;      /* VTB_BOOT_MAGIC */
  uint32_t version;    /* VTB_ABI_VERSION */
  uint32_t flags;      /* VTB_BOOT_F_* */
  uint64_t ram_size;   /* bytes of guest RAM, from GPA 0 */
  uint64_t free_start; /* first free page after the image (page aligned) */
  uint64_t free_end;   /* end of free memory (== ram_size) */
  uint64_t tsc_hz;     /* host TSC frequency, 0 when unknown */
  uint32_t params_len; /* strlen(params) */
  uint32_t reserved;
  /* whitespace-separated key=value pairs, NUL-terminated */
  char params[VTB_PARAMS_MAX];
};

/* ---- Hypercalls ----------------------------------------------------------
 * OUT dx=VTB_HC_PORT_BASE+nr, eax=GPA of the argument struct (32-bit, so the
 * struct lies below 4 GiB). The VMM bounds-checks every GPA and length. A
 * hypercall writes its result into the `ret` field where it has one. */
#define VTB_HC_PORT_BASE 0x500
#define VTB_HC_COUNT     16

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

#define VTB_MARK_BEGIN   1u
#define VTB_MARK_END     2u
#define VTB_REGION_TIMED 0u /* the region every figure is measured over */
#define VTB_REGIONS_MAX  8u
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
#define VTB_KEY_CHECKSUM   "checksum"
#define VTB_KEY_ITERATIONS "iterations"

/* ---- Other ports ---------------------------------------------------------- */
#define VTB_PORT_SERIAL    0x3f8 /* COM1 data register: console bytes */
#define VTB_PORT_BENCH     0x520 /* null device: the `pio` workload's target */
#define VTB_PORT_QEMU_EXIT 0xf4  /* isa-debug-exit under QEMU (PVH path only) */
/* A 32-bit IN from VTB_PORT_IDENT answers VTB_IDENT_MAGIC under refvmm (and
 * all ones where nothing claims the port, e.g. QEMU): how a guest that can
 * boot elsewhere too (the Linux guest's init) learns whether the
 * hypercall ports are live. Reads only; writes are ignored. */
#define VTB_PORT_IDENT  0x524
#define VTB_IDENT_MAGIC 0x31425456u /* "VTB1" little-endian */

/* ---- KVM hypercalls (VMCALL/VMMCALL) -------------------------------------
 * The `vmcall` workload's hypercall, KVM's own ABI: RAX = number, RBX, RCX,
 * RDX = a0..a2, result in RAX. KVM answers every number in the host kernel
 * except KVM_HC_MAP_GPA_RANGE, which it forwards to user space as
 * KVM_EXIT_HYPERCALL once the VMM enables KVM_CAP_EXIT_HYPERCALL (refvmm
 * does when the host offers it). refvmm's answer: RAX = a2 ^ VTB_VMCALL_COOKIE
 * (a0 page aligned, a1 >= 1 pages; nothing is mapped or converted). */
#define VTB_KVM_HC_VAPIC_POLL_IRQ 1    /* answered 0 by KVM in the host kernel */
#define VTB_KVM_HC_MAP_GPA_RANGE  12   /* forwarded to refvmm */
#define VTB_KVM_ENOSYS            1000 /* KVM answers -KVM_ENOSYS to unknown numbers */
#define VTB_KVM_EPERM             1    /* and -KVM_EPERM to any number from CPL > 0 */
#define VTB_VMCALL_COOKIE         0x766d6d63616c6cull /* "lacmmv": refvmm's answer marker */

/* ---- Event log (delivery latency; refvmm/events.h, docs/KVM_MODES.md) ----
 * A guest that wants delivery latencies measured puts a struct
 * vtb_event_log in identity-mapped RAM, 8-byte aligned, and reports its GPA
 * under VTB_KEY_NMI_LOG / VTB_KEY_IRQ_LOG before raising events (refvmm
 * refuses a misaligned one or one not wholly in RAM: docs/ABI.md). For the k-th
 * event refvmm injects it writes raise_tsc[k] (the guest-TSC value at the
 * moment the event was raised) before injecting and then delivered = k+1;
 * the guest's handler writes handler_tsc[k] (RDTSC at handler entry) and
 * handled = k+1. Latency of event k = handler_tsc[k] - raise_tsc[k]. */
#define VTB_KEY_NMI_LOG   "events.nmi_log"
#define VTB_KEY_IRQ_LOG   "events.irq_log"
#define VTB_EVENT_LOG_MAX 4096u
struct vtb_event_log {
  uint64_t delivered; /* written by the VMM */
  uint64_t handled;   /* written by the guest */
  uint64_t raise_tsc[VTB_EVENT_LOG_MAX];
  uint64_t handler_tsc[VTB_EVENT_LOG_MAX];
};

/* MMIO: a guest-physical window with no RAM behind it. The VMM's identity
 * map covers [0, 4 GiB) so this window is mapped from the first instruction. */
#define VTB_MMIO_GPA  0xc0000000ull
#define VTB_MMIO_SIZE 0x1000ull

/* ---- The image's parameter table ----------------------------------------
 * A workload's declared parameters, as the guest reads them and as the VMM
 * checks --param before the guest starts: one table in the image, in an ELF
 * note (PT_NOTE segment, name "VTB", type VTB_NOTE_PARAMS) whose descriptor
 * is an array of struct vtb_param ended by an entry with an empty key. The
 * same bytes lie in the loaded text segment, where the guest's runtime
 * reads them. Values are decimal or 0x hex with an optional k/m/g suffix
 * (workloads/rt/wl_params.h); the runtime's own keys (VTB_RUNTIME_KEYS)
 * are accepted by every workload and are not in the table. */
#define VTB_NOTE_NAME    "VTB" /* n_namesz 4, including the NUL */
#define VTB_NOTE_PARAMS  0x56540001u
#define VTB_PARAM_KEY    24 /* bytes of a key, including the NUL: [a-z0-9_]+ */
#define VTB_PARAM_HELP   80 /* bytes of its help text, including the NUL */
#define VTB_PARAMS_DECL  32 /* most parameters one workload declares */
#define VTB_RUNTIME_KEYS "cpl", "syscall"
struct vtb_param {
  char key[VTB_PARAM_KEY];
  uint64_t def, min, max;
  char help[VTB_PARAM_HELP];
};
_Static_assert(sizeof(struct vtb_param) == 128, "struct vtb_param is ABI: 128 bytes");
/* In a workload: static const struct vtb_param params[] VTB_PARAM_TABLE = {...};
 * the link script wraps the section in the note. */
#define VTB_PARAM_TABLE __attribute__((section(".vtb.params"), used, aligned(8)))
#define VTB_PARAM_END                                                                              \
  {                                                                                                \
    {0}, 0, 0, 0, {                                                                                \
      0                                                                                            \
    }                                                                                              \
  } /* the entry that ends a table */

#endif
