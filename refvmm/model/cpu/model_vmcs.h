/* model_vmcs.h - the VMCS-like controls of the model CPU and its VM exits,
 * named as in the Intel SDM vol. 3 (24.6 VM-execution controls, appendix C
 * basic exit reasons, 27.2.1 exit qualifications): everything refvmm's VMM
 * code (vmm/) sees of the CPU. The VMM sets the controls per mode, handles
 * the exits, reads and writes guest state and asks for TLB invalidations
 * through the functions here, as a VMM does with VMREAD/VMWRITE, INVVPID
 * and VMRESUME; struct model_cpu stays opaque to it. */
#ifndef REFVMM_MODEL_VMCS_H
#define REFVMM_MODEL_VMCS_H

#include <stdbool.h>
#include <stdint.h>

/* Primary processor-based VM-execution controls (SDM table 24-6) */
#define CPU_BASED_INVLPG_EXITING     (1u << 9)
#define CPU_BASED_CR3_LOAD_EXITING   (1u << 15)
#define CPU_BASED_ACTIVATE_SECONDARY (1u << 31)
#define CPU_BASED_INTR_WINDOW_EXITING                                                              \
  (1u << 2) /* exit when RFLAGS.IF=1 and no STI/MOV-SS blocking */
#define CPU_BASED_NMI_WINDOW_EXITING (1u << 22) /* exit when no virtual-NMI/STI/MOV-SS blocking */
/* Pin-based VM-execution controls (SDM table 24-5) */
#define PIN_BASED_EXT_INTR_EXITING     (1u << 0)
#define PIN_BASED_NMI_EXITING          (1u << 3)
#define PIN_BASED_VIRTUAL_NMIS         (1u << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER (1u << 6)
/* Guest interruptibility state (SDM table 24-3) */
#define GUEST_INTR_STATE_STI    (1u << 0)
#define GUEST_INTR_STATE_MOV_SS (1u << 1)
#define GUEST_INTR_STATE_NMI    (1u << 3)
/* Secondary processor-based controls (SDM table 24-7) */
#define SECONDARY_EXEC_ENABLE_EPT  (1u << 1)
#define SECONDARY_EXEC_ENABLE_VPID (1u << 5)

/* Basic exit reasons (SDM appendix C) */
enum vmx_exit_reason {
  EXIT_REASON_EXCEPTION_NMI = 0,
  EXIT_REASON_EXTERNAL_INTERRUPT = 1,
  EXIT_REASON_TRIPLE_FAULT = 2,
  EXIT_REASON_INTERRUPT_WINDOW = 7,
  EXIT_REASON_NMI_WINDOW = 8,
  EXIT_REASON_CPUID = 10,
  EXIT_REASON_HLT = 12,
  EXIT_REASON_INVLPG = 14,
  EXIT_REASON_RDTSC = 16,
  EXIT_REASON_VMCALL = 18,
  EXIT_REASON_CR_ACCESS = 28,
  EXIT_REASON_IO_INSTRUCTION = 30,
  EXIT_REASON_MSR_READ = 31,
  EXIT_REASON_MSR_WRITE = 32,
  EXIT_REASON_EPT_VIOLATION = 48,
  EXIT_REASON_EPT_MISCONFIG = 49,
  EXIT_REASON_PREEMPTION_TIMER = 52,
  EXIT_REASON_MAX = 66
};

/* EPT-violation exit qualification bits (SDM table 27-7) */
#define EPT_QUAL_READ         (1ull << 0)
#define EPT_QUAL_WRITE        (1ull << 1)
#define EPT_QUAL_FETCH        (1ull << 2)
#define EPT_QUAL_LINEAR_VALID (1ull << 7)
#define EPT_QUAL_FINAL        (1ull << 8) /* the final translation, not a guest table */

/* EPT entries (SDM 28.3.2): R W X in bits 0-2; W without R is a misconfiguration */
#define EPT_R         1ull
#define EPT_W         2ull
#define EPT_X         4ull
#define EPT_ADDR_MASK 0x000ffffffffff000ull

/* Kinds of access (the #PF exit's `acc`, the guest walk's) */
#define ACC_W 1u /* write */
#define ACC_U 2u /* user-mode access (CPL3, not implicit supervisor) */
#define ACC_X 4u /* instruction fetch */

/* A failed walk: MMU_FAULT | the #PF error code */
#define MMU_FAULT 0x10000

/* Why a run of the guest stopped (model_cpu__run, model_vmx__run). */
enum model_stop {
  MSTOP_NONE = 0,
  MSTOP_SLICE, /* instruction budget used up */
  MSTOP_IO,    /* port I/O exit prepared */
  MSTOP_MMIO,  /* MMIO exit prepared */
  MSTOP_HLT,
  MSTOP_SHUTDOWN,  /* triple fault */
  MSTOP_INTERNAL,  /* the model cannot continue (message in cpu->msg) */
  MSTOP_EVENT,     /* re-check pending events at the next boundary */
  MSTOP_HYPERCALL, /* VMCALL/VMMCALL forwarded to the VMM (KVM_EXIT_HYPERCALL) */
  MSTOP_VMEXIT,    /* an event VM exit (window, preemption timer): vmcs.exit_reason */
  MSTOP_MSR,       /* RDMSR/WRMSR of an MSR the VMM handles (cpu->msr) */
};

struct model_cpu;

/* The VMM's exit handler for exits it handles without leaving to the run
 * loop (EPT violation): 0 handled (the access is retried), else the run
 * stops with an internal error (message in the CPU's msg). */
typedef int (*vmm_exit_handler)(void *vmm, struct model_cpu *c);

/* The entries a successful model_vmx__walk_guest_path() read, for each
 * level from 4 down to leaf_level (with the A/D bits the walk set);
 * leaf_level 0 when the walk did not keep them (the caller reads the
 * tables itself). */
struct vmx_guest_path {
  int leaf_level;
  uint64_t e[5];
  uint64_t tab[5];  /* the guest-physical table each level's entry was read from */
  uint8_t above[5]; /* what the entries above that level allow: bit 0 U, bit 1 W,
                     * bit 2 NX (U and W ANDed, NX ORed; 3 at level 4) */
};

/* speed: the VMM's guest walks (model_vmx__walk_guest_path()), by 2 MiB
 * region (struct model_cpu's vmx_walk_memo[8]): the upper non-leaf entries
 * (levels 4-3, or 4-2) of a recent walk of the region, with where in guest
 * RAM they were read (the same CR3, EFER.NXE and RAM), and the leaf below
 * them of the last successful walk through them (level 4 - n: its page,
 * where it was read, its value as that walk left it, what the whole path
 * allows); used only after re-reading those entries and finding them
 * unchanged (then the walk through them reads, checks and writes nothing
 * else). `path` is the path of the region's last walk: its levels of the
 * kept entries and, while leaf_p is set, of the leaf are what a walk that
 * hits them records, so such a walk returns it as it is. */
struct vmx_walk_memo {
  const uint8_t *ram; /* NULL: invalid */
  uint64_t ram_size, key, cr3;
  const uint8_t *p[3];
  uint64_t e[3];
  uint64_t table; /* the table the kept entries lead to */
  uint8_t n;      /* levels kept: 2 or 3 */
  uint8_t u, w, nx, nxe;
  uint8_t leaf_u, leaf_w, leaf_nx;
  uint8_t *leaf_p;           /* NULL: no leaf kept */
  uint64_t leaf_e, leaf_key; /* leaf_key: va >> 12 (a level-1 leaf) or va >> 21 */
  struct vmx_guest_path path;
};

struct model_vmcs {
  bool active; /* the CPU runs as a VMX guest (paging shadow|ept) */
  uint32_t proc_based, secondary;
  uint32_t exception_bitmap;
  uint16_t vpid;
  uint64_t eptp; /* page index of the EPT PML4 in ept_mem, << 12 */
  /* the VMM's EPT memory: "host-physical" pages holding EPT tables */
  const uint64_t *ept_mem;
  uint32_t ept_pages;
  vmm_exit_handler handler;
  void *vmm;
  /* shadow paging: the CPU walks the VMM's shadow tables from shadow_root */
  const uint64_t *spt_mem;
  uint32_t spt_pages, shadow_root;
  /* #PF exit handler (exception bitmap bit 14): enum shadow_pf_result */
  int (*pf_handler)(void *vmm, struct model_cpu *c, uint64_t va, unsigned acc);
  /* CR3-load and INVLPG exit handlers */
  void (*cr3_handler)(void *vmm, struct model_cpu *c, uint64_t cr3);
  void (*invlpg_handler)(void *vmm, struct model_cpu *c, uint64_t va);
  uint32_t inject_error; /* true #PF: the guest's error code */
  uint64_t emulate_hpa;  /* SPF_EMULATE: the host page the VMM writes */
  /* exit information of the last exit */
  uint32_t exit_reason;
  uint64_t exit_qualification, guest_physical, guest_linear;
  /* events (model_events.c, driven by refvmm's vmm_events.c): pin-based
   * controls, the VMX-preemption timer as an absolute deadline in modeled
   * cycles (guest TSC), and the guest TSC at the last NMI / IRQ delivery */
  uint32_t pin_based;
  uint64_t preemption_deadline;
  uint64_t nmi_delivered_tsc, irq_delivered_tsc;
  /* accounting */
  uint64_t exits[EXIT_REASON_MAX];
  uint64_t entries, flush_on_entry, flush_on_exit;
  uint64_t ept_violations, ept_misconfigs;
};

enum shadow_pf_result {
  SPF_RETRY,      /* hidden fault: the shadow entry is filled, retry the access */
  SPF_TRUE_FAULT, /* the guest's own fault: inject #PF (vmcs.inject_error) */
  SPF_EMULATE,    /* a write to a write-protected guest page table: emulated */
};

const char *vmx_exit_reason__name(unsigned reason);

static inline bool model_vmcs__ept(const struct model_vmcs *v) {
  return v->active && (v->proc_based & CPU_BASED_ACTIVATE_SECONDARY) &&
         (v->secondary & SECONDARY_EXEC_ENABLE_EPT);
}
static inline bool model_vmcs__vpid(const struct model_vmcs *v) {
  return v->active && (v->proc_based & CPU_BASED_ACTIVATE_SECONDARY) &&
         (v->secondary & SECONDARY_EXEC_ENABLE_VPID) && v->vpid;
}

/* A VM exit with `reason` is taken / the VM is entered again: counts, and
 * without VPID flushes the TLBs (VPID 0) as the SDM requires (28.3.3.3). */
void model_vmx__exit(struct model_cpu *c, unsigned reason, uint64_t qual);
void model_vmx__entry(struct model_cpu *c);
/* An exit the VMM handles and re-enters at once (CPUID, VMCALL answered in
 * the VMM, EPT violation): exit + handler + entry. 0, or -1 when the
 * handler failed (message in c->msg). */
int model_vmx__exit_handled(struct model_cpu *c, unsigned reason, uint64_t qual);

/* Events (model_events.c). The SDM interruptibility state of the guest now
 * (GUEST_INTR_STATE_*). */
uint32_t model_vmx__interruptibility(const struct model_cpu *c);
/* VM-entry event injection (SDM 26.6): an NMI, or an external interrupt
 * with `vector`, delivered at the next boundary the guest can take it at
 * (the VMM injects only then); whether one injected earlier is still
 * undelivered (the IDT-vectoring information of the last exit). */
enum vmx_event { VMX_EVENT_NMI, VMX_EVENT_EXTINT };
void model_vmx__inject(struct model_cpu *c, enum vmx_event type, uint8_t vector);
bool model_vmx__injection_pending(const struct model_cpu *c, enum vmx_event type);
/* Guest-state fields the VMM reads: RFLAGS, and the guest's TSC now
 * (TSC offset + modeled cycles). */
uint64_t model_vmx__guest_rflags(const struct model_cpu *c);
uint64_t model_vmx__guest_tsc(const struct model_cpu *c);
/* Run the guest until a stop (enum model_stop) or `budget` instructions
 * retired, without event exits. */
int model_vmx__run(struct model_cpu *c, uint64_t budget);
/* Run the guest as model_cpu__run(c, budget) but stop with MSTOP_VMEXIT
 * (exit counted, vmcs.exit_reason) at an NMI/interrupt-window exit, when the
 * VMX-preemption timer (pin-based control, vmcs.preemption_deadline) expires,
 * or when the host's next interrupt is due (`host_deadline`, guest-TSC
 * cycles; EXTERNAL_INTERRUPT). The caller re-enters with model_vmx__entry(). */
int model_vmx__run_guest(struct model_cpu *c, uint64_t budget, uint64_t host_deadline);

/* The guest is halted (HLT with interrupts enabled) and the VMM waits for
 * its next event, due at guest TSC `until`: the clock moves there (counted
 * as halted time). Whether it is halted. */
bool model_vmx__halted(const struct model_cpu *c);
void model_vmx__wait(struct model_cpu *c, uint64_t until);

/* ---- the VMM's access to the guest and the CPU ---------------------------------- */
/* The VMCS of a CPU (the VMM's controls and the last exit's information). */
struct model_vmcs *model_vmx__vmcs(struct model_cpu *c);
/* VPID of the guest's TLB entries (VMWRITE of the VPID field). */
void model_vmx__set_vpid(struct model_cpu *c, uint16_t vpid);
/* Guest-state fields: CR3 (a CR3-load exit's handler completes the load),
 * EFER, CPL; and the CPU's count of privilege switches so far (the
 * shadow MMU batches flushes per stretch of CPL0 execution). */
uint64_t model_vmx__guest_cr3(const struct model_cpu *c);
void model_vmx__set_guest_cr3(struct model_cpu *c, uint64_t cr3);
uint64_t model_vmx__guest_efer(const struct model_cpu *c);
unsigned model_vmx__guest_cpl(const struct model_cpu *c);
uint64_t model_vmx__cpl_switches(const struct model_cpu *c);
/* The instruction the exit happened in, as a VMM's emulator would decode
 * it from guest memory: its RIP, its opcode (0x000-0x0ff the one-byte map,
 * 0x100-0x1ff the 0F map, model_insn.h), ModRM.reg (the group's operation)
 * and whether its r/m operand is a register. False when no instruction is
 * being executed (an access of event delivery). */
bool model_vmx__exit_insn(const struct model_cpu *c, uint64_t *rip, uint16_t *op, uint8_t *reg,
                          bool *mod3);
/* TLB invalidations the VMM asks for (INVVPID-like): the current VPID's
 * entries but global pages (what a guest CR3 load does), all of them, the
 * translations of one address. */
void model_vmx__flush_nonglobal(struct model_cpu *c);
void model_vmx__flush_all(struct model_cpu *c);
void model_vmx__flush_va(struct model_cpu *c, uint64_t va);
/* The guest's own translation of va for acc through its page tables
 * (CR3, CR4, EFER), setting their A/D bits as the CPU would: what a VMM's
 * software walker computes (KVM's paging_tmpl.h): 0 and *gpa, *perm, or
 * MMU_FAULT | the #PF error code (perm may be NULL: not computed); and in
 * *path the path it took (a shadow #PF handler needs both: KVM's
 * FNAME(walk_addr) keeps the table gfns and ptes too, and the access of
 * each level), valid until the next walk (it is the walk memo's).
 * Why not model_mmu__walk(): this is the VMM's software walker, not the
 * CPU's: no paging-structure caches, and it keeps the path, and with its
 * memo of whole paths (checked entry by entry) the shadow #PF handler's
 * repeated walks of a page read, check and write only what changed.
 * Without EPT (shadow paging) it follows the CPU's walk step for step,
 * with the same counters, A/D writes, result and error code
 * (tests/unit/test_model_mmu.c checks it against model_mmu__walk()). */
int model_vmx__walk_guest_path(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *gpa,
                               uint32_t *perm, const struct vmx_guest_path **path);

#endif
