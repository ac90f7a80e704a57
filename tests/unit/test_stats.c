/* test_stats.c - vtbench statistics against hand-computed values, an
 * independent re-implementation (for the seeded bootstrap) and a published
 * table of Mann-Whitney critical values. */
#include <check.h>
#include <math.h>
#include <stdbool.h>

#include "vtbench/stats.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_basic_summaries) {
  /* Textbook set: mean 5, population sd 2, sample sd sqrt(32/7). */
  const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
  ck_assert_double_eq_tol(stats__mean(x, 8), 5.0, 1e-12);
  ck_assert_double_eq_tol(stats__stddev(x, 8), sqrt(32.0 / 7.0), 1e-12);
  ck_assert_double_eq_tol(stats__median(x, 8), 4.5, 1e-12);
  ck_assert_double_eq_tol(stats__median(x, 7), 4.0, 1e-12); /* 2,4,4,4,5,5,7 */
  /* |x - 4.5| = 2.5 .5 .5 .5 .5 .5 2.5 4.5 -> median .5 */
  ck_assert_double_eq_tol(stats__mad(x, 8), 0.5, 1e-12);
  ck_assert(isnan(stats__median(x, 0)));
  ck_assert_double_eq(stats__stddev(x, 1), 0);
}
END_TEST

START_TEST(test_quantile_type7) {
  const double s[] = {1, 2, 3, 4, 5};
  ck_assert_double_eq_tol(stats__quantile_sorted(s, 5, 0.5), 3.0, 1e-12);
  ck_assert_double_eq_tol(stats__quantile_sorted(s, 5, 0.1), 1.4, 1e-12); /* h = 0.4 */
  ck_assert_double_eq_tol(stats__quantile_sorted(s, 5, 0.975), 4.9, 1e-12);
  ck_assert_double_eq(stats__quantile_sorted(s, 5, 0), 1);
  ck_assert_double_eq(stats__quantile_sorted(s, 5, 1), 5);
}
END_TEST

START_TEST(test_mad_outliers) {
  /* sorted 9 10 11 11.5 12 12.5 13 50: median 11.75; deviations sorted
   * .25 .25 .75 .75 1.25 1.75 2.75 38.25 -> MAD 1.0; limit 3 * 1.4826 =
   * 4.4478: only 50 (index 4) is flagged. */
  const double x[] = {10, 12, 11, 13, 50, 9, 11.5, 12.5};
  bool flags[8];
  ck_assert_uint_eq(stats__mad_outliers(x, 8, flags), 1);
  for (int i = 0; i < 8; i++)
    ck_assert(flags[i] == (i == 4));
  /* Boundary: median 0, deviations 0 0 0 1 1 1 1 |L| -> MAD 1, limit
   * 4.4478: 4.44 stays, 4.45 is flagged. */
  double y[] = {-1, 1, -1, 1, 0, 0, 0, 4.44};
  ck_assert_uint_eq(stats__mad_outliers(y, 8, NULL), 0);
  y[7] = 4.45;
  ck_assert_uint_eq(stats__mad_outliers(y, 8, flags), 1);
  ck_assert(flags[7]);
  const double z[] = {5, 5, 5, 5, 9}; /* MAD 0: no evidence, nothing flagged */
  ck_assert_uint_eq(stats__mad_outliers(z, 5, NULL), 0);
}
END_TEST

START_TEST(test_rng_reference) {
  /* xoshiro256** seeded through splitmix64(1): first outputs from an
   * independent Python re-implementation of Vigna's reference code. */
  struct stats_rng r;
  stats_rng__seed(&r, 1);
  ck_assert_uint_eq(stats_rng__next(&r), 0xb3f2af6d0fc710c5ull);
  ck_assert_uint_eq(stats_rng__next(&r), 0x853b559647364ceaull);
  ck_assert_uint_eq(stats_rng__next(&r), 0x92f89756082a4514ull);
}
END_TEST

START_TEST(test_bootstrap_fixed_seed) {
  /* Expected intervals from an independent Python implementation of the
   * same procedure (same PRNG, Lemire index, type-7 quantiles). */
  double z[15], lo, hi;
  for (int i = 1; i <= 15; i++)
    z[i - 1] = (double)((i * 37) % 101);
  ck_assert_int_eq(stats__bootstrap_median_ci(z, 15, 2000, 0.95, STATS_SEED, &lo, &hi), 0);
  ck_assert_double_eq_tol(lo, 20.0, 1e-9);
  ck_assert_double_eq_tol(hi, 67.0, 1e-9);
  ck_assert_int_eq(stats__bootstrap_median_ci(z, 15, 1000, 0.95, 42, &lo, &hi), 0);
  ck_assert_double_eq_tol(lo, 30.0, 1e-9);
  ck_assert_double_eq_tol(hi, 74.0, 1e-9);
  /* Same seed, same answer; the median lies inside. */
  double lo2, hi2;
  stats__bootstrap_median_ci(z, 15, 1000, 0.95, 42, &lo2, &hi2);
  ck_assert_double_eq(lo, lo2);
  ck_assert_double_eq(hi, hi2);
  ck_assert(lo <= stats__median(z, 15) && stats__median(z, 15) <= hi);
  /* Constant data: a zero-width interval. */
  const double c[] = {7, 7, 7, 7};
  stats__bootstrap_median_ci(c, 4, 500, 0.95, 3, &lo, &hi);
  ck_assert_double_eq(lo, 7);
  ck_assert_double_eq(hi, 7);
}
END_TEST

START_TEST(test_ratio_ci) {
  const double x[] = {10, 12, 11, 13, 50, 9, 11.5, 12.5};
  const double y[] = {5, 6, 5.5, 6.5, 5.2};
  double r, lo, hi;
  ck_assert_int_eq(stats__ratio_ci(x, 8, y, 5, 2000, STATS_SEED, &r, &lo, &hi), 0);
  ck_assert_double_eq_tol(r, 11.75 / 5.5, 1e-12);
  /* Python reference (see test_bootstrap_fixed_seed). */
  ck_assert_double_eq_tol(lo, 1.7307692307692308, 1e-9);
  ck_assert_double_eq_tol(hi, 2.4519230769230766, 1e-9);
  const double zero[] = {0, 0};
  ck_assert_int_eq(stats__ratio_ci(x, 8, zero, 2, 100, 1, &r, &lo, &hi), -1);
}
END_TEST

START_TEST(test_summary) {
  const double x[] = {10, 12, 11, 13, 50, 9, 11.5, 12.5};
  struct stats_summary s;
  ck_assert_int_eq(stats__summarize(x, 8, &s), 0);
  ck_assert_uint_eq(s.n, 8);
  ck_assert_double_eq_tol(s.median, 11.75, 1e-12);
  ck_assert_double_eq_tol(s.mean, 129.0 / 8, 1e-12);
  ck_assert_double_eq(s.min, 9);
  ck_assert_double_eq(s.max, 50);
  ck_assert_double_eq_tol(s.cv, s.stddev / s.mean, 1e-12);
  ck_assert_uint_eq(s.outliers, 1);
  ck_assert(s.ci_lo <= s.median && s.median <= s.ci_hi);
}
END_TEST

START_TEST(test_mwu_hand) {
  /* Complete separation: U = 0; exact p = 2 / C(6,3) = 0.1, 2 / C(8,4). */
  struct mwu_result r;
  const double a[] = {1, 2, 3}, b[] = {4, 5, 6};
  ck_assert_int_eq(stats__mann_whitney(a, 3, b, 3, &r), 0);
  ck_assert_double_eq(r.u1, 0);
  ck_assert(r.exact);
  ck_assert_double_eq_tol(r.p, 0.1, 1e-12);
  const double c[] = {1, 2, 3, 4}, d[] = {5, 6, 7, 8};
  stats__mann_whitney(d, 4, c, 4, &r);
  ck_assert_double_eq(r.u1, 16);
  ck_assert_double_eq(r.u, 0);
  ck_assert_double_eq_tol(r.p, 2.0 / 70, 1e-12);
  /* Ties: x = 1 2 2 3, y = 2 3 4 5. Mid-ranks 1 | 3 3 3 | 5.5 5.5 | 7 8;
   * R1 = 12.5, U1 = 2.5; tie term 24 + 6 = 30; var = 16/12 * (9 - 30/56)
   * = 11.2857; z = (5.5 - 0.5) / sqrt(var) = 1.48835; p = erfc(z/sqrt2). */
  const double e[] = {1, 2, 2, 3}, f[] = {2, 3, 4, 5};
  stats__mann_whitney(e, 4, f, 4, &r);
  ck_assert_double_eq_tol(r.u1, 2.5, 1e-12);
  ck_assert(!r.exact);
  ck_assert_double_eq_tol(r.z, -1.4883513944689681, 1e-9);
  ck_assert_double_eq_tol(r.p, 0.13665824773814753, 1e-9);
  /* All equal: no evidence. */
  const double g[] = {3, 3, 3};
  stats__mann_whitney(g, 3, g, 3, &r);
  ck_assert_double_eq(r.p, 1);
}
END_TEST

/* Critical values of U, two-tailed alpha = 0.05 (U <= critical is
 * significant), from the standard published table (e.g. the Mann-Whitney
 * table reproduced by Real Statistics, real-statistics.com/statistics-tables/
 * mann-whitney-table, and numeracy-bank.net: "if alpha = 0.05, n1 = 20 and
 * n2 = 20, then U critical = 127"). For each entry the exact two-sided p
 * at the critical value is <= 0.05 and at critical + 1 it is > 0.05. */
START_TEST(test_mwu_published_table) {
  static const struct {
    unsigned n1, n2, crit;
  } tab[] = {
      {4, 4, 0},    {5, 5, 2},    {5, 10, 8},   {5, 20, 20},  {6, 6, 5},
      {7, 7, 8},    {8, 8, 13},   {8, 12, 22},  {9, 9, 17},   {10, 10, 23},
      {10, 15, 39}, {10, 20, 55}, {12, 12, 37}, {15, 15, 64}, {20, 20, 127},
  };
  for (size_t i = 0; i < ARRAY_LEN(tab); i++) {
    double p_at = stats__mwu_exact_p(tab[i].n1, tab[i].n2, tab[i].crit);
    double p_next = stats__mwu_exact_p(tab[i].n1, tab[i].n2, tab[i].crit + 1);
    ck_assert_msg(p_at <= 0.05, "n1=%u n2=%u U=%u p=%g", tab[i].n1, tab[i].n2, tab[i].crit, p_at);
    ck_assert_msg(p_next > 0.05, "n1=%u n2=%u U=%u p=%g", tab[i].n1, tab[i].n2, tab[i].crit + 1,
                  p_next);
  }
  /* n1 = n2 = 3: the smallest possible p is 0.1, nothing is significant. */
  ck_assert(stats__mwu_exact_p(3, 3, 0) > 0.05);
  /* Symmetry: U and mn - U give the same two-sided p. */
  ck_assert_double_eq_tol(stats__mwu_exact_p(7, 9, 10), stats__mwu_exact_p(7, 9, 53), 1e-15);
  ck_assert(isnan(stats__mwu_exact_p(21, 5, 3)));
}
END_TEST

START_TEST(test_mwu_normal_large) {
  /* Large samples use the normal approximation; two shifted sequences give
   * a tiny p, identical ones p = 1. */
  double x[30], y[30];
  for (int i = 0; i < 30; i++) {
    x[i] = i;
    y[i] = i + 100;
  }
  struct mwu_result r;
  stats__mann_whitney(x, 30, y, 30, &r);
  ck_assert(!r.exact);
  ck_assert_double_eq(r.u, 0);
  ck_assert(r.p < 1e-9);
  stats__mann_whitney(x, 30, x, 30, &r);
  ck_assert(r.p > 0.9);
}
END_TEST

Suite *suite_stats(void) {
  Suite *s = suite_create("stats");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_basic_summaries);
  tcase_add_test(tc, test_quantile_type7);
  tcase_add_test(tc, test_mad_outliers);
  tcase_add_test(tc, test_rng_reference);
  tcase_add_test(tc, test_bootstrap_fixed_seed);
  tcase_add_test(tc, test_ratio_ci);
  tcase_add_test(tc, test_summary);
  tcase_add_test(tc, test_mwu_hand);
  tcase_add_test(tc, test_mwu_published_table);
  tcase_add_test(tc, test_mwu_normal_large);
  suite_add_tcase(s, tc);
  return s;
}
