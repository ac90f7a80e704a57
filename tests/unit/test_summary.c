/* test_summary.c - refvmm's summary line of modes says what ran and where a
 * value not given came from: a model run's native paging is the model's
 * default (no VMX, no TLB tagging), never "(host)"; on kvm paging/tlb not
 * given are the host module's. Runs `compute` with a small n (skipped when
 * the image is not built; the kvm case without /dev/kvm). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/session.h"

#define IMAGE "workloads/build/compute.elf"

/* The summary's "backend ..." line of one run, or "" when skipped. */
static void modes_line(const char *backend, const char *paging, char *line, size_t len) {
  line[0] = '\0';
  struct vm_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.image = IMAGE;
  cfg.backend = backend;
  cfg.mem_size = 64ull << 20;
  cfg.timeout_s = 60;
  cfg.quiet = true;
  cfg.params[cfg.nparams++] = "n=1000";
  if (paging) {
    ck_assert_int_eq(paging_mode__parse(paging, &cfg.modes.paging), 0);
    cfg.modes.paging_set = true;
  }
  struct session_opts opts = {.no_probes = true};
  struct session *s = session__new(&cfg, &opts);
  ck_assert_msg(session__prepare(s) == 0, "%s on %s: %s", IMAGE, backend, s->err);
  ck_assert_int_eq(session__run(s), RUN_OK);
  char *text = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&text, &n);
  ck_assert_ptr_nonnull(f);
  summary__print(s, f);
  fclose(f);
  session__free(s);
  const char *l = strstr(text, "\nbackend ");
  ck_assert_msg(l != NULL, "no modes line in the summary:\n%s", text);
  snprintf(line, len, "%.*s", (int)strcspn(l + 1, "\n"), l + 1);
  free(text);
}

START_TEST(test_model_native_is_the_models_default) {
  if (access(IMAGE, R_OK) != 0) {
    printf("test_summary: skipped: %s not built\n", IMAGE);
    return;
  }
  char line[512];
  modes_line("model", NULL, line, sizeof line);
  ck_assert_msg(strstr(line, "paging native (model default: no VMX)") != NULL, "%s", line);
  ck_assert_msg(strstr(line, "tlb n/a (native)") != NULL, "%s", line);
  ck_assert_msg(strstr(line, "(host") == NULL, "a model run claims a host mode: %s", line);
  modes_line("model", "shadow", line, sizeof line);
  ck_assert_msg(strstr(line, "paging shadow  tlb flush (default)") != NULL, "%s", line);
}
END_TEST

START_TEST(test_kvm_unset_axes_are_the_host_modules) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0 || access(IMAGE, R_OK) != 0) {
    printf("test_summary: kvm case skipped: %s\n",
           fd < 0 ? "/dev/kvm not usable" : IMAGE " not built");
    if (fd >= 0) close(fd);
    return;
  }
  close(fd);
  char line[512];
  modes_line("kvm", NULL, line, sizeof line);
  ck_assert_msg(strstr(line, "(host module)") != NULL, "%s", line);
  ck_assert_msg(strstr(line, "native") == NULL, "%s", line);
}
END_TEST

Suite *suite_summary(void) {
  Suite *s = suite_create("summary");
  TCase *tc = tcase_create("modes");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_model_native_is_the_models_default);
  tcase_add_test(tc, test_kvm_unset_axes_are_the_host_modules);
  suite_add_tcase(s, tc);
  return s;
}
