/* run_loop.h - run the vCPU and dispatch its exits.
 *
 * Each exit goes through a table indexed by exit reason (KVM_EXIT_*
 * numbering, see vm.h). Latency is KVM_RUN return to re-entry in TSC ticks;
 * exits are recorded into vm->exits only inside the timed region (see
 * hypercall.h for the rule at the marks). The exit path allocates nothing
 * and makes no syscalls of its own.
 *
 * Observers (probes: KVM stats, PMU) get a callback at the timed region's
 * begin (after the host's TSC/clock snapshot, before the guest re-enters)
 * and end (right after the snapshot, before anything else is done). They
 * run on the vCPU thread; keep them short. Register before run_loop__run().
 */
#ifndef REFVMM_RUN_LOOP_H
#define REFVMM_RUN_LOOP_H

#include <stdint.h>

#include "../probes/exit_stats.h"
#include "events.h"
#include "vm.h"

#define RUN_EXIT_REASONS_MAX EXIT_REASONS_MAX /* size of the dispatch table */
#define RUN_OBSERVERS_MAX    8

struct run_observer {
  const char *name;
  void (*timed_begin)(struct vm *vm, void *arg); /* may be NULL */
  void (*timed_end)(struct vm *vm, void *arg);   /* may be NULL */
  void *arg;
};

struct run_loop {
  struct vm *vm;
  struct run_observer obs[RUN_OBSERVERS_MAX];
  int nobs;
  uint64_t exits_all;                                     /* whole run, timed or not */
  uint64_t exits_all_by_reason[RUN_EXIT_REASONS_MAX + 1]; /* last: out of range */
  struct events events; /* vm->events points here on backends that run the policies */
};

/* Handle one exit; fill kind and key with its sub-reason. 0 continue, 1 stop
 * (vm->status and vm->status_detail set). */
typedef int (*exit_handler_fn)(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                               uint64_t *key);

void run_loop__init(struct run_loop *rl, struct vm *vm);
int run_loop__add_observer(struct run_loop *rl, const struct run_observer *o); /* 0 / -1 full */
/* Run until the guest exits or the run fails; returns vm->status. On an
 * abnormal end vm->final_regs holds the vCPU registers (vm->have_regs). */
enum run_status run_loop__run(struct run_loop *rl);

/* One dispatch through the table (exposed for tests). */
int run_loop__dispatch(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                       uint64_t *key);
/* The table's handler for `reason`, NULL where the reason has none. */
exit_handler_fn run_loop__handler(uint32_t reason);

#endif
