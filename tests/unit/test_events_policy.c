/* test_events_policy.c - refvmm/events.c against a fake backend: what
 * window and poll do with a pending NMI or IRQ when the guest can and cannot
 * take it, NMI coalescing, the IRQ queue bound, delayed raises and the poll
 * timer's kicks from the timer thread, and latency from the shared log. */
#include <check.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "refvmm/backend.h"
#include "refvmm/events.h"

/* The fake guest: what KVM would report, and what was done to it. */
static struct {
  bool irq_ready, nmi_masked, nmi_pending, window;
  int nmis, irqs, kicks;
  uint32_t last_vector;
} g;

static bool f_irq_ready(const struct vm *vm) {
  (void)vm;
  return g.irq_ready;
}
static void f_window(struct vm *vm, bool on) {
  (void)vm;
  g.window = on;
}
static int f_interrupt(struct vm *vm, uint32_t v) {
  (void)vm;
  g.irqs++;
  g.last_vector = v;
  g.irq_ready = false; /* one per entry, as KVM */
  return 0;
}
static int f_nmi_state(struct vm *vm, bool *masked, bool *pending) {
  (void)vm;
  *masked = g.nmi_masked;
  *pending = g.nmi_pending;
  return 0;
}
static int f_nmi(struct vm *vm) {
  (void)vm;
  g.nmis++;
  return 0;
}
static int f_tsc_offset(struct vm *vm, int64_t *off) {
  (void)vm;
  *off = 1000;
  return 0;
}
static void f_kick(struct vm *vm) {
  (void)vm;
  __atomic_add_fetch(&g.kicks, 1, __ATOMIC_SEQ_CST);
}

static const struct event_backend fake_be = {
    .irq_ready = f_irq_ready,
    .request_irq_window = f_window,
    .interrupt = f_interrupt,
    .nmi_state = f_nmi_state,
    .nmi = f_nmi,
    .tsc_offset = f_tsc_offset,
};
static const struct backend_ops fake_ops = {.name = "fake", .kick = f_kick};

static struct vm vm;
static struct events ev;

static void setup_policy(enum event_mode nmi, enum event_mode irq, double poll_us) {
  memset(&g, 0, sizeof g);
  memset(&vm, 0, sizeof vm);
  vm.ops = &fake_ops;
  vm.cfg.modes.nmi = nmi;
  vm.cfg.modes.irq = irq;
  vm.cfg.poll_us = poll_us;
  vm.tsc_hz = 1000000000u;
  ck_assert_int_eq(guest_mem__init(&vm.mem, 8u << 20), 0);
  events__init_with(&ev, &vm, &fake_be);
  ck_assert_ptr_eq(vm.events, &ev);
}

static void teardown(void) {
  events__stop(&ev);
  guest_mem__destroy(&vm.mem);
}

static void sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
  nanosleep(&ts, NULL);
}

START_TEST(nmi_window_injects_at_once_and_merges_behind_kvm) {
  setup_policy(EVENT_WINDOW, EVENT_WINDOW, 0);
  g.nmi_masked = true; /* window: KVM waits for the NMI window, not refvmm */
  ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 1, 0), 0);
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.nmis, 1);
  g.nmi_pending = true; /* KVM holds it until the guest's IRET */
  ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 1, 0), 0);
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.nmis, 1);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].raised, 2);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].delivered, 1);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].merged, 1);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].blocked_checks, 0);
}
END_TEST

START_TEST(nmi_poll_waits_while_masked) {
  setup_policy(EVENT_POLL, EVENT_POLL, 0);
  g.nmi_masked = true;
  ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 3, 0), 0); /* one latch: 2 merge */
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.nmis, 0);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].blocked_checks, 4);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].merged, 2);
  g.nmi_masked = false; /* the guest's IRET */
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.nmis, 1);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].delivered, 1);
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.nmis, 1); /* nothing left */
}
END_TEST

START_TEST(irq_window_requests_a_window_then_injects) {
  setup_policy(EVENT_WINDOW, EVENT_WINDOW, 0);
  ck_assert_int_eq(events__raise(&ev, EV_IRQ, 0x41, 2, 0), 0);
  ck_assert_int_eq(events__before_run(&ev), 0); /* IF=0 */
  ck_assert(g.window);
  ck_assert_int_eq(g.irqs, 0);
  events__on_window(&ev);
  g.irq_ready = true;
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.irqs, 1);
  ck_assert_uint_eq(g.last_vector, 0x41);
  ck_assert(g.window); /* one more waits */
  g.irq_ready = true;
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.irqs, 2);
  ck_assert(!g.window);
  ck_assert_uint_eq(ev.pol.st[EV_IRQ].window_exits, 1);
  ck_assert_uint_eq(ev.pol.st[EV_IRQ].delivered, 2);
}
END_TEST

START_TEST(irq_poll_never_requests_a_window) {
  setup_policy(EVENT_POLL, EVENT_POLL, 0);
  ck_assert_int_eq(events__raise(&ev, EV_IRQ, 0x40, 1, 0), 0);
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert(!g.window);
  ck_assert_uint_eq(ev.pol.st[EV_IRQ].blocked_checks, 1);
  g.irq_ready = true;
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_int_eq(g.irqs, 1);
}
END_TEST

START_TEST(irq_queue_is_bounded) {
  setup_policy(EVENT_WINDOW, EVENT_WINDOW, 0);
  for (int i = 0; i < EVENT_IRQ_QUEUE / 128 + 1; i++)
    ck_assert_int_eq(events__raise(&ev, EV_IRQ, 0x40, 128, 0), 0);
  ck_assert_uint_eq(ev.pol.st[EV_IRQ].raised, EVENT_IRQ_QUEUE + 128);
  ck_assert_uint_eq(ev.pol.st[EV_IRQ].dropped, 128);
  ck_assert_uint_eq(ev.pol.irq_n, EVENT_IRQ_QUEUE);
}
END_TEST

/* Timer thread: a delayed raise kicks the vCPU; the poll timer kicks while
 * a masked NMI waits under poll, never under window. */
START_TEST(timer_thread_raises_and_polls) {
  setup_policy(EVENT_POLL, EVENT_WINDOW, 1000);
  ck_assert_int_eq(events__start(&ev), 0);
  g.nmi_masked = true;
  ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 1, 2000000), 0); /* 2 ms */
  ck_assert_int_eq(__atomic_load_n(&ev.npending, __ATOMIC_SEQ_CST), 0);
  sleep_ms(30);
  ck_assert_int_eq(__atomic_load_n(&ev.npending, __ATOMIC_SEQ_CST), 1);
  events__stop(&ev);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].timer_raises, 1);
  ck_assert_uint_ge(ev.pol.st[EV_NMI].poll_expiries, 5); /* ~28 at 1 ms; a slow host gets fewer */
  ck_assert_int_eq(g.kicks,
                   (int)(ev.pol.st[EV_NMI].timer_raises + ev.pol.st[EV_NMI].poll_expiries));
  events__on_intr(&ev);
  ck_assert_uint_eq(ev.intr_exits_poll, 1);
  teardown();

  setup_policy(EVENT_WINDOW, EVENT_WINDOW, 1000);
  ck_assert_int_eq(events__start(&ev), 0);
  ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 1, 1000000), 0);
  sleep_ms(20);
  events__stop(&ev);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].timer_raises, 1);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].poll_expiries, 0);
}
END_TEST

/* Latency: refvmm writes the raise in guest TSC (offset 1000 here) into the
 * guest's log at injection; finish() reads the handler's entries. */
START_TEST(latency_from_the_shared_log) {
  setup_policy(EVENT_WINDOW, EVENT_WINDOW, 0);
  const gpa_t log_gpa = 0x300000;
  /* the guest's view of its log (0x300000: aligned) */
  struct vtb_event_log *log = (struct vtb_event_log *)(vm.mem.host + log_gpa);
  events__on_report(&ev, VTB_KEY_NMI_LOG, log_gpa);
  for (int k = 0; k < 3; k++) {
    ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 1, 0), 0);
    ck_assert_int_eq(events__before_run(&ev), 0);
    ck_assert_uint_eq(log->delivered, (uint64_t)k + 1);
    ck_assert_uint_eq(log->raise_tsc[k], ev.split[EV_NMI].raise_tsc[k] + 1000);
    log->handler_tsc[k] = log->raise_tsc[k] + 100u * (k + 1) + 50000; /* 50 us + k */
    log->handled = (uint64_t)k + 1;
  }
  events__finish(&ev);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].nlat, 3);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].lat_min, 50100);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].lat_p50, 50200);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].lat_max, 50300);
  json_t *j = events__to_json(&ev);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "nmi"), "delivered")), 3);
  json_decref(j);
  /* a log outside guest RAM is ignored, never followed */
  events__on_report(&ev, VTB_KEY_NMI_LOG, vm.mem.size - 8);
  ck_assert_int_eq(events__raise(&ev, EV_NMI, 2, 1, 0), 0);
  ck_assert_int_eq(events__before_run(&ev), 0);
  ck_assert_uint_eq(ev.pol.st[EV_NMI].delivered, 4);
}
END_TEST

Suite *suite_events_policy(void) {
  Suite *s = suite_create("events_policy");
  TCase *tc = tcase_create("policy");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, nmi_window_injects_at_once_and_merges_behind_kvm);
  tcase_add_test(tc, nmi_poll_waits_while_masked);
  tcase_add_test(tc, irq_window_requests_a_window_then_injects);
  tcase_add_test(tc, irq_poll_never_requests_a_window);
  tcase_add_test(tc, irq_queue_is_bounded);
  tcase_add_test(tc, timer_thread_raises_and_polls);
  tcase_add_test(tc, latency_from_the_shared_log);
  suite_add_tcase(s, tc);
  return s;
}
