/* kvm_trace.h - KVM's tracepoints on the vCPU thread: every VM exit by
 * hardware reason (kvm:kvm_exit, with the handling time to the next
 * kvm:kvm_entry) and counts of the kvm/kvmmmu events that fired (emulated
 * instructions, injected exceptions by vector, shadow pages, spte sets,
 * zaps...), what `perf kvm stat` reads, as a probe of refvmm's runs.
 *
 * How (docs/PROBES.md, "KVM tracepoints"): perf_event_open on the
 * tracepoints' ids from tracefs (mounted if absent and root), attached to
 * the vCPU thread. kvm_exit, kvm_entry and kvm_inj_exception are sampled
 * (every hit, raw record, one ring buffer in time order; kvm_exit and
 * kvm_entry only when --events names kvm:exits or kvm:all: they fire on
 * every exit and cost ~20 % of a short exit); the other events
 * are counted: by default those that fire per shadow page or less, the
 * per-exit and per-instruction ones when refvmm's --events asks
 * (kvm:all, or system:event names; kvm:off turns the probe off). Everything is enabled from open to
 * the end of the run; the ring is drained and the counters read at the timed region's marks, so the
 * region's figures and the whole run's come from the same events.
 *
 * Never fails a run: no tracefs, no permission or no kvm events leave the
 * probe unavailable with the reason. A tracepoint that does not fire on the
 * host's flavour (kvm_exit on kvm_pvm, whose exit path bypasses it) is
 * reported so, never as a count of 0. */
#ifndef PROBES_KVM_TRACE_H
#define PROBES_KVM_TRACE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define KVM_TRACE_COUNTED_MAX 24
#define KVM_TRACE_REASONS_MAX 64
#define KVM_TRACE_VECTORS     32

enum kvm_trace_phase { KVM_TRACE_BEFORE, KVM_TRACE_REGION, KVM_TRACE_AFTER, KVM_TRACE_PHASES };

struct kvm_trace_counted {
  char name[64];                 /* "kvm:kvm_emulate_insn" */
  int fd;                        /* -1: absent on this kernel */
  uint64_t at[KVM_TRACE_PHASES]; /* count at begin mark, end mark, close */
};

struct kvm_trace_reason {
  char hw[40];     /* KVM's name ("io", "npf", "IO_INSTRUCTION") */
  const char *sdm; /* SDM basic exit reason or NULL */
  uint32_t code;
  uint64_t count[KVM_TRACE_PHASES];
  uint64_t *lat; /* handling times in the region, ns */
  size_t nlat, cap;
};

struct kvm_trace {
  bool available;
  char error[400];
  char tracefs[128];
  int ncounted;
  struct kvm_trace_counted counted[KVM_TRACE_COUNTED_MAX];

  /* sampled ring (kvm_exit, kvm_entry, kvm_inj_exception) */
  bool ring_ok;
  bool want_exits; /* kvm_exit/kvm_entry enabled (kvm:exits, kvm:all) */
  char ring_error[400];
  int exit_fd, entry_fd, exc_fd;
  uint64_t exit_id, entry_id, exc_id;
  void *ring;
  size_t ring_bytes; /* data area */
  unsigned off_reason, sz_reason, off_isa, sz_isa, off_info1, sz_info1, off_vec, sz_vec;
  unsigned off_reinj, sz_reinj; /* sz 0: the kernel's record has no "reinjected" */
  unsigned isa;                 /* from the records (KVM_EXIT_ISA_*), 0 before the first */
  uint64_t lost[KVM_TRACE_PHASES];
  uint64_t exits[KVM_TRACE_PHASES];
  uint64_t exc_by_vector[KVM_TRACE_PHASES][KVM_TRACE_VECTORS];
  uint64_t exc_total[KVM_TRACE_PHASES];      /* first injections */
  uint64_t exc_reinjected[KVM_TRACE_PHASES]; /* again, after an exit interrupted delivery */
  int nreasons;
  struct kvm_trace_reason reasons[KVM_TRACE_REASONS_MAX];
  uint64_t other_reasons[KVM_TRACE_PHASES]; /* beyond KVM_TRACE_REASONS_MAX */
  bool pending;                             /* a kvm_exit in the region waits for its kvm_entry */
  int pending_reason;                       /* index into reasons, -1 none */
  uint64_t pending_ns;
  bool open_exit; /* the last kvm_exit seen has no kvm_entry after it (yet) */

  enum kvm_trace_phase phase;
  bool begun, ended, closed;
  const char *flavour; /* "kvm_pvm", ... (for the messages) */
};

/* Open on thread tid (0 = the caller). tracefs_dir NULL = find (and mount)
 * the live one, "off" = do not trace (refvmm: VTB_TRACEFS=off, to measure
 * the probe's own cost). flavour: the host's KVM flavour name, for messages. Never
 * fails: t->available false and t->error say why. */
/* flavour NULL: the vendor module loaded. */
/* events: the tracepoint words of refvmm's --events ("kvm:exits",
 * "kvm:all", "kvm:kvm_emulate_insn", "kvm:off"; NULL: the default set). */
void kvm_trace__open(struct kvm_trace *t, pid_t tid, const char *tracefs_dir, const char *flavour,
                     const char *events);
void kvm_trace__begin(struct kvm_trace *t);  /* the guest's mark begin */
void kvm_trace__end(struct kvm_trace *t);    /* mark end */
void kvm_trace__finish(struct kvm_trace *t); /* after the last KVM_RUN: reads the rest */
void kvm_trace__close(struct kvm_trace *t);

/* The run's "kvm_exits" section: {available, [reason], source, isa,
 * total, lost, by_reason {HW: {count, sdm, [latency_ns {min,p50,p99,max}]}},
 * by_sdm_reason {SDM: count}, run_total, run_by_reason {HW: count},
 * [run_unpaired: HW of the run's last exit, which no entry followed]}. */
json_t *kvm_trace__exits_json(const struct kvm_trace *t);
/* The run's "kvm_events" section: {available, [error], tracefs, region
 * {NAME: count} (events that fired), run {NAME: count}, absent [NAME],
 * inj_exception_by_vector {"PF": n, ...}}. */
json_t *kvm_trace__events_json(const struct kvm_trace *t);
void kvm_trace__print(const struct kvm_trace *t, FILE *out);

/* Exception vector mnemonic ("PF" for 14), "vN" beyond the table. */
const char *kvm_trace__vector_name(unsigned v, char *buf, size_t len);

#endif
