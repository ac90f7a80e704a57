/* compare.h - two result documents side by side (`vtbench report
 * --compare`): for every configuration present in both, the ratio of the
 * median times other/this with its 95% bootstrap interval and the
 * two-sided Mann-Whitney U test of the two samples (Google Benchmark's
 * compare.py style), significant at p < 0.05. Configurations are matched
 * by key, else (documents without `config`) by backend, label and mode. */
#ifndef VTBENCH_COMPARE_H
#define VTBENCH_COMPARE_H

#include <stddef.h>

#include "aggregate.h"

struct compare_row {
  const struct agg_group *a, *b; /* this document's group, the other's */
  const char *metric;            /* the time metric compared (agg_group__time_metric of a) */
  double med_a, med_b, ratio, lo, hi, p;
  double u;        /* Mann-Whitney U (the smaller of U1, U2) */
  int exact;       /* p from the exact distribution, not the normal approximation */
  size_t na, nb;   /* sample sizes */
  int significant; /* p < 0.05 */
};

/* One row per configuration of a that b has too, into a malloc'd array
 * (free it); returns the count. */
size_t compare__rows(const struct agg_set *a, const struct agg_set *b, struct compare_row **out);

#endif
