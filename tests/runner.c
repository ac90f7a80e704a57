/* runner.c - the single Check runner; suites come from the generated
 * SUITES_H (every `Suite *suite_NAME(void)` in the test folder). CK_FORK is
 * on so a crashing test is an error, not a dead runner. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define SUITE(fn) Suite *fn(void);
#include SUITES_H
#undef SUITE

int main(void) {
  SRunner *sr = srunner_create(NULL);
#define SUITE(fn) srunner_add_suite(sr, fn());
#include SUITES_H
#undef SUITE
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  printf("%s tests: %s\n", RUNNER_NAME, failed ? "FAILED" : "passed");
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
