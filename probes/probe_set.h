/* probe_set.h - the per-vCPU probes of one run, bundled for the run loop:
 * KVM binary stats of the VM and the vCPU, KVM's tracepoints (every exit by
 * hardware reason, kvm/kvmmmu event counts) and the PMU on the vCPU thread.
 *
 * Missing pieces never fail a run: a kernel without stats fds, a host
 * without a hardware PMU or a libpfm4 problem is recorded as a reason and
 * shows in the JSON. Wiring (refvmm):
 *
 *   probe_set__open(&ps, vm_fd, vcpu_fd, vcpu_tid, cfg_events, true, err, len)
 *   run_loop__add_observer(rl, &(struct run_observer){"probes",
 *       probe_set__on_begin, probe_set__on_end, &ps})
 *   ... run ...
 *   probe_set__finish(&ps)                      (ends an unterminated region)
 *   json_object_set_new(run, "kvm_stats", probe_set__kvm_json(&ps));
 *   json_object_set_new(run, "pmu", probe_set__pmu_json(&ps));
 *   probe_set__print(&ps, stdout)               (human summary)
 *   probe_set__close(&ps)
 *
 * At begin the KVM snapshots are taken first and the PMU is enabled last
 * (closest to guest entry); at end the PMU is disabled first.
 */
#ifndef PROBES_PROBE_SET_H
#define PROBES_PROBE_SET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "probes/kvm_stats.h"
#include "probes/kvm_trace.h"
#include "probes/pmu.h"

struct vm; /* refvmm/vm.h: only passed through by the observer adapters */

struct probe_set {
  bool kvm_ok;
  char kvm_error[320];
  struct kvm_stats vm_st, vcpu_st;
  struct kvm_stats_snap vm_before, vm_after, vcpu_before, vcpu_after;
  struct kvm_trace *trace; /* NULL only when out of memory; else see trace->available */
  struct pmu *pmu;         /* NULL when the PMU is off or failed to initialise */
  char pmu_error[256];
  bool begun, ended, complete; /* complete: ended by the guest's mark end */
};

/* Never fails for a missing feature (see above); -ENOMEM only. tid 0 =
 * the calling thread. events: comma-separated libpfm4 strings, NULL or ""
 * for the host's default set. */
int probe_set__open(struct probe_set *ps, int vm_fd, int vcpu_fd, pid_t vcpu_tid,
                    const char *pmu_events, bool pmu_enable, char *err, size_t len);
void probe_set__begin(struct probe_set *ps);
void probe_set__end(struct probe_set *ps);
/* If the region began and never ended (guest died), end it now; marks the
 * result incomplete. */
void probe_set__finish(struct probe_set *ps);
void probe_set__close(struct probe_set *ps);

/* run_observer callbacks (arg = struct probe_set *). */
void probe_set__on_begin(struct vm *vm, void *arg);
void probe_set__on_end(struct vm *vm, void *arg);

/* The run's "kvm_stats" section ({available, error, vm, vcpu}) and "pmu"
 * object ({} when the PMU is off). */
json_t *probe_set__kvm_json(const struct probe_set *ps);
json_t *probe_set__pmu_json(const struct probe_set *ps);
/* The run's "kvm_exits" and "kvm_events" sections (kvm_trace.h). */
json_t *probe_set__exits_json(const struct probe_set *ps);
json_t *probe_set__events_json(const struct probe_set *ps);
/* Human summary: KVM stats that changed, KVM exits by reason and events,
 * then the PMU counts. */
void probe_set__print(const struct probe_set *ps, FILE *out);

#endif
