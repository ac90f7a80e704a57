/* events.h - NMIs and external interrupts raised by refvmm (the guest's
 * VTB_HC_RAISE_NMI / VTB_HC_RAISE_IRQ, --nmi-rate / --irq-rate) and
 * delivered by refvmm's policies (event_policy.h, --nmi/--irq poll|window).
 *
 * Two ways to drive the policies, as the backend says (backend.h):
 *
 *   wall     the guest runs in real time (KVM): the policies run on the
 *            wall clock; raised events wait here until the vCPU thread
 *            decides between two run() calls (events__before_run) through
 *            the backend's primitives (struct event_backend: KVM_NMI,
 *            KVM_INTERRUPT, request_interrupt_window, KVM_GET_VCPU_EVENTS).
 *            A timer thread raises delayed and periodic events and, while
 *            one waits under poll, kicks the vCPU every --poll-us; both
 *            kinds of kick are counted by cause (KVM_EXIT_INTR).
 *   attached the backend enters the guest itself and runs the policies at
 *            each entry in its own clock (the model: modeled time, its
 *            VMCS-like controls); raises, marks and reports are routed to
 *            the policies here, the backend reports its own exits.
 *
 * Backends with neither: vm->events is NULL and events are injected at once
 * (hypercall.c). Counters cover the whole run.
 */
#ifndef REFVMM_EVENTS_H
#define REFVMM_EVENTS_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "event_policy.h"
#include "vm.h"

#define EVENTS_LAT_MAX VTB_EVENT_LOG_MAX

/* What the wall-clock policies need from a backend (KVM: kvm_backend.h);
 * vCPU thread only. Replaceable for tests (events__init_with). */
struct event_backend {
  bool (*irq_ready)(const struct vm *vm); /* ready_for_interrupt_injection && IF */
  void (*request_irq_window)(struct vm *vm, bool on);
  int (*interrupt)(struct vm *vm, uint32_t vector);             /* KVM_INTERRUPT */
  int (*nmi_state)(struct vm *vm, bool *masked, bool *pending); /* KVM_GET_VCPU_EVENTS */
  int (*nmi)(struct vm *vm);                                    /* KVM_NMI */
  int (*tsc_offset)(struct vm *vm, int64_t *offset);            /* guest - host TSC */
};

/* Per kind, the wall driver's own latency split: host TSC at the raise and
 * at the injection of the k-th delivery; after the run, raise -> injection
 * (refvmm's policy) and injection -> handler (KVM's delivery). */
struct events_split {
  uint64_t n;
  uint64_t raise_tsc[EVENTS_LAT_MAX];
  uint64_t inject_tsc[EVENTS_LAT_MAX];
  uint64_t wait_p50, wait_max, deliver_p50, deliver_max;
};

struct events {
  struct vm *vm;
  struct event_policy pol;
  bool wall; /* the policies run here on the wall clock */

  /* wall: the backend's primitives and the policy's view of them */
  const struct event_backend *be;
  struct event_hw hw;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t thread;
  bool started, thread_running, quit; /* started: between events__start and _stop */
  int npending;                       /* events waiting, for a lock-free look */
  int kick_flags;                     /* 1 raise, 2 poll: what the last kick was for */
  /* KVM_EXIT_INTR exits by what the last kick was for (kicks that land
   * together make one exit) */
  uint64_t intr_exits_raise, intr_exits_poll, intr_exits_other;
  bool tsc_offset_known;
  int64_t tsc_offset;
  struct events_split split[EV_KINDS];
};

/* Set vm->events = ev when the backend has the policies run (backend.h:
 * event_wall or event_attach); else vm->events stays NULL. */
void events__init(struct events *ev, struct vm *vm);
/* The wall-clock policies with explicit primitives (tests); vm->ops->kick
 * must exist. */
void events__init_with(struct events *ev, struct vm *vm, const struct event_backend *be);
/* Start/stop the timer thread (periodic sources, delayed raises, poll). */
int events__start(struct events *ev);
void events__stop(struct events *ev);
/* A raise from the guest (count events after delay_ns). vCPU thread.
 * 0, -ENOSPC when too many delayed raises wait, or -errno when the timer
 * thread cannot start. */
int events__raise(struct events *ev, enum event_kind k, uint32_t vector, uint32_t count,
                  uint64_t delay_ns);
/* Before each run(): deliver what the policy allows (wall). 0 or -errno. */
int events__before_run(struct events *ev);
/* The periodic sources run inside the timed region only (before it the
 * guest may have no IDT yet): the mark hypercall switches them. */
void events__on_timed(struct events *ev, bool begin);
void events__on_intr(struct events *ev);   /* KVM_EXIT_INTR */
void events__on_window(struct events *ev); /* KVM_EXIT_IRQ_WINDOW_OPEN */
/* A guest report: picks up VTB_KEY_NMI_LOG / VTB_KEY_IRQ_LOG. */
void events__on_report(struct events *ev, const char *key, uint64_t value);
/* After the run: latencies (wall: from the guest's logs). */
void events__finish(struct events *ev);
/* Free what the policies kept (latency samples); after the last report. */
void events__free(struct events *ev);

/* {"poll_us", "nmi": {policy, raised, delivered, merged, ..., latency_ns}, "irq": {...}}
 * plus the driver's keys (wall: exits_caused, intr_exits_other). */
json_t *events__to_json(const struct events *ev);
/* The wall driver's summary lines (an attached backend prints its own). */
void events__print(const struct events *ev, FILE *out);

#endif
