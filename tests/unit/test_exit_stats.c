/* test_exit_stats.c - log2 histograms, quantiles, sub-reason slots, JSON. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probes/exit_stats.h"
#include "probes/timing.h"

static const char *names(uint32_t r) {
  static const char *const n[] = {"unknown", "exception", "hypercall", "debug", "hlt"};
  return r < 5 ? n[r] : NULL;
}

START_TEST(hist_bucketing) {
  struct log2_hist h;
  log2_hist__init(&h);
  const uint64_t vals[] = {0, 1, 2, 3, 4, 7, 8, 1023, 1024, UINT64_MAX};
  const unsigned want[] = {0, 0, 1, 1, 2, 2, 3, 9, 10, 63};
  for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
    uint64_t before = h.bucket[want[i]];
    log2_hist__add(&h, vals[i]);
    ck_assert_msg(h.bucket[want[i]] == before + 1, "value %llu not in bucket %u",
                  (unsigned long long)vals[i], want[i]);
  }
  ck_assert_uint_eq(h.count, 10);
  ck_assert_uint_eq(h.min, 0);
  ck_assert_uint_eq(h.max, UINT64_MAX);
  uint64_t total = 0;
  for (int b = 0; b < HIST_BUCKETS; b++)
    total += h.bucket[b];
  ck_assert_uint_eq(total, h.count);
}
END_TEST

START_TEST(quantile_empty) {
  struct log2_hist h;
  log2_hist__init(&h);
  ck_assert_uint_eq(log2_hist__quantile(&h, 0.5), 0);
  ck_assert_uint_eq(log2_hist__quantile(&h, 0.99), 0);
}
END_TEST

START_TEST(quantile_single_and_equal) {
  struct log2_hist h;
  log2_hist__init(&h);
  log2_hist__add(&h, 777);
  ck_assert_uint_eq(log2_hist__quantile(&h, 0.0), 777);
  ck_assert_uint_eq(log2_hist__quantile(&h, 0.5), 777);
  ck_assert_uint_eq(log2_hist__quantile(&h, 1.0), 777);
  for (int i = 0; i < 1000; i++)
    log2_hist__add(&h, 777);
  ck_assert_uint_eq(log2_hist__quantile(&h, 0.5), 777);
  ck_assert_uint_eq(log2_hist__quantile(&h, 0.99), 777);
}
END_TEST

/* Uniform 1..1000: interpolation inside the bucket (narrowed to [min,max])
 * lands within 1% of the true quantile. */
START_TEST(quantile_uniform) {
  struct log2_hist h;
  log2_hist__init(&h);
  for (uint64_t v = 1; v <= 1000; v++)
    log2_hist__add(&h, v);
  const double qs[] = {0.1, 0.25, 0.5, 0.9, 0.99};
  for (unsigned i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
    double want = qs[i] * 1000;
    double got = (double)log2_hist__quantile(&h, qs[i]);
    ck_assert_msg(got >= want * 0.97 - 1 && got <= want * 1.03 + 1, "q=%.2f: got %.0f want %.0f",
                  qs[i], got, want);
  }
  ck_assert_uint_eq(log2_hist__quantile(&h, 0), 1);
  ck_assert_uint_eq(log2_hist__quantile(&h, 1), 1000);
  /* monotonic in q */
  uint64_t prev = 0;
  for (double q = 0; q <= 1.0; q += 0.01) {
    uint64_t v = log2_hist__quantile(&h, q);
    ck_assert_uint_ge(v, prev);
    prev = v;
  }
}
END_TEST

/* Two clusters: the quantile lands in the right cluster's bucket. */
START_TEST(quantile_bimodal) {
  struct log2_hist h;
  log2_hist__init(&h);
  for (int i = 0; i < 900; i++)
    log2_hist__add(&h, 100);
  for (int i = 0; i < 100; i++)
    log2_hist__add(&h, 100000);
  uint64_t p50 = log2_hist__quantile(&h, 0.5), p99 = log2_hist__quantile(&h, 0.99);
  ck_assert_uint_ge(p50, 64);
  ck_assert_uint_le(p50, 127);
  ck_assert_uint_ge(p99, 65536);
  ck_assert_uint_le(p99, 100000);
}
END_TEST

START_TEST(record_disabled_is_noop) {
  static struct exit_stats s;
  exit_stats__init(&s, 1000000000, names);
  exit_stats__record(&s, 2, EXIT_SUB_NONE, 0, 10);
  ck_assert_uint_eq(s.total, 0);
  s.enabled = true;
  exit_stats__record(&s, 2, EXIT_SUB_NONE, 0, 10);
  exit_stats__record(&s, 200, EXIT_SUB_NONE, 0, 10); /* out of range -> "other" */
  ck_assert_uint_eq(s.total, 2);
  ck_assert_uint_eq(s.by_reason[2].count, 1);
  ck_assert_uint_eq(s.by_reason[EXIT_REASONS_MAX - 1].count, 1);
  ck_assert_str_eq(exit_stats__reason_name(&s, EXIT_REASONS_MAX - 1), "other");
}
END_TEST

START_TEST(sub_slots_and_overflow) {
  static struct exit_stats s;
  exit_stats__init(&s, 0, names);
  s.enabled = true;
  /* Fill every slot with distinct ports (including ones that collide in
   * the hash), then one more must overflow. */
  for (uint64_t k = 0; k < EXIT_SUBS_MAX; k++)
    for (uint64_t r = 0; r <= k % 3; r++)
      exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, k * 64, r);
  ck_assert_int_eq(s.nsubs, EXIT_SUBS_MAX);
  ck_assert_uint_eq(s.sub_overflow, 0);
  for (uint64_t k = 0; k < EXIT_SUBS_MAX; k++) {
    struct exit_sub *sub = exit_stats__find_sub(&s, EXIT_SUB_IO_PORT, k * 64, false);
    ck_assert_ptr_nonnull(sub);
    ck_assert_uint_eq(sub->lat.count, k % 3 + 1);
  }
  exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, 0xdead, 5);
  exit_stats__record(&s, 2, EXIT_SUB_MMIO_PAGE, 0, 5); /* same key, other kind: new */
  ck_assert_uint_eq(s.sub_overflow, 2);
  ck_assert_ptr_null(exit_stats__find_sub(&s, EXIT_SUB_IO_PORT, 0xdead, false));
  /* existing keys still counted when full */
  exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, 64, 5);
  ck_assert_uint_eq(exit_stats__find_sub(&s, EXIT_SUB_IO_PORT, 64, false)->lat.count, 3);
  exit_stats__reset(&s);
  ck_assert_int_eq(s.nsubs, 0);
  ck_assert_uint_eq(s.total, 0);
  ck_assert(s.enabled);
}
END_TEST

START_TEST(sub_kinds_are_distinct) {
  static struct exit_stats s;
  exit_stats__init(&s, 0, names);
  s.enabled = true;
  exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, 0x3f8, 1);
  exit_stats__record(&s, 6, EXIT_SUB_MMIO_PAGE, 0x3f8, 1);
  exit_stats__record(&s, 6, EXIT_SUB_HYPERCALL, 0x3f8, 1);
  ck_assert_int_eq(s.nsubs, 3);
}
END_TEST

START_TEST(json_shape) {
  static struct exit_stats s;
  exit_stats__init(&s, 2000000000ull, names); /* 2 GHz: 1 tick = 0.5 ns */
  s.enabled = true;
  for (int i = 0; i < 1000; i++)
    exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, 0x3f8, 2000);
  exit_stats__record(&s, 4, EXIT_SUB_NONE, 0, 20000);
  json_t *j = exit_stats__to_json(&s);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 1001);
  json_t *by = json_object_get(j, "by_reason");
  ck_assert_int_eq(json_object_size(by), 2);
  json_t *hc = json_object_get(by, "hypercall");
  ck_assert_ptr_nonnull(hc);
  ck_assert_int_eq(json_integer_value(json_object_get(hc, "count")), 1000);
  json_t *lat = json_object_get(hc, "latency_ns");
  ck_assert_int_eq(json_integer_value(json_object_get(lat, "min")), 1000);
  ck_assert_int_eq(json_integer_value(json_object_get(lat, "p50")), 1000);
  ck_assert_int_eq(json_integer_value(json_object_get(lat, "p99")), 1000);
  ck_assert_int_eq(json_integer_value(json_object_get(lat, "max")), 1000);
  json_t *hist = json_object_get(hc, "hist");
  ck_assert(json_is_array(hist));
  ck_assert_int_eq(json_array_size(hist), 1); /* only non-empty buckets */
  json_t *b = json_array_get(hist, 0);
  /* 2000 ticks is in [1024, 2048) ticks = [512, 1024) ns */
  ck_assert_int_eq(json_integer_value(json_object_get(b, "lo_ns")), 512);
  ck_assert_int_eq(json_integer_value(json_object_get(b, "hi_ns")), 1024);
  ck_assert_int_eq(json_integer_value(json_object_get(b, "count")), 1000);
  ck_assert_ptr_nonnull(json_object_get(by, "hlt"));
  json_t *subs = json_object_get(j, "by_sub");
  ck_assert_int_eq(json_array_size(subs), 1);
  json_t *s0 = json_array_get(subs, 0);
  ck_assert_str_eq(json_string_value(json_object_get(s0, "kind")), "io_port");
  ck_assert_int_eq(json_integer_value(json_object_get(s0, "key")), 0x3f8);
  ck_assert_int_eq(json_integer_value(json_object_get(s0, "count")), 1000);
  json_decref(j);
}
END_TEST

START_TEST(json_without_tsc_hz) {
  static struct exit_stats s;
  exit_stats__init(&s, 0, names);
  s.enabled = true;
  exit_stats__record(&s, 2, EXIT_SUB_NONE, 0, 100);
  json_t *j = exit_stats__to_json(&s);
  json_t *lat =
      json_object_get(json_object_get(json_object_get(j, "by_reason"), "hypercall"), "latency_ns");
  ck_assert(json_is_null(json_object_get(lat, "p50")));
  json_decref(j);
}
END_TEST

START_TEST(print_table) {
  static struct exit_stats s;
  exit_stats__init(&s, 1000000000ull, names);
  s.enabled = true;
  for (int i = 0; i < 3; i++)
    exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, 0x3f8, 9000);
  exit_stats__record(&s, 4, EXIT_SUB_NONE, 0, 1000);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  exit_stats__print(&s, f);
  fclose(f);
  ck_assert_ptr_nonnull(strstr(buf, "hypercall"));
  ck_assert_ptr_nonnull(strstr(buf, "75.00%"));
  ck_assert_ptr_nonnull(strstr(buf, "io_port 0x3f8"));
  ck_assert_ptr_nonnull(strstr(buf, " 9000 ")); /* 9000 ticks at 1 GHz = 9000 ns */
  ck_assert_ptr_nonnull(strstr(buf, "p50 ns"));
  free(buf);
}
END_TEST

/* The exit path must be cheap: measure and bound (generously; the figures
 * are printed for the record). */
START_TEST(record_cost) {
  static struct exit_stats s;
  exit_stats__init(&s, timing__tsc_hz(), names);
  s.enabled = true;
  enum { N = 2000000 };
  uint64_t t0 = timing__mono_ns();
  for (uint32_t i = 0; i < N; i++)
    exit_stats__record(&s, 2 + (i & 3), EXIT_SUB_NONE, 0, 500 + (i & 1023));
  uint64_t t1 = timing__mono_ns();
  for (uint32_t i = 0; i < N; i++)
    exit_stats__record(&s, 2 + (i & 3), EXIT_SUB_IO_PORT, 0x3f8 + (i & 7), 500 + (i & 1023));
  uint64_t t2 = timing__mono_ns();
  /* What the run loop adds per exit: two TSC reads and one record. */
  uint64_t sink = 0;
  for (uint32_t i = 0; i < N; i++) {
    uint64_t a = timing__rdtsc();
    uint64_t b = timing__rdtsc();
    exit_stats__record(&s, 2, EXIT_SUB_IO_PORT, 0x3f8, b - a);
    sink += b;
  }
  uint64_t t3 = timing__mono_ns();
  double plain = (double)(t1 - t0) / N, sub = (double)(t2 - t1) / N, full = (double)(t3 - t2) / N;
  printf("exit_stats__record: %.1f ns (reason only), %.1f ns (with sub-reason), "
         "%.1f ns (2x rdtsc + record)\n",
         plain, sub, full);
  ck_assert_uint_eq(s.total, 3ull * N);
  ck_assert_uint_ne(sink, 0);
  ck_assert_msg(sub < 200, "exit_stats__record takes %.1f ns", sub);
}
END_TEST

Suite *suite_exit_stats(void) {
  Suite *s = suite_create("exit_stats");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, hist_bucketing);
  tcase_add_test(tc, quantile_empty);
  tcase_add_test(tc, quantile_single_and_equal);
  tcase_add_test(tc, quantile_uniform);
  tcase_add_test(tc, quantile_bimodal);
  tcase_add_test(tc, record_disabled_is_noop);
  tcase_add_test(tc, sub_slots_and_overflow);
  tcase_add_test(tc, sub_kinds_are_distinct);
  tcase_add_test(tc, json_shape);
  tcase_add_test(tc, json_without_tsc_hz);
  tcase_add_test(tc, print_table);
  tcase_add_test(tc, record_cost);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);
  return s;
}
