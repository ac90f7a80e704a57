/* findings.c - sentences a reader can act on, from the statistics. */
#include "findings.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "json_util.h"
#include "stats.h"

#define CV_NOISY 0.05 /* above this coefficient of variation a figure is called noisy */

void findings__fmt_ns(double ns, char *buf, size_t len) {
  if (isnan(ns))
    snprintf(buf, len, "n/a");
  else if (fabs(ns) < 0.005) /* rounding noise of a constant sample */
    snprintf(buf, len, "0 ns");
  else if (ns >= 1e9)
    snprintf(buf, len, "%.3g s", ns / 1e9);
  else if (ns >= 1e6)
    snprintf(buf, len, "%.3g ms", ns / 1e6);
  else if (ns >= 1e3)
    snprintf(buf, len, "%.3g us", ns / 1e3);
  else
    snprintf(buf, len, "%.3g ns", ns);
}

static double median_of(const struct agg_group *g, const char *metric) {
  double *v;
  size_t n = agg_group__values(g, metric, &v, NULL);
  double m = n ? stats__median(v, n) : NAN;
  free(v);
  return m;
}

static void add(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(json_t *arr, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  json_array_append_new(arr, json_string(buf));
}

/* qsort by the size of the effect, largest first */
struct effect_ref {
  const struct saving_row *row;
  int assist;
};
static int by_effect(const void *x, const void *y) {
  const struct effect_ref *a = x, *b = y;
  double ea = a->row->cell[a->assist].effect, eb = b->row->cell[b->assist].effect;
  return (ea < eb) - (ea > eb);
}

json_t *findings__compute(const struct agg_set *s, const struct agg_set *other,
                          const char *baseline, const struct saving_row *sv, size_t nsv) {
  (void)baseline;
  json_t *out = json_array();
  /* One line per (workload, assist) that saves or costs, the largest
   * effect first, each with its cause; the rest collapsed into one line. */
  struct effect_ref *refs = calloc(nsv * ASSIST_COUNT + 1, sizeof(*refs));
  size_t nr = 0;
  char same[2048] = "";
  size_t so = 0, nsame = 0;
  for (size_t r = 0; r < nsv; r++)
    for (int a = 0; a < ASSIST_COUNT; a++) {
      const struct saving_cell *c = &sv[r].cell[a];
      if (c->status != SAVING_MEASURED) continue;
      if (c->verdict != SAVING_SAME) {
        refs[nr++] = (struct effect_ref){&sv[r], a};
      } else if (so < sizeof(same)) {
        nsame++;
        so += (size_t)snprintf(same + so, sizeof(same) - so, "%s%s (%s) %s", so ? "; " : "",
                               sv[r].first->label, sv[r].first->backend, savings_assists[a].title);
      }
    }
  qsort(refs, nr, sizeof(*refs), by_effect);
  for (size_t k = 0; k < nr; k++) {
    const struct saving_cell *c = &refs[k].row->cell[refs[k].assist];
    add(out, "%s (%s): %s %s, %s (%s vs %s); %s.", refs[k].row->first->label,
        refs[k].row->first->backend, savings_assists[refs[k].assist].title, c->verdict_text,
        c->ratio_text, c->on->mode, c->off->mode, c->cause);
  }
  if (nsame) add(out, "no measurable difference (%zu): %s.", nsame, same);
  free(refs);
  /* Workloads without any assist pair: what one iteration costs per mode. */
  for (size_t r = 0; r < nsv; r++) {
    bool any = false;
    for (int a = 0; a < ASSIST_COUNT && !any; a++)
      any = sv[r].cell[a].status == SAVING_MEASURED;
    if (any) continue;
    const struct agg_group *g0 = sv[r].first;
    char line[900];
    size_t off = 0;
    for (size_t k = 0; k < s->n && off < sizeof(line); k++) {
      const struct agg_group *g = &s->g[k];
      if (strcmp(g->backend, g0->backend) || strcmp(g->label, g0->label)) continue;
      const char *metric = agg_group__time_metric(g);
      double t = median_of(g, metric);
      if (isnan(t)) continue;
      char ts[32];
      findings__fmt_ns(t, ts, sizeof(ts));
      off +=
          (size_t)snprintf(line + off, sizeof(line) - off, "%s%s %s", off ? ", " : "", g->mode, ts);
    }
    if (off)
      add(out, "%s (%s): no pair of modes differing in one switch; %s time per %s: %s.", g0->label,
          g0->backend, aggregate__time_clock(agg_group__time_metric(g0)),
          aggregate__time_per(agg_group__time_metric(g0)), line);
  }
  /* Noise, outliers and failures: one sentence each, listing the
   * configurations, so a noisy session does not drown the costs above. */
  char noisy[2048] = "", outl[2048] = "", failed[2048] = "";
  size_t nfail = 0, fo = 0;
  size_t nn = 0, no = 0, on = 0, oo = 0;
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    double *v;
    unsigned *reps;
    size_t n = agg_group__values(g, agg_group__time_metric(g), &v, &reps);
    const char *per = aggregate__time_per(agg_group__time_metric(g));
    if (n) {
      struct stats_summary sm;
      bool *flags = calloc(n, sizeof(*flags));
      stats__summarize(v, n, &sm);
      stats__mad_outliers(v, n, flags);
      if (sm.cv > CV_NOISY && no < sizeof(noisy))
        nn++, no += (size_t)snprintf(noisy + no, sizeof(noisy) - no, "%s%s (%s, %s) %.0f%%",
                                     no ? "; " : "", g->label, g->backend, g->mode, 100 * sm.cv);
      for (size_t k = 0; k < n; k++) /* only outliers that move the figure by > 5% */
        if (flags[k] && fabs(v[k] - sm.median) > CV_NOISY * fabs(sm.median) && oo < sizeof(outl)) {
          char ov[32], om[32];
          findings__fmt_ns(v[k], ov, sizeof(ov));
          findings__fmt_ns(sm.median, om, sizeof(om));
          on++, oo += (size_t)snprintf(outl + oo, sizeof(outl) - oo,
                                       "%s%s (%s, %s) repetition %u: %s vs median %s per %s",
                                       oo ? "; " : "", g->label, g->backend, g->mode, reps[k], ov,
                                       om, per);
        }
      free(flags);
    }
    free(v);
    free(reps);
    if (g->nok < g->nruns && fo < sizeof(failed))
      nfail++, fo += (size_t)snprintf(failed + fo, sizeof(failed) - fo, "%s%s (%s, %s) %zu of %zu",
                                      fo ? "; " : "", g->label, g->backend, g->mode,
                                      g->nruns - g->nok, g->nruns);
  }
  if (nfail)
    add(out, "runs that did not finish with status ok (see runs[].status_detail): %s.", failed);
  if (nn)
    add(out,
        "noisy (coefficient of variation above %.0f%%; more repetitions, --cpu pinning or a "
        "quieter "
        "host help): %s.",
        100 * CV_NOISY, noisy);
  if (on)
    add(out, "%zu outlier%s by the MAD rule, kept in the statistics: %s.", on, on > 1 ? "s" : "",
        outl);
  if (other) {
    struct compare_row *rows;
    size_t n = compare__rows(s, other, &rows);
    char sig_list[2048] = "";
    size_t sig = 0, sl = 0;
    for (size_t i = 0; i < n; i++) {
      if (!rows[i].significant || sl >= sizeof(sig_list)) continue;
      sig++;
      sl += (size_t)snprintf(sig_list + sl, sizeof(sig_list) - sl,
                             "%s%s (%s, %s) %.2fx [%.2f, %.2f] p = %.3g", sl ? "; " : "",
                             rows[i].a->label, rows[i].a->backend, rows[i].a->mode, rows[i].ratio,
                             rows[i].lo, rows[i].hi, rows[i].p);
    }
    add(out,
        "compare: %zu of %zu common configurations differ significantly (Mann-Whitney U, p < "
        "0.05)%s%s.",
        sig, n, sig ? "; other/this: " : "", sig_list);
    free(rows);
  }
  return out;
}
