/* test_bootstrap.c - the fast bootstrap (vtbench/bootstrap.h) gives the
 * intervals of the straightforward one bit for bit: the reference below is
 * stats.c's implementation before it (a copy of each resample, sorted),
 * run on random samples of many sizes, with ties, with NaN, in batches,
 * with a window small enough that resamples walk every rank, and with
 * counts of 32 bits (n >= 65536). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vtbench/bootstrap.h"
#include "vtbench/stats.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double ref_median(const double *x, size_t n, double *buf, struct stats_rng *r) {
  for (size_t i = 0; i < n; i++)
    buf[i] = x[stats_rng__below(r, n)];
  qsort(buf, n, sizeof(*buf), cmp_double);
  return n % 2 ? buf[n / 2] : (buf[n / 2 - 1] + buf[n / 2]) / 2;
}

static void ref_ci(const double *x, size_t n, unsigned B, double level, uint64_t seed, double *lo,
                   double *hi) {
  double *buf = malloc(n * sizeof(*buf)), *meds = malloc(B * sizeof(*meds));
  struct stats_rng r;
  stats_rng__seed(&r, seed);
  for (unsigned b = 0; b < B; b++)
    meds[b] = ref_median(x, n, buf, &r);
  qsort(meds, B, sizeof(*meds), cmp_double);
  *lo = stats__quantile_sorted(meds, B, (1 - level) / 2);
  *hi = stats__quantile_sorted(meds, B, (1 + level) / 2);
  free(buf);
  free(meds);
}

static int ref_ratio(const double *x, size_t nx, const double *base, size_t nb, unsigned B,
                     uint64_t seed, double *lo, double *hi) {
  double mb = stats__median(base, nb);
  if (mb == 0 || isnan(mb)) return -1;
  double *bx = malloc(nx * sizeof(*bx)), *bb = malloc(nb * sizeof(*bb)), *rs = malloc(B * 8);
  struct stats_rng r;
  stats_rng__seed(&r, seed);
  unsigned k = 0;
  for (unsigned b = 0; b < B; b++) {
    double mx = ref_median(x, nx, bx, &r), mbb = ref_median(base, nb, bb, &r);
    if (mbb != 0) rs[k++] = mx / mbb;
  }
  int rc = -1;
  if (k) {
    qsort(rs, k, sizeof(*rs), cmp_double);
    *lo = stats__quantile_sorted(rs, k, 0.025);
    *hi = stats__quantile_sorted(rs, k, 0.975);
    rc = 0;
  }
  free(bx);
  free(bb);
  free(rs);
  return rc;
}

/* n values: kind 0 continuous, 1 few distinct (ties), 2 with NaN, 3 zeros. */
static double *sample(size_t n, int kind, unsigned seed) {
  double *x = malloc(n * sizeof(*x));
  srand(seed);
  for (size_t i = 0; i < n; i++) {
    double u = rand() / (double)RAND_MAX;
    x[i] = kind == 1 ? (double)(rand() % 5) : kind == 3 ? 0 : 1000 + 50 * u + (u > 0.97 ? 400 : 0);
  }
  if (kind == 2) x[n / 3] = NAN;
  return x;
}

static void same(double a, double b, const char *what, size_t n, int kind) {
  ck_assert_msg(!memcmp(&a, &b, sizeof(a)) || (isnan(a) && isnan(b)),
                "%s n=%zu kind=%d: %.17g, reference %.17g", what, n, kind, a, b);
}

static void check_sizes(const size_t *ns, size_t count, unsigned B) {
  for (size_t t = 0; t < count; t++)
    for (int kind = 0; kind < 3; kind++) {
      size_t n = ns[t];
      double *x = sample(n, kind, (unsigned)(n * 7 + kind));
      double lo, hi, rlo, rhi;
      boot__forget();
      ck_assert_int_eq(stats__bootstrap_median_ci(x, n, B, 0.95, STATS_SEED, &lo, &hi), 0);
      ref_ci(x, n, B, 0.95, STATS_SEED, &rlo, &rhi);
      same(lo, rlo, "lo", n, kind);
      same(hi, rhi, "hi", n, kind);
      free(x);
    }
}

START_TEST(median_ci_equals_the_reference) {
  static const size_t ns[] = {1, 2, 3, 4, 5, 6, 7, 10, 11, 31, 64, 65, 100, 257};
  check_sizes(ns, sizeof(ns) / sizeof(ns[0]), STATS_BOOT_B);
  static const size_t big[] = {1000, 2001};
  check_sizes(big, 2, 300);
}
END_TEST

START_TEST(median_ci_walking_every_rank) {
  static const size_t ns[] = {9, 50, 101, 1000};
  boot__set_window(1); /* nearly every resample leaves the window */
  check_sizes(ns, sizeof(ns) / sizeof(ns[0]), 500);
  boot__set_window(0);
}
END_TEST

START_TEST(median_ci_wide_counts) {
  static const size_t ns[] = {70001};
  check_sizes(ns, 1, 8);
}
END_TEST

START_TEST(ratio_ci_equals_the_reference) {
  static const size_t sizes[][2] = {{1, 1}, {3, 5}, {10, 10}, {40, 7}, {300, 301}, {1001, 999}};
  for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++)
    for (int kind = 0; kind < 4; kind++) {
      size_t nx = sizes[t][0], nb = sizes[t][1];
      double *x = sample(nx, kind == 3 ? 1 : kind, 11 + (unsigned)t), *b = sample(nb, kind, 5);
      double r, lo, hi, rlo = 0, rhi = 0;
      boot__forget();
      int rc = stats__ratio_ci(x, nx, b, nb, STATS_BOOT_B, STATS_SEED, &r, &lo, &hi);
      int rrc = ref_ratio(x, nx, b, nb, STATS_BOOT_B, STATS_SEED, &rlo, &rhi);
      ck_assert_int_eq(rc, rrc);
      if (!rc) {
        same(lo, rlo, "ratio lo", nx, kind);
        same(hi, rhi, "ratio hi", nx, kind);
      }
      free(x);
      free(b);
    }
}
END_TEST

/* A batch gives what each alone gives, and a second request is answered
 * from memory (the same values). */
START_TEST(batches_and_memory) {
  size_t n = 777, m = 5;
  double *xs[5], lo[5], hi[5], *bs[5], blo[5], bhi[5];
  bool ok[5];
  for (size_t i = 0; i < m; i++) {
    xs[i] = sample(n, (int)(i % 3), 100 + (unsigned)i);
    bs[i] = sample(n, 0, 200 + (unsigned)i);
  }
  boot__forget();
  ck_assert_int_eq(
      boot__median_cis((const double *const *)xs, m, n, STATS_BOOT_B, 0.95, STATS_SEED, lo, hi), 0);
  ck_assert_int_eq(boot__ratio_cis((const double *const *)xs, (const double *const *)bs, m, n, n,
                                   STATS_BOOT_B, STATS_SEED, ok, blo, bhi),
                   0);
  for (size_t i = 0; i < m; i++) {
    double a, b, r;
    ck_assert(boot__cached_median_ci(xs[i], n, STATS_BOOT_B, 0.95, STATS_SEED, &a, &b));
    same(a, lo[i], "cached lo", n, (int)i);
    ref_ci(xs[i], n, STATS_BOOT_B, 0.95, STATS_SEED, &a, &b);
    same(lo[i], a, "batch lo", n, (int)i);
    same(hi[i], b, "batch hi", n, (int)i);
    ck_assert(ok[i]);
    ck_assert_int_eq(ref_ratio(xs[i], n, bs[i], n, STATS_BOOT_B, STATS_SEED, &a, &b), 0);
    same(blo[i], a, "batch ratio lo", n, (int)i);
    same(bhi[i], b, "batch ratio hi", n, (int)i);
    ck_assert_int_eq(stats__ratio_ci(xs[i], n, bs[i], n, STATS_BOOT_B, STATS_SEED, &r, &a, &b), 0);
    same(a, blo[i], "remembered ratio lo", n, (int)i);
    free(xs[i]);
    free(bs[i]);
  }
}
END_TEST

/* stats__median selects instead of sorting: the same value. */
START_TEST(median_by_selection_equals_sorting) {
  for (size_t n = 1; n < 3000; n = n * 3 / 2 + 1)
    for (int kind = 0; kind < 4; kind++) {
      double *x = sample(n, kind, (unsigned)n), *c = malloc(n * sizeof(*c));
      memcpy(c, x, n * sizeof(*c));
      qsort(c, n, sizeof(*c), cmp_double);
      double want = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
      same(stats__median(x, n), want, "median", n, kind);
      free(x);
      free(c);
    }
}
END_TEST

/* stats__quantile_select gives stats__quantile_sorted's value. */
START_TEST(quantile_by_selection_equals_sorting) {
  static const double qs[] = {0, 0.025, 0.5, 0.9, 0.975, 1};
  for (size_t n = 1; n < 2500; n = n * 2 + 1)
    for (int kind = 0; kind < 2; kind++)
      for (size_t q = 0; q < sizeof(qs) / sizeof(qs[0]); q++) {
        double *x = sample(n, kind, (unsigned)(n + q)), *c = malloc(n * sizeof(*c));
        memcpy(c, x, n * sizeof(*c));
        qsort(c, n, sizeof(*c), cmp_double);
        same(stats__quantile_select(x, n, qs[q]), stats__quantile_sorted(c, n, qs[q]), "quantile",
             n, kind);
        free(x);
        free(c);
      }
}
END_TEST

Suite *suite_bootstrap(void) {
  Suite *s = suite_create("bootstrap");
  TCase *tc = tcase_create("bootstrap");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, median_ci_equals_the_reference);
  tcase_add_test(tc, median_ci_walking_every_rank);
  tcase_add_test(tc, median_ci_wide_counts);
  tcase_add_test(tc, ratio_ci_equals_the_reference);
  tcase_add_test(tc, batches_and_memory);
  tcase_add_test(tc, median_by_selection_equals_sorting);
  tcase_add_test(tc, quantile_by_selection_equals_sorting);
  suite_add_tcase(s, tc);
  return s;
}
