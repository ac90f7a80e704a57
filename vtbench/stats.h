/* stats.h - the statistics vtbench reports: robust summaries, bootstrap
 * confidence intervals (criterion style), MAD outlier flags (hyperfine
 * style: flagged, never dropped), ratios to a baseline and the Mann-Whitney
 * U test (Google Benchmark's compare.py).
 *
 * Everything is deterministic: resampling uses a fixed-seed xoshiro256**
 * generator, so the same data always gives the same interval.
 */
#ifndef VTBENCH_STATS_H
#define VTBENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_BOOT_B      2000          /* bootstrap resamples */
#define STATS_SEED        0x76746265ull /* "vtbe": the default fixed seed */
#define STATS_MAD_K       3.0           /* |x - median| > K * 1.4826 * MAD */
#define STATS_MAD_SCALE   1.4826        /* MAD -> sigma for normal data */
#define STATS_EXACT_U_MAX 20            /* exact U distribution up to n1, n2 <= 20 */

/* xoshiro256** seeded through splitmix64 (Vigna's recommendation). */
struct stats_rng {
  uint64_t s[4];
};
void stats_rng__seed(struct stats_rng *r, uint64_t seed);

static inline uint64_t stats_rng__rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* Inline: the bootstrap draws billions of them. */
static inline uint64_t stats_rng__next(struct stats_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = stats_rng__rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = stats_rng__rotl(s[3], 45);
  return result;
}

/* Uniform in [0, n): Lemire's multiply-shift (bias below 2^-40 for our n). */
static inline size_t stats_rng__below(struct stats_rng *r, size_t n) {
  return (size_t)(((unsigned __int128)stats_rng__next(r) * n) >> 64);
}

double stats__mean(const double *x, size_t n);
/* Sample standard deviation (n - 1); 0 for n < 2. */
double stats__stddev(const double *x, size_t n);
/* Median of unsorted data (copies); NAN for n == 0. */
double stats__median(const double *x, size_t n);
/* Quantile of sorted data, linear interpolation (R type 7 / numpy default). */
double stats__quantile_sorted(const double *sorted, size_t n, double q);
/* The same quantile of unsorted data without sorting it (a is reordered):
 * the value stats__quantile_sorted gives on a sorted copy. */
double stats__quantile_select(double *a, size_t n, double q);
/* Median absolute deviation (unscaled). */
double stats__mad(const double *x, size_t n);
/* Flag outliers: flags[i] = |x[i] - median| > K * 1.4826 * MAD. With
 * MAD == 0 nothing is flagged (a constant majority is no evidence).
 * Returns the number flagged. flags may be NULL. */
size_t stats__mad_outliers(const double *x, size_t n, bool *flags);

/* Percentile-bootstrap interval of the median: B resamples with
 * replacement, the (1-level)/2 and (1+level)/2 quantiles of their medians.
 * 0 or -1 (n == 0 or out of memory). */
int stats__bootstrap_median_ci(const double *x, size_t n, unsigned B, double level, uint64_t seed,
                               double *lo, double *hi);

struct stats_summary {
  size_t n;
  double median, mean, stddev, cv; /* cv = stddev / mean (0 when mean == 0) */
  double min, max;
  double ci_lo, ci_hi; /* 95% bootstrap CI of the median */
  size_t outliers;     /* MAD-flagged count */
};
int stats__summarize(const double *x, size_t n, struct stats_summary *out);

/* ratio = median(x) / median(base) with a 95% bootstrap CI: both samples
 * resampled independently, B times. -1 when either is empty or the base
 * median is 0. */
int stats__ratio_ci(const double *x, size_t nx, const double *base, size_t nb, unsigned B,
                    uint64_t seed, double *ratio, double *lo, double *hi);

struct mwu_result {
  double u1;  /* U of the first sample: pairs (x, y) with x > y, ties 1/2 */
  double u;   /* min(U1, U2) */
  double z;   /* normal approximation (tie- and continuity-corrected) */
  double p;   /* two-sided */
  bool exact; /* p from the exact distribution (no ties, n1, n2 <= 20) */
};
/* Two-sided Mann-Whitney U test. -1 when a sample is empty. */
int stats__mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                        struct mwu_result *out);
/* Exact two-sided p of U = u for sample sizes m, n without ties:
 * 2 * P(U <= min(u, mn - u)), at most 1. NAN when too large. */
double stats__mwu_exact_p(unsigned m, unsigned n, double u);

#endif
