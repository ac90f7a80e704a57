/* events.c - refvmm's NMI/IRQ policies driven on the wall clock (a timer
 * thread for delayed raises, periodic sources and poll kicks) or routed to
 * a backend that runs them itself, and the wall driver's report. */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "backend.h"

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the wall clock and the backend's primitives, as the policy sees them ---- */
static uint64_t w_now(void *arg) {
  (void)arg;
  return mono_ns();
}
static uint64_t w_hz(void *arg) {
  (void)arg;
  return 1000000000u;
}
/* events carry the host TSC at their raise (latencies are in TSC ticks) */
static uint64_t w_stamp(void *arg, uint64_t t) {
  (void)arg, (void)t;
  return __rdtsc();
}
static uint64_t w_guest_tsc(void *arg, uint64_t host_tsc) {
  struct events *ev = arg;
  if (!ev->tsc_offset_known) {
    int64_t off = 0;
    if (ev->be->tsc_offset(ev->vm, &off) == 0) ev->tsc_offset = off;
    ev->tsc_offset_known = true;
  }
  return host_tsc + (uint64_t)ev->tsc_offset;
}
static int w_guest_state(void *arg, unsigned kinds, struct event_guest_state *st) {
  struct events *ev = arg;
  if (kinds & (1u << EV_NMI)) {
    int rc = ev->be->nmi_state(ev->vm, &st->nmi_blocked, &st->nmi_held);
    if (rc) return rc;
  }
  if (kinds & (1u << EV_IRQ)) st->irq_blocked = !ev->be->irq_ready(ev->vm); /* covers one held */
  return 0;
}
static void note_split(struct events *ev, enum event_kind k, uint64_t stamp) {
  struct events_split *s = &ev->split[k];
  if (s->n < EVENTS_LAT_MAX) {
    s->inject_tsc[s->n] = __rdtsc();
    s->raise_tsc[s->n++] = stamp;
  }
}
static int w_inject_nmi(void *arg, uint64_t stamp) {
  struct events *ev = arg;
  note_split(ev, EV_NMI, stamp);
  int rc = ev->be->nmi(ev->vm);
  return rc < 0 ? rc : 0;
}
static int w_inject_irq(void *arg, uint32_t vector, uint64_t stamp) {
  struct events *ev = arg;
  note_split(ev, EV_IRQ, stamp);
  return ev->be->interrupt(ev->vm, vector);
}
static void w_irq_window(void *arg, bool on) {
  struct events *ev = arg;
  ev->be->request_irq_window(ev->vm, on);
}
/* the timer thread re-plans for a new poll deadline (lock held) */
static void w_poll_timer(void *arg, bool on, uint64_t deadline) {
  struct events *ev = arg;
  (void)deadline;
  if (on) pthread_cond_signal(&ev->cond);
}
/* extra exits the events caused, by KVM exit reason (whole run) */
static void w_json_extra(void *arg, json_t *o) {
  struct events *ev = arg;
  json_object_set_new(o, "exits_caused",
                      json_pack("{s:I, s:I, s:I, s:I}", "INTR",
                                (json_int_t)(ev->intr_exits_raise + ev->intr_exits_poll),
                                "INTR_raise", (json_int_t)ev->intr_exits_raise, "INTR_poll",
                                (json_int_t)ev->intr_exits_poll, "IRQ_WINDOW_OPEN",
                                (json_int_t)ev->pol.st[EV_IRQ].window_exits));
  json_object_set_new(o, "intr_exits_other", json_integer((json_int_t)ev->intr_exits_other));
}

void events__init(struct events *ev, struct vm *vm) {
  memset(ev, 0, sizeof *ev);
  ev->vm = vm;
  if (vm->ops->event_wall) {
    events__init_with(ev, vm, vm->ops->event_wall);
    return;
  }
  if (!vm->ops->event_attach) return; /* injected at once (hypercall.c) */
  event_policy__init(&ev->pol, NULL, &vm->mem);
  event_policy__configure(&ev->pol, &vm->cfg);
  if (vm->ops->event_attach(vm, &ev->pol) == 0) vm->events = ev;
}

void events__init_with(struct events *ev, struct vm *vm, const struct event_backend *be) {
  memset(ev, 0, sizeof *ev);
  ev->vm = vm;
  ev->be = be;
  ev->wall = true;
  ev->hw = (struct event_hw){
      .arg = ev,
      .now = w_now,
      .hz = w_hz,
      .stamp = w_stamp,
      .guest_tsc = w_guest_tsc,
      .guest_state = w_guest_state,
      .inject_nmi = w_inject_nmi,
      .inject_irq = w_inject_irq,
      .irq_window = w_irq_window, /* no NMI window: KVM_NMI waits for it itself */
      .poll_timer = w_poll_timer,
      .json_extra = w_json_extra,
      .one_event_per_entry = false, /* KVM_NMI and KVM_INTERRUPT queue separately */
      .delivered_at_injection = true,
  };
  event_policy__init(&ev->pol, &ev->hw, &vm->mem);
  event_policy__configure(&ev->pol, &vm->cfg);
  pthread_mutex_init(&ev->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&ev->cond, &ca);
  pthread_condattr_destroy(&ca);
  vm->events = ev;
}

/* lock held */
static void mirror_pending(struct events *ev) {
  __atomic_store_n(&ev->npending, (int)ev->pol.nmi_pending + (int)ev->pol.irq_n, __ATOMIC_RELEASE);
}

/* ---- the timer thread -------------------------------------------------------- */
static void kick(struct events *ev, int why) {
  __atomic_or_fetch(&ev->kick_flags, why, __ATOMIC_SEQ_CST);
  ev->vm->ops->kick(ev->vm);
}

static bool periodic(const struct events *ev) {
  return ev->pol.rate_hz[EV_NMI] > 0 || ev->pol.rate_hz[EV_IRQ] > 0;
}

static void *timer_main(void *arg) {
  struct events *ev = arg;
  struct event_policy *p = &ev->pol;
  pthread_mutex_lock(&ev->lock);
  while (!ev->quit) {
    uint64_t now = mono_ns();
    int why = event_policy__host_timer(p, now) ? 1 : 0;
    event_policy__poll_update(p, now);
    if (p->polling && now >= p->poll_deadline) {
      event_policy__poll_expired(p, now);
      why |= 2;
    }
    mirror_pending(ev);
    if (why) kick(ev, why);
    /* sleep until the next thing to do */
    uint64_t wake = event_policy__next_due(p);
    if (p->polling && p->poll_deadline < wake) wake = p->poll_deadline;
    if (wake == UINT64_MAX) {
      pthread_cond_wait(&ev->cond, &ev->lock);
    } else if (wake > mono_ns()) {
      struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u),
                            .tv_nsec = (long)(wake % 1000000000u)};
      pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
    }
  }
  pthread_mutex_unlock(&ev->lock);
  return NULL;
}

static int start_thread(struct events *ev) {
  ev->quit = false;
  int rc = pthread_create(&ev->thread, NULL, timer_main, ev);
  if (rc) return -rc;
  ev->thread_running = true;
  return 0;
}

/* The thread starts now only for periodic sources; otherwise at the first
 * raise (a run without events pays nothing). */
int events__start(struct events *ev) {
  if (!ev->wall) return 0;
  ev->started = true;
  return periodic(ev) ? start_thread(ev) : 0;
}

void events__stop(struct events *ev) {
  ev->started = false;
  if (!ev->thread_running) return;
  pthread_mutex_lock(&ev->lock);
  ev->quit = true;
  pthread_cond_signal(&ev->cond);
  pthread_mutex_unlock(&ev->lock);
  pthread_join(ev->thread, NULL);
  ev->thread_running = false;
}

int events__raise(struct events *ev, enum event_kind k, uint32_t vector, uint32_t count,
                  uint64_t delay_ns) {
  if (!ev->wall) return event_policy__raise(&ev->pol, k, vector, count, delay_ns);
  if (ev->started && !ev->thread_running) {
    int trc = start_thread(ev);
    if (trc) return trc;
  }
  pthread_mutex_lock(&ev->lock);
  int rc = event_policy__raise(&ev->pol, k, vector, count, delay_ns);
  event_policy__poll_update(&ev->pol, mono_ns()); /* the poll timer starts with the wait */
  mirror_pending(ev);
  pthread_cond_signal(&ev->cond); /* re-plan the timer */
  pthread_mutex_unlock(&ev->lock);
  return rc;
}

/* ---- delivery (vCPU thread) ---------------------------------------------------- */
int events__before_run(struct events *ev) {
  if (__builtin_expect(__atomic_load_n(&ev->npending, __ATOMIC_ACQUIRE) == 0, 1)) return 0;
  pthread_mutex_lock(&ev->lock);
  int rc = event_policy__decide(&ev->pol);
  mirror_pending(ev);
  pthread_mutex_unlock(&ev->lock);
  return rc;
}

void events__on_timed(struct events *ev, bool begin) {
  if (!ev->wall) {
    event_policy__on_timed(&ev->pol, begin);
    return;
  }
  if (!periodic(ev)) return;
  pthread_mutex_lock(&ev->lock);
  event_policy__on_timed(&ev->pol, begin);
  pthread_cond_signal(&ev->cond);
  pthread_mutex_unlock(&ev->lock);
}

void events__on_intr(struct events *ev) {
  int why = __atomic_exchange_n(&ev->kick_flags, 0, __ATOMIC_SEQ_CST);
  if (why & 2)
    ev->intr_exits_poll++;
  else if (why & 1)
    ev->intr_exits_raise++;
  else
    ev->intr_exits_other++; /* the watchdog or a stray signal */
}

void events__on_window(struct events *ev) {
  event_policy__window_exit(&ev->pol, EV_IRQ);
}

void events__on_report(struct events *ev, const char *key, uint64_t value) {
  event_policy__on_report(&ev->pol, key, value);
}

/* ---- after the run ------------------------------------------------------------------ */
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Latencies from the guest's log: handler TSC - raise TSC (both in the
 * guest's TSC), split at the injection. */
static void finish_kind(struct events *ev, enum event_kind k) {
  struct event_policy *p = &ev->pol;
  struct events_split *s = &ev->split[k];
  if (!p->log_gpa[k]) return;
  /* a copy: the log is the guest's memory, at the guest's address */
  struct vtb_event_log *log = malloc(sizeof *log);
  if (!log) return;
  if (guest_mem__read(&ev->vm->mem, p->log_gpa[k], log, sizeof *log)) {
    free(log);
    return;
  }
  uint64_t n = log->handled;
  if (n > p->st[k].delivered) n = p->st[k].delivered;
  if (n > VTB_EVENT_LOG_MAX) n = VTB_EVENT_LOG_MAX;
  if (n > s->n) n = s->n;
  uint64_t *wait = malloc((n ? n : 1) * 2 * sizeof *wait);
  if (!wait) {
    free(log);
    return;
  }
  uint64_t *dlv = wait + n;
  uint64_t m = 0;
  int64_t off = ev->tsc_offset;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t h = log->handler_tsc[i], r = log->raise_tsc[i];
    uint64_t inj = s->inject_tsc[i] + (uint64_t)off; /* guest TSC domain */
    if (h < r || inj < r || h < inj) continue;       /* a guest that wrote nonsense */
    wait[m] = inj - r;
    dlv[m] = h - inj;
    event_policy__add_latency(p, k, h - r);
    m++;
  }
  qsort(wait, m, sizeof *wait, cmp_u64);
  qsort(dlv, m, sizeof *dlv, cmp_u64);
  if (m) {
    s->wait_p50 = wait[(m - 1) / 2];
    s->wait_max = wait[m - 1];
    s->deliver_p50 = dlv[(m - 1) / 2];
    s->deliver_max = dlv[m - 1];
  }
  free(wait);
  free(log);
}

void events__finish(struct events *ev) {
  if (ev->wall)
    for (int k = 0; k < EV_KINDS; k++)
      finish_kind(ev, k);
  event_policy__finish(&ev->pol);
}

void events__free(struct events *ev) {
  event_policy__free(&ev->pol);
}

json_t *events__to_json(const struct events *ev) {
  if (!ev || !ev->pol.active) return json_null();
  if (!ev->wall) return event_policy__to_json(&ev->pol, ev->pol.hz);
  uint64_t hz = ev->vm->tsc_hz;
  json_t *o = event_policy__to_json(&ev->pol, hz);
  double ns = hz ? 1e9 / (double)hz : 0;
  for (int k = 0; k < EV_KINDS; k++) {
    const struct events_split *s = &ev->split[k];
    json_t *lat = json_object_get(json_object_get(o, event_kind__name(k)), "latency_ns");
    if (!lat || !ev->pol.st[k].nlat) continue;
    /* raise -> injection: refvmm's policy; injection -> handler: KVM */
    json_object_set_new(lat, "wait_p50", json_real((double)s->wait_p50 * ns));
    json_object_set_new(lat, "wait_max", json_real((double)s->wait_max * ns));
    json_object_set_new(lat, "inject_to_handler_p50", json_real((double)s->deliver_p50 * ns));
    json_object_set_new(lat, "inject_to_handler_max", json_real((double)s->deliver_max * ns));
  }
  return o;
}

void events__print(const struct events *ev, FILE *out) {
  if (!ev || !ev->wall || !ev->pol.active) return;
  const struct event_policy *p = &ev->pol;
  double hz = (double)ev->vm->tsc_hz;
  if (p->st[EV_NMI].raised || p->st[EV_IRQ].raised)
    fprintf(out,
            "events: extra exits they caused (whole run): INTR %" PRIu64 " (raise %" PRIu64
            ", poll %" PRIu64 "), IRQ_WINDOW_OPEN %" PRIu64 "; poll interval %.0f us\n",
            ev->intr_exits_raise + ev->intr_exits_poll, ev->intr_exits_raise, ev->intr_exits_poll,
            p->st[EV_IRQ].window_exits, p->poll_us);
  for (int k = 0; k < EV_KINDS; k++) {
    const struct event_stats *c = &p->st[k];
    const struct events_split *s = &ev->split[k];
    if (!c->raised) continue;
    fprintf(out,
            "events %s (%s): raised %" PRIu64 ", delivered %" PRIu64 ", merged %" PRIu64
            ", dropped %" PRIu64 "; kicks sent: raise %" PRIu64 ", poll %" PRIu64
            "; IRQ_WINDOW_OPEN %" PRIu64 "\n",
            event_kind__name(k), event_mode__name(p->policy[k]), c->raised, c->delivered, c->merged,
            c->dropped, c->timer_raises, c->poll_expiries, c->window_exits);
    if (c->nlat && hz > 0)
      fprintf(out,
              "  latency raise->handler (%" PRIu64 " samples): min %.1f us, p50 %.1f us, "
              "p99 %.1f us, max %.1f us, mean %.1f us\n",
              c->nlat, (double)c->lat_min * 1e6 / hz, (double)c->lat_p50 * 1e6 / hz,
              (double)c->lat_p99 * 1e6 / hz, (double)c->lat_max * 1e6 / hz, c->lat_mean * 1e6 / hz);
    if (c->nlat && hz > 0)
      fprintf(out,
              "  of which raise->inject (refvmm %s policy) p50 %.1f us, max %.1f us; "
              "inject->handler (KVM) p50 %.1f us, max %.1f us\n",
              event_mode__name(p->policy[k]), (double)s->wait_p50 * 1e6 / hz,
              (double)s->wait_max * 1e6 / hz, (double)s->deliver_p50 * 1e6 / hz,
              (double)s->deliver_max * 1e6 / hz);
  }
}
