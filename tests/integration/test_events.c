/* test_events.c - refvmm's event delivery policies on /dev/kvm:
 * nmistorm and irqstorm under --nmi/--irq window and poll deliver every
 * raised event exactly once; window adds no poll kicks; poll kicks and,
 * with the guest blocking longer than the raise lead, waits longer; the
 * periodic VMM sources account for every event; bad options are refused.
 * Skips with a printed reason where /dev/kvm is missing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/exit_codes.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"

/* Small runs: 30 events, each raised 200 us after the previous handler
 * began while that handler blocks for 1000 us, so every event after the
 * first arrives blocked and waits ~800 us under window. */
#define N_EVENTS     "30"
#define N_EVENTS_INT 30

/* Host references (docs in workloads/nmistorm.c, irqstorm.c). */
static uint64_t ref_nmistorm(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t k = 1; k <= n; k++)
    s += itest__mix64(k);
  return s;
}
static uint64_t ref_irqstorm(uint64_t n, uint64_t vector) {
  uint64_t s = 0;
  for (uint64_t k = 1; k <= n; k++)
    s += itest__mix64(k ^ vector);
  return s;
}

static json_t *at(const struct refvmm_result *r, const char *a, const char *b, const char *c) {
  json_t *j = json_object_get(r->run, a);
  if (b) j = json_object_get(j, b);
  if (c) j = json_object_get(j, c);
  return j;
}

static uint64_t ev_u64(const struct refvmm_result *r, const char *kind, const char *field) {
  json_t *j = at(r, "events", kind, field);
  ck_assert_msg(json_is_integer(j), "events.%s.%s missing", kind, field);
  return (uint64_t)json_integer_value(j);
}

static double ev_lat(const struct refvmm_result *r, const char *kind, const char *field) {
  json_t *j = json_object_get(at(r, "events", kind, "latency_ns"), field);
  ck_assert_msg(json_is_number(j), "events.%s.latency_ns.%s missing", kind, field);
  return json_number_value(j);
}

/* Run `image` with `--KIND policy`; checks that hold for both policies. */
static void run_storm(struct refvmm_result *r, const char *image, const char *kind,
                      const char *policy, const char *poll_us) {
  itest__require_image(image);
  char opt[16];
  snprintf(opt, sizeof opt, "--%s", kind);
  const char *args[] = {"run",         image,     "--quiet",       opt,       policy,
                        "--poll-us",   poll_us,   "--timeout",     "30",      "--param",
                        "n=" N_EVENTS, "--param", "period_us=200", "--param", "block_us=1000",
                        NULL};
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  ck_assert_msg(r->exit_code == EXIT_OK, "%s --%s %s: exit %d; stderr: %s", image, kind, policy,
                r->exit_code, r->err);
  itest__assert_record(r); /* validated against the schema by run_refvmm() */
  ck_assert_str_eq(json_string_value(at(r, "events", kind, "policy")), policy);
  /* every raised event delivered exactly once */
  ck_assert_uint_eq(ev_u64(r, kind, "raised"), N_EVENTS_INT);
  ck_assert_uint_eq(ev_u64(r, kind, "delivered"), N_EVENTS_INT);
  ck_assert_uint_eq(ev_u64(r, kind, "merged"), 0);
  ck_assert_uint_eq(ev_u64(r, kind, "pending_at_end"), 0);
  char key[32];
  snprintf(key, sizeof key, "%s.count", kind);
  ck_assert_uint_eq(itest__guest_report(r, key), N_EVENTS_INT);
  ck_assert_uint_eq(ev_u64(r, kind, "raise_kicks"), N_EVENTS_INT);
  /* latency from the guest's log: one sample per event, ordered stats */
  ck_assert_uint_eq(
      (uint64_t)json_integer_value(json_object_get(at(r, "events", kind, "latency_ns"), "samples")),
      N_EVENTS_INT);
  ck_assert(ev_lat(r, kind, "min") > 0);
  ck_assert(ev_lat(r, kind, "min") <= ev_lat(r, kind, "p50"));
  ck_assert(ev_lat(r, kind, "p50") <= ev_lat(r, kind, "max"));
}

static void check_window_vs_poll(const char *image, const char *kind, uint64_t checksum) {
  if (itest__kvm_missing()) return;
  struct refvmm_result w, p;
  run_storm(&w, image, kind, "window", "1000");
  run_storm(&p, image, kind, "poll", "3000");
  ck_assert_uint_eq(itest__u64_at(&w, "guest.checksum"), checksum);
  ck_assert_uint_eq(itest__u64_at(&p, "guest.checksum"), checksum);
  /* window: no poll kicks, nothing checked in vain */
  ck_assert_uint_eq(ev_u64(&w, kind, "poll_kicks"), 0);
  ck_assert_uint_eq(ev_u64(&w, kind, "blocked_checks"), 0);
  /* poll: kicks while the guest blocks (~800 us per event) */
  ck_assert_uint_gt(ev_u64(&p, kind, "poll_kicks"), N_EVENTS_INT / 2);
  ck_assert_uint_gt(ev_u64(&p, kind, "blocked_checks"), 0);
  ck_assert_uint_eq(ev_u64(&p, kind, "window_exits"), 0);
  /* each event waits for the next poll after the block ends (~3000 us
   * after the raise) instead of the end of the block (~800 us): longer.
   * Medians: a loaded host stretches single events. */
  double wm = ev_lat(&w, kind, "p50"), pm = ev_lat(&p, kind, "p50");
  printf("%s: median latency window %.0f us, poll %.0f us; poll kicks %llu\n", kind, wm / 1e3,
         pm / 1e3, (unsigned long long)ev_u64(&p, kind, "poll_kicks"));
  ck_assert_msg(pm > wm, "poll median %.0f ns not above window median %.0f ns", pm, wm);
  refvmm_result__free(&w);
  refvmm_result__free(&p);
}

START_TEST(nmistorm_window_and_poll) {
  check_window_vs_poll(IMG("nmistorm"), "nmi", ref_nmistorm(N_EVENTS_INT));
}
END_TEST

START_TEST(irqstorm_window_and_poll) {
  check_window_vs_poll(IMG("irqstorm"), "irq", ref_irqstorm(N_EVENTS_INT, 0x40));
}
END_TEST

/* irqstorm's window policy: the IRQ raised under IF=0 is injected at the
 * interrupt window: an IRQ_WINDOW_OPEN exit per event that found IF=0
 * (nearly all; host timer slack may let one arrive after the block). */
START_TEST(irq_window_uses_window_exits) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_storm(&r, IMG("irqstorm"), "irq", "window", "100");
  ck_assert_uint_ge(ev_u64(&r, "irq", "window_exits"), N_EVENTS_INT / 2);
  ck_assert_uint_eq(itest__guest_report(&r, "irq.wrong_vector"), 0);
  refvmm_result__free(&r);
}
END_TEST

/* nmistorm's rate mode: NMIs at random phases, some while the handler
 * blocks; those raised while one waits coalesce. Every NMI is accounted
 * for, the guest saw exactly the ones delivered, and poll checks in vain
 * while the guest is blocked. */
START_TEST(nmistorm_rate_mode_accounts_for_every_nmi) {
  if (itest__kvm_missing()) return;
  const char *policies[] = {"window", "poll"};
  for (int i = 0; i < 2; i++) {
    struct refvmm_result r;
    const char *args[] = {
        "run",     IMG("nmistorm"), "--quiet", "--nmi",     policies[i], "--timeout",    "30",
        "--param", "n=100",         "--param", "rate=1000", "--param",   "block_us=300", NULL};
    ck_assert_int_eq(run_refvmm(&r, true, args), 0);
    ck_assert_msg(r.exit_code == EXIT_OK, "exit %d; stderr: %s", r.exit_code, r.err);
    uint64_t delivered = ev_u64(&r, "nmi", "delivered");
    ck_assert_uint_eq(ev_u64(&r, "nmi", "raised"), 100);
    ck_assert_uint_eq(delivered + ev_u64(&r, "nmi", "merged"), 100);
    ck_assert_uint_eq(itest__guest_report(&r, "nmi.count"), delivered);
    uint64_t sum = 0;
    for (uint64_t k = 1; k <= delivered; k++)
      sum += itest__mix64(k);
    ck_assert_uint_eq(itest__u64_at(&r, "guest.checksum"), sum);
    if (i == 0) ck_assert_uint_eq(ev_u64(&r, "nmi", "poll_kicks"), 0);
    refvmm_result__free(&r);
  }
}
END_TEST

/* Periodic VMM sources: raised = delivered + merged (+ one pending). */
START_TEST(periodic_sources_account_for_every_event) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *args[] = {"run",        IMG("compute"), "--quiet",    "--nmi-rate", "2000",
                        "--irq-rate", "1000",         "--nmi",      "poll",       "--timeout",
                        "30",         "--param",      "n=30000000", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  ck_assert_msg(r.exit_code == EXIT_OK, "exit %d; stderr: %s", r.exit_code, r.err);
  uint64_t raised = ev_u64(&r, "nmi", "raised");
  ck_assert_uint_gt(raised, 0);
  ck_assert_uint_eq(raised, ev_u64(&r, "nmi", "delivered") + ev_u64(&r, "nmi", "merged") +
                                ev_u64(&r, "nmi", "pending_at_end"));
  /* compute's ring 3 runs with IF=0: its IRQs wait (none is lost) */
  uint64_t iraised = ev_u64(&r, "irq", "raised");
  ck_assert_uint_eq(iraised, ev_u64(&r, "irq", "delivered") + ev_u64(&r, "irq", "dropped") +
                                 ev_u64(&r, "irq", "pending_at_end"));
  ck_assert_uint_eq(itest__guest_report(&r, "checksum"), itest__u64_at(&r, "guest.checksum"));
  refvmm_result__free(&r);
}
END_TEST

START_TEST(bad_event_options_are_refused) {
  const char *bad[][3] = {{"--poll-us", "0", "--poll-us"},
                          {"--nmi-rate", "-5", "--nmi-rate"},
                          {"--irq-vector", "7", "--irq-vector"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct refvmm_result r;
    const char *args[] = {"run", IMG("compute"), bad[i][0], bad[i][1], NULL};
    ck_assert_int_eq(run_refvmm(&r, false, args), 0);
    ck_assert_int_eq(r.exit_code, EXIT_USAGE);
    ck_assert_msg(strstr(r.err, bad[i][2]) != NULL, "message does not name %s: %s", bad[i][2],
                  r.err);
    refvmm_result__free(&r);
  }
}
END_TEST

Suite *suite_events(void) {
  Suite *s = suite_create("events");
  TCase *tc = tcase_create("kvm");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, nmistorm_window_and_poll);
  tcase_add_test(tc, irqstorm_window_and_poll);
  tcase_add_test(tc, irq_window_uses_window_exits);
  tcase_add_test(tc, nmistorm_rate_mode_accounts_for_every_nmi);
  tcase_add_test(tc, periodic_sources_account_for_every_event);
  tcase_add_test(tc, bad_event_options_are_refused);
  suite_add_tcase(s, tc);
  return s;
}
