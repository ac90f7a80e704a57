/* findings.h - plain-language findings from grouped results: what each
 * mode costs on each workload, why (the counter that grew most against the
 * baseline), how noisy the figures are, and what differs from another
 * document. Shared by the Markdown and HTML reports. */
#ifndef VTBENCH_FINDINGS_H
#define VTBENCH_FINDINGS_H

#include <jansson.h>

#include "aggregate.h"

/* Array of strings (new reference). other may be NULL. */
json_t *findings__compute(const struct agg_set *s, const struct agg_set *other,
                          const char *baseline);

/* "1.23 us", "456 ns", "7.8 ms" */
void findings__fmt_ns(double ns, char *buf, size_t len);

#endif
