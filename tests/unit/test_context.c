/* test_context.c - the result context: fields present with the right types,
 * values that agree with independent sources, and schema validity. */
#include <check.h>
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "results/context.h"
#include "results/result_doc.h"
#include "tests/lib/schema_check.h"

static char *test_argv[] = {"refvmm", "run", "pio.elf", "--param", "msg=it's here", NULL};
#define TEST_ARGC 5

START_TEST(has_fields) {
  json_t *c = context__collect(TEST_ARGC, test_argv);
  ck_assert_ptr_nonnull(c);
  const char *strings[] = {"date", "host", "os", "command_line", "executable"};
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
    ck_assert_msg(json_is_string(json_object_get(c, strings[i])), "%s not a string", strings[i]);
  const char *objects[] = {"kernel", "cpu", "tool", "kvm"};
  for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
    ck_assert_msg(json_is_object(json_object_get(c, objects[i])), "%s not an object", objects[i]);
  ck_assert(json_is_integer(json_object_get(c, "num_cpus")));
  ck_assert(json_is_integer(json_object_get(c, "mem_total_bytes")));
  /* the bracketed word of the THP mode file, or null where there is none */
  json_t *thp = json_object_get(c, "thp");
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (f) {
    char line[256] = "", want[64] = "";
    ck_assert(fgets(line, sizeof line, f) != NULL);
    fclose(f);
    const char *a = strchr(line, '[');
    ck_assert(a && sscanf(a, "[%63[a-z+]]", want) == 1);
    ck_assert_str_eq(json_string_value(thp), want);
  } else {
    ck_assert(json_is_null(thp));
  }

  char host[256];
  gethostname(host, sizeof(host));
  ck_assert_str_eq(json_string_value(json_object_get(c, "host")), host);
  struct utsname u;
  uname(&u);
  json_t *k = json_object_get(c, "kernel");
  ck_assert_str_eq(json_string_value(json_object_get(k, "release")), u.release);
  ck_assert_str_eq(json_string_value(json_object_get(k, "version")), u.version);
  ck_assert_int_eq(json_integer_value(json_object_get(c, "num_cpus")),
                   sysconf(_SC_NPROCESSORS_ONLN));

  json_t *tool = json_object_get(c, "tool");
  ck_assert_str_eq(json_string_value(json_object_get(tool, "name")), "vtbench");
  ck_assert_str_eq(json_string_value(json_object_get(tool, "version")), VTB_VERSION);
  ck_assert_str_eq(json_string_value(json_object_get(tool, "git_revision")), VTB_GIT_REV);

  json_t *argv = json_object_get(c, "argv");
  ck_assert_int_eq(json_array_size(argv), TEST_ARGC);
  ck_assert_str_eq(json_string_value(json_array_get(argv, 4)), "msg=it's here");
  ck_assert_str_eq(json_string_value(json_object_get(c, "command_line")),
                   "refvmm run pio.elf --param 'msg=it'\\''s here'");

  /* date: ISO 8601 UTC, within a minute of now */
  struct tm tm = {0};
  const char *date = json_string_value(json_object_get(c, "date"));
  ck_assert_ptr_nonnull(strptime(date, "%Y-%m-%dT%H:%M:%SZ", &tm));
  ck_assert_int_eq(strlen(date), 20);
  ck_assert_int_lt(labs((long)(timegm(&tm) - time(NULL))), 60);

  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "kvm"), "sysfs_root")),
                   "/sys");
  json_decref(c);
}
END_TEST

START_TEST(cpu_matches_cpuid) {
  unsigned a, b, cx, d;
  char vendor[13] = "";
  ck_assert(__get_cpuid(0, &a, &b, &cx, &d));
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &cx, 4);
  json_t *cpu = context__cpu();
  ck_assert_str_eq(json_string_value(json_object_get(cpu, "vendor")), vendor);
  ck_assert(__get_cpuid(1, &a, &b, &cx, &d));
  ck_assert_int_eq(json_integer_value(json_object_get(cpu, "stepping")), a & 0xf);
  json_t *flags = json_object_get(cpu, "flags");
  ck_assert(json_is_boolean(json_object_get(flags, "hypervisor")));
  ck_assert_int_eq(json_is_true(json_object_get(flags, "hypervisor")), !!(cx & (1u << 31)));
  ck_assert_int_eq(json_is_true(json_object_get(flags, "vmx")), !!(cx & (1u << 5)));
  /* family as /proc/cpuinfo reports it (the kernel decodes the same bits) */
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  long family = -1, model = -1;
  while (f && fgets(line, sizeof(line), f)) {
    if (family < 0 && sscanf(line, "cpu family : %ld", &family) == 1) continue;
    if (model < 0 && strncmp(line, "model\t", 6) == 0) sscanf(line, "model : %ld", &model);
    if (family >= 0 && model >= 0) break;
  }
  if (f) fclose(f);
  if (family >= 0) ck_assert_int_eq(json_integer_value(json_object_get(cpu, "family")), family);
  if (model >= 0) ck_assert_int_eq(json_integer_value(json_object_get(cpu, "model")), model);
  json_decref(cpu);
}
END_TEST

START_TEST(join_argv_quotes) {
  char buf[64];
  char *av[] = {"a", "", "b c", "x'y", NULL};
  context__join_argv(4, av, buf, sizeof(buf));
  ck_assert_str_eq(buf, "a '' 'b c' 'x'\\''y'");
  context__join_argv(0, av, buf, sizeof(buf));
  ck_assert_str_eq(buf, "");
  char small[6];
  context__join_argv(4, av, small, sizeof(small));
  ck_assert_int_eq(strlen(small), 5); /* truncated, terminated */
}
END_TEST

START_TEST(validates_against_schema) {
  char path[] = "/tmp/vtb-test-context-XXXXXX", err[4096];
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  json_t *c = context__collect(TEST_ARGC, test_argv);
  json_object_set_new(c, "tsc_hz", json_integer(2596000000LL));
  json_t *doc = result_doc__new(c);
  ck_assert_int_eq(result_doc__write(doc, path), 0);
  int rc = schema_check__file(path, err, sizeof(err));
  unlink(path);
  ck_assert_msg(rc == 0, "schema check (%d): %s", rc, err);
  /* and the check does catch a broken context */
  json_object_del(json_object_get(doc, "context"), "tool");
  json_object_set_new(json_object_get(doc, "context"), "num_cpus", json_string("two"));
  rc = schema_check__json(doc, err, sizeof(err));
  ck_assert_msg(rc == 1 && strstr(err, "$.context") && strstr(err, "tool") &&
                    strstr(err, "num_cpus"),
                "rc %d: %s", rc, err);
  json_decref(doc);
}
END_TEST

Suite *suite_context(void) {
  Suite *s = suite_create("context");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, has_fields);
  tcase_add_test(tc, cpu_matches_cpuid);
  tcase_add_test(tc, join_argv_quotes);
  tcase_add_test(tc, validates_against_schema);
  suite_add_tcase(s, tc);
  return s;
}
