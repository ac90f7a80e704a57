/* export.h - result documents to CSV for the gnuplot scripts in plots/.
 *
 * Files (DIR/...): summary.csv (every configuration: time statistics and
 * ratio to baseline), time_BACKEND.csv and overhead_BACKEND.csv (bars.gp:
 * one row per workload, value/lo/hi per mode), exits_BACKEND.csv
 * (stacked.gp: median exits per reason per configuration), model_METRIC.csv
 * (per-iteration model counters such as walk references and TLB misses),
 * latency_BACKEND.csv (exit handling time per reason), events_KIND_BACKEND.csv
 * (cdf.gp: NMI/IRQ delivery latency CDFs, event_cdf.h), compare.csv (with
 * a second document: compare.h). plots.json lists every figure:
 * {script, csv, out, vars}; plots.sh replays the gnuplot commands so users
 * can restyle the plots and rerun them by hand.
 */
#ifndef VTBENCH_EXPORT_H
#define VTBENCH_EXPORT_H

#include <jansson.h>

#include "aggregate.h"

/* Write the CSVs for `s` (and the comparison with `other` when non-NULL)
 * into dir (created if missing). Returns the plot list (new reference) or
 * NULL with a message in err. */
json_t *export__csv(const struct agg_set *s, const struct agg_set *other, const char *dir,
                    const char *baseline, char *err, size_t len);

/* s as one CSV field (RFC 4180): as is, or in double quotes with each
 * quote doubled when it holds a comma, quote or line break. Truncated to
 * len (still quoted). */
void export__csv_field(const char *s, char *buf, size_t len);

/* s for a gnuplot single-quoted string (each ' doubled), in a static buffer
 * valid until the next call. */
const char *export__gp_quote(const char *s);

#endif
