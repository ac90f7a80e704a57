/* test_modes.c - mode names/parsers round trip and the run-status
 * vocabulary (JSON status strings, process exit codes). */
#include <check.h>
#include <string.h>

#include "refvmm/exit_codes.h"
#include "refvmm/vm.h"

START_TEST(paging_round_trip) {
  const char *words[] = {"shadow", "ept", "native"};
  for (unsigned i = 0; i < 3; i++) {
    enum paging_mode m = (enum paging_mode)99;
    ck_assert_int_eq(paging_mode__parse(words[i], &m), 0);
    ck_assert_int_eq(m, (int)i);
    ck_assert_str_eq(paging_mode__name(m), words[i]);
  }
  ck_assert_int_eq(PAGING_SHADOW, 0); /* parse order above follows the enum */
  ck_assert_int_eq(PAGING_NATIVE, 2);
}
END_TEST

START_TEST(tlb_and_event_round_trip) {
  enum tlb_mode t;
  ck_assert_int_eq(tlb_mode__parse("flush", &t), 0);
  ck_assert_int_eq(t, TLB_FLUSH);
  ck_assert_int_eq(tlb_mode__parse("vpid", &t), 0);
  ck_assert_int_eq(t, TLB_VPID);
  ck_assert_str_eq(tlb_mode__name(TLB_VPID), "vpid");
  ck_assert_str_eq(tlb_mode__name(TLB_FLUSH), "flush");
  enum event_mode e;
  ck_assert_int_eq(event_mode__parse("poll", &e), 0);
  ck_assert_int_eq(e, EVENT_POLL);
  ck_assert_int_eq(event_mode__parse("window", &e), 0);
  ck_assert_int_eq(e, EVENT_WINDOW);
  ck_assert_str_eq(event_mode__name(EVENT_POLL), "poll");
  ck_assert_str_eq(event_mode__name(EVENT_WINDOW), "window");
}
END_TEST

START_TEST(parse_rejects_unknown_and_leaves_output) {
  enum paging_mode p = PAGING_EPT;
  ck_assert_int_eq(paging_mode__parse("Shadow", &p), -1); /* case matters */
  ck_assert_int_eq(paging_mode__parse("", &p), -1);
  ck_assert_int_eq(paging_mode__parse("eptx", &p), -1);
  ck_assert_int_eq(paging_mode__parse("ep", &p), -1);
  ck_assert_int_eq(paging_mode__parse(NULL, &p), -1);
  ck_assert_int_eq(p, PAGING_EPT);
  enum tlb_mode t = TLB_VPID;
  ck_assert_int_eq(tlb_mode__parse("poll", &t), -1); /* a word of another axis */
  ck_assert_int_eq(t, TLB_VPID);
  enum event_mode e = EVENT_WINDOW;
  ck_assert_int_eq(event_mode__parse("vpid", &e), -1);
  ck_assert_int_eq(e, EVENT_WINDOW);
}
END_TEST

START_TEST(names_out_of_range) {
  ck_assert_str_eq(paging_mode__name((enum paging_mode)7), "unknown");
  ck_assert_str_eq(tlb_mode__name((enum tlb_mode) - 1), "unknown");
  ck_assert_str_eq(event_mode__name((enum event_mode)2), "unknown");
  ck_assert_str_eq(run_status__name(RUN_STATUS_COUNT), "unknown");
  ck_assert_int_eq(run_status__exit_code(RUN_STATUS_COUNT), EXIT_HOST);
}
END_TEST

START_TEST(run_status_names_and_codes) {
  static const struct {
    enum run_status s;
    const char *name;
    int code;
  } want[] = {
      {RUN_OK, "ok", EXIT_OK},
      {RUN_GUEST_FAILED, "guest_failed", EXIT_GUEST_FAILED},
      {RUN_GUEST_EXCEPTION, "guest_exception", EXIT_GUEST_EXCEPTION},
      {RUN_TRIPLE_FAULT, "triple_fault", EXIT_TRIPLE_FAULT},
      {RUN_TIMEOUT, "timeout", EXIT_TIMEOUT},
      {RUN_INTERNAL_ERROR, "internal_error", EXIT_INTERNAL_ERROR},
      {RUN_FAILED_ENTRY, "failed_entry", EXIT_FAILED_ENTRY},
      {RUN_BAD_HYPERCALL, "bad_hypercall", EXIT_BAD_HYPERCALL},
      {RUN_HOST_ERROR, "host_error", EXIT_HOST},
  };
  ck_assert_int_eq(sizeof(want) / sizeof(want[0]), RUN_STATUS_COUNT);
  for (unsigned i = 0; i < RUN_STATUS_COUNT; i++) {
    ck_assert_str_eq(run_status__name(want[i].s), want[i].name);
    ck_assert_int_eq(run_status__exit_code(want[i].s), want[i].code);
  }
}
END_TEST

START_TEST(run_status_codes_distinct) {
  /* Scripts tell outcomes apart by exit code alone. */
  for (int a = 0; a < RUN_STATUS_COUNT; a++)
    for (int b = a + 1; b < RUN_STATUS_COUNT; b++) {
      ck_assert_int_ne(run_status__exit_code(a), run_status__exit_code(b));
      ck_assert_str_ne(run_status__name(a), run_status__name(b));
    }
}
END_TEST

Suite *suite_modes(void) {
  Suite *s = suite_create("modes");
  TCase *tc = tcase_create("modes");
  tcase_add_test(tc, paging_round_trip);
  tcase_add_test(tc, tlb_and_event_round_trip);
  tcase_add_test(tc, parse_rejects_unknown_and_leaves_output);
  tcase_add_test(tc, names_out_of_range);
  suite_add_tcase(s, tc);
  tc = tcase_create("run_status");
  tcase_add_test(tc, run_status_names_and_codes);
  tcase_add_test(tc, run_status_codes_distinct);
  suite_add_tcase(s, tc);
  return s;
}
