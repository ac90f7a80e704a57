/* vm.h - the reference VMM's core types: configuration, guest memory, the
 * generic exit record the run loop dispatches on, and the VM instance (the
 * backend interface is backend.h).
 *
 * Exit reasons use KVM's KVM_EXIT_* numbering as the common vocabulary of
 * "exits that reach the VMM in user space": the KVM backend passes them
 * through, the model backend produces the same ones (its in-"kernel" VMX
 * exits are accounted separately by the model, as KVM's are by KVM).
 */
#ifndef REFVMM_VM_H
#define REFVMM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../workloads/rt/vtb_abi.h"

/* Distinct address types, as in KVM selftests' kvm_util. */
typedef uint64_t gpa_t; /* guest-physical */
typedef uint64_t gva_t; /* guest-virtual */

/* ---- Modes --------------------------------------------------------------- */
enum paging_mode { PAGING_SHADOW, PAGING_EPT, PAGING_NATIVE };
enum tlb_mode { TLB_FLUSH, TLB_VPID };
enum event_mode { EVENT_POLL, EVENT_WINDOW };

struct vm_modes {
  enum paging_mode paging;
  enum tlb_mode tlb;
  enum event_mode nmi;
  enum event_mode irq;
  bool paging_set, tlb_set, nmi_set, irq_set; /* given on the command line */
};

const char *paging_mode__name(enum paging_mode m);
const char *tlb_mode__name(enum tlb_mode m);
const char *event_mode__name(enum event_mode m);
/* Parse; return 0 or -1 for an unknown word. */
int paging_mode__parse(const char *s, enum paging_mode *out);
int tlb_mode__parse(const char *s, enum tlb_mode *out);
int event_mode__parse(const char *s, enum event_mode *out);

/* ---- Guest memory ------------------------------------------------------- */
struct vm;
struct guest_mem {
  uint8_t *host; /* one anonymous mapping of `size` bytes at GPA 0 */
  uint64_t size;
  /* Told of every guest_mem__write/fill: the backend's guest_written hook
   * (backend.h) and its VM, bound by the session once the backend exists;
   * NULL before (the loader's writes precede anything a backend derives). */
  void (*written)(struct vm *vm, gpa_t gpa, uint64_t len);
  struct vm *written_vm;
};

int guest_mem__init(struct guest_mem *gm, uint64_t size); /* 0 or -errno */
/* The same, with `private_huge`: private anonymous memory advised for
 * transparent huge pages (backend_ops.ram_private_huge) instead of shared. */
int guest_mem__init_backing(struct guest_mem *gm, uint64_t size, bool private_huge);
void guest_mem__destroy(struct guest_mem *gm);
/* The one checked-GPA helper: a read-only host view of [gpa, gpa+len) when
 * that range lies wholly inside guest RAM (no wrap-around), else NULL. len
 * may be 0 (then gpa may equal size). Every guest pointer the VMM follows
 * goes through here. It is a byte view: a guest-chosen GPA need not be
 * aligned for any struct, so structs are copied out (guest_mem__read), never
 * read through a cast pointer. */
const void *guest_mem__ptr(const struct guest_mem *gm, gpa_t gpa, uint64_t len);
/* Copy [gpa, gpa+len) out to dst, whatever its alignment: 0, or -EFAULT
 * (nothing copied) when the range does not lie wholly inside guest RAM. */
int guest_mem__read(const struct guest_mem *gm, gpa_t gpa, void *dst, uint64_t len);
/* The VMM's only way to store into guest RAM: copy src to [gpa, gpa+len)
 * (fill: set it to `byte`), then tell the backend (gm->written), which
 * drops what it derived from those bytes (decoded code, shadow tables).
 * 0, or -EFAULT (nothing written) when the range is not wholly RAM. */
int guest_mem__write(const struct guest_mem *gm, gpa_t gpa, const void *src, uint64_t len);
int guest_mem__fill(const struct guest_mem *gm, gpa_t gpa, uint8_t byte, uint64_t len);

/* ---- Generic exit record ------------------------------------------------ */
struct vcpu_exit {
  uint32_t reason; /* KVM_EXIT_* */
  /* The backend's own account of an exit that ends the run (internal
   * error, shutdown): what it could not do, where; NULL when it has none
   * (the run loop clears it before each run()). */
  const char *why;
  union {
    struct {
      uint16_t port;
      uint8_t size;  /* 1, 2 or 4 */
      uint8_t write; /* 1 = OUT */
      uint32_t count;
      uint8_t *data; /* size*count bytes; for IN the handler fills it */
    } io;
    struct {
      gpa_t gpa;
      uint32_t len;
      uint8_t write;
      uint8_t *data; /* len bytes; for reads the handler fills it */
    } mmio;
    struct {
      uint32_t index; /* KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR */
      uint8_t *error; /* the handler sets 1: the guest gets #GP(0) */
      uint64_t *data; /* WRMSR's value; the handler fills RDMSR's */
    } msr;
    struct {
      uint64_t nr;      /* KVM_EXIT_HYPERCALL: the guest's RAX */
      uint64_t args[3]; /* RBX, RCX, RDX */
      uint64_t *ret;    /* the handler's answer: the guest's RAX afterwards */
    } hypercall;
    struct {
      uint64_t hw_reason;
    } fail_entry;
    struct {
      uint8_t vector; /* KVM_EXIT_IOAPIC_EOI: a level-triggered vector's EOI */
    } eoi;
    struct {
      uint32_t suberror;
      uint32_t ndata;
      uint64_t data[4];
    } internal;
  };
};

/* Name of exit reason `r` ("IO", "MMIO", ...); "UNNAMED" for numbers no
 * kernel header defines. Never NULL. */
const char *vcpu_exit__name(uint32_t r);

/* Register snapshot for dumps and the watchdog report. */
struct vcpu_regs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags;
  uint64_t cr0, cr2, cr3, cr4, cr8, efer;
  uint16_t cs, ss;
  uint8_t cpl;
};

/* Initial long-mode state the loader computes, applied by the backend. */
struct boot_state {
  gpa_t entry;
  gpa_t stack_top;
  gpa_t boot_info;   /* RDI: the freestanding runtime's boot info (0: none) */
  gpa_t boot_params; /* RSI: Linux's zero page, 64-bit boot protocol (0: none) */
  gpa_t cr3;
  gpa_t gdt_base;
  uint16_t gdt_limit;
  /* CS, and DS/ES/SS/FS/GS: selectors and their GDT descriptors */
  uint16_t code_sel, data_sel;
  uint64_t code_desc, data_desc;
};

struct backend_ops; /* refvmm/backend.h */

/* ---- Run configuration (from the command line) --------------------------- */
#define VM_PARAMS_MAX 64
struct vm_config {
  const char *image; /* path of the workload ELF (NULL: a Linux kernel boots) */
  /* Linux (refvmm/linux_boot.h): --kernel bzImage, --initrd, --cmdline */
  const char *kernel;  /* NULL: a freestanding workload image */
  const char *initrd;  /* NULL: none */
  const char *cmdline; /* NULL: empty */
  const char *backend; /* a backend's name (backend.h) */
  struct vm_modes modes;
  uint64_t mem_size;                 /* bytes */
  double timeout_s;                  /* watchdog; 0 = none */
  const char *json_path;             /* NULL = no JSON */
  bool quiet;                        /* no console echo, no summary */
  const char *params[VM_PARAMS_MAX]; /* "k=v" strings, in order */
  int nparams;
  int argc; /* the command line, for the result's context */
  char **argv;
  /* Event sources and the poll policy (refvmm/events.h, docs/KVM_MODES.md) */
  double poll_us;      /* poll policy: kick interval while an event waits; 0 = 100 */
  double nmi_rate_hz;  /* periodic NMIs from a VMM timer; 0 = none */
  double irq_rate_hz;  /* periodic IRQs from a VMM timer; 0 = none */
  uint32_t irq_vector; /* their vector (32..255); 0 = 0x40 */
  /* The shadow MMU's policy for the guest's last-level page tables
   * (--shadow-policy; backends with backend_ops.shadow_policies only):
   * 0 sync (write-protected), 1 unsync (KVM's), 2 flood (sync, last-level
   * tables flood too): enum vmm_shadow_policy's values (docs/MODEL.md). */
  uint8_t shadow_policy;
  bool shadow_policy_set;
};

/* ---- Guest reports -------------------------------------------------------- */
#define VM_REPORTS_MAX 128
struct guest_report {
  char key[VTB_REPORT_KEY_MAX];
  uint64_t value;
};

/* Why a run ended; maps 1:1 to refvmm's process exit codes (exit_codes.h). */
enum run_status {
  RUN_OK = 0,          /* guest exited with status 0 */
  RUN_GUEST_FAILED,    /* guest exit(status != 0) */
  RUN_GUEST_EXCEPTION, /* unhandled exception reported by the runtime */
  RUN_TRIPLE_FAULT,    /* KVM_EXIT_SHUTDOWN */
  RUN_TIMEOUT,         /* watchdog */
  RUN_INTERNAL_ERROR,  /* KVM_EXIT_INTERNAL_ERROR, unknown exit */
  RUN_FAILED_ENTRY,    /* KVM_EXIT_FAIL_ENTRY */
  RUN_BAD_HYPERCALL,   /* guest passed an invalid pointer/length/number */
  RUN_HOST_ERROR,      /* an ioctl failed, out of memory, ... */
  RUN_STATUS_COUNT
};
const char *run_status__name(enum run_status s); /* "ok", "triple_fault", ... */
int run_status__exit_code(enum run_status s);

/* ---- The VM instance ------------------------------------------------------- */
struct exit_stats; /* probes/exit_stats.h */
struct device_bus; /* refvmm/devbus.h */
struct console;    /* refvmm/console.h */
struct events;     /* refvmm/events.h */

struct vm {
  struct vm_config cfg;
  const struct backend_ops *ops;
  void *backend; /* backend-private state */
  struct guest_mem mem;
  struct device_bus *bus;
  struct console *console;  /* what the guest printed (for end-of-run messages) */
  struct exit_stats *exits; /* exits inside the timed region */

  /* image facts from the loader */
  gpa_t image_lo, image_hi; /* [lo, hi) covered by PT_LOAD segments */
  gpa_t entry;

  /* run outcome */
  enum run_status status;
  uint64_t guest_exit_status;
  char status_detail[512];           /* human message: what and where */
  struct vtb_hc_exception exception; /* valid for RUN_GUEST_EXCEPTION */
  bool have_regs;
  struct vcpu_regs final_regs; /* for dumps on abnormal ends */

  struct guest_report reports[VM_REPORTS_MAX];
  int nreports;

  /* timed region (region 0): host-side snapshots */
  bool timed_begun, timed_ended;
  uint64_t timed_tsc_begin, timed_tsc_end;
  uint64_t timed_ns_begin, timed_ns_end;
  uint64_t guest_tsc_begin, guest_tsc_end;
  uint64_t tsc_hz;

  volatile int stop_requested; /* set by the watchdog */
  /* a Linux boot on a backend that halts the vCPU itself (KVM's local
   * APIC): the run loop counts exits, the watchdog asks after a second
   * without one whether the guest sits halted (watchdog.h) */
  volatile uint64_t exits_seen;
  volatile int halt_check;
  struct events *events; /* refvmm/events.h: pending events, policies; NULL = none */
};

#endif
