/* model_cpu.h - architectural state of the model x86-64 CPU and the
 * internal interfaces between its subsystems (decode, exec, mmu, events).
 *
 * The model runs 64-bit long mode only (CS.L=1) at CPL0 and CPL3. All guest
 * memory goes through model_mmu.c: a checked guest-physical accessor that
 * never touches host memory outside guest RAM; physical addresses outside
 * RAM become MMIO exits. Faults unwind the current instruction with
 * longjmp() to the run loop (model_exec.c), which delivers them through the
 * guest IDT (model_events.c). docs/MODEL.md describes the design.
 */
#ifndef REFVMM_MODEL_CPU_H
#define REFVMM_MODEL_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "../cost/cost_model.h"
#include "model_tlb.h"
#include "model_vmcs.h"
#include "../vmm/vmm_shadow.h"

/* ---- RFLAGS ---------------------------------------------------------------- */
#define RF_CF    0x1ull
#define RF_FIXED 0x2ull
#define RF_PF    0x4ull
#define RF_AF    0x10ull
#define RF_ZF    0x40ull
#define RF_SF    0x80ull
#define RF_TF    0x100ull
#define RF_IF    0x200ull
#define RF_DF    0x400ull
#define RF_OF    0x800ull
#define RF_IOPL  0x3000ull
#define RF_NT    0x4000ull
#define RF_RF    0x10000ull
#define RF_VM    0x20000ull
#define RF_AC    0x40000ull
#define RF_VIF   0x80000ull
#define RF_VIP   0x100000ull
#define RF_ID    0x200000ull
#define RF_ARITH (RF_CF | RF_PF | RF_AF | RF_ZF | RF_SF | RF_OF)

/* ---- Exceptions ---------------------------------------------------------------- */
enum {
  X86_DE = 0,
  X86_DB = 1,
  X86_NMI = 2,
  X86_BP = 3,
  X86_OF = 4,
  X86_BR = 5,
  X86_UD = 6,
  X86_NM = 7,
  X86_DF = 8,
  X86_TS = 10,
  X86_NP = 11,
  X86_SS = 12,
  X86_GP = 13,
  X86_PF = 14,
  X86_MF = 16,
  X86_AC = 17,
  X86_MC = 18,
  X86_XM = 19,
};
/* #PF error code bits */
#define PFEC_P    0x1u
#define PFEC_W    0x2u
#define PFEC_U    0x4u
#define PFEC_RSVD 0x8u
#define PFEC_I    0x10u

/* ---- MSRs the runtime uses ---------------------------------------------------- */
#define MSR_TSC            0x10u
#define MSR_APIC_BASE      0x1bu
#define MSR_PAT            0x277u
#define MSR_EFER           0xc0000080u
#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_SFMASK         0xc0000084u
#define MSR_FS_BASE        0xc0000100u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX        0xc0000103u

/* Model CPU physical address width (CPUID 0x80000008). */
#define MODEL_MAXPHYADDR 40

/* ---- Instruction classes (counters) --------------------------------------------- */
enum model_iclass {
  IC_ALU,
  IC_MOV,
  IC_BRANCH,
  IC_STACK,
  IC_MULDIV,
  IC_STRING,
  IC_SYSTEM,
  IC_IO,
  IC_OTHER,
  IC_COUNT
};

/* ---- Decoded instruction ----------------------------------------------------------- */
#define MODEL_NOREG 0xff
struct model_insn {
  uint16_t op;    /* opcode: 0x000-0x0ff one-byte map, 0x100-0x1ff 0F map */
  uint8_t len;    /* bytes, 1..15 */
  uint8_t osz;    /* operand size in bytes: 1, 2, 4, 8 */
  uint8_t asz;    /* address size: 4 or 8 */
  uint8_t reg;    /* ModRM.reg | REX.R << 3 (or opcode low bits | REX.B) */
  uint8_t rm;     /* ModRM.rm | REX.B << 3 when mod == 3 */
  uint8_t mod3;   /* 1: rm is a register */
  uint8_t modrm;  /* raw ModRM byte (0 when none) */
  uint8_t base;   /* memory base register or MODEL_NOREG */
  uint8_t index;  /* memory index register or MODEL_NOREG */
  uint8_t scale;  /* shift 0..3 */
  uint8_t seg;    /* 0 none, 4 FS, 5 GS (segment override) */
  uint8_t rep;    /* 0, 0xf2 or 0xf3 */
  uint8_t lock;   /* LOCK prefix seen */
  uint8_t rex;    /* raw REX byte or 0 */
  uint8_t riprel; /* memory operand is RIP-relative */
  uint8_t iclass; /* enum model_iclass */
  uint8_t osz66;  /* 0x66 prefix seen */
  int64_t disp;   /* displacement (RIP-relative: from next RIP) */
  uint64_t imm;   /* immediate (sign-extended where the form says so) */
  uint16_t imm2;  /* ENTER's second immediate, RET/RETF imm16 in imm */
};

/* ---- Descriptor-table registers and segments ------------------------------------ */
struct model_dtr {
  uint64_t base;
  uint16_t limit;
};

struct model_seg {
  uint16_t sel;
  uint8_t dpl;
  uint64_t base; /* only FS/GS bases matter in 64-bit mode; TR base for TSS */
  uint32_t limit;
};
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* ---- Software translation cache (replaced by the TLB model in part 2) -------------- */
#define MODEL_TLB_SIZE  16384 /* direct-mapped: 64 MiB of 4 KiB pages */
#define TLB_GEN_SHIFT   52    /* tag = VPN | generation << 52; flush = new generation */
#define MODEL_FRONT_LOG 32    /* front slots a flush clears one by one (front_log) */
_Static_assert(MODEL_TLB_SIZE <= 65536, "front_log holds slot numbers in 16 bits");
#define TLBP_2M 0x100u /* in perm: the translation came from a 2 MiB page */
#define TLBP_1G 0x200u /* ... from a 1 GiB page */
#define TLBP_G  0x400u /* global page (PTE.G with CR4.PGE) */
#define TLBP_R  1u     /* supervisor read */
#define TLBP_W  2u     /* supervisor write */
#define TLBP_X  4u     /* supervisor fetch */
/* user bits are the same shifted left by 3 */
struct model_tlb_entry {
  uint64_t tag;  /* VPN | generation << TLB_GEN_SHIFT (0 = invalid) */
  uint8_t *host; /* host address of the page, NULL for non-RAM */
  uint64_t gpa;  /* guest-physical page address */
  uint32_t perm; /* TLBP_* for supervisor, << 3 for user */
};

/* ---- Decoded-instruction cache ------------------------------------------------------ */
#define MODEL_ICACHE_SIZE 16384
struct model_icache_entry {
  uint64_t rip;
  uint32_t gen;
  uint8_t cpl;
  uint32_t code_gen; /* speed: the decode stays good while code_gen is unchanged */
  uint64_t gpa;      /* page the bytes came from (~0: crosses a page) */
  struct model_insn insn;
};

/* ---- Counters ---------------------------------------------------------------------- */
struct model_counters {
  uint64_t instructions;          /* retired */
  uint64_t by_class[IC_COUNT];    /* retired, by enum model_iclass */
  uint64_t rep_iterations;        /* string-op element iterations */
  uint64_t mem_reads, mem_writes; /* data references (not fetch, not walks) */
  uint64_t fetches;               /* decodes (icache misses) */
  uint64_t icache_flushes;
  uint64_t tlb_misses; /* translation-cache misses */
  uint64_t tlb_flushes;
  uint64_t walks;      /* page walks */
  uint64_t walk_refs;  /* memory references made by walks */
  uint64_t exceptions; /* delivered exceptions/interrupts */
  uint64_t nmis, irqs; /* delivered NMIs / external interrupts */
  uint64_t cr3_loads;  /* MOV to CR3 executed by the guest (exiting or not) */
};

/* Ring-0 work, kept without a per-instruction cost: model_exec.c closes an
 * interval at every privilege switch (model_cpu__cpl_sync). The counterparts
 * of an emulating VMM's statistics (kvm_pvm emulates the guest's ring 0:
 * KVM insn_emulation, mmu_pte_write). */
struct model_cpl_acct {
  uint8_t cpl;                 /* the CPL of the open interval */
  uint64_t switches;           /* privilege switches seen */
  uint64_t entered, left;      /* of them: switches into CPL0, out of CPL0 */
  uint64_t insns0, writes0;    /* instructions and data writes of the closed CPL0 intervals */
  uint64_t insn_at, writes_at; /* cnt.instructions / cnt.mem_writes when the open one began */
  uint64_t mmio_writes0;       /* CPL0 writes that went to MMIO (not to RAM) */
};

/* The counters of the `model` JSON section at one moment (model_report.c),
 * snapshotted at the timed region's marks so the report gives the region's
 * figures next to the whole run's. Only uint64_t members: subtracted as such. */
struct model_snapshot {
  struct model_counters cnt;
  struct tlb_stats st;
  uint64_t exits[EXIT_REASON_MAX];
  uint64_t flush_on_entry, flush_on_exit, ept_violations, ept_misconfigs, user_exits;
  uint64_t cpl0_insns, cpl0_writes, cpl0_entered, cpl0_left;
  struct vmm_shadow_stats sh;
};
struct model_region {
  struct model_snapshot begin, end;
  bool begun, ended;
};

/* Why the inner loop stopped. */
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
};

/* longjmp codes */
enum { MJ_FAULT = 1, MJ_STOP = 2 };

struct model_cpu {
  uint64_t gpr[16];
  uint64_t rip;
  uint64_t rflags;
  uint8_t cpl;

  uint64_t cr0, cr2, cr3, cr4, cr8;
  uint64_t dr[8];
  uint64_t efer, star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux, pat, apic_base;
  uint64_t tsc_offset; /* RDTSC = tsc_offset + modeled cycles */
  struct model_seg seg[SEG_COUNT];
  struct model_seg tr, ldtr;
  struct model_dtr gdtr, idtr;

  /* events */
  bool nmi_pending, nmi_blocked;
  bool irq_pending;
  uint8_t irq_vector;
  uint64_t shadow_icount; /* interrupt shadow (STI/MOV SS) covers icount == this */
  bool shadow_valid;
  bool shadow_movss; /* the shadow comes from MOV SS (else STI) */
  bool halted;

  /* guest RAM */
  uint8_t *ram;
  uint64_t ram_size;
  uint8_t *code_pages; /* one byte per 4K guest page: holds decoded code */

  /* translation and decode caches */
  struct model_tlb_entry tlb[MODEL_TLB_SIZE];
  uint64_t tlb_gen_tag; /* current generation << TLB_GEN_SHIFT, never 0 */
  /* speed: the front's slots filled since its last flush; a flush clears
   * just these unless there were more (front_nlog > MODEL_FRONT_LOG): then it
   * takes a new generation. Exit-heavy guests flush every few accesses, and
   * the 12-bit generation would wrap (a 512 KiB clear) every 4096 flushes. */
  uint16_t front_log[MODEL_FRONT_LOG];
  unsigned front_nlog;
  bool tlb_has_2m, tlb_has_1g;
  struct model_tlb tlbm;       /* the TLB model behind the front (model_tlb.h) */
  struct model_tlb_entry xlat; /* translate() result not kept in the front */
  uint8_t walk_level;          /* level at which the last walk ended (leaf or fault) */
  uint8_t walk_start;          /* first level the walk reads (paging-structure caches) */
  bool xlat_nocache;           /* the last translation must not be kept (emulated write) */
  struct model_vmcs vmcs;      /* VMX controls and exits (model_vmcs.h) */
  struct model_icache_entry *icache;
  uint32_t icache_gen;
  uint32_t code_gen; /* bumped when decoded bytes may have changed (not on TLB flushes) */

  /* run control */
  uint64_t slice_end; /* inner loop stops when instructions reaches it */
  volatile int kick;  /* set by backend kick() */
  jmp_buf jb;
  int fault_vector; /* pending fault for MJ_FAULT */
  uint32_t fault_error;
  bool fault_has_error;
  int delivering; /* vector being delivered, -1 none (for #DF) */
  enum model_stop stop;
  char msg[256];
  uint64_t run_start, run_rep_start, run_exc_start, run_budget; /* model_cpu__run() bookkeeping */
  uint64_t ud_rip; /* last undecodable instruction, for messages */
  uint8_t ud_bytes[15];

  /* exits */
  struct {
    uint16_t port;
    uint8_t size, write, len; /* len: IN instruction length */
    uint8_t data[8];
    bool in_pending; /* IN completes on the next run */
  } io;
  struct {
    uint64_t gpa;
    uint32_t len;
    uint8_t write;
    uint8_t data[8];
    bool read_ready; /* the VMM supplied read data for gpa/len */
  } mmio;
  struct {
    uint64_t nr, args[3];
    uint64_t ret; /* the VMM's answer, loaded into RAX on completion */
    bool pending; /* the VMCALL completes on the next run */
    uint8_t len;
  } hc;

  struct model_counters cnt;
  const struct model_insn *cur; /* instruction being executed */

  /* cost model (cost_model.h): the profile charged (NULL: the default) and
   * the VM exits that left to refvmm's run loop (the VMM's user-space work) */
  const struct cost_profile *cost_profile;
  const struct vmm_shadow *cost_shadow; /* the shadow MMU's statistics (paging shadow) */
  uint64_t user_exits;
  struct cost_region cost_region;     /* counts at the timed region's marks */
  struct cost_baseline cost_baseline; /* the native run's counts (refvmm session) */
  struct model_cpl_acct cpl_acct;     /* ring-0 work (model_cpu__cpl_sync) */
  struct model_region report_region;  /* the model section at the marks (model_report.c) */
};

/* ---- model_mmu.c ------------------------------------------------------------------ */
#define ACC_W 1u /* write */
#define ACC_U 2u /* user-mode access (CPL3, not implicit supervisor) */
#define ACC_X 4u /* instruction fetch */

/* Host pointer for [gpa, gpa+len) inside RAM or NULL. */
static inline uint8_t *model_mem__ptr(const struct model_cpu *c, uint64_t gpa, uint64_t len) {
  if (gpa > c->ram_size || len > c->ram_size - gpa) return 0;
  return c->ram + gpa;
}
/* Translate va for an access; on failure raise #PF (longjmp). Returns the
 * TLB entry holding the translation. */
const struct model_tlb_entry *model_mmu__translate(struct model_cpu *c, uint64_t va, unsigned acc);
/* An instruction fetch's translation (ACC_X): the ITLB lookup (and walk)
 * translate() makes, without the data front or the host pointer; returns
 * the 4 KiB page's gpa (faults by longjmp as translate() does). */
uint64_t model_mmu__fetch_page(struct model_cpu *c, uint64_t va, unsigned acc);
/* Walk only (no TLB, no fault): 0 and *gpa, or MMU_FAULT | the #PF error code. */
#define MMU_FAULT 0x10000
int model_mmu__walk(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *gpa, uint32_t *perm,
                    bool set_ad);
void model_mmu__flush(struct model_cpu *c);     /* all entries of the current VPID */
void model_mmu__flush_cr3(struct model_cpu *c); /* a CR3 load: global pages stay (CR4.PGE) */
void model_mmu__flush_vmx(struct model_cpu *c); /* VM exit/entry without VPID */
/* Like translate() but a hit in the L1 DTLB is not counted: RMW pre-checks,
 * so an RMW costs the same two lookups with and without the front. */
void model_mmu__translate_probe(struct model_cpu *c, uint64_t va, unsigned acc);
/* L1 DTLB hits including those the front served (exact). */
uint64_t model_mmu__l1d_hits(const struct model_cpu *c);
uint64_t model_mmu__l1d_lookups(const struct model_cpu *c);
void model_mmu__flush_va(struct model_cpu *c, uint64_t va);
void model_mmu__mark_code(struct model_cpu *c, uint64_t gpa);
/* Data access with the CPU's current privilege; implicit supervisor for sys. */
uint64_t model_mmu__read_slow(struct model_cpu *c, uint64_t va, unsigned len, unsigned acc);
void model_mmu__write_slow(struct model_cpu *c, uint64_t va, unsigned len, uint64_t v,
                           unsigned acc);
void model_mmu__read_bytes(struct model_cpu *c, uint64_t va, void *dst, unsigned len, unsigned acc);

static inline unsigned model__uacc(const struct model_cpu *c) {
  return c->cpl == 3 ? ACC_U : 0;
}
static inline uint64_t model_tlb__tag(const struct model_cpu *c, uint64_t va) {
  return (va >> 12) | c->tlb_gen_tag;
}

static inline uint64_t model_mem__read(struct model_cpu *c, uint64_t va, unsigned len) {
  c->cnt.mem_reads++;
  const struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  unsigned need = c->cpl == 3 ? (TLBP_R << 3) : TLBP_R;
  if (__builtin_expect(
          e->tag == model_tlb__tag(c, va) && (e->perm & need) && (va & 0xfff) + len <= 4096, 1)) {
    c->tlbm.st.front_hits++; /* an L1 DTLB hit (the front holds only L1 DTLB pages) */
    const uint8_t *p = e->host + (va & 0xfff);
    switch (len) {
    case 1:
      return *p;
    case 2: {
      uint16_t v;
      __builtin_memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      uint32_t v;
      __builtin_memcpy(&v, p, 4);
      return v;
    }
    default: {
      uint64_t v;
      __builtin_memcpy(&v, p, 8);
      return v;
    }
    }
  }
  return model_mmu__read_slow(c, va, len, model__uacc(c));
}

static inline void model_mem__write(struct model_cpu *c, uint64_t va, unsigned len, uint64_t v) {
  c->cnt.mem_writes++;
  const struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  unsigned need = c->cpl == 3 ? (TLBP_W << 3) : TLBP_W;
  if (__builtin_expect(
          e->tag == model_tlb__tag(c, va) && (e->perm & need) && (va & 0xfff) + len <= 4096, 1)) {
    c->tlbm.st.front_hits++;
    uint8_t *p = e->host + (va & 0xfff);
    switch (len) {
    case 1:
      *p = (uint8_t)v;
      return;
    case 2: {
      uint16_t x = (uint16_t)v;
      __builtin_memcpy(p, &x, 2);
      return;
    }
    case 4: {
      uint32_t x = (uint32_t)v;
      __builtin_memcpy(p, &x, 4);
      return;
    }
    default:
      __builtin_memcpy(p, &v, 8);
      return;
    }
  }
  model_mmu__write_slow(c, va, len, v, model__uacc(c) | ACC_W);
}

/* ---- model_decode.c ------------------------------------------------------------------ */
/* Decode from buf[0..avail). 0 ok; -1 need more bytes than avail (and fewer
 * than 15); -2 longer than 15 bytes (#GP); -3 undefined opcode (#UD). */
int model_decode(const uint8_t *buf, unsigned avail, struct model_insn *d);

/* ---- model_events.c ------------------------------------------------------------------ */
/* Abort the current instruction with exception `vec` (longjmp, no return). */
_Noreturn void model__fault(struct model_cpu *c, int vec, uint32_t err, bool has_err);
static inline _Noreturn void model__ud(struct model_cpu *c) {
  model__fault(c, X86_UD, 0, 0);
}
static inline _Noreturn void model__gp0(struct model_cpu *c) {
  model__fault(c, X86_GP, 0, 1);
}
/* Stop the run with an internal error (message formatted into c->msg). */
_Noreturn void model__internal(struct model_cpu *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Deliver vector through the IDT. soft: INT n/INT3 (gate DPL check, RIP is
 * the next instruction). May longjmp on a nested fault. */
void model_events__deliver(struct model_cpu *c, int vec, uint32_t err, bool has_err, bool soft,
                           uint64_t ret_rip);
/* Handle a fault caught by the run loop (#DF / triple-fault logic). */
void model_events__handle_fault(struct model_cpu *c);
/* Deliver a pending NMI or IRQ if the CPU can take it now; true if one was. */
bool model_events__try_inject(struct model_cpu *c);
bool model_events__can_take_irq(const struct model_cpu *c);
/* Load CS/SS from a selector in 64-bit mode (IRET, RETF, far JMP/CALL). */
void model_events__load_cs(struct model_cpu *c, uint16_t sel, bool allow_outer);
/* Read a GDT descriptor (8 bytes) for selector; #GP(sel) if out of limits. */
uint64_t model_events__read_desc(struct model_cpu *c, uint16_t sel);

/* ---- model_exec.c ---------------------------------------------------------------------- */
void model_cpu__reset(struct model_cpu *c);
void model_cpu__flush_decoded(struct model_cpu *c);
/* A TLB flush: decoded instructions must be fetched (translated) again, but
 * their bytes are unchanged, so a fetch that translates to the same page
 * reuses the decode (same counts as a re-decode: fetches, ITLB lookups). */
void model_cpu__flush_decoded_xlat(struct model_cpu *c);
/* Run until a stop (enum model_stop) or `budget` instructions retired. */
enum model_stop model_cpu__run(struct model_cpu *c, uint64_t budget);
/* Complete a pending IN after the VMM filled c->io.data, or a forwarded
 * VMCALL after it filled c->hc.ret. */
void model_cpu__complete_io(struct model_cpu *c);
uint64_t model_cpu__tsc(const struct model_cpu *c);
/* Close the privilege interval if the CPL changed since the last call; the
 * `pending` instructions (0 or 1: the one executing, not yet retired) belong
 * to the old one. Called where the CPL can change, never per instruction. */
void model_cpu__cpl_sync(struct model_cpu *c, unsigned pending);
/* Instructions retired and data writes to RAM made at CPL0 so far. */
static inline uint64_t model_cpu__cpl0_insns(const struct model_cpu *c) {
  const struct model_cpl_acct *a = &c->cpl_acct;
  return a->insns0 + (a->cpl == 0 ? c->cnt.instructions - a->insn_at : 0);
}
static inline uint64_t model_cpu__cpl0_writes(const struct model_cpu *c) {
  const struct model_cpl_acct *a = &c->cpl_acct;
  return a->writes0 + (a->cpl == 0 ? c->cnt.mem_writes - a->writes_at : 0) - a->mmio_writes0;
}

/* ---- model_report.c ------------------------------------------------------------------- */
/* The model section's counters now, and at the timed region's begin / end
 * mark (called with the cost model's snapshot, model_cost__region_mark). */
void model_report__snapshot(const struct model_cpu *c, struct model_snapshot *k);
void model_report__region_mark(struct model_cpu *c, bool end);
void model_cpu__cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4]);

#endif
