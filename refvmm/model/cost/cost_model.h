/* cost_model.h - the model CPU's cycle cost model: modeled cycles as a
 * linear function of the model's exact counters (instructions by class and
 * their dependency stalls, ring-0 instructions, REP iterations, data
 * references and where the data caches served them, page-walk references
 * by cache level, L2 TLB hits, TLB invalidations, VM exits by SDM reason,
 * the VMM's handling work per exit kind, event delivery), with per-event
 * costs and the data caches' geometry from a JSON profile
 * (refvmm/model/profiles/NAME.json, format in docs/COST_MODEL.md).
 *
 * Costs are kept as fixed point (1/1024 cycle) so a total is exact integer
 * arithmetic. An instruction class costs at least COST_INSN_MIN cycles
 * (the loader refuses less), so the clock advances with every retired
 * instruction. */
#ifndef REFVMM_MODEL_COST_MODEL_H
#define REFVMM_MODEL_COST_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../cpu/model_vmcs.h" /* EXIT_REASON_MAX */

struct model_cpu;
struct vmm_shadow;
struct json_t;

/* Every figure of a profile: X(enum suffix, JSON key path). The order is the
 * order of the breakdown and of docs/COST_MODEL.md. */
#define COST_FIGURES(X)                                                                            \
  X(INSN_ALU, "insn.alu")                                                                          \
  X(INSN_MOV, "insn.mov")                                                                          \
  X(INSN_BRANCH, "insn.branch")                                                                    \
  X(INSN_STACK, "insn.stack")                                                                      \
  X(INSN_MULDIV, "insn.muldiv")                                                                    \
  X(INSN_STRING, "insn.string")                                                                    \
  X(INSN_SYSTEM, "insn.system")                                                                    \
  X(INSN_IO, "insn.io")                                                                            \
  X(INSN_OTHER, "insn.other")                                                                      \
  X(INSN_REP_ITERATION, "insn.rep_iteration")                                                      \
  X(INSN_DEP_ALU, "insn.dep.alu")                                                                  \
  X(INSN_DEP_MOV, "insn.dep.mov")                                                                  \
  X(INSN_DEP_MULDIV, "insn.dep.muldiv")                                                            \
  X(INSN_DEP_LOAD, "insn.dep.load")                                                                \
  X(INSN_CPL0, "insn.cpl0")                                                                        \
  X(MEM_DATA_REF, "mem.data_ref")                                                                  \
  X(MEM_L1_DEP, "mem.l1.dependent")                                                                \
  X(MEM_L1_INDEP, "mem.l1.independent")                                                            \
  X(MEM_L2_DEP, "mem.l2.dependent")                                                                \
  X(MEM_L2_INDEP, "mem.l2.independent")                                                            \
  X(MEM_L2_STREAM, "mem.l2.stream")                                                                \
  X(MEM_LLC_DEP, "mem.llc.dependent")                                                              \
  X(MEM_LLC_INDEP, "mem.llc.independent")                                                          \
  X(MEM_LLC_STREAM, "mem.llc.stream")                                                              \
  X(MEM_DRAM_DEP, "mem.dram.dependent")                                                            \
  X(MEM_DRAM_INDEP, "mem.dram.independent")                                                        \
  X(MEM_DRAM_STREAM, "mem.dram.stream")                                                            \
  X(MEM_TLB_L2_HIT, "mem.tlb_l2_hit")                                                              \
  X(TLB_FLUSH, "tlb.flush")                                                                        \
  X(TLB_INVLPG, "tlb.invlpg")                                                                      \
  X(EXIT_DEFAULT, "exit.default")                                                                  \
  X(EXIT_CPUID, "exit.CPUID")                                                                      \
  X(EXIT_IO_INSTRUCTION, "exit.IO_INSTRUCTION")                                                    \
  X(EXIT_EPT_VIOLATION, "exit.EPT_VIOLATION")                                                      \
  X(EXIT_EPT_MISCONFIG, "exit.EPT_MISCONFIG")                                                      \
  X(EXIT_EXCEPTION_NMI, "exit.EXCEPTION_NMI")                                                      \
  X(EXIT_CR_ACCESS, "exit.CR_ACCESS")                                                              \
  X(EXIT_INVLPG, "exit.INVLPG")                                                                    \
  X(EXIT_VMCALL, "exit.VMCALL")                                                                    \
  X(EXIT_HLT, "exit.HLT")                                                                          \
  X(EXIT_NMI_WINDOW, "exit.NMI_WINDOW")                                                            \
  X(EXIT_INTERRUPT_WINDOW, "exit.INTERRUPT_WINDOW")                                                \
  X(EXIT_PREEMPTION_TIMER, "exit.PREEMPTION_TIMER")                                                \
  X(EXIT_EXTERNAL_INTERRUPT, "exit.EXTERNAL_INTERRUPT")                                            \
  X(VMM_USER_EXIT, "vmm.user_exit")                                                                \
  X(VMM_CPUID, "vmm.cpuid")                                                                        \
  X(VMM_SHADOW_FILL, "vmm.shadow_fill")                                                            \
  X(VMM_SHADOW_TRUE_FAULT, "vmm.shadow_true_fault")                                                \
  X(VMM_PT_WRITE_EMULATE, "vmm.pt_write_emulate")                                                  \
  X(VMM_CR3_SWITCH, "vmm.cr3_switch")                                                              \
  X(VMM_ROOT_BUILD, "vmm.root_build")                                                              \
  X(VMM_INVLPG, "vmm.invlpg")                                                                      \
  X(VMM_EPT_VIOLATION, "vmm.ept_violation")                                                        \
  X(VMM_EVENT_INJECT, "vmm.event_inject")                                                          \
  X(EVENT_DELIVERY, "event.delivery")                                                              \
  X(EVENT_IRET, "event.iret")

enum cost_fig {
#define COST_ENUM(id, path) CF_##id,
  COST_FIGURES(COST_ENUM)
#undef COST_ENUM
      CF_COUNT
};

#define COST_FP_SHIFT   10            /* fixed point: 1/1024 cycle */
#define COST_INSN_MIN   0.05          /* the least an instruction class may cost, cycles */
#define COST_WALK_FIRST CF_MEM_L1_DEP /* the figures a walk reference is priced with */
#define COST_WALK_LAST  CF_MEM_DRAM_STREAM
#define COST_WALK_FIGS  (COST_WALK_LAST - COST_WALK_FIRST + 1)

/* The host a profile's exit, VMM and ring-0 figures describe: its KVM
 * flavour (kvm_intel, kvm_amd: ring 0 runs natively, insn.cpl0 is its
 * native extra; kvm_pvm: ring 0 is emulated by the host, insn.cpl0 is the
 * emulation's cost per instruction). */
#define COST_FLAVOURS "kvm_intel, kvm_amd or kvm_pvm"

struct cost_cache_level {
  uint32_t size_kib, ways;
  char source[400];
};

struct cost_profile {
  char name[96];
  char description[1024];
  char cpu[160];
  char path[512]; /* the file it came from, or "built-in <source path>" */
  char host_flavour[16];
  double tsc_ghz;
  bool measured;                    /* measured_on is an object */
  char measured_on[512];            /* "host, kvm, date, command" or "" */
  char measured_host[128];          /* measured_on.host, or "" */
  struct cost_cache_level cache[3]; /* L1 data, L2, last level */
  double cycles[CF_COUNT];
  uint64_t fp[CF_COUNT]; /* cycles in 1/1024 cycle units (rounded) */
  char source[CF_COUNT][400];
};

/* The counts the cost is linear in, one per figure; `walks` (page walks,
 * i.e. L2 TLB misses) is not priced itself: the breakdown uses it to split
 * extra walk references into refills and longer walks. n[] of the cache
 * figures holds data and walk references together; wk[0] (guest or shadow
 * tables) and wk[1] (EPT) the walks' share, by figure - COST_WALK_FIRST. */
struct cost_counts {
  uint64_t n[CF_COUNT];
  uint64_t wk[2][COST_WALK_FIGS];
  uint64_t walks;
};

/* Snapshots at the timed region's marks (refvmm's run-loop observer). */
struct cost_region {
  struct cost_counts begin, end;
  bool begun, ended;
};

/* The native baseline run of the same image and parameters (refvmm runs it
 * in-process before a model run in paging ept|shadow). */
enum cost_baseline_state {
  COST_BASELINE_NONE = 0, /* not run: reason says why (--model-baseline none, kvm, ...) */
  COST_BASELINE_SELF,     /* this run is native: it is its own baseline */
  COST_BASELINE_RAN,      /* counts hold the native run's */
  COST_BASELINE_FAILED,   /* the native run did not complete: reason */
};
struct cost_baseline {
  enum cost_baseline_state state;
  bool timed; /* counts are of the timed region (else the whole run) */
  struct cost_counts counts;
  uint64_t checksum; /* the native run's guest checksum (0 when none reported) */
  char reason[256];
};

/* Overhead versus native by cause, in 1/1024 cycles (signed: a cause can
 * save cycles). overhead = exits + walks + refills + events + other exactly:
 *   exits   = every exit.* and vmm.* figure except vmm.event_inject
 *             (round trips by SDM reason + the VMM's handling work)
 *   refills = (walks_mode - walks_native) x mean walk-reference cost per
 *             walk in this mode, + the difference in L2 TLB hits and in
 *             TLB invalidation (tlb.*) costs: refills after flushes (and
 *             shadow walks retried after a #PF exit, guest large pages the
 *             4 KiB EPT fractures)
 *   walks   = the rest of the difference in walk-reference cost (guest and
 *             EPT tables, each reference at the cache level that served
 *             it): longer walks (2-D walks, shadow tables) for the native
 *             number of walks
 *   events  = event.delivery + event.iret + vmm.event_inject difference
 *   other   = the remainder (instructions and their dependency stalls,
 *             ring-0 instructions, REP iterations, data references and
 *             their cache misses) */
struct cost_breakdown {
  int64_t overhead, exits, walks, refills, events, other;
};

/* Key path of a figure ("mem.l2.dependent"). */
const char *cost_fig__path(enum cost_fig f);

/* Load and strictly validate a profile: 0, or -1 with a message naming the
 * file and the key path in err (unknown key, missing figure, wrong type,
 * instruction class below 1 cycle, negative or non-finite value). */
int cost_profile__load(const char *path, struct cost_profile *p, char *err, size_t errlen);
/* The same from JSON text (name: the file name used in messages). */
int cost_profile__parse(const char *text, size_t len, const char *name, struct cost_profile *p,
                        char *err, size_t errlen);
/* The built-in default (refvmm/model/profiles/intel-skylake.json embedded
 * at build time), parsed once. Never NULL: a broken embedded profile is a
 * build error caught by the tests; at run time it aborts with the message. */
const struct cost_profile *cost_profile__default(void);

/* The data caches of a profile's CPU (model_cache.h geometry). */
struct model_cache_config;
void cost_profile__cache_config(const struct cost_profile *p, struct model_cache_config *cc);

/* Walk references' cost in 1/1024 cycles: of the guest (or shadow) tables
 * (src 0), of the EPT tables (1). */
uint64_t cost__walk_fp(const struct cost_profile *p, const struct cost_counts *k, int src);

/* Total in 1/1024 cycles, and in cycles (rounded down). */
uint64_t cost__total_fp(const struct cost_profile *p, const struct cost_counts *k);
uint64_t cost__cycles(const struct cost_profile *p, const struct cost_counts *k);

/* Sum of the figures first..last (inclusive) in 1/1024 cycles. */
uint64_t cost__sum_fp(const struct cost_profile *p, const struct cost_counts *k,
                      enum cost_fig first, enum cost_fig last);
/* counts b - a, figure by figure (a region from two snapshots). */
void cost_counts__sub(const struct cost_counts *b, const struct cost_counts *a,
                      struct cost_counts *out);
/* Overhead of `mode` versus `native` by cause (see struct cost_breakdown). */
void cost__breakdown(const struct cost_profile *p, const struct cost_counts *mode,
                     const struct cost_counts *native, struct cost_breakdown *b);
/* fp (1/1024 cycle) to cycles, rounded to nearest. */
static inline int64_t cost__fp_to_cycles(int64_t fp) {
  return fp >= 0 ? (fp + 512) >> COST_FP_SHIFT : -((-fp + 512) >> COST_FP_SHIFT);
}

/* The cost accounting of one model CPU: what it is charged with, and the
 * counts only the VMM knows (its shadow MMU's work, the exits that went to
 * refvmm's run loop). */
struct model_cost {
  const struct model_cpu *c;
  const struct vmm_shadow *shadow;    /* the shadow MMU's counters (paging shadow), else NULL */
  const struct cost_profile *profile; /* NULL: the built-in default */
  uint64_t user_exits;                /* VM exits handled in refvmm's user space */
  uint64_t user_exits_by[EXIT_REASON_MAX]; /* the same by SDM basic exit reason */
  struct cost_region region;               /* counts at the timed region's marks */
  struct cost_baseline baseline;           /* the native run's counts (reference run) */
};

void model_cost__init(struct model_cost *m, const struct model_cpu *c,
                      const struct vmm_shadow *shadow);
/* The counts of a CPU's counters (a snapshot of them: model_report.h). */
struct model_counters;
struct tlb_stats;
struct cache_stats;
void cost_counts__from_cpu(const struct model_counters *n, const struct tlb_stats *st,
                           const struct cache_stats *cs, uint64_t cpl0_insns,
                           struct cost_counts *k);
/* The counts now (cheap: reads counters). */
void model_cost__counts(const struct model_cost *m, struct cost_counts *k);
/* Modeled cycles since reset with the profile, plus the time the CPU
 * waited halted (counters.halted_cycles, not a cost): the CPU's clock
 * (RDTSC reads it plus the TSC offset; struct model_clock takes it as
 * now(arg) with arg = m). Monotonic; advances with every retired
 * instruction. */
uint64_t model_cost__now(const void *m);
/* Install the profile charged (NULL: the default); p must outlive m. */
void model_cost__set_profile(struct model_cost *m, const struct cost_profile *p);
const struct cost_profile *model_cost__profile(const struct model_cost *m);
/* Snapshot the counts at the timed region's begin / end mark. */
void model_cost__region_mark(struct model_cost *m, bool end);
/* The counts the report is about: the timed region when the guest marked a
 * complete one (true), else the whole run (false). */
bool model_cost__scope_counts(const struct model_cost *m, struct cost_counts *k);

#endif
