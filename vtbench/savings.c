/* savings.c - one-factor-at-a-time comparisons per assist (savings.h). */
#include "savings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "json_util.h"
#include "report_order.h"
#include "stats.h"

const struct assist_info savings_assists[ASSIST_COUNT] = {
    [ASSIST_EPT] = {"EPT vs shadow", "ept", MODE_AXIS_PAGING, -1},
    [ASSIST_VPID_EPT] = {"VPID vs flush (ept)", "vpid_ept", MODE_AXIS_TLB, 2},
    [ASSIST_VPID_SHADOW] = {"VPID vs flush (shadow)", "vpid_shadow", MODE_AXIS_TLB, 1},
    [ASSIST_NMI_WINDOW] = {"NMI window vs poll", "nmi_window", MODE_AXIS_NMI, -1},
    [ASSIST_IRQ_WINDOW] = {"IRQ window vs poll", "irq_window", MODE_AXIS_IRQ, -1},
};

#define EXACT_EPS 0.005 /* a deterministic ratio within 0.5% of 1 is "no difference" */

static double median_metric(const struct agg_group *g, const char *metric) {
  double *v;
  size_t n = agg_group__values(g, metric, &v, NULL);
  double m = n ? stats__median(v, n) : NAN;
  free(v);
  return m;
}

/* Median over runs of metric / the run's guest iterations (per run where
 * the guest reports none). */
static double per_iter(const struct agg_group *g, const char *metric) {
  double *v, *it;
  size_t n = agg_group__values(g, metric, &v, NULL);
  if (!n) return NAN;
  size_t ni = agg_group__values(g, "iterations", &it, NULL);
  if (ni == n)
    for (size_t i = 0; i < n; i++)
      v[i] = it[i] > 0 ? v[i] / it[i] : v[i];
  double m = stats__median(v, n);
  free(v);
  free(it);
  return m;
}

/* Median over runs of num / den; NAN when missing or den is 0. */
static double per_run_ratio(const struct agg_group *g, const char *num, const char *den) {
  double *a, *b;
  size_t na = agg_group__values(g, num, &a, NULL), nb = agg_group__values(g, den, &b, NULL);
  double m = NAN;
  if (na && na == nb) {
    for (size_t i = 0; i < na; i++)
      a[i] = b[i] > 0 ? a[i] / b[i] : NAN;
    m = stats__median(a, na);
  }
  free(a);
  free(b);
  return m;
}

static bool same_row(const struct agg_group *a, const struct agg_group *b) {
  return !strcmp(a->backend, b->backend) && !strcmp(a->label, b->label);
}

/* The pair of the row starting at s->g[first] that differs only in the
 * assist's axis, the one with the least-featured other switches. */
static void find_pair(const struct agg_set *s, size_t first, enum assist a,
                      const struct agg_group **off, const struct agg_group **on) {
  const struct assist_info *ai = &savings_assists[a];
  *off = *on = NULL;
  int best = 1 << 20;
  for (size_t i = 0; i < s->n; i++) {
    if (!same_row(&s->g[i], &s->g[first])) continue;
    struct mode_axes mo;
    if (!s->g[i].nok || report_order__parse(s->g[i].mode, &mo)) continue;
    if (mo.paging == 0) continue; /* native: no VMM, no assist */
    if (report_order__axis(&mo, ai->axis) != (ai->axis == MODE_AXIS_PAGING ? 1 : 0)) continue;
    if (ai->paging >= 0 && mo.paging != ai->paging) continue;
    for (size_t k = 0; k < s->n; k++) {
      if (!same_row(&s->g[k], &s->g[first])) continue;
      struct mode_axes mk;
      if (k == i || !s->g[k].nok || report_order__parse(s->g[k].mode, &mk)) continue;
      int differ = 0, at = -1;
      for (int ax = 0; ax < MODE_AXES; ax++)
        if (report_order__axis(&mo, ax) != report_order__axis(&mk, ax)) differ++, at = ax;
      if (differ != 1 || at != ai->axis) continue;
      if (ai->axis == MODE_AXIS_PAGING && mk.paging != 2) continue;
      int rank = report_order__mode_rank(s->g[i].mode);
      if (rank < best) best = rank, *off = &s->g[i], *on = &s->g[k];
    }
  }
}

static const char *ctx_str(const json_t *ctx, const char *a, const char *b, const char *c) {
  const json_t *v = json_object_get(json_object_get(json_object_get(ctx, a), b), c);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Why there is no pair: the host's KVM cannot switch that axis, or the
 * matrix did not measure it. */
static void explain_missing(const struct agg_set *s, size_t first, enum assist a, const json_t *ctx,
                            struct saving_cell *c) {
  const struct assist_info *ai = &savings_assists[a];
  const struct agg_group *g = &s->g[first];
  c->status = SAVING_NOT_MEASURED;
  if (!strcmp(g->backend, "kvm") && ctx) {
    const char *fl = json_string_value(json_object_get(json_object_get(ctx, "kvm"), "flavour"));
    const char *paging = ctx_str(ctx, "kvm", "modes", "paging");
    const char *paging_param = ctx_str(ctx, "kvm", "modes", "paging_param");
    const char *tlb = ctx_str(ctx, "kvm", "modes", "tlb");
    const char *tlb_param = ctx_str(ctx, "kvm", "modes", "tlb_param");
    fl = fl ? fl : "this KVM";
    bool paging_fixed = paging && !paging_param;
    bool wants_other_paging =
        ai->axis == MODE_AXIS_PAGING ||
        (ai->paging >= 0 && paging && strcmp(paging, ai->paging == 2 ? "ept" : "shadow"));
    if (paging_fixed && wants_other_paging) {
      c->status = SAVING_HOST_FIXED;
      snprintf(c->note, sizeof(c->note), "%s: always %s", fl, paging);
      return;
    }
    if (ai->axis == MODE_AXIS_TLB && !tlb_param) {
      c->status = SAVING_HOST_FIXED;
      snprintf(c->note, sizeof(c->note), "%s: TLB mode not switchable%s%s", fl,
               tlb ? ", always " : "", tlb ? tlb : "");
      return;
    }
    if (ai->axis == MODE_AXIS_PAGING || ai->axis == MODE_AXIS_TLB) {
      snprintf(c->note, sizeof(c->note), "not measured (%s switches with --allow-host-reconfig)",
               ai->axis == MODE_AXIS_PAGING ? (paging_param ? paging_param : "paging")
                                            : (tlb_param ? tlb_param : "tlb"));
      return;
    }
  }
  /* NMI and IRQ switched together (poll/poll vs window/window) is no
   * one-factor pair: say so, and what to add. */
  if (ai->axis == MODE_AXIS_NMI || ai->axis == MODE_AXIS_IRQ)
    for (size_t i = 0; i < s->n; i++) {
      if (!same_row(&s->g[i], &s->g[first])) continue;
      struct mode_axes m;
      if (report_order__parse(s->g[i].mode, &m) || m.nmi || m.irq || !m.paging) continue;
      for (size_t k = 0; k < s->n; k++) {
        if (!same_row(&s->g[k], &s->g[first])) continue;
        struct mode_axes w;
        if (report_order__parse(s->g[k].mode, &w) || w.paging != m.paging || w.tlb != m.tlb ||
            !w.nmi || !w.irq)
          continue;
        char add[64];
        snprintf(add, sizeof(add), "%.*s/%s", (int)(strlen(s->g[i].mode) - 10), s->g[i].mode,
                 ai->axis == MODE_AXIS_NMI ? "window/poll" : "poll/window");
        snprintf(c->note, sizeof(c->note),
                 "not measured alone: NMI and IRQ were switched together (poll/poll vs "
                 "window/window); add %s",
                 add);
        return;
      }
    }
  static const char *const need[ASSIST_COUNT] = {
      [ASSIST_EPT] = "shadow/T/N/I and ept/T/N/I",
      [ASSIST_VPID_EPT] = "ept/flush/N/I and ept/vpid/N/I",
      [ASSIST_VPID_SHADOW] = "shadow/flush/N/I and shadow/vpid/N/I",
      [ASSIST_NMI_WINDOW] = "P/T/poll/I and P/T/window/I",
      [ASSIST_IRQ_WINDOW] = "P/T/N/poll and P/T/N/window"};
  snprintf(c->note, sizeof(c->note), "not measured (needs %s)", need[a]);
}

/* Where a group's exits by reason are, per run: the model's VM exits over
 * the timed region, else the exits that reached refvmm. */
static void exit_metric(const struct agg_group *g, const char *reason, char *buf, size_t len) {
  char m[160];
  snprintf(m, sizeof(m), "model.timed.exits.%s", reason);
  if (json_object_get(g->metrics, m))
    snprintf(buf, len, "%s", m);
  else
    snprintf(buf, len, "exits.%s.count", reason);
}

/* Exit reasons of g (names into out, up to max). */
static size_t exit_reasons(const struct agg_group *g, char out[][64], size_t max, size_t n) {
  const char *k;
  json_t *v;
  json_object_foreach(g->metrics, k, v) {
    char r[64];
    size_t kl = strlen(k);
    if (!strncmp(k, "model.timed.exits.", 18))
      snprintf(r, sizeof(r), "%s", k + 18);
    else if (!strncmp(k, "exits.", 6) && kl > 12 && !strcmp(k + kl - 6, ".count"))
      snprintf(r, sizeof(r), "%.*s", (int)(kl - 12), k + 6);
    else
      continue;
    if (strchr(r, '.')) continue;
    bool dup = false;
    for (size_t i = 0; i < n && !dup; i++)
      dup = !strcmp(out[i], r);
    if (!dup && n < max) snprintf(out[n++], 64, "%s", r);
  }
  return n;
}

static void fmt_num(double v, char *buf, size_t len) {
  if (fabs(v) >= 100)
    snprintf(buf, len, "%.0f", v);
  else
    snprintf(buf, len, "%.3g", v);
}

/* "avoids 1.00 CR_ACCESS exits/iter, adds 0.5 NMI_WINDOW exits/iter" */
static size_t exits_cause(const struct saving_cell *c, char *buf, size_t len) {
  char reasons[64][64];
  size_t n = exit_reasons(c->off, reasons, 64, 0);
  n = exit_reasons(c->on, reasons, 64, n);
  double delta[64];
  for (size_t i = 0; i < n; i++) {
    char mo[200], mn[200];
    exit_metric(c->off, reasons[i], mo, sizeof(mo));
    exit_metric(c->on, reasons[i], mn, sizeof(mn));
    double a = per_iter(c->off, mo), b = per_iter(c->on, mn);
    delta[i] = (isnan(b) ? 0 : b) - (isnan(a) ? 0 : a);
  }
  size_t off = 0;
  for (int shown = 0; shown < 2; shown++) {
    size_t best = n;
    for (size_t i = 0; i < n; i++)
      if (fabs(delta[i]) >= 0.005 && (best == n || fabs(delta[i]) > fabs(delta[best]))) best = i;
    if (best == n) break;
    char num[32];
    fmt_num(fabs(delta[best]), num, sizeof(num));
    off +=
        (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s %s %s exits/iter",
                         off ? ", " : "", delta[best] < 0 ? "avoids" : "adds", num, reasons[best]);
    delta[best] = 0;
    if (off >= len) break;
  }
  return off < len ? off : len - 1;
}

static void append(char *buf, size_t len, const char *sep, const char *text) {
  size_t l = strlen(buf);
  if (!*text || l >= len - 1) return;
  snprintf(buf + l, len - l, "%s%s", l ? sep : "", text);
}

static void cause_of(enum assist a, struct saving_cell *c) {
  char part[240];
  c->cause[0] = 0;
  part[0] = 0;
  exits_cause(c, part, sizeof(part));
  append(c->cause, sizeof(c->cause), "; ", part);
  if (a == ASSIST_EPT) {
    double ro = per_run_ratio(c->off, "model.walk_refs", "model.tlb_misses"),
           rn = per_run_ratio(c->on, "model.walk_refs", "model.tlb_misses");
    if (!isnan(ro) && !isnan(rn)) {
      snprintf(part, sizeof(part), "walk refs per TLB miss %.2g -> %.2g (%+.2g)", ro, rn, rn - ro);
      append(c->cause, sizeof(c->cause), "; ", part);
    }
  }
  if (a == ASSIST_VPID_EPT || a == ASSIST_VPID_SHADOW || a == ASSIST_EPT) {
    double mo = per_iter(c->off, "model.tlb_misses"), mn = per_iter(c->on, "model.tlb_misses");
    if (!isnan(mo) && !isnan(mn) && fabs(mo - mn) >= 0.005) {
      char num[32];
      fmt_num(fabs(mo - mn), num, sizeof(num));
      snprintf(part, sizeof(part), "%s %s TLB refills/iter", mo > mn ? "avoids" : "adds", num);
      append(c->cause, sizeof(c->cause), "; ", part);
    }
  }
  if (a == ASSIST_NMI_WINDOW || a == ASSIST_IRQ_WINDOW) {
    const char *kind = a == ASSIST_NMI_WINDOW ? "nmi" : "irq";
    char m50[64], m99[64];
    snprintf(m50, sizeof(m50), "events.%s.latency_ns.p50", kind);
    snprintf(m99, sizeof(m99), "events.%s.latency_ns.p99", kind);
    double o50 = median_metric(c->off, m50), n50 = median_metric(c->on, m50),
           o99 = median_metric(c->off, m99), n99 = median_metric(c->on, m99);
    if (!isnan(o50) && !isnan(n50)) {
      char a1[32], a2[32], b1[32], b2[32];
      findings__fmt_ns(o50, a1, sizeof(a1));
      findings__fmt_ns(n50, a2, sizeof(a2));
      findings__fmt_ns(o99, b1, sizeof(b1));
      findings__fmt_ns(n99, b2, sizeof(b2));
      snprintf(part, sizeof(part), "%s latency p50 %s -> %s, p99 %s -> %s",
               a == ASSIST_NMI_WINDOW ? "NMI" : "IRQ", a1, a2, b1, b2);
      append(c->cause, sizeof(c->cause), "; ", part);
    }
  }
  if (!c->cause[0]) snprintf(c->cause, sizeof(c->cause), "no exit, TLB or delivery difference");
}

/* The smallest two-sided p a Mann-Whitney test of samples of sizes a and b
 * can give: 2 / C(a + b, a). Below 4 runs a side it is 0.057 or more, so
 * no pair can count as a difference. */
static double min_p(size_t a, size_t b) {
  double c = 1;
  for (size_t i = 1; i <= a; i++)
    c = c * (double)(b + i) / (double)i;
  return 2 / c;
}

static void measure(enum assist a, struct saving_cell *c) {
  const char *metric = agg_group__time_metric(c->off);
  double *x, *base;
  size_t nx = agg_group__values(c->on, metric, &x, NULL),
         nb = agg_group__values(c->off, metric, &base, NULL);
  if (!nx || !nb ||
      stats__ratio_ci(x, nx, base, nb, STATS_BOOT_B, STATS_SEED, &c->ratio, &c->lo, &c->hi)) {
    c->status = SAVING_NOT_MEASURED;
    snprintf(c->note, sizeof(c->note), "no time samples");
    free(x), free(base);
    return;
  }
  c->status = SAVING_MEASURED;
  c->exact = c->hi - c->lo <= 1e-9 * fabs(c->ratio);
  struct mwu_result m;
  c->p = !c->exact && !stats__mann_whitney(x, nx, base, nb, &m) ? m.p : NAN;
  free(x), free(base);
  if (c->exact)
    c->verdict = c->ratio < 1 - EXACT_EPS   ? SAVING_SAVES
                 : c->ratio > 1 + EXACT_EPS ? SAVING_COSTS
                                            : SAVING_SAME;
  else /* measured: the interval excludes 1 and the two samples differ (Mann-Whitney) */
    c->verdict = !(c->p < 0.05) ? SAVING_SAME
                 : c->hi < 1    ? SAVING_SAVES
                 : c->lo > 1    ? SAVING_COSTS
                                : SAVING_SAME;
  c->effect = c->ratio > 0 ? fabs(log(c->ratio)) : 0;
  if (c->exact)
    snprintf(c->ratio_text, sizeof(c->ratio_text), "exact");
  else
    snprintf(c->ratio_text, sizeof(c->ratio_text), "95%% CI [%.3g, %.3g], Mann-Whitney p = %.2g",
             c->lo, c->hi, c->p);
  if (c->verdict == SAVING_SAME && !c->exact && min_p(nx, nb) >= 0.05)
    snprintf(c->verdict_text, sizeof(c->verdict_text), "too few runs to tell (%d vs %d; %.3gx)",
             (int)(nx % 1000), (int)(nb % 1000), c->ratio);
  else if (c->verdict == SAVING_SAME)
    snprintf(c->verdict_text, sizeof(c->verdict_text), "no measurable difference (%.3gx)",
             c->ratio);
  else if (c->verdict == SAVING_SAVES)
    snprintf(c->verdict_text, sizeof(c->verdict_text), "saves %.0f%% (%.3gx)", 100 * (1 - c->ratio),
             c->ratio);
  else if (c->ratio < 2)
    snprintf(c->verdict_text, sizeof(c->verdict_text), "costs +%.0f%% (%.3gx)",
             100 * (c->ratio - 1), c->ratio);
  else
    snprintf(c->verdict_text, sizeof(c->verdict_text), "costs %.3gx", c->ratio);
  cause_of(a, c);
}

size_t savings__compute(const struct agg_set *s, const json_t *context, struct saving_row **out) {
  struct saving_row *rows = calloc(s->n + 1, sizeof(*rows));
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (i && same_row(&s->g[i], &s->g[i - 1])) continue;
    /* rows are contiguous in report order; a row seen earlier is skipped */
    bool seen = false;
    for (size_t r = 0; r < n && !seen; r++)
      seen = same_row(rows[r].first, &s->g[i]);
    if (seen) continue;
    struct saving_row *row = &rows[n++];
    row->first = &s->g[i];
    for (int a = 0; a < ASSIST_COUNT; a++) {
      struct saving_cell *c = &row->cell[a];
      find_pair(s, i, (enum assist)a, &c->off, &c->on);
      if (c->off && c->on)
        measure((enum assist)a, c);
      else
        explain_missing(s, i, (enum assist)a, context, c);
    }
  }
  *out = rows;
  return n;
}

json_t *savings__json(const struct saving_row *rows, size_t n) {
  json_t *arr = json_array();
  for (size_t r = 0; r < n; r++)
    for (int a = 0; a < ASSIST_COUNT; a++) {
      const struct saving_cell *c = &rows[r].cell[a];
      json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "backend", rows[r].first->backend, "workload",
                            rows[r].first->label, "assist", savings_assists[a].name, "status",
                            c->status == SAVING_MEASURED     ? "measured"
                            : c->status == SAVING_HOST_FIXED ? "host_cannot_switch"
                                                             : "not_measured");
      if (c->status == SAVING_MEASURED) {
        json_object_set_new(o, "without", json_string(c->off->mode));
        json_object_set_new(o, "with", json_string(c->on->mode));
        json_object_set_new(o, "ratio_with_to_without", json_real(c->ratio));
        if (!c->exact) json_object_set_new(o, "ci95", json_pack("[f,f]", c->lo, c->hi));
        json_object_set_new(o, "exact", json_boolean(c->exact));
        json_object_set_new(o, "verdict", json_string(c->verdict_text));
        json_object_set_new(o, "cause", json_string(c->cause));
      } else {
        json_object_set_new(o, "note", json_string(c->note));
      }
      json_array_append_new(arr, o);
    }
  return arr;
}
