/* events.h - NMIs and external interrupts raised by refvmm and delivered to
 * the guest by one of two user-space policies (--nmi/--irq poll|window).
 *
 * Sources: the guest's VTB_HC_RAISE_NMI / VTB_HC_RAISE_IRQ hypercalls
 * (delay_ns > 0 goes through a host timer thread) and periodic VMM timers
 * (--nmi-rate HZ, --irq-rate HZ). A raised event is pending in refvmm until
 * the vCPU thread delivers it between two KVM_RUNs:
 *
 *   window  IRQ: KVM_INTERRUPT when the last exit said
 *           ready_for_interrupt_injection && if_flag, else
 *           request_interrupt_window and inject at KVM_EXIT_IRQ_WINDOW_OPEN.
 *           NMI: KVM_NMI at once; KVM itself waits for the guest's NMI window
 *           (NMI-window exiting, or its soft-NMI path without vNMI).
 *   poll    the event stays in refvmm; at every exit refvmm looks whether the
 *           guest can take it (IRQ: ready && IF; NMI: KVM_GET_VCPU_EVENTS
 *           nmi.masked / nmi.pending) and injects only then; while anything
 *           waits, the timer thread kicks the vCPU out every --poll-us.
 *
 * Raising from the timer thread kicks the vCPU (KVM_EXIT_INTR) so that the
 * vCPU thread sees the event; those kicks and the poll kicks are counted by
 * cause. NMIs coalesce as on hardware: one may wait while another is being
 * handled; a raise while one already waits is "merged".
 *
 * The KVM backend runs these policies here. The model backend runs its own
 * in modeled time (refvmm/model/vmm_events.h): for it events__init sets
 * vm->events with `model` set, and raises, marks and reports are routed
 * there (no timer thread; the figures are in the run's model.events in
 * cycles, and events__to_json gives them in this document's shape in ns of
 * modeled time). Other backends: vm->events NULL. Counters cover the whole
 * run.
 */
#ifndef REFVMM_EVENTS_H
#define REFVMM_EVENTS_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vm.h"

enum event_kind { EV_NMI, EV_IRQ, EV_KINDS };

#define EVENTS_IRQ_QUEUE   256  /* IRQs waiting in refvmm */
#define EVENTS_SCHED_MAX   4096 /* delayed raises waiting for their time */
#define EVENTS_LAT_MAX     VTB_EVENT_LOG_MAX
#define EVENTS_POLL_US_DEF 100.0
#define EVENTS_IRQ_VECTOR  0x40 /* --irq-rate's vector unless --irq-vector */

struct event_counts {
  uint64_t raised;          /* events the sources produced */
  uint64_t delivered;       /* injected into KVM (KVM_NMI / KVM_INTERRUPT) */
  uint64_t merged;          /* NMIs raised while one was already pending */
  uint64_t dropped;         /* IRQs raised with the queue full */
  uint64_t raise_kicks;     /* vCPU kicks the timer thread sent to hand over a raise */
  uint64_t poll_kicks;      /* vCPU kicks of the poll timer */
  uint64_t window_exits;    /* KVM_EXIT_IRQ_WINDOW_OPEN taken for this kind */
  uint64_t window_requests; /* entries with request_interrupt_window set */
  uint64_t blocked_checks;  /* exits where one waited and the guest could not take it */
  /* host TSC at raise of the k-th delivered event (latency matching) */
  uint64_t nraise_tsc;
  uint64_t raise_tsc[EVENTS_LAT_MAX];
  uint64_t inject_tsc[EVENTS_LAT_MAX]; /* host TSC at KVM_NMI / KVM_INTERRUPT */
  /* after the run, from the guest's vtb_event_log */
  uint64_t lat_tsc[EVENTS_LAT_MAX]; /* per event, in delivery order (samples_ns) */
  uint64_t nlat;
  uint64_t lat_min, lat_p50, lat_p99, lat_max; /* TSC ticks */
  double lat_mean;
  /* the same split at injection: raise -> inject is refvmm's policy,
   * inject -> handler is KVM's delivery */
  uint64_t wait_p50, wait_max, deliver_p50, deliver_max;
};

/* What the policies need from a backend (KVM: kvm_backend.h); vCPU
 * thread only. Replaceable for tests (events__init_with). */
struct event_backend {
  bool (*irq_ready)(const struct vm *vm); /* ready_for_interrupt_injection && IF */
  void (*request_irq_window)(struct vm *vm, bool on);
  int (*interrupt)(struct vm *vm, uint32_t vector);             /* KVM_INTERRUPT */
  int (*nmi_state)(struct vm *vm, bool *masked, bool *pending); /* KVM_GET_VCPU_EVENTS */
  int (*nmi)(struct vm *vm);                                    /* KVM_NMI */
  int (*tsc_offset)(struct vm *vm, int64_t *offset);            /* guest - host TSC */
};

struct events_sched {
  uint64_t due_ns;
  uint32_t kind, vector, count;
};

struct vmm_events; /* refvmm/model/vmm_events.h */

struct events {
  struct vm *vm;
  struct vmm_events *model; /* model backend: its policies, else NULL */
  const struct event_backend *be;
  bool active;
  enum event_mode policy[EV_KINDS];
  uint64_t poll_ns;
  uint64_t period_ns[EV_KINDS]; /* periodic source, 0 = none */
  uint32_t irq_vector;

  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t thread;
  bool started, thread_running, quit; /* started: between events__start and _stop */

  /* pending, under lock; npending mirrors the count for a lock-free look */
  bool nmi_pending;
  uint64_t nmi_tsc;
  struct {
    uint32_t vector;
    uint64_t tsc;
  } irq_q[EVENTS_IRQ_QUEUE];
  unsigned irq_head, irq_n;
  int npending;
  uint64_t next_poll_ns, next_period_ns[EV_KINDS];
  bool periodic_on; /* inside the timed region */
  struct events_sched sched[EVENTS_SCHED_MAX];
  int nsched;
  int kick_flags; /* 1 raise, 2 poll: what the last kick was for */
  /* KVM_EXIT_INTR exits by what the last kick was for (kicks that land
   * together make one exit) */
  uint64_t intr_exits_raise, intr_exits_poll, intr_exits_other;

  gpa_t log_gpa[EV_KINDS]; /* guest vtb_event_log, 0 = none */
  bool tsc_offset_known;
  int64_t tsc_offset;

  struct event_counts c[EV_KINDS];
};

/* Set vm->events = ev when the backend runs the policies (KVM). */
void events__init(struct events *ev, struct vm *vm);
/* Same with explicit primitives (tests); vm->ops->kick must exist. */
void events__init_with(struct events *ev, struct vm *vm, const struct event_backend *be);
/* Start/stop the timer thread (periodic sources, delayed raises, poll). */
int events__start(struct events *ev);
void events__stop(struct events *ev);
/* A raise from the guest (count events after delay_ns). vCPU thread.
 * 0, -ENOSPC when too many delayed raises wait, or -errno when the timer
 * thread cannot start. */
int events__raise(struct events *ev, enum event_kind k, uint32_t vector, uint32_t count,
                  uint64_t delay_ns);
/* Before each KVM_RUN: deliver what the policy allows. 0 or -errno. */
int events__before_run(struct events *ev);
/* The periodic sources run inside the timed region only (before it the
 * guest may have no IDT yet): the mark hypercall switches them. */
void events__on_timed(struct events *ev, bool begin);
void events__on_intr(struct events *ev);   /* KVM_EXIT_INTR */
void events__on_window(struct events *ev); /* KVM_EXIT_IRQ_WINDOW_OPEN */
/* A guest report: picks up VTB_KEY_NMI_LOG / VTB_KEY_IRQ_LOG. */
void events__on_report(struct events *ev, const char *key, uint64_t value);
/* After the run: latencies from the guest's logs. */
void events__finish(struct events *ev);

const char *event_kind__name(enum event_kind k); /* "nmi", "irq" */
/* {"poll_us", "nmi": {policy, raised, delivered, merged, ..., latency_ns}, "irq": {...}} */
json_t *events__to_json(const struct events *ev);
void events__print(const struct events *ev, FILE *out);

#endif
