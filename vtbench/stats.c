/* stats.c - summaries, bootstrap intervals, MAD outliers, Mann-Whitney U. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"

/* ---- PRNG ---------------------------------------------------------------- */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void stats_rng__seed(struct stats_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

/* ---- basic summaries ---------------------------------------------------- */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double stats__mean(const double *x, size_t n) {
  if (!n) return NAN;
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  return s / (double)n;
}

double stats__stddev(const double *x, size_t n) {
  if (n < 2) return 0;
  double m = stats__mean(x, n), s = 0;
  for (size_t i = 0; i < n; i++)
    s += (x[i] - m) * (x[i] - m);
  return sqrt(s / (double)(n - 1));
}

double stats__quantile_sorted(const double *sorted, size_t n, double q) {
  if (!n) return NAN;
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[n - 1];
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  double frac = h - (double)lo;
  if (lo + 1 >= n) return sorted[n - 1];
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static double median_sorted(const double *s, size_t n) {
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The k-th smallest of a[lo, hi) (reordered): the value sorting would put
 * at k. Quickselect with a three-way partition (repeated values are
 * common: iteration counts, exit counts). */
static double select_kth(double *a, size_t lo, size_t hi, size_t k) {
  for (;;) {
    if (hi - lo <= 16) { /* insertion sort of the rest */
      for (size_t i = lo + 1; i < hi; i++)
        for (size_t j = i; j > lo && a[j - 1] > a[j]; j--) {
          double t = a[j];
          a[j] = a[j - 1];
          a[j - 1] = t;
        }
      return a[k];
    }
    double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
    double p = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    size_t lt = lo, i = lo, gt = hi;
    while (i < gt) {
      double v = a[i];
      if (v < p) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > p) {
        a[i] = a[--gt];
        a[gt] = v;
      } else {
        i++;
      }
    }
    if (k < lt)
      hi = lt;
    else if (k >= gt)
      lo = gt;
    else
      return p;
  }
}

double stats__quantile_select(double *a, size_t n, double q) {
  if (!n) return NAN;
  for (size_t i = 0; i < n; i++)
    if (isnan(a[i])) { /* no order to select in: sort as before */
      qsort(a, n, sizeof(*a), cmp_double);
      return stats__quantile_sorted(a, n, q);
    }
  if (q <= 0 || q >= 1) { /* the extreme */
    double m = a[0];
    for (size_t i = 1; i < n; i++)
      if (q <= 0 ? a[i] < m : a[i] > m) m = a[i];
    return m;
  }
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  double frac = h - (double)lo, v = select_kth(a, 0, n, lo);
  if (lo + 1 >= n) return select_kth(a, 0, n, n - 1);
  double up = a[lo + 1]; /* the next value: the smallest above position lo */
  for (size_t i = lo + 2; i < n; i++)
    if (a[i] < up) up = a[i];
  return v + frac * (up - v);
}

double stats__median(const double *x, size_t n) {
  if (!n) return NAN;
  double *c = malloc(n * sizeof(*c));
  if (!c) return NAN;
  memcpy(c, x, n * sizeof(*c));
  bool nan = false;
  for (size_t i = 0; i < n && !nan; i++)
    nan = isnan(c[i]);
  double m;
  if (nan) { /* no order to select in: as sorting has always done */
    qsort(c, n, sizeof(*c), cmp_double);
    m = median_sorted(c, n);
  } else if (n % 2) {
    m = select_kth(c, 0, n, n / 2);
  } else { /* the lower middle is the largest below the upper one */
    double hi = select_kth(c, 0, n, n / 2), lo = c[0];
    for (size_t i = 1; i < n / 2; i++)
      if (c[i] > lo) lo = c[i];
    m = (lo + hi) / 2;
  }
  free(c);
  return m;
}

double stats__mad(const double *x, size_t n) {
  if (!n) return NAN;
  double med = stats__median(x, n);
  double *d = malloc(n * sizeof(*d));
  if (!d) return NAN;
  for (size_t i = 0; i < n; i++)
    d[i] = fabs(x[i] - med);
  double m = stats__median(d, n);
  free(d);
  return m;
}

size_t stats__mad_outliers(const double *x, size_t n, bool *flags) {
  if (!n) return 0;
  double med = stats__median(x, n), mad = stats__mad(x, n);
  double lim = STATS_MAD_K * STATS_MAD_SCALE * mad;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool out = mad > 0 && fabs(x[i] - med) > lim;
    if (flags) flags[i] = out;
    k += out;
  }
  return k;
}

/* ---- bootstrap (bootstrap.c: counted resamples, batches, remembered) ---- */
int stats__bootstrap_median_ci(const double *x, size_t n, unsigned B, double level, uint64_t seed,
                               double *lo, double *hi) {
  if (!n || !B) return -1;
  if (boot__cached_median_ci(x, n, B, level, seed, lo, hi)) return 0;
  return boot__median_cis(&x, 1, n, B, level, seed, lo, hi);
}

int stats__summarize(const double *x, size_t n, struct stats_summary *out) {
  memset(out, 0, sizeof(*out));
  if (!n) return -1;
  out->n = n;
  out->median = stats__median(x, n);
  out->mean = stats__mean(x, n);
  out->stddev = stats__stddev(x, n);
  out->cv = out->mean != 0 ? out->stddev / fabs(out->mean) : 0;
  out->min = out->max = x[0];
  for (size_t i = 1; i < n; i++) {
    if (x[i] < out->min) out->min = x[i];
    if (x[i] > out->max) out->max = x[i];
  }
  out->outliers = stats__mad_outliers(x, n, NULL);
  return stats__bootstrap_median_ci(x, n, STATS_BOOT_B, 0.95, STATS_SEED, &out->ci_lo, &out->ci_hi);
}

int stats__ratio_ci(const double *x, size_t nx, const double *base, size_t nb, unsigned B,
                    uint64_t seed, double *ratio, double *lo, double *hi) {
  if (!nx || !nb || !B) return -1;
  double mb = stats__median(base, nb);
  if (mb == 0 || isnan(mb)) return -1;
  *ratio = stats__median(x, nx) / mb;
  int rc;
  if (boot__cached_ratio_ci(x, nx, base, nb, B, seed, &rc, lo, hi)) return rc;
  bool ok;
  if (boot__ratio_cis(&x, &base, 1, nx, nb, B, seed, &ok, lo, hi)) return -1;
  return ok ? 0 : -1;
}

/* ---- Mann-Whitney U ------------------------------------------------------ */
/* P(U <= u) for sizes m, n without ties, by the recurrence
 * f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u) (the largest element is an x,
 * beating all n y's, or a y). Counts are exact in doubles up to C(40, 20). */
static double mwu_cdf(unsigned m, unsigned n, unsigned u) {
  unsigned U = m * n;
  size_t stride = U + 1;
  double *f = calloc((size_t)(m + 1) * (n + 1) * stride, sizeof(*f));
  if (!f) return NAN;
#define F(i, j, k) f[((size_t)(i) * (n + 1) + (j)) * stride + (k)]
  for (unsigned i = 0; i <= m; i++)
    for (unsigned j = 0; j <= n; j++) {
      if (!i || !j) {
        F(i, j, 0) = 1;
        continue;
      }
      for (unsigned k = 0; k <= i * j; k++)
        F(i, j, k) = (k >= j ? F(i - 1, j, k - j) : 0) + F(i, j - 1, k);
    }
  double below = 0, total = 0;
  for (unsigned k = 0; k <= U; k++) {
    total += F(m, n, k);
    if (k <= u) below += F(m, n, k);
  }
#undef F
  free(f);
  return below / total;
}

double stats__mwu_exact_p(unsigned m, unsigned n, double u) {
  if (!m || !n || m > STATS_EXACT_U_MAX || n > STATS_EXACT_U_MAX) return NAN;
  double lo = fmin(u, (double)m * n - u);
  double p = 2 * mwu_cdf(m, n, (unsigned)floor(lo));
  return p > 1 ? 1 : p;
}

struct ranked {
  double v;
  int group;
};
static int cmp_ranked(const void *a, const void *b) {
  return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

int stats__mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                        struct mwu_result *out) {
  memset(out, 0, sizeof(*out));
  if (!nx || !ny) return -1;
  size_t N = nx + ny;
  struct ranked *a = malloc(N * sizeof(*a));
  if (!a) return -1;
  for (size_t i = 0; i < nx; i++)
    a[i] = (struct ranked){x[i], 0};
  for (size_t i = 0; i < ny; i++)
    a[nx + i] = (struct ranked){y[i], 1};
  qsort(a, N, sizeof(*a), cmp_ranked);
  /* Mid-ranks for ties; sum of t^3 - t for the variance correction. */
  double r1 = 0, tie_sum = 0;
  for (size_t i = 0; i < N;) {
    size_t j = i;
    while (j < N && a[j].v == a[i].v)
      j++;
    double rank = (double)(i + 1 + j) / 2; /* mean of ranks i+1 .. j */
    double t = (double)(j - i);
    tie_sum += t * t * t - t;
    for (size_t k = i; k < j; k++)
      if (a[k].group == 0) r1 += rank;
    i = j;
  }
  free(a);
  double m = (double)nx, n = (double)ny, NN = (double)N;
  out->u1 = r1 - m * (m + 1) / 2;
  out->u = fmin(out->u1, m * n - out->u1);
  double mu = m * n / 2;
  double var = m * n / 12 * ((NN + 1) - tie_sum / (NN * (NN - 1)));
  double d = fabs(out->u1 - mu);
  if (var > 0) {
    out->z = (d - 0.5 > 0 ? d - 0.5 : 0) / sqrt(var);
    if (out->u1 < mu) out->z = -out->z;
    out->p = erfc(fabs(out->z) / sqrt(2));
  } else {
    out->z = 0;
    out->p = 1; /* every value equal: no evidence of a difference */
  }
  if (tie_sum == 0 && nx <= STATS_EXACT_U_MAX && ny <= STATS_EXACT_U_MAX) {
    out->p = stats__mwu_exact_p((unsigned)nx, (unsigned)ny, out->u);
    out->exact = true;
  }
  if (out->p > 1) out->p = 1;
  return 0;
}
