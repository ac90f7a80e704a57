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

/* "302k", "1.5M", "12.3" */
static void fmt_count(double v, char *buf, size_t len) {
  if (fabs(v) >= 1e9)
    snprintf(buf, len, "%.3gG", v / 1e9);
  else if (fabs(v) >= 1e6)
    snprintf(buf, len, "%.3gM", v / 1e6);
  else if (fabs(v) >= 1e4)
    snprintf(buf, len, "%.3gk", v / 1e3);
  else
    snprintf(buf, len, "%.4g", v);
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
  char cg[32], cb[32];
  fmt_count(bg, cg, sizeof(cg));
  fmt_count(bb, cb, sizeof(cb));
  if (!strncmp(best, "exits.", 6) && dot && !strcmp(dot, ".count")) {
    *dot = 0;
    snprintf(buf, len, "%s exits (%s vs %s per run)", name, cg, cb);
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
    snprintf(buf, len, "%.150s (%s vs %s per run)", nice, cg, cb);
  }
  return true;
}

/* The model's own account of why g costs more than native (its
 * model.breakdown, parts adding up to model.overhead_vs_native.cycles): the
 * parts above 10% of the overhead, largest first, as "walk references (97%
 * of the overhead)"; for exits the reason that cost most. brief: names and
 * shares only. false without a breakdown or overhead. */
static bool model_cause(const struct agg_group *g, bool brief, char *buf, size_t len) {
  static const char *const parts[][3] = {
      {"model.breakdown.exits.cycles", "VM exits", "exit round trips and refvmm's handling"},
      {"model.breakdown.walks", "walk references", "longer page walks, 2-D EPT or shadow tables"},
      {"model.breakdown.refills", "TLB refills", "extra walks after flushes and exits"},
      {"model.breakdown.events", "NMI/IRQ delivery", "event delivery and injection"},
      {"model.breakdown.other", "instructions and data references",
       "the guest ran other or more instructions than natively"}};
  enum { NPARTS = sizeof(parts) / sizeof(parts[0]) };
  double total = median_of(g, "model.overhead_vs_native.cycles"), v[NPARTS];
  if (isnan(total) || total <= 0) return false;
  bool used[NPARTS] = {0};
  for (size_t i = 0; i < NPARTS; i++)
    v[i] = median_of(g, parts[i][0]);
  size_t off = 0;
  *buf = 0;
  for (size_t round = 0; round < NPARTS && off < len; round++) {
    size_t best = NPARTS;
    for (size_t i = 0; i < NPARTS; i++)
      if (!used[i] && !isnan(v[i]) && v[i] > 0.1 * total && (best == NPARTS || v[i] > v[best]))
        best = i;
    if (best == NPARTS) break;
    used[best] = true;
    if (brief) {
      off += (size_t)snprintf(buf + off, len - off, "%s%s %.0f%%", off ? ", " : "", parts[best][1],
                              100 * v[best] / total);
      continue;
    }
    off += (size_t)snprintf(buf + off, len - off, "%s%s (%.0f%% of the overhead", off ? ", " : "",
                            parts[best][1], 100 * v[best] / total);
    if (best == 0 && off < len) {
      /* the exit reason that cost most, from the first run (the model is
       * deterministic: every repetition has the same counts) */
      const json_t *by = json_object_get(
          json_object_get(
              json_object_get(json_object_get(json_array_get(g->runs, 0), "model"), "breakdown"),
              "exits"),
          "by_reason");
      const char *k, *top = NULL;
      json_t *e;
      double tc = 0, cnt = 0, c;
      json_object_foreach((json_t *)by, k, e) {
        if (json_util__number(json_object_get(e, "cycles"), &c) && c > tc) {
          tc = c, top = k;
          json_util__number(json_object_get(e, "count"), &cnt);
        }
      }
      if (top) {
        char cs[32];
        fmt_count(cnt, cs, sizeof(cs));
        off += (size_t)snprintf(buf + off, len - off, "; mostly %s, %s per run", top, cs);
      }
    } else if (off < len) {
      off += (size_t)snprintf(buf + off, len - off, ": %s", parts[best][2]);
    }
    if (off < len) off += (size_t)snprintf(buf + off, len - off, ")");
  }
  return off > 0;
}

/* Whether the delivery latencies of g's runs are in modeled time. */
static bool events_modeled(const struct agg_group *g) {
  const json_t *c = json_object_get(json_object_get(json_array_get(g->runs, 0), "events"), "clock");
  return json_is_string(c) && !strcmp(json_string_value(c), "modeled");
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
      double r, lo, hi;
      const char *bm;
      if (!aggregate__ratio(s, g, baseline, &r, &lo, &hi, &bm)) {
        base_mode = bm;
        char why_mode[160] = "";
        bool costs = !(lo <= 1 && hi >= 1);
        if (costs && r > 1.05) model_cause(g, true, why_mode, sizeof(why_mode));
        if (!costs) /* the interval holds 1: no evidence of a cost */
          off += (size_t)snprintf(line + off, sizeof(line) - off,
                                  "%s%s: no measurable difference (%.2fx [%.2f, %.2f])",
                                  off ? "; " : "", g->mode, r, lo, hi);
        else
          off +=
              (size_t)snprintf(line + off, sizeof(line) - off, "%s%s %s %.2fx [%.2f, %.2f]%s%s%s",
                               off ? "; " : "", g->mode, r >= 1 ? "costs" : "is faster:", r, lo, hi,
                               *why_mode ? " (" : "", why_mode, *why_mode ? ")" : "");
        if (r > worst_ratio) worst_ratio = r, worst = g;
      }
      if (off >= sizeof(line)) break;
    }
    if (off && worst) {
      const struct agg_group *wb = aggregate__baseline(s, worst, baseline);
      if (worst_ratio > 1.05 && model_cause(worst, false, whybuf, sizeof(whybuf)))
        why = whybuf; /* the model's exact account of the overhead */
      else if (wb && worst_ratio > 1.05 && cause(worst, wb, whybuf, sizeof(whybuf)))
        why = whybuf;
      const char *metric = agg_group__time_metric(g0);
      add(out, "%s (%s%s): %s, relative to %s%s%s.", g0->label, g0->backend,
          strcmp(aggregate__time_clock(metric), "modeled") ? "" : ", modeled time", line, base_mode,
          why ? "; cause of the largest: " : "", why ? why : "");
    } else {
      /* No baseline to compare with: say what one iteration costs in each
       * mode and how many exits it takes. */
      for (size_t k = i; k < s->n; k++) {
        const struct agg_group *g = &s->g[k];
        if (strcmp(g->backend, g0->backend) || strcmp(g->label, g0->label)) continue;
        const char *metric = agg_group__time_metric(g);
        double t = median_of(g, metric), ex = median_of(g, "exits.total");
        double vx = median_of(g, "model.vmx_exits");
        char ts[32];
        findings__fmt_ns(t, ts, sizeof(ts));
        if (!isnan(t))
          add(out, "%s (%s, %s): %s (%s time) per %s, %.7g %s per run.", g->label, g->backend,
              g->mode, ts, aggregate__time_clock(metric), aggregate__time_per(metric),
              isnan(vx) ? (isnan(ex) ? 0.0 : ex) : vx, isnan(vx) ? "exits" : "VM exits");
      }
    }
  }
  /* NMI/IRQ delivery latency per mode (issue 8's events section). */
  memset(done, 0, (s->n + 1) * sizeof(*done));
  static const char *const kinds[] = {"nmi", "irq"};
  for (size_t kd = 0; kd < 2; kd++)
    for (size_t i = 0; i < s->n; i++) {
      if (done[i]) continue;
      const struct agg_group *g0 = &s->g[i];
      char line[1024], m50[96], m99[96];
      size_t off = 0;
      snprintf(m50, sizeof(m50), "events.%s.latency_ns.p50", kinds[kd]);
      snprintf(m99, sizeof(m99), "events.%s.latency_ns.p99", kinds[kd]);
      for (size_t k = i; k < s->n && off < sizeof(line); k++) {
        const struct agg_group *g = &s->g[k];
        if (strcmp(g->backend, g0->backend) || strcmp(g->label, g0->label)) continue;
        double p50 = median_of(g, m50), p99 = median_of(g, m99);
        if (isnan(p50)) continue;
        done[k] = true;
        char a[32], b[32];
        findings__fmt_ns(p50, a, sizeof(a));
        findings__fmt_ns(p99, b, sizeof(b));
        off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s %s p50, %s p99",
                                off ? "; " : "", g->mode, a, b);
      }
      if (off)
        add(out, "%s (%s): %s delivery latency (raise to guest handler%s): %s.", g0->label,
            g0->backend, kinds[kd], events_modeled(g0) ? ", modeled time" : "", line);
    }
  /* Noise, outliers and failures: one sentence each, listing the
   * configurations, so a noisy session does not drown the costs above. */
  char noisy[2048] = "", outl[2048] = "";
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
    if (g->nok < g->nruns)
      add(out,
          "%s (%s, %s): %zu of %zu runs did not finish with status ok (see runs[].status_detail).",
          g->label, g->backend, g->mode, g->nruns - g->nok, g->nruns);
  }
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
    size_t sig = 0, so = 0;
    for (size_t i = 0; i < n; i++) {
      if (!rows[i].significant || so >= sizeof(sig_list)) continue;
      sig++;
      so += (size_t)snprintf(sig_list + so, sizeof(sig_list) - so,
                             "%s%s (%s, %s) %.2fx [%.2f, %.2f] p = %.3g", so ? "; " : "",
                             rows[i].a->label, rows[i].a->backend, rows[i].a->mode, rows[i].ratio,
                             rows[i].lo, rows[i].hi, rows[i].p);
    }
    add(out,
        "compare: %zu of %zu common configurations differ significantly (Mann-Whitney U, p < "
        "0.05)%s%s.",
        sig, n, sig ? "; other/this: " : "", sig_list);
    free(rows);
  }
  free(done);
  return out;
}
