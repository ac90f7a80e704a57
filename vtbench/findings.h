/* findings.h - plain-language findings from grouped results: what each
 * assist saves or costs on each workload and why, how noisy the figures
 * are, and what differs from another document. */
#ifndef VTBENCH_FINDINGS_H
#define VTBENCH_FINDINGS_H

#include <jansson.h>

#include "aggregate.h"
#include "savings.h"

/* Array of strings (new reference): one line per workload and assist that
 * saves or costs (savings.h), largest effect first; the assists with no
 * measurable difference in one line; noise, outliers, failures; with other
 * (may be NULL), how many configurations differ. */
json_t *findings__compute(const struct agg_set *s, const struct agg_set *other,
                          const char *baseline, const struct saving_row *sv, size_t nsv);

/* "1.23 us", "456 ns", "7.8 ms" */
void findings__fmt_ns(double ns, char *buf, size_t len);

#endif
