/* model_cpu.h - the state of the model x86-64 CPU (registers, caches,
 * counters, run control) and its run interface (model_exec.c). The other
 * subsystems have their own headers: model_insn.h (decoder), model_mmu.h
 * (translation, guest memory), model_events.h (exceptions and interrupts),
 * model_tlb.h (the TLB model), model_vmcs.h (VMX controls and exits: all the
 * VMM code sees of the CPU), x86.h (architectural constants).
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

#include "model_fpu.h"
#include "model_cache.h"
#include "model_insn.h"
#include "model_tlb.h"
#include "model_vmcs.h"
#include "x86.h"

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

/* ---- The L1 DTLB front: a direct-mapped cache of the TLB model's L1 DTLB
 * pages with their host addresses, so a hit is one compare (model_mmu.h) -- */
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
struct model_tlb_entry { /* what the fast path reads comes first */
  uint64_t tag;          /* VPN | generation << TLB_GEN_SHIFT (0 = invalid) */
  uint8_t *host;         /* host address of the page, NULL for non-RAM */
  uint64_t lines; /* bit i: the page's 64-byte line i is in the L1 data cache (model_cache.h) */
  uint32_t perm;  /* TLBP_* for supervisor, << 3 for user */
  uint32_t hint;  /* speed: guest frame of the last EPT walk via this slot (translate()) */
  uint64_t gpa;   /* guest-physical page address */
};

/* ---- Decoded-instruction cache ------------------------------------------------------ */
#define MODEL_ICACHE_SIZE 16384
struct model_icache_entry;
/* speed (model_dispatch.c): the entry e of the instruction at rip, which
 * ran after the entry holding this memo the last time; still a hit while
 * icache_epoch is `epoch`. slot: where in cnt.by_class_flat e retires when
 * it runs after that entry (its class, and what it waits for from it). */
struct model_memo {
  uint64_t rip, epoch;
  struct model_icache_entry *e;
  uint8_t slot;
  /* e's dser when the memo was taken (0: never): while e->dser is that, e
   * holds the same decode of rip, which lets lookup() reuse the memo after a
   * new generation or a CPL change (model_dispatch.c) */
  uint32_t dser;
};
struct model_icache_entry {
  struct model_insn insn; /* first: the dispatch's entry and instruction are one pointer */
  uint64_t rip;
  uint32_t gen;
  uint8_t cpl;
  uint8_t handler;    /* how it runs: 0 exec(), else a specialised handler (model_dispatch.h) */
  uint8_t fetch_need; /* speed: its fetch's L1 ITLB need at cpl (TLBP_X, << 3 at CPL3) */
  uint32_t code_gen;  /* speed: the decode stays good while code_gen is unchanged */
  uint32_t dser;      /* speed: which decode it holds (model_cpu.decode_serial), 0: none */
  uint64_t gpa;       /* page the bytes came from (~0: crosses a page) */
  /* the successor; for a Jcc, of the way not taken, and memo_t of the taken
   * way, so a branch that goes both ways finds both successors */
  struct model_memo memo, memo_t;
};

/* ---- Counters ---------------------------------------------------------------------- */
struct model_counters {
  uint64_t instructions; /* retired */
  /* retired, by enum model_iclass and by what they waited for: [class][0]
   * nothing, [class][k] a register the instruction right before them wrote,
   * that producer being of enum model_dep_kind k (model_cpu__class_count);
   * by_class_flat[class * MODEL_DEP_COUNT + k] is the same counter (the
   * dispatch counts through one remembered index) */
  union {
    uint64_t by_class[IC_COUNT][MODEL_DEP_COUNT];
    uint64_t by_class_flat[IC_COUNT * MODEL_DEP_COUNT];
  };
  uint64_t rep_iterations;        /* string-op element iterations */
  uint64_t mem_reads, mem_writes; /* data references (not fetch, not walks) */
  uint64_t fetches;               /* decodes (icache misses) */
  uint64_t icache_flushes;
  uint64_t tlb_misses; /* translation-cache misses */
  uint64_t tlb_flushes;
  uint64_t walks;         /* page walks */
  uint64_t walk_refs;     /* memory references made by walks */
  uint64_t exceptions;    /* delivered exceptions/interrupts */
  uint64_t nmis, irqs;    /* delivered NMIs / external interrupts */
  uint64_t cr3_loads;     /* MOV to CR3 executed by the guest (exiting or not) */
  uint64_t halted_cycles; /* modeled time spent waiting in HLT (a clock advance, not work) */
  uint64_t halts;         /* HLTs that waited for an interrupt */
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
  /* what else a KVM that emulates ring 0 counts as emulated instructions
   * (insn_emulation on kvm_pvm, measured there; docs/VALIDATION.md): */
  uint64_t rep_emulations0; /* for CPL0 REP string instructions beyond one each */
  uint64_t cpuid3, mmio3;   /* CPUIDs and MMIO accesses (exits) at CPL3 */
};

/* The clock RDTSC reads (plus the TSC offset): modeled cycles, which the
 * cost model that prices the CPU's counts supplies (cost/cost_model.h).
 * Monotonic, at least 1 per retired instruction. Without one, a cycle per
 * retired instruction. */
struct model_clock {
  uint64_t (*now)(const void *arg);
  const void *arg;
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
  uint64_t misc_enable, mtrr_def_type; /* model_msr.c */
  struct model_fpu fpu;                /* x87 and SSE state (model_fpu.h) */
  uint64_t tsc_offset;                 /* RDTSC = tsc_offset + modeled cycles */
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
  struct model_cache cache;    /* the data caches (model_cache.h) */
  struct model_tlb_entry xlat; /* translate() result not kept in the front */
  uint8_t walk_level;          /* level at which the last walk ended (leaf or fault) */
  uint8_t walk_start;          /* first level the walk reads (paging-structure caches) */
  uint64_t walk_pa[5];         /* shadow walks: where each level's entry was read (1..4) */
  bool xlat_nocache;           /* the last translation must not be kept (emulated write) */
  uint32_t xlat_gfn;           /* speed: guest frame of that translation's EPT walk, 0 none */
  struct model_vmcs vmcs;      /* VMX controls and exits (model_vmcs.h) */
  struct model_icache_entry *icache;
  uint32_t icache_gen;
  /* bumped whenever a decode-cache entry may have turned from hit to miss
   * (an entry decoded into, a new generation, a CPL change; not a re-fetch
   * that keeps an entry's decode, which turns only it into a hit): the
   * dispatch's memos of the next entry (model_dispatch.c) are good while it
   * stays */
  uint64_t icache_epoch;
  /* the number of the last decode (model_icache_entry.dser), from 1; a
   * wrap clears every memo's (model_exec.c) */
  uint32_t decode_serial;
  uint8_t epoch_cpl; /* the CPL icache_epoch was last bumped for */
  /* the count slot the dispatch's last lookup found (model_dispatch.c) */
  uint8_t lookup_slot;
  uint32_t code_gen; /* bumped when decoded bytes may have changed (not on TLB flushes) */
  /* tests' reference: every instruction in exec(), looked up in the cache
   * one by one (model_dispatch.c, without handlers or memos) */
  bool generic_only;

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

  /* The platform around the CPU, set by the backend before the first run:
   * a local APIC (CPUID.1 APIC and TSC-deadline, CPUID.6 ARAT), the TSC
   * rate CPUID leaf 0x15 reports (0: the leaf reads 0), and the MSRs the
   * VMM handles (RDMSR/WRMSR of one stop the CPU with MSTOP_MSR). */
  struct {
    bool apic;
    uint64_t tsc_hz;
    uint32_t vmm_msrs[4];
    unsigned nvmm_msrs;
  } plat;

  /* exits */
  struct {
    uint32_t index;
    uint64_t data; /* WRMSR's value; RDMSR's, filled by the VMM */
    uint8_t write, len;
    bool pending; /* the instruction completes on the next run */
    bool error;   /* the VMM refused it: #GP(0) on the next run */
  } msr;
  bool gp_pending; /* deliver #GP(0) at the next run (a refused MSR access) */
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

  uint32_t dep_prev; /* the last retired instruction's dep_out (model_insn.h), next to cnt */
  struct model_counters cnt;
  const struct model_insn *cur; /* instruction being executed */

  struct model_cpl_acct cpl_acct; /* ring-0 work (model_cpu__cpl_sync) */
  /* the first switch to CPL3 (with the platform's local APIC: a Linux
   * guest's first user-space instruction): the run stops right there
   * (MSTOP_EVENT) so the backend can take its figures */
  bool user_seen;
  struct model_clock clock; /* what RDTSC reads (model_cpu__tsc) */
  /* an INS batch in flight (model_strio.c): the exit asks the VMM for
   * `count` elements into buf; the INS at `rip` stores them when it runs
   * again */
  struct model_strio {
    uint64_t rip;
    uint32_t count;
    bool wait;  /* the exit is out: the VMM fills buf */
    bool ready; /* filled: for the INS at rip */
    uint8_t buf[1024];
  } strio;
  /* the VMM's guest walks' memo (model_vmcs.h), last: the fields above
   * keep their places (speed: the dispatch's hot fields) */
  struct vmx_walk_memo vmx_walk_memo[8];
  /* the instruction fetch's L1 ITLB memos (model_mmu.c), after it for the
   * same reason: the slot of the last fill there, and the second last hit */
  struct tlb_slot *fill_l1i;
  struct tlb_prev fetch_prev;
};

/* ---- model_exec.c ---------------------------------------------------------------------- */
void model_cpu__reset(struct model_cpu *c);
void model_cpu__flush_decoded(struct model_cpu *c);
/* A TLB flush: decoded instructions must be fetched (translated) again, but
 * their bytes are unchanged, so a fetch that translates to the same page
 * reuses the decode (same counts as a re-decode: fetches, ITLB lookups). */
void model_cpu__flush_decoded_xlat(struct model_cpu *c);
/* Run until a stop (enum model_stop) or `budget` instructions retired. */
enum model_stop model_cpu__run(struct model_cpu *c, uint64_t budget);
/* Complete a pending IN after the VMM filled c->io.data (an INS: c->strio),
 * or a forwarded VMCALL after it filled c->hc.ret. */
void model_cpu__complete_io(struct model_cpu *c);
/* The data buffer of the pending I/O exit and its element count (an INS
 * batch: several; any other IN or OUT: one in c->io.data). */
static inline uint8_t *model_cpu__io_data(struct model_cpu *c, uint32_t *count) {
  if (c->strio.wait) {
    *count = c->strio.count;
    return c->strio.buf;
  }
  *count = 1;
  return c->io.data;
}
/* The guest's TSC now (TSC offset + the clock), and the clock alone. */
uint64_t model_cpu__tsc(const struct model_cpu *c);
uint64_t model_cpu__cycles(const struct model_cpu *c);
/* Close the privilege interval if the CPL changed since the last call; the
 * `pending` instructions (0 or 1: the one executing, not yet retired) belong
 * to the old one. Called where the CPL can change, never per instruction. */
void model_cpu__cpl_sync(struct model_cpu *c, unsigned pending);
/* Instructions retired and data writes to RAM made at CPL0 so far. */
/* Retired instructions of a class; those that waited for a producer of a kind. */
static inline uint64_t model_cpu__class_count(const struct model_counters *n, unsigned cls) {
  uint64_t t = 0;
  for (unsigned k = 0; k < MODEL_DEP_COUNT; k++)
    t += n->by_class[cls][k];
  return t;
}
static inline uint64_t model_cpu__dep_count(const struct model_counters *n, unsigned kind) {
  uint64_t t = 0;
  for (unsigned i = 0; i < IC_COUNT; i++)
    t += n->by_class[i][kind];
  return t;
}
static inline uint64_t model_cpu__cpl0_insns(const struct model_cpu *c) {
  const struct model_cpl_acct *a = &c->cpl_acct;
  return a->insns0 + (a->cpl == 0 ? c->cnt.instructions - a->insn_at : 0);
}
static inline uint64_t model_cpu__cpl0_writes(const struct model_cpu *c) {
  const struct model_cpl_acct *a = &c->cpl_acct;
  return a->writes0 + (a->cpl == 0 ? c->cnt.mem_writes - a->writes_at : 0) - a->mmio_writes0;
}

#endif
