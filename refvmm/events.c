/* events.c - pending NMIs/IRQs, the poll and window policies, the timer
 * thread (delayed raises, periodic sources, poll kicks) and the report. */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "backend.h"
#include "model/model_backend.h"
#include "model/vmm_events.h"

const char *event_kind__name(enum event_kind k) {
  return k == EV_NMI ? "nmi" : "irq";
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t hz_to_ns(double hz) {
  return hz > 0 ? (uint64_t)(1e9 / hz) : 0;
}

void events__init(struct events *ev, struct vm *vm) {
  if (!vm->ops->event_wall) { /* other backends: their own injection */
    memset(ev, 0, sizeof *ev);
    ev->vm = vm;
    ev->model = vm->ops == &model_backend_ops ? model_backend__events(vm) : NULL;
    if (ev->model) { /* the model's policies, in modeled time at the guest's TSC rate */
      vmm_events__configure(ev->model, &vm->cfg, 0); /* guest TSC: the cost profile's */
      ev->policy[EV_NMI] = vm->cfg.modes.nmi;
      ev->policy[EV_IRQ] = vm->cfg.modes.irq;
      vm->events = ev;
    }
    return;
  }
  events__init_with(ev, vm, vm->ops->event_wall);
}

void events__init_with(struct events *ev, struct vm *vm, const struct event_backend *be) {
  memset(ev, 0, sizeof *ev);
  ev->vm = vm;
  ev->be = be;
  const struct vm_config *cfg = &vm->cfg;
  ev->active = true;
  ev->policy[EV_NMI] = cfg->modes.nmi;
  ev->policy[EV_IRQ] = cfg->modes.irq;
  double pu = cfg->poll_us > 0 ? cfg->poll_us : EVENTS_POLL_US_DEF;
  ev->poll_ns = (uint64_t)(pu * 1000.0);
  if (ev->poll_ns < 1000) ev->poll_ns = 1000;
  ev->period_ns[EV_NMI] = hz_to_ns(cfg->nmi_rate_hz);
  ev->period_ns[EV_IRQ] = hz_to_ns(cfg->irq_rate_hz);
  ev->irq_vector = cfg->irq_vector ? cfg->irq_vector : EVENTS_IRQ_VECTOR;
  pthread_mutex_init(&ev->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&ev->cond, &ca);
  pthread_condattr_destroy(&ca);
  vm->events = ev;
}

/* ---- pending state (lock held) ------------------------------------------- */
static bool poll_waiting(const struct events *ev) {
  return (ev->nmi_pending && ev->policy[EV_NMI] == EVENT_POLL) ||
         (ev->irq_n && ev->policy[EV_IRQ] == EVENT_POLL);
}

static void raise_locked(struct events *ev, enum event_kind k, uint32_t vector, uint32_t count,
                         uint64_t tsc) {
  struct event_counts *c = &ev->c[k];
  bool was_polling = poll_waiting(ev);
  for (uint32_t i = 0; i < count; i++) {
    c->raised++;
    if (k == EV_NMI) {
      if (ev->nmi_pending) {
        c->merged++; /* one NMI latch, as on hardware */
        continue;
      }
      ev->nmi_pending = true;
      ev->nmi_tsc = tsc;
    } else {
      if (ev->irq_n >= EVENTS_IRQ_QUEUE) {
        c->dropped++;
        continue;
      }
      unsigned slot = (ev->irq_head + ev->irq_n) % EVENTS_IRQ_QUEUE;
      ev->irq_q[slot].vector = vector;
      ev->irq_q[slot].tsc = tsc;
      ev->irq_n++;
    }
  }
  __atomic_store_n(&ev->npending, (int)ev->nmi_pending + (int)ev->irq_n, __ATOMIC_RELEASE);
  if (!was_polling && poll_waiting(ev)) ev->next_poll_ns = mono_ns() + ev->poll_ns;
}

/* ---- the timer thread -------------------------------------------------------- */
static void kick(struct events *ev, int why) {
  __atomic_or_fetch(&ev->kick_flags, why, __ATOMIC_SEQ_CST);
  ev->vm->ops->kick(ev->vm);
}

static void *timer_main(void *arg) {
  struct events *ev = arg;
  pthread_mutex_lock(&ev->lock);
  while (!ev->quit) {
    uint64_t now = mono_ns();
    int raised[EV_KINDS] = {0, 0};
    /* delayed raises that are due (unordered array: small) */
    for (int i = 0; i < ev->nsched;) {
      struct events_sched *s = &ev->sched[i];
      if (s->due_ns <= now) {
        raise_locked(ev, s->kind, s->vector, s->count, __rdtsc());
        raised[s->kind] = 1;
        ev->sched[i] = ev->sched[--ev->nsched];
      } else {
        i++;
      }
    }
    for (int k = 0; k < EV_KINDS; k++) {
      if (!ev->periodic_on || !ev->period_ns[k] || now < ev->next_period_ns[k]) continue;
      raise_locked(ev, k, ev->irq_vector, 1, __rdtsc());
      raised[k] = 1;
      ev->next_period_ns[k] += ev->period_ns[k];
      if (ev->next_period_ns[k] <= now) ev->next_period_ns[k] = now + ev->period_ns[k];
    }
    int why = 0;
    for (int k = 0; k < EV_KINDS; k++)
      if (raised[k]) ev->c[k].raise_kicks++, why |= 1;
    if (poll_waiting(ev) && now >= ev->next_poll_ns) {
      for (int k = 0; k < EV_KINDS; k++)
        if (ev->policy[k] == EVENT_POLL && (k == EV_NMI ? ev->nmi_pending : ev->irq_n > 0))
          ev->c[k].poll_kicks++;
      why |= 2;
      ev->next_poll_ns = now + ev->poll_ns;
    }
    if (why) kick(ev, why);
    /* sleep until the next thing to do */
    uint64_t wake = UINT64_MAX;
    for (int i = 0; i < ev->nsched; i++)
      if (ev->sched[i].due_ns < wake) wake = ev->sched[i].due_ns;
    for (int k = 0; k < EV_KINDS; k++)
      if (ev->periodic_on && ev->period_ns[k] && ev->next_period_ns[k] < wake)
        wake = ev->next_period_ns[k];
    if (poll_waiting(ev) && ev->next_poll_ns < wake) wake = ev->next_poll_ns;
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
  if (!ev->active) return 0;
  ev->started = true;
  return ev->period_ns[EV_NMI] || ev->period_ns[EV_IRQ] ? start_thread(ev) : 0;
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
  if (ev->model)
    return vmm_events__raise(ev->model, k == EV_NMI ? VEV_NMI : VEV_IRQ, vector, count, delay_ns);
  uint64_t tsc = __rdtsc();
  if (ev->started && !ev->thread_running) {
    int trc = start_thread(ev);
    if (trc) return trc;
  }
  pthread_mutex_lock(&ev->lock);
  int rc = 0;
  if (delay_ns == 0) {
    raise_locked(ev, k, vector, count, tsc); /* the vCPU thread: delivered before re-entry */
  } else if (ev->nsched >= EVENTS_SCHED_MAX) {
    rc = -ENOSPC;
  } else {
    ev->sched[ev->nsched++] = (struct events_sched){
        .due_ns = mono_ns() + delay_ns, .kind = k, .vector = vector, .count = count};
  }
  pthread_cond_signal(&ev->cond); /* re-plan the timer */
  pthread_mutex_unlock(&ev->lock);
  return rc;
}

/* ---- delivery (vCPU thread) ---------------------------------------------------- */
static uint64_t guest_tsc(struct events *ev, uint64_t host_tsc) {
  if (!ev->tsc_offset_known) {
    int64_t off = 0;
    if (ev->be->tsc_offset(ev->vm, &off) == 0) ev->tsc_offset = off;
    ev->tsc_offset_known = true;
  }
  return host_tsc + (uint64_t)ev->tsc_offset;
}

/* Record the k-th delivery: host raise TSC, and in the guest's log. */
static void note_delivery(struct events *ev, enum event_kind k, uint64_t raise_tsc) {
  struct event_counts *c = &ev->c[k];
  uint64_t idx = c->delivered++;
  if (c->nraise_tsc < EVENTS_LAT_MAX) {
    c->inject_tsc[c->nraise_tsc] = __rdtsc();
    c->raise_tsc[c->nraise_tsc++] = raise_tsc;
  }
  if (!ev->log_gpa[k]) return;
  struct vtb_event_log *log = guest_mem__ptr(&ev->vm->mem, ev->log_gpa[k], sizeof *log);
  if (!log) return;
  if (idx < VTB_EVENT_LOG_MAX) log->raise_tsc[idx] = guest_tsc(ev, raise_tsc);
  __atomic_store_n(&log->delivered, idx + 1, __ATOMIC_RELEASE);
}

static int deliver_nmi(struct events *ev) {
  bool masked = false, in_kvm = false;
  int rc = ev->be->nmi_state(ev->vm, &masked, &in_kvm);
  if (rc) return rc;
  struct event_counts *c = &ev->c[EV_NMI];
  if (ev->policy[EV_NMI] == EVENT_WINDOW) {
    ev->nmi_pending = false;
    if (in_kvm) {
      c->merged++; /* KVM already holds one: it would coalesce this one */
      return 0;
    }
  } else if (masked || in_kvm) {
    c->blocked_checks++;
    return 0; /* stays pending; the poll timer looks again */
  }
  ev->nmi_pending = false;
  note_delivery(ev, EV_NMI, ev->nmi_tsc);
  if ((rc = ev->be->nmi(ev->vm)) < 0) return rc;
  return 0;
}

static int deliver_irq(struct events *ev) {
  struct event_counts *c = &ev->c[EV_IRQ];
  if (ev->be->irq_ready(ev->vm)) {
    unsigned h = ev->irq_head;
    note_delivery(ev, EV_IRQ, ev->irq_q[h].tsc);
    int rc = ev->be->interrupt(ev->vm, ev->irq_q[h].vector);
    if (rc) return rc;
    ev->irq_head = (h + 1) % EVENTS_IRQ_QUEUE;
    ev->irq_n--;
  } else if (ev->policy[EV_IRQ] == EVENT_POLL) {
    c->blocked_checks++;
  }
  /* One KVM_INTERRUPT per entry: more wait for the next window or check. */
  bool want = ev->policy[EV_IRQ] == EVENT_WINDOW && ev->irq_n > 0;
  if (want) c->window_requests++;
  ev->be->request_irq_window(ev->vm, want);
  return 0;
}

int events__before_run(struct events *ev) {
  if (__builtin_expect(__atomic_load_n(&ev->npending, __ATOMIC_ACQUIRE) == 0, 1)) return 0;
  pthread_mutex_lock(&ev->lock);
  bool was_polling = poll_waiting(ev);
  int rc = 0;
  if (ev->nmi_pending) rc = deliver_nmi(ev);
  if (!rc && ev->irq_n) rc = deliver_irq(ev);
  __atomic_store_n(&ev->npending, (int)ev->nmi_pending + (int)ev->irq_n, __ATOMIC_RELEASE);
  if (!was_polling && poll_waiting(ev)) {
    ev->next_poll_ns = mono_ns() + ev->poll_ns;
    pthread_cond_signal(&ev->cond);
  }
  pthread_mutex_unlock(&ev->lock);
  return rc;
}

void events__on_timed(struct events *ev, bool begin) {
  if (ev->model) {
    vmm_events__on_timed(ev->model, begin);
    return;
  }
  if (!ev->period_ns[EV_NMI] && !ev->period_ns[EV_IRQ]) return;
  pthread_mutex_lock(&ev->lock);
  ev->periodic_on = begin;
  uint64_t now = mono_ns();
  for (int k = 0; k < EV_KINDS; k++)
    ev->next_period_ns[k] = now + ev->period_ns[k];
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
  ev->c[EV_IRQ].window_exits++;
}

void events__on_report(struct events *ev, const char *key, uint64_t value) {
  if (ev->model) vmm_events__on_report(ev->model, key, value);
  if (strcmp(key, VTB_KEY_NMI_LOG) == 0) ev->log_gpa[EV_NMI] = value;
  if (strcmp(key, VTB_KEY_IRQ_LOG) == 0) ev->log_gpa[EV_IRQ] = value;
}

/* ---- after the run ------------------------------------------------------------------ */
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void finish_kind(struct events *ev, enum event_kind k) {
  struct event_counts *c = &ev->c[k];
  if (!ev->log_gpa[k]) return;
  const struct vtb_event_log *log = guest_mem__ptr(&ev->vm->mem, ev->log_gpa[k], sizeof *log);
  if (!log) return;
  uint64_t n = log->handled;
  if (n > c->delivered) n = c->delivered;
  if (n > VTB_EVENT_LOG_MAX) n = VTB_EVENT_LOG_MAX;
  if (n > c->nraise_tsc) n = c->nraise_tsc;
  uint64_t *lat = malloc((n ? n : 1) * 3 * sizeof *lat);
  if (!lat) return;
  uint64_t *wait = lat + n, *dlv = lat + 2 * n;
  double sum = 0;
  uint64_t m = 0;
  int64_t off = ev->tsc_offset;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t h = log->handler_tsc[i], r = log->raise_tsc[i];
    uint64_t inj = c->inject_tsc[i] + (uint64_t)off; /* guest TSC domain */
    if (h < r || inj < r || h < inj) continue;       /* a guest that wrote nonsense */
    wait[m] = inj - r;
    dlv[m] = h - inj;
    c->lat_tsc[m] = h - r;
    lat[m++] = h - r;
    sum += (double)(h - r);
  }
  qsort(lat, m, sizeof *lat, cmp_u64);
  qsort(wait, m, sizeof *wait, cmp_u64);
  qsort(dlv, m, sizeof *dlv, cmp_u64);
  if (m) {
    c->wait_p50 = wait[(m - 1) / 2];
    c->wait_max = wait[m - 1];
    c->deliver_p50 = dlv[(m - 1) / 2];
    c->deliver_max = dlv[m - 1];
  }
  c->nlat = m;
  if (m) {
    c->lat_min = lat[0];
    c->lat_max = lat[m - 1];
    c->lat_p50 = lat[(m - 1) / 2];
    c->lat_p99 = lat[(uint64_t)((double)(m - 1) * 0.99)];
    c->lat_mean = sum / (double)m;
  }
  free(lat);
}

void events__finish(struct events *ev) {
  if (ev->model) vmm_events__finish(ev->model);
  if (!ev->active) return;
  for (int k = 0; k < EV_KINDS; k++)
    finish_kind(ev, k);
}

static json_t *ns_json(const struct events *ev, double ticks) {
  uint64_t hz = ev->vm->tsc_hz;
  return hz ? json_real(ticks * 1e9 / (double)hz) : json_null();
}

static json_t *kind_json(const struct events *ev, enum event_kind k) {
  const struct event_counts *c = &ev->c[k];
  json_t *o = json_object();
  json_object_set_new(o, "policy", json_string(event_mode__name(ev->policy[k])));
  json_object_set_new(o, "raised", json_integer((json_int_t)c->raised));
  json_object_set_new(o, "delivered", json_integer((json_int_t)c->delivered));
  json_object_set_new(o, "merged", json_integer((json_int_t)c->merged));
  json_object_set_new(o, "dropped", json_integer((json_int_t)c->dropped));
  unsigned pend = k == EV_NMI ? ev->nmi_pending : ev->irq_n;
  json_object_set_new(o, "pending_at_end", json_integer(pend));
  json_object_set_new(o, "raise_kicks", json_integer((json_int_t)c->raise_kicks));
  json_object_set_new(o, "poll_kicks", json_integer((json_int_t)c->poll_kicks));
  json_object_set_new(o, "window_exits", json_integer((json_int_t)c->window_exits));
  json_object_set_new(o, "window_requests", json_integer((json_int_t)c->window_requests));
  json_object_set_new(o, "blocked_checks", json_integer((json_int_t)c->blocked_checks));
  json_object_set_new(o, "rate_hz",
                      ev->period_ns[k] ? json_real(1e9 / (double)ev->period_ns[k]) : json_null());
  json_t *lat = json_object();
  json_object_set_new(lat, "samples", json_integer((json_int_t)c->nlat));
  if (c->nlat) {
    json_object_set_new(lat, "min", ns_json(ev, (double)c->lat_min));
    json_object_set_new(lat, "p50", ns_json(ev, (double)c->lat_p50));
    json_object_set_new(lat, "p99", ns_json(ev, (double)c->lat_p99));
    json_object_set_new(lat, "max", ns_json(ev, (double)c->lat_max));
    json_object_set_new(lat, "mean", ns_json(ev, c->lat_mean));
    json_object_set_new(lat, "max_tsc", json_integer((json_int_t)c->lat_max));
    /* raise -> injection: refvmm's policy; injection -> handler: KVM */
    json_object_set_new(lat, "wait_p50", ns_json(ev, (double)c->wait_p50));
    json_object_set_new(lat, "wait_max", ns_json(ev, (double)c->wait_max));
    json_object_set_new(lat, "inject_to_handler_p50", ns_json(ev, (double)c->deliver_p50));
    json_object_set_new(lat, "inject_to_handler_max", ns_json(ev, (double)c->deliver_max));
  }
  json_object_set_new(o, "latency_ns", lat);
  /* every event's latency, in delivery order (vtbench report's CDFs) */
  json_t *smp = json_array();
  for (uint64_t i = 0; i < c->nlat && ev->vm->tsc_hz; i++)
    json_array_append_new(smp, ns_json(ev, (double)c->lat_tsc[i]));
  json_object_set_new(o, "samples_ns", smp);
  return o;
}

/* The model's figures in the KVM document's shape (ns of modeled time at
 * the guest's TSC rate), so reports and aggregates read both backends. */
static json_t *model_kind_json(const struct vmm_events *ve, int k) {
  const struct vmm_event_stats *st = &ve->st[k];
  double ns = ve->tsc_hz ? 1e9 / (double)ve->tsc_hz : 0;
  uint64_t pend = k == VEV_NMI ? (uint64_t)ve->nmi_pending + ve->nmi_inflight
                               : (uint64_t)ve->irq_n + ve->irq_inflight;
  json_t *lat = json_pack("{s:I}", "samples", (json_int_t)st->nlat);
  if (st->nlat && ve->finished) {
    json_object_set_new(lat, "min", json_real((double)st->lat_min * ns));
    json_object_set_new(lat, "p50", json_real((double)st->lat_p50 * ns));
    json_object_set_new(lat, "p99", json_real((double)st->lat_p99 * ns));
    json_object_set_new(lat, "max", json_real((double)st->lat_max * ns));
    json_object_set_new(lat, "mean", json_real(st->lat_mean * ns));
    json_object_set_new(lat, "max_tsc", json_integer((json_int_t)st->lat_max));
  }
  json_t *smp = json_array();
  for (uint64_t i = 0; i < st->nlat; i++)
    json_array_append_new(smp, json_real((double)st->lat[i] * ns));
  return json_pack(
      "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "policy",
      event_mode__name(ve->policy[k]), "raised", (json_int_t)st->raised, "delivered",
      (json_int_t)st->delivered, "merged", (json_int_t)st->merged, "dropped",
      (json_int_t)st->dropped, "pending_at_end", (json_int_t)pend, "raise_kicks",
      (json_int_t)st->raise_exits, "poll_kicks", (json_int_t)st->poll_exits, "window_exits",
      (json_int_t)st->window_exits, "window_requests", (json_int_t)st->window_requests,
      "blocked_checks", (json_int_t)st->blocked_checks, "rate_hz",
      ve->period_cycles[k] ? json_real((double)ve->tsc_hz / (double)ve->period_cycles[k])
                           : json_null(),
      "latency_ns", lat, "samples_ns", smp);
}

static json_t *model_to_json(const struct vmm_events *ve) {
  if (!ve->active) return json_null();
  json_t *ex = json_object();
  static const char *const names[VEX_COUNT] = {"NMI_WINDOW", "INTERRUPT_WINDOW", "PREEMPTION_TIMER",
                                               "EXTERNAL_INTERRUPT"};
  for (int i = 0; i < VEX_COUNT; i++)
    json_object_set_new(ex, names[i], json_integer((json_int_t)ve->exits[i]));
  return json_pack("{s:s,s:f,s:o,s:o,s:o}", "clock", "modeled", "poll_us", ve->poll_us,
                   "exits_caused", ex, "nmi", model_kind_json(ve, VEV_NMI), "irq",
                   model_kind_json(ve, VEV_IRQ));
}

json_t *events__to_json(const struct events *ev) {
  if (ev && ev->model) return model_to_json(ev->model);
  if (!ev || !ev->active) return json_null();
  json_t *o = json_object();
  json_object_set_new(o, "poll_us", json_real((double)ev->poll_ns / 1000.0));
  /* extra exits the events caused, by KVM exit reason (whole run) */
  json_object_set_new(o, "exits_caused",
                      json_pack("{s:I, s:I, s:I, s:I}", "INTR",
                                (json_int_t)(ev->intr_exits_raise + ev->intr_exits_poll),
                                "INTR_raise", (json_int_t)ev->intr_exits_raise, "INTR_poll",
                                (json_int_t)ev->intr_exits_poll, "IRQ_WINDOW_OPEN",
                                (json_int_t)ev->c[EV_IRQ].window_exits));
  json_object_set_new(o, "intr_exits_other", json_integer((json_int_t)ev->intr_exits_other));
  json_object_set_new(o, "nmi", kind_json(ev, EV_NMI));
  json_object_set_new(o, "irq", kind_json(ev, EV_IRQ));
  return o;
}

void events__print(const struct events *ev, FILE *out) {
  if (!ev || !ev->active) return;
  double hz = (double)ev->vm->tsc_hz;
  if (ev->c[EV_NMI].raised || ev->c[EV_IRQ].raised)
    fprintf(out,
            "events: extra exits they caused (whole run): INTR %" PRIu64 " (raise %" PRIu64
            ", poll %" PRIu64 "), IRQ_WINDOW_OPEN %" PRIu64 "; poll interval %.0f us\n",
            ev->intr_exits_raise + ev->intr_exits_poll, ev->intr_exits_raise, ev->intr_exits_poll,
            ev->c[EV_IRQ].window_exits, (double)ev->poll_ns / 1e3);
  for (int k = 0; k < EV_KINDS; k++) {
    const struct event_counts *c = &ev->c[k];
    if (!c->raised) continue;
    fprintf(out,
            "events %s (%s): raised %" PRIu64 ", delivered %" PRIu64 ", merged %" PRIu64
            ", dropped %" PRIu64 "; kicks sent: raise %" PRIu64 ", poll %" PRIu64
            "; IRQ_WINDOW_OPEN %" PRIu64 "\n",
            event_kind__name(k), event_mode__name(ev->policy[k]), c->raised, c->delivered,
            c->merged, c->dropped, c->raise_kicks, c->poll_kicks, c->window_exits);
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
              event_mode__name(ev->policy[k]), (double)c->wait_p50 * 1e6 / hz,
              (double)c->wait_max * 1e6 / hz, (double)c->deliver_p50 * 1e6 / hz,
              (double)c->deliver_max * 1e6 / hz);
  }
}
