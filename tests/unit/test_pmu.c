/* test_pmu.c - libpfm4 encoding of the default sets (forced PMUs), the
 * unsupported path, software counting, scaling. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np (glibc 2.32) */
#endif
#include <check.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probes/pmu.h"

/* libpfm4 PMU names: Intel Haswell, Skylake, Icelake, Sapphire Rapids; AMD
 * Zen 2, 3, 4. LIBPFM_FORCE_PMU makes libpfm4 encode for them on any host. */
static const char *const forced[] = {
    "hsw", "skl", "icl", "spr", "amd64_fam17h_zen2", "amd64_fam19h_zen3", "amd64_fam19h_zen4",
};

START_TEST(default_sets_encode_for_forced_pmus) {
  const char *name = forced[_i];
  char err[192];
  setenv("LIBPFM_FORCE_PMU", name, 1);
  ck_assert_msg(pmu__lib_reinit(err, sizeof(err)) == 0, "%s", err);
  const char *core = pmu__core_pmu_name();
  ck_assert_msg(core && !strcmp(core, name), "forced %s, libpfm4 reports %s", name,
                core ? core : "none");
  const char *list[32];
  int n = pmu__default_hw_events(core, list, 32);
  ck_assert_int_ge(n, 4);
  /* A model-specific set, not the generic fallback. */
  ck_assert_msg(strncmp(list[0], "perf::", 6) != 0, "%s got the generic set", name);
  char joined[4096] = "";
  int native = 0;
  for (int i = 0; i < n; i++) {
    if (!strncmp(list[i], "perf", 4)) continue; /* perf:: / perf_raw:: are not forced */
    strcat(joined, native++ ? "," : "");
    strcat(joined, list[i]);
  }
  static struct pmu p;
  ck_assert_msg(pmu__init(&p, joined, PMU_VAR_GUEST | PMU_VAR_HOST, err, sizeof(err)) == 0, "%s",
                err);
  ck_assert_int_eq(p.nev, 2 * native);
  bool walk_event = false;
  for (int i = 0; i < p.nev; i++) {
    const struct pmu_event *e = &p.ev[i];
    ck_assert_msg(e->encoded, "%s: %s: %s", name, e->label, e->error);
    ck_assert_uint_eq(e->attr.type, PERF_TYPE_RAW);
    ck_assert_uint_ne(e->attr.config, 0);
    if (e->variant == PMU_VARIANT_GUEST) {
      ck_assert_msg(e->attr.exclude_host && !e->attr.exclude_guest, "%s not guest-only", e->label);
      ck_assert_ptr_nonnull(strstr(e->label, "@guest"));
    } else {
      ck_assert_int_eq(e->variant, PMU_VARIANT_HOST);
      ck_assert_msg(e->attr.exclude_guest && !e->attr.exclude_host, "%s not host-only", e->label);
    }
    /* Event selects from the vendors' manuals: Intel DTLB_LOAD_MISSES is
     * event 0x08 up to Icelake and 0x12 from Golden Cove (spr), AMD Zen
     * LsL1DTlbMiss is PMCx045. */
    if (strstr(e->name, "DTLB_LOAD_MISSES")) {
      ck_assert_uint_eq(e->attr.config & 0xff, strcmp(name, "spr") ? 0x08 : 0x12);
      walk_event = true;
    }
    if (strstr(e->name, "L1_DTLB_MISS")) {
      ck_assert_uint_eq(e->attr.config & 0xff, 0x45);
      walk_event = true;
    }
  }
  ck_assert_msg(walk_event, "%s: no TLB walk event in the default set", name);
  unsetenv("LIBPFM_FORCE_PMU");
  pmu__lib_reinit(err, sizeof(err)); /* back to the real host (matters with CK_FORK=no) */
}
END_TEST

START_TEST(unknown_pmu_gets_generic_set) {
  const char *list[16];
  int n = pmu__default_hw_events("amd64_fam1ah_zen5_not_in_libpfm", list, 16);
  ck_assert_int_ge(n, 2);
  ck_assert_str_eq(list[0], "perf::cycles");
  n = pmu__default_hw_events(NULL, list, 16);
  ck_assert_str_eq(list[0], "perf::cycles");
  ck_assert_int_eq(pmu__default_hw_events("skl", list, 1), 1); /* respects max */
}
END_TEST

static int hw_cycles_open_errno(void) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = PERF_TYPE_HARDWARE;
  a.config = PERF_COUNT_HW_CPU_CYCLES;
  a.disabled = 1;
  int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

/* On a host without a hardware PMU (this one) the hardware events are
 * reported unsupported with errno and reason, the run goes on, and the
 * software events count a busy loop. */
START_TEST(host_defaults_unsupported_and_software) {
  static struct pmu p;
  char err[192];
  ck_assert_msg(pmu__init(&p, NULL, 0, err, sizeof(err)) == 0, "%s", err);
  int opened = pmu__open(&p, 0);
  ck_assert_int_ge(opened, 3);
  int hw_errno = hw_cycles_open_errno();
  ck_assert_int_eq(pmu__start(&p), 0);
  volatile uint64_t x = 0;
  (void)x; /* only the loop's work matters */
  for (uint64_t i = 0; i < 20000000; i++)
    x += i;
  size_t len = 4 << 20;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < len; i += 4096)
    m[i] = 1;
  munmap(m, len);
  ck_assert_int_eq(pmu__stop(&p), 0);
  json_t *j = pmu__to_json(&p);
  int sw = 0, hw = 0;
  for (int i = 0; i < p.nev; i++) {
    const struct pmu_event *e = &p.ev[i];
    json_t *o = json_object_get(j, e->label);
    ck_assert_ptr_nonnull(o);
    if (e->attr.type == PERF_TYPE_SOFTWARE) {
      sw++;
      ck_assert_msg(e->opened, "%s: %s", e->label, e->error);
      ck_assert(json_is_true(json_object_get(o, "supported")));
      ck_assert_str_eq(json_string_value(json_object_get(o, "variant")), "all");
      ck_assert(json_is_integer(json_object_get(o, "scaled")));
      if (!strcmp(e->name, "perf::task-clock") || !strcmp(e->name, "perf::page-faults"))
        ck_assert_msg(e->value > 0, "%s counted 0", e->label);
      if (!strcmp(e->name, "perf::page-faults")) ck_assert_uint_ge(e->value, 1024);
    } else if (e->encoded) {
      hw++;
      if (hw_errno) {
        ck_assert_msg(!e->opened, "%s opened without a hardware PMU", e->label);
        ck_assert_int_eq(e->err, hw_errno);
        ck_assert(json_is_false(json_object_get(o, "supported")));
        ck_assert(json_is_null(json_object_get(o, "value"))); /* never zero */
        ck_assert_ptr_nonnull(
            strstr(json_string_value(json_object_get(o, "error")), "perf_event_open: "));
        ck_assert_str_eq(json_string_value(json_object_get(o, "errno")), strerrorname_np(hw_errno));
      }
    }
  }
  ck_assert_int_eq(sw, 3);
  ck_assert_int_ge(hw, 4);
  printf("pmu on this host: %d opened, hardware perf_event_open %s\n", opened,
         hw_errno ? strerrorname_np(hw_errno) : "works");
  json_decref(j);
  pmu__close(&p);
}
END_TEST

START_TEST(user_list_and_variants) {
  static struct pmu p;
  char err[192];
  ck_assert_int_eq(pmu__init(&p, "perf::task-clock, no_such::event,perf::cycles:mg,perf::cycles",
                             PMU_VAR_GUEST | PMU_VAR_HOST | PMU_VAR_ALL, err, sizeof(err)),
                   0);
  ck_assert_int_eq(p.nev, 1 + 1 + 1 + 3);
  ck_assert_str_eq(p.ev[0].label, "perf::task-clock");
  ck_assert_int_eq(p.ev[0].variant, PMU_VARIANT_ALL);
  ck_assert(!p.ev[1].encoded);
  ck_assert_ptr_nonnull(strstr(p.ev[1].error, "cannot encode 'no_such::event'"));
  ck_assert_int_eq(p.ev[2].variant, PMU_VARIANT_GUEST); /* explicit :mg */
  ck_assert_str_eq(p.ev[2].label, "perf::cycles:mg");
  ck_assert_str_eq(p.ev[3].label, "perf::cycles"); /* variant all: the plain name */
  ck_assert_int_eq(p.ev[3].variant, PMU_VARIANT_ALL);
  ck_assert(!p.ev[3].attr.exclude_guest && !p.ev[3].attr.exclude_host);
  ck_assert_str_eq(p.ev[4].label, "perf::cycles@guest");
  ck_assert_str_eq(p.ev[5].label, "perf::cycles@host");
  pmu__open(&p, 0);
  json_t *j = pmu__to_json(&p);
  json_t *bad = json_object_get(j, "no_such::event");
  ck_assert(json_is_false(json_object_get(bad, "supported")));
  ck_assert(json_is_null(json_object_get(bad, "value")));
  json_decref(j);
  pmu__close(&p);
}
END_TEST

START_TEST(too_many_events) {
  static struct pmu p;
  char err[192] = "", list[PMU_EVENTS_MAX * 20] = "";
  for (int i = 0; i <= PMU_EVENTS_MAX; i++)
    strcat(list, "perf::task-clock,");
  ck_assert_int_eq(pmu__init(&p, list, 0, err, sizeof(err)), -E2BIG);
  ck_assert_ptr_nonnull(strstr(err, "more than"));
}
END_TEST

/* start/stop pairs accumulate; time_enabled grows with the region. */
START_TEST(start_stop_accumulates) {
  static struct pmu p;
  char err[192];
  ck_assert_int_eq(pmu__init(&p, "perf::task-clock", 0, err, sizeof(err)), 0);
  ck_assert_int_eq(pmu__open(&p, 0), 1);
  volatile uint64_t x = 0;
  (void)x; /* only the loop's work matters */
  pmu__start(&p);
  for (uint64_t i = 0; i < 5000000; i++)
    x += i;
  pmu__stop(&p);
  uint64_t first = p.ev[0].value, te1 = p.ev[0].time_enabled;
  ck_assert_uint_gt(first, 0);
  for (uint64_t i = 0; i < 50000000; i++)
    x += i; /* outside: not counted */
  pmu__start(&p);
  for (uint64_t i = 0; i < 5000000; i++)
    x += i;
  pmu__stop(&p);
  ck_assert_uint_gt(p.ev[0].value, first);
  ck_assert_uint_lt(p.ev[0].value, first * 5); /* the big loop outside did not count */
  ck_assert_uint_gt(p.ev[0].time_enabled, te1);
  pmu__clear(&p);
  ck_assert_uint_eq(p.ev[0].value, 0);
  pmu__close(&p);
}
END_TEST

START_TEST(scaling_arithmetic) {
  uint64_t s = 7;
  ck_assert_int_eq(pmu__scale(1000, 200, 100, &s), 0);
  ck_assert_uint_eq(s, 2000);
  ck_assert_int_eq(pmu__scale(1000, 300, 300, &s), 0);
  ck_assert_uint_eq(s, 1000);
  ck_assert_int_eq(pmu__scale(1000, 300, 0, &s), -1); /* never scheduled */
  ck_assert_uint_eq(s, 1000);                         /* untouched */
  ck_assert_int_eq(pmu__scale(0, 0, 0, &s), -1);
  /* raw * enabled overflows 64 bits; the result does not */
  ck_assert_int_eq(pmu__scale(1000000000000000000ull, 10, 5, &s), 0);
  ck_assert_uint_eq(s, 2000000000000000000ull);
  ck_assert_int_eq(pmu__scale(UINT64_MAX, 4, 1, &s), 0);
  ck_assert_uint_eq(s, UINT64_MAX); /* saturates */
  ck_assert_int_eq(pmu__scale(3, 10, 4, &s), 0);
  ck_assert_uint_eq(s, 7); /* floor(7.5) */
}
END_TEST

START_TEST(probe_and_context) {
  json_t *a = pmu__probe_json();
  ck_assert(json_is_array(a));
  ck_assert_uint_ge(json_array_size(a), 3);
  size_t i;
  json_t *e;
  int sw_opened = 0;
  json_array_foreach(a, i, e) {
    ck_assert(json_is_boolean(json_object_get(e, "encoded")));
    ck_assert(json_is_boolean(json_object_get(e, "opened")));
    if (json_is_true(json_object_get(e, "opened")) &&
        !strncmp(json_string_value(json_object_get(e, "event")), "perf::task-clock", 16))
      sw_opened++;
    if (json_is_false(json_object_get(e, "opened")))
      ck_assert(json_is_string(json_object_get(e, "error")));
  }
  ck_assert_int_eq(sw_opened, 1);
  json_decref(a);
  json_t *c = pmu__context_json();
  json_t *peo = json_object_get(c, "perf_event_open");
  ck_assert(json_is_true(json_object_get(peo, "software")));
  ck_assert(json_is_boolean(json_object_get(peo, "hardware")));
  ck_assert_int_eq(json_is_true(json_object_get(peo, "hardware")), hw_cycles_open_errno() == 0);
  ck_assert(json_is_array(json_object_get(c, "pmus_present")));
  json_decref(c);
  char buf[160];
  ck_assert_ptr_nonnull(strstr(pmu__open_errstr(ENOENT, buf, sizeof(buf)), "ENOENT ("));
}
END_TEST

Suite *suite_pmu(void) {
  Suite *s = suite_create("pmu");
  TCase *enc = tcase_create("encoding");
  tcase_add_loop_test(enc, default_sets_encode_for_forced_pmus, 0,
                      (int)(sizeof(forced) / sizeof(forced[0])));
  tcase_add_test(enc, unknown_pmu_gets_generic_set);
  tcase_add_test(enc, user_list_and_variants);
  tcase_add_test(enc, too_many_events);
  suite_add_tcase(s, enc);
  TCase *host = tcase_create("host");
  tcase_add_test(host, host_defaults_unsupported_and_software);
  tcase_add_test(host, start_stop_accumulates);
  tcase_add_test(host, probe_and_context);
  tcase_set_timeout(host, 30);
  suite_add_tcase(s, host);
  TCase *math = tcase_create("scaling");
  tcase_add_test(math, scaling_arithmetic);
  suite_add_tcase(s, math);
  return s;
}
