/* findings.c - sentences a reader can act on, from the statistics. */
#include "findings.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "stats.h"

#define CV_NOISY 0.05 /* above this coefficient of variation a figure is called noisy */

void findings__fmt_ns(double ns, char *buf, size_t len) {
  if (isnan(ns))
    snprintf(buf, len, "n/a");
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

/* The counter (exits by reason, model counters) that grew most from the
 * baseline to g, as "walk references (24 vs 4 per run)". false if none. */
static bool cause(const struct agg_group *g, const struct agg_group *base, char *buf, size_t len) {
  const char *k, *best = NULL;
  json_t *v;
  const double best_gain = 1.2;
  double bg = 0, bb = 0;
  json_object_foreach(g->metrics, k, v) {
    if (!strcmp(k, "wall_ns") || !strcmp(k, "ns_per_iter") || !strcmp(k, "exits.total") ||
        strstr(k, "_ns") || strstr(k, "cycles") || !strncmp(k, "pmu.", 4))
      continue;
    if (strncmp(k, "exits.", 6) && strncmp(k, "model.", 6)) continue;
    if (strstr(k, "hits") || strstr(k, "instructions")) continue;
    double mg = median_of(g, k), mb = json_object_get(base->metrics, k) ? median_of(base, k) : 0;
    if (isnan(mg) || mg <= 0 || isnan(mb)) continue;
    /* Grown by at least 20%, ranked by the absolute increase per run: a
     * counter that appears from nothing but stays small loses against one
     * that grows by orders of magnitude. */
    if (mb > 0 && mg / mb < best_gain) continue;
    if (!best || mg - mb > bg - bb) {
      best = k;
      bg = mg;
      bb = mb;
    }
  }
  if (!best) return false;
  char name[160];
  snprintf(name, sizeof(name), "%s", best + 6);
  char *dot = strrchr(name, '.');
  if (!strncmp(best, "exits.", 6) && dot && !strcmp(dot, ".count")) {
    *dot = 0;
    snprintf(buf, len, "%s exits (%.4g vs %.4g per run)", name, bg, bb);
  } else {
    static const char *const plain[][2] = {{"walk_refs", "page-walk memory references"},
                                           {"tlb.misses", "TLB misses"},
                                           {"vmx_exits.", "VMX exits: "}};
    char nice[200];
    snprintf(nice, sizeof(nice), "%s", name);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
      if (!strncmp(name, plain[i][0], strlen(plain[i][0])))
        snprintf(nice, sizeof(nice), "%s%s", plain[i][1], name + strlen(plain[i][0]));
    for (char *p = nice; *p; p++)
      if (*p == '.') *p = ' ';
    snprintf(buf, len, "%s (%.4g vs %.4g per run)", nice, bg, bb);
  }
  return true;
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

json_t *findings__compute(const struct agg_set *s, const struct agg_set *other,
                          const char *baseline) {
  json_t *out = json_array();
  bool *done = calloc(s->n + 1, sizeof(*done));
  /* One sentence per backend and workload: cost of each mode. */
  for (size_t i = 0; i < s->n; i++) {
    if (done[i]) continue;
    const struct agg_group *g0 = &s->g[i];
    char line[1024];
    size_t off = 0;
    const char *why = NULL;
    char whybuf[256];
    const struct agg_group *worst = NULL;
    double worst_ratio = 0;
    const char *base_mode = NULL;
    for (size_t k = i; k < s->n; k++) {
      const struct agg_group *g = &s->g[k];
      if (strcmp(g->backend, g0->backend) || strcmp(g->label, g0->label)) continue;
      done[k] = true;
      const struct agg_group *b = aggregate__baseline(s, g, baseline);
      double *v = NULL, *bv = NULL;
      const char *metric = agg_group__time_metric(g);
      size_t n = agg_group__values(g, metric, &v, NULL);
      size_t nb = b ? agg_group__values(b, metric, &bv, NULL) : 0;
      double r, lo, hi;
      if (n && nb && !stats__ratio_ci(v, n, bv, nb, STATS_BOOT_B, STATS_SEED, &r, &lo, &hi)) {
        base_mode = b->mode;
        off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s costs %.2fx [%.2f, %.2f]",
                                off ? "; " : "", g->mode, r, lo, hi);
        if (r > worst_ratio) worst_ratio = r, worst = g;
      }
      free(v);
      free(bv);
      if (off >= sizeof(line)) break;
    }
    if (off && worst) {
      const struct agg_group *wb = aggregate__baseline(s, worst, baseline);
      if (wb && worst_ratio > 1.05 && cause(worst, wb, whybuf, sizeof(whybuf))) why = whybuf;
      add(out, "%s (%s): %s, relative to %s%s%s.", g0->label, g0->backend, line, base_mode,
          why ? "; cause of the largest: " : "", why ? why : "");
    } else {
      /* No baseline to compare with: say what one iteration costs in each
       * mode and how many exits it takes. */
      for (size_t k = i; k < s->n; k++) {
        const struct agg_group *g = &s->g[k];
        if (strcmp(g->backend, g0->backend) || strcmp(g->label, g0->label)) continue;
        double t = median_of(g, agg_group__time_metric(g)), ex = median_of(g, "exits.total");
        char ts[32];
        findings__fmt_ns(t, ts, sizeof(ts));
        if (!isnan(t))
          add(out, "%s (%s, %s): %s per %s, %.7g exits per run.", g->label, g->backend, g->mode, ts,
              strcmp(agg_group__time_metric(g), "ns_per_iter") ? "run" : "iteration",
              isnan(ex) ? 0.0 : ex);
      }
    }
  }
  /* Noise, outliers and failures. */
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    double *v;
    unsigned *reps;
    size_t n = agg_group__values(g, agg_group__time_metric(g), &v, &reps);
    if (n) {
      struct stats_summary sm;
      bool *flags = calloc(n, sizeof(*flags));
      stats__summarize(v, n, &sm);
      stats__mad_outliers(v, n, flags);
      if (sm.cv > CV_NOISY)
        add(out,
            "%s (%s, %s) is noisy: CV %.1f%% over %zu runs; more repetitions or --cpu pinning "
            "help.",
            g->label, g->backend, g->mode, 100 * sm.cv, n);
      for (size_t k = 0; k < n; k++) /* only outliers that move the figure by > 5% */
        if (flags[k] && fabs(v[k] - sm.median) > CV_NOISY * fabs(sm.median))
          add(out,
              "%s (%s, %s): repetition %u is an outlier (%.4g vs median %.4g; MAD rule), kept in "
              "the statistics.",
              g->label, g->backend, g->mode, reps[k], v[k], sm.median);
      free(flags);
    }
    free(v);
    free(reps);
    if (g->nok < g->nruns)
      add(out,
          "%s (%s, %s): %zu of %zu runs did not finish with status ok (see runs[].status_detail).",
          g->label, g->backend, g->mode, g->nruns - g->nok, g->nruns);
  }
  if (other) {
    struct compare_row *rows;
    size_t n = export__compare(s, other, &rows);
    size_t sig = 0;
    for (size_t i = 0; i < n; i++) {
      if (!rows[i].significant) continue;
      sig++;
      add(out,
          "compare: %s (%s, %s) is %.2fx [%.2f, %.2f] in the other document (Mann-Whitney p = "
          "%.3g).",
          rows[i].a->label, rows[i].a->backend, rows[i].a->mode, rows[i].ratio, rows[i].lo,
          rows[i].hi, rows[i].p);
    }
    add(out, "compare: %zu of %zu common configurations differ significantly (p < 0.05).", sig, n);
    free(rows);
  }
  free(done);
  return out;
}
