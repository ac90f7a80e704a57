/* bootstrap.h - the percentile bootstrap of stats.h, fast enough for
 * configurations of thousands of repetitions and documents of a million
 * runs, with the same results bit for bit.
 *
 * Resampling a sample of n values B times with a seeded generator draws
 * the same n * B indices whatever the values are; only the medians of the
 * resamples depend on them. So:
 *  - a resample is the count of draws per index (no copy, no sort): its
 *    median is found by walking the counts in the sample's sorted order,
 *    and only in a window of +-4 sqrt(n) ranks around the middle (the
 *    draws below the window are counted in one vectorisable pass); a
 *    resample whose median falls outside the window (about 1 in 10^15)
 *    walks all ranks;
 *  - samples of the same size share the draws: one pass of the generator
 *    serves a batch (every metric of a configuration, the ratios of every
 *    time metric to the baseline);
 *  - every result is remembered by the samples' contents (two independent
 *    64-bit hashes), so the report, the CSVs and the aggregates asking for
 *    the same interval compute it once.
 * A sample holding a NaN is resampled the original way (a copy sorted per
 * resample), whose order for NaN this does not reproduce.
 */
#ifndef VTBENCH_BOOTSTRAP_H
#define VTBENCH_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Percentile intervals of the median of m samples of n values each:
 * lo[i], hi[i] as stats__bootstrap_median_ci(xs[i], n, B, level, seed).
 * 0, or -1 (n or B zero, out of memory). */
int boot__median_cis(const double *const *xs, size_t m, size_t n, unsigned B, double level,
                     uint64_t seed, double *lo, double *hi);

/* Intervals of median(xs[i]) / median(bases[i]) for m pairs, every x of
 * nx values and every base of nb: as stats__ratio_ci(xs[i], nx, bases[i],
 * nb, B, seed, ...): ok[i] false where that returns -1. 0 or -1. */
int boot__ratio_cis(const double *const *xs, const double *const *bases, size_t m, size_t nx,
                    size_t nb, unsigned B, uint64_t seed, bool *ok, double *lo, double *hi);

/* The remembered results (stats.c asks before computing one alone). */
bool boot__cached_median_ci(const double *x, size_t n, unsigned B, double level, uint64_t seed,
                            double *lo, double *hi);
bool boot__cached_ratio_ci(const double *x, size_t nx, const double *base, size_t nb, unsigned B,
                           uint64_t seed, int *rc, double *lo, double *hi);
/* Forget them (tests). */
void boot__forget(void);
/* Tests: the window's half-width in ranks instead of 4 sqrt(n) + 16 (0:
 * back to that), to exercise the walk over every rank. */
void boot__set_window(size_t half);

#endif
