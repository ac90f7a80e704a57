/* test_validate_checks.c - the PASS/FAIL lines and summary every checking
 * command prints (vtbench/checklist.c), and how `vtbench validate` turns a
 * compared row into one: inside the band PASS, outside it FAIL unless the
 * documentation explains the difference (XFAIL), KVM's named host exits
 * widening the band of an exits row above the model only. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtbench/checklist.h"
#include "vtbench/validate.h"

START_TEST(lines_and_summary) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  struct checklist c;
  checklist__init(&c, f);
  checklist__add(&c, CHECK_PASS, "a %d", 1);
  checklist__check(&c, false, "b");
  checklist__add(&c, CHECK_XFAIL, "c (known: why)");
  checklist__add(&c, CHECK_SKIP, "d");
  checklist__check(&c, true, "e");
  checklist__summary(&c);
  ck_assert(!checklist__ok(&c));
  fclose(f);
  ck_assert_str_eq(buf, "PASS a 1\nFAIL b\nXFAIL c (known: why)\nSKIP d\nPASS e\n"
                        "2 passed, 1 failed (1 known difference, 1 skipped)\n");
  free(buf);
}
END_TEST

START_TEST(all_passed_is_ok) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  struct checklist c;
  checklist__init(&c, f);
  checklist__check(&c, true, "x");
  checklist__add(&c, CHECK_XFAIL, "y");
  checklist__summary(&c);
  ck_assert(checklist__ok(&c));
  fclose(f);
  ck_assert_str_eq(buf, "PASS x\nXFAIL y\n1 passed, 0 failed (1 known difference)\n");
  free(buf);
}
END_TEST

START_TEST(row_checks) {
  char t[400];
  ck_assert_int_eq(
      validate__row_check("pgfault", "pf_guest", VALIDATE_KIND_EMU0, 500, 500, 0, t, sizeof t),
      CHECK_PASS);
  ck_assert_str_eq(t, "pgfault pf_guest kvm 500 model 500 (exact)");
  /* outside max(3, 1%) and not explained: a failure naming the tolerance */
  ck_assert_int_eq(validate__row_check("forkwait", "mmu_cache_miss", VALIDATE_KIND_NATIVE, 77, 83,
                                       0, t, sizeof t),
                   CHECK_FAIL);
  ck_assert_str_eq(t, "forkwait mmu_cache_miss kvm 77 model 83 (1.078x, tolerance max(3, 1%))");
  /* the same row on the host kind the documentation explains */
  ck_assert_int_eq(
      validate__row_check("forkwait", "mmu_cache_miss", VALIDATE_KIND_EMU0, 77, 83, 0, t, sizeof t),
      CHECK_XFAIL);
  ck_assert_ptr_nonnull(strstr(t, "(known: "));
  /* host exits KVM names widen the band above the model, not below */
  ck_assert_int_eq(
      validate__row_check("pgfault", "exits", VALIDATE_KIND_EMU0, 2028, 2002, 20, t, sizeof t),
      CHECK_PASS);
  ck_assert_str_eq(t, "pgfault exits kvm 2028 model 2002 (agree; KVM counted 20 host exits)");
  ck_assert_int_eq(
      validate__row_check("pgfault", "exits", VALIDATE_KIND_EMU0, 2028, 2002, 5, t, sizeof t),
      CHECK_FAIL);
  ck_assert_int_eq(
      validate__row_check("pgfault", "exits", VALIDATE_KIND_EMU0, 2002, 2030, 40, t, sizeof t),
      CHECK_FAIL);
}
END_TEST

Suite *suite_validate_checks(void) {
  Suite *s = suite_create("validate_checks");
  TCase *tc = tcase_create("checks");
  tcase_add_test(tc, lines_and_summary);
  tcase_add_test(tc, all_passed_is_ok);
  tcase_add_test(tc, row_checks);
  suite_add_tcase(s, tc);
  return s;
}
