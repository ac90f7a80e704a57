/* report_page.c - the report's sections as one document (report_page.h). */
#include "report_page.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare.h"
#include "export.h"
#include "findings.h"
#include "json_util.h"
#include "report_doc.h"
#include "report_kvm_exits.h"
#include "report_order.h"
#include "stats.h"

/* Context facts worth a row: [label, path]. */
static const char *const ctx_rows[][2] = {
    {"host", "host"},
    {"date", "date"},
    {"CPU", "cpu.model_name"},
    {"CPU vendor", "cpu.vendor"},
    {"kernel", "kernel.release"},
    {"KVM flavour", "kvm.flavour"},
    {"KVM paging", "kvm.modes.paging"},
    {"KVM TLB", "kvm.modes.tlb"},
    {"KVM vNMI", "kvm.modes.vnmi"},
    {"PMU (libpfm4)", "pmu.core_pmu"},
    {"hardware PMU events", "pmu.perf_event_open.hardware"},
    {"CPUs", "num_cpus"},
    {"TSC Hz", "tsc_hz"},
    {"tool", "tool.name"},
    {"version", "tool.version"},
    {"git revision", "tool.git_revision"},
    {"command line", "command_line"},
};

static void ctx_value(const json_t *ctx, const char *path, char *buf, size_t len) {
  char p[128];
  snprintf(p, sizeof(p), "%s", path);
  const json_t *v = ctx;
  for (char *save = NULL, *t = strtok_r(p, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
    v = json_object_get(v, t);
  if (json_is_string(v))
    snprintf(buf, len, "%s", json_string_value(v));
  else if (json_is_integer(v))
    snprintf(buf, len, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v))
    snprintf(buf, len, "%g", json_real_value(v));
  else if (json_is_boolean(v))
    snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
  else
    snprintf(buf, len, "-");
}

struct row {
  const struct agg_group *g;
  struct stats_summary sm;
  bool have;
  double ratio, lo, hi;
  bool have_ratio;
  const char *base;
};

static struct row *rows_of(const struct agg_set *s, const char *baseline) {
  struct row *r = calloc(s->n + 1, sizeof(*r));
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    r[i].g = g;
    double *v;
    const char *metric = agg_group__time_metric(g);
    size_t n = agg_group__values(g, metric, &v, NULL);
    r[i].have = n && !stats__summarize(v, n, &r[i].sm);
    r[i].have_ratio =
        n && !aggregate__ratio(s, g, baseline, &r[i].ratio, &r[i].lo, &r[i].hi, &r[i].base);
    free(v);
  }
  return r;
}

#define NCELLS 15
static const char *const table_head[NCELLS + 1] = {
    "backend", "workload", "mode",       "ok/runs",  "clock",     "median",      "95% CI",   "mean",
    "stddev",  "CV",       "min .. max", "outliers", "exits/run", "vs baseline", "baseline", NULL};
#define C_MEDIAN 5 /* first cell of the time statistics */

/* Outlier repetitions of the time metric as "2 (rep 3, 7)". */
static void outlier_cell(const struct agg_group *g, char *buf, size_t len) {
  double *v;
  unsigned *reps;
  size_t n = agg_group__values(g, agg_group__time_metric(g), &v, &reps), k = 0;
  bool *flags = n ? calloc(n, sizeof(*flags)) : NULL;
  size_t nf = flags ? stats__mad_outliers(v, n, flags) : 0;
  size_t off = (size_t)snprintf(buf, len, "%zu", nf);
  for (size_t i = 0; i < n && off < len; i++)
    if (flags[i])
      off += (size_t)snprintf(buf + off, len - off, "%s%u", k++ ? ", " : " (rep ", reps[i]);
  if (k && off < len) snprintf(buf + off, len - off, ")");
  free(flags);
  free(v);
  free(reps);
}

/* The clock of a modeled figure with the profile that produced it, the
 * host flavour it describes and whether it was calibrated on `host` (the
 * host the document describes): "modeled: NAME, kvm_pvm (calibrated here)",
 * "... (not calibrated)", "... (calibrated on OTHER)". Just "modeled" when
 * the run names no profile. */
static void modeled_clock(const struct agg_group *g, const char *host, char *buf, size_t len) {
  const json_t *pr =
      json_object_get(json_object_get(json_array_get(g->runs, 0), "model"), "profile");
  const char *name = json_string_value(json_object_get(pr, "name"));
  if (!name) {
    snprintf(buf, len, "modeled");
    return;
  }
  const char *fl = json_string_value(json_object_get(pr, "host_flavour"));
  const char *on = json_string_value(json_object_get(pr, "measured_host"));
  bool measured = json_is_string(json_object_get(pr, "measured_on"));
  bool here = measured && on && *on && host && !strcmp(on, host);
  snprintf(buf, len, "modeled: %.36s%s%.10s (%s%.24s)", name, fl ? ", " : "", fl ? fl : "",
           !measured     ? "not calibrated"
           : !on || !*on ? "calibrated on an unnamed host"
           : here        ? "calibrated here"
                         : "calibrated on ",
           measured && on && *on && !here ? on : "");
}

static void row_cells(const struct row *r, const char *host, char cells[][96]) {
  const struct agg_group *g = r->g;
  snprintf(cells[0], 96, "%s", g->backend);
  snprintf(cells[1], 96, "%s", g->label);
  snprintf(cells[2], 96, "%s", g->mode);
  snprintf(cells[3], 96, "%zu/%zu", g->nok, g->nruns);
  /* modeled time on the model (its wall time is the interpreter's), wall time elsewhere */
  const char *metric = agg_group__time_metric(g);
  if (!strcmp(aggregate__time_clock(metric), "modeled"))
    modeled_clock(g, host, cells[4], 96);
  else
    snprintf(cells[4], 96, "%s", aggregate__time_clock(metric));
  const char *unit = strcmp(aggregate__time_per(metric), "run") ? "/iter" : "/run";
  enum { M = C_MEDIAN };
  if (r->have) {
    char a[32], b[32], c[32];
    findings__fmt_ns(r->sm.median, a, sizeof(a));
    snprintf(cells[M], 96, "%s%s", a, unit);
    findings__fmt_ns(r->sm.ci_lo, b, sizeof(b));
    findings__fmt_ns(r->sm.ci_hi, c, sizeof(c));
    snprintf(cells[M + 1], 96, "%s .. %s", b, c);
    findings__fmt_ns(r->sm.mean, a, sizeof(a));
    snprintf(cells[M + 2], 96, "%s", a);
    findings__fmt_ns(r->sm.stddev, a, sizeof(a));
    snprintf(cells[M + 3], 96, "%s", a);
    snprintf(cells[M + 4], 96, "%.1f%%", 100 * r->sm.cv);
    findings__fmt_ns(r->sm.min, b, sizeof(b));
    findings__fmt_ns(r->sm.max, c, sizeof(c));
    snprintf(cells[M + 5], 96, "%s .. %s", b, c);
    outlier_cell(g, cells[M + 6], 96);
  } else {
    for (int i = M; i < M + 7; i++)
      snprintf(cells[i], 96, "-");
  }
  double *v;
  /* the model's VM exits (all of them); KVM's exits that reached refvmm */
  bool vmx = json_object_get(g->metrics, "model.vmx_exits") != NULL;
  size_t n = agg_group__values(g, vmx ? "model.vmx_exits" : "exits.total", &v, NULL);
  if (n)
    snprintf(cells[M + 7], 96, "%.7g%s", stats__median(v, n), vmx ? " (VM)" : "");
  else
    snprintf(cells[M + 7], 96, "-");
  free(v);
  if (r->have_ratio) {
    snprintf(cells[M + 8], 96, "%.2fx [%.2f, %.2f]", r->ratio, r->lo, r->hi);
    snprintf(cells[M + 9], 96, "%s", r->base);
  } else {
    snprintf(cells[M + 8], 96, "-");
    snprintf(cells[M + 9], 96, "%s", r->have ? "(is the baseline)" : "-");
  }
}

/* [[label, context], ...]: each input document's context, or for a merged
 * document the context of every file it was merged from. */
static json_t *hosts_of(const struct report_in *in, int nin) {
  json_t *out = json_array();
  for (int k = 0; k < nin; k++) {
    const json_t *from = json_object_get(json_object_get(in[k].doc, "session"), "merged_from");
    size_t i;
    json_t *e;
    if (json_array_size(from)) {
      json_array_foreach(from, i, e) {
        char label[512];
        snprintf(label, sizeof(label), "%s (in %s)", json_string_value(json_object_get(e, "file")),
                 in[k].path);
        json_array_append_new(out, json_pack("[s,O]", label, json_object_get(e, "context")));
      }
    } else {
      json_array_append_new(out,
                            json_pack("[s,O]", in[k].path, json_object_get(in[k].doc, "context")));
    }
  }
  return out;
}

/* What produced the data, in a few lines: [label, value] pairs. */
static json_t *session_facts(const struct report_in *in, int nin, const char *baseline) {
  json_t *out = json_array();
  for (int k = 0; k < nin; k++) {
    const json_t *ctx = json_object_get(in[k].doc, "context");
    const json_t *ses = json_object_get(in[k].doc, "session");
    const char *pre = k ? "other: " : "";
    char lab[64], val[1024], a[256], b[256], c[256];
    ctx_value(ctx, "command_line", val, sizeof(val));
    snprintf(lab, sizeof(lab), "%scommand", pre);
    json_array_append_new(out, json_pack("[s,s]", lab, val));
    ctx_value(ctx, "date", a, sizeof(a));
    ctx_value(ctx, "host", b, sizeof(b));
    const char *st = json_string_value(json_object_get(ses, "status"));
    size_t nr = in[k].s->nruns, ok = in[k].s->nok, i;
    snprintf(val, sizeof(val), "%s on %s, %zu runs (%zu ok) in %zu configurations, session %s", a,
             b, nr, ok, in[k].s->n, st ? st : "of unknown status (not written by vtbench run)");
    snprintf(lab, sizeof(lab), "%sdata", pre);
    json_array_append_new(out, json_pack("[s,s]", lab, val));
    ctx_value(ctx, "cpu.model_name", a, sizeof(a));
    ctx_value(ctx, "kernel.release", b, sizeof(b));
    ctx_value(ctx, "kvm.flavour", c, sizeof(c));
    snprintf(val, sizeof(val), "%s, kernel %s, KVM %s", a, b, c);
    snprintf(lab, sizeof(lab), "%shost", pre);
    json_array_append_new(out, json_pack("[s,s]", lab, val));
    const json_t *from = json_object_get(ses, "merged_from");
    if (json_array_size(from)) { /* the facts above are the first file's */
      size_t off = (size_t)snprintf(val, sizeof(val), "%zu files:", json_array_size(from));
      json_t *e;
      json_array_foreach(from, i, e) if (off < sizeof(val)) off += (size_t)snprintf(
          val + off, sizeof(val) - off, " %s", json_string_value(json_object_get(e, "file")));
      snprintf(lab, sizeof(lab), "%smerged from", pre);
      json_array_append_new(out, json_pack("[s,s]", lab, val));
    }
  }
  json_array_append_new(
      out, json_pack("[s,s]", "baseline",
                     baseline ? baseline
                              : "native on the model; the least-featured mode measured on kvm"));
  json_array_append_new(
      out, json_pack("[s,s]", "reading",
                     "mode = paging/tlb/nmi/irq; times are medians over repetitions with 95% "
                     "bootstrap confidence intervals (modeled time on the model, wall time on "
                     "kvm); ratios > 1 mean slower than the baseline"));
  return out;
}

/* NMI/IRQ delivery per configuration, from the events.* metrics. */
struct ev_row {
  const struct agg_group *g;
  char kind[16];
  double raised, delivered, p50, p99, kicks;
};

static double med(const struct agg_group *g, const char *metric) {
  double *v;
  size_t n = agg_group__values(g, metric, &v, NULL);
  double m = n ? stats__median(v, n) : NAN;
  free(v);
  return m;
}

static size_t event_rows(const struct agg_set *s, struct ev_row *out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++) {
    static const char *const kinds[] = {"nmi", "irq"};
    for (size_t k = 0; k < 2 && n < max; k++) {
      char m[96];
      snprintf(m, sizeof(m), "events.%s.raised", kinds[k]);
      double raised = med(&s->g[i], m);
      if (isnan(raised) || raised <= 0) continue;
      struct ev_row *r = &out[n++];
      r->g = &s->g[i];
      snprintf(r->kind, sizeof(r->kind), "%s", kinds[k]);
      r->raised = raised;
      snprintf(m, sizeof(m), "events.%s.delivered", kinds[k]);
      r->delivered = med(&s->g[i], m);
      snprintf(m, sizeof(m), "events.%s.latency_ns.p50", kinds[k]);
      r->p50 = med(&s->g[i], m);
      snprintf(m, sizeof(m), "events.%s.latency_ns.p99", kinds[k]);
      r->p99 = med(&s->g[i], m);
      snprintf(m, sizeof(m), "events.%s.poll_kicks", kinds[k]);
      r->kicks = med(&s->g[i], m);
    }
  }
  return n;
}

static void ev_cells(const struct ev_row *r, char cells[][96]) {
  snprintf(cells[0], 96, "%.15s %.79s", r->g->backend, r->g->label);
  snprintf(cells[1], 96, "%s", r->g->mode);
  snprintf(cells[2], 96, "%s", r->kind);
  snprintf(cells[3], 96, "%.6g", r->raised);
  snprintf(cells[4], 96, "%.6g", r->delivered);
  findings__fmt_ns(r->p50, cells[5], 96);
  findings__fmt_ns(r->p99, cells[6], 96);
  const json_t *clock =
      json_object_get(json_object_get(json_array_get(r->g->runs, 0), "events"), "clock");
  if (json_is_string(clock) && !strcmp(json_string_value(clock), "modeled"))
    for (int c = 5; c < 7; c++) /* the model's latencies are in modeled time */
      strncat(cells[c], " (modeled)", 95 - strlen(cells[c]));
  if (isnan(r->kicks))
    snprintf(cells[7], 96, "-");
  else
    snprintf(cells[7], 96, "%.6g", r->kicks);
}
static const char *const ev_head[] = {"configuration", "mode",           "event",
                                      "raised/run",    "delivered/run",  "latency p50",
                                      "latency p99",   "poll kicks/run", NULL};
#define EV_ROWS_MAX 256

/* The model's overhead versus native by cause (model.breakdown), one row
 * per model configuration that has one: shares of the overhead cycles. */
static const char *const bd_head[] = {
    "configuration",         "mode",        "overhead vs native", "VM exits",
    "walk references",       "TLB refills", "NMI/IRQ delivery",   "other",
    "costliest exit reason", NULL};
#define BD_COLS 9
static const char *const bd_metric[] = {"model.breakdown.exits.cycles", "model.breakdown.walks",
                                        "model.breakdown.refills", "model.breakdown.events",
                                        "model.breakdown.other"};

/* false when g has no breakdown. */
static bool bd_cells(const struct agg_group *g, char cells[][96]) {
  double total = med(g, "model.overhead_vs_native.cycles");
  double ratio = med(g, "model.overhead_vs_native.ratio");
  if (isnan(total) || isnan(ratio) || !strncmp(g->mode, "native/", 7)) return false;
  snprintf(cells[0], 96, "%.15s %.79s", g->backend, g->label);
  snprintf(cells[1], 96, "%s", g->mode);
  snprintf(cells[2], 96, "%.3fx (%.4g cycles)", ratio, total);
  for (int c = 0; c < 5; c++) {
    double v = med(g, bd_metric[c]);
    if (isnan(v) || total == 0)
      snprintf(cells[3 + c], 96, "-");
    else
      snprintf(cells[3 + c], 96, "%.1f%%", 100 * v / total);
  }
  /* the model is deterministic: the first run's reasons are every run's */
  const json_t *by = json_object_get(
      json_object_get(
          json_object_get(json_object_get(json_array_get(g->runs, 0), "model"), "breakdown"),
          "exits"),
      "by_reason");
  const char *k, *top = NULL;
  json_t *e;
  double best = 0, c, n = 0;
  json_object_foreach((json_t *)by, k,
                      e) if (json_util__number(json_object_get(e, "cycles"), &c) && c > best) {
    best = c, top = k;
    json_util__number(json_object_get(e, "count"), &n);
  }
  if (top)
    snprintf(cells[8], 96, "%.40s (%.6g, %.0f%%)", top, n, total > 0 ? 100 * best / total : 0.0);
  else
    snprintf(cells[8], 96, "-");
  return true;
}

static long file_size(const char *dir, const char *name, const char *ext) {
  char p[4200];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s%s", dir, name, ext);
  return stat(p, &st) ? -1 : (long)st.st_size;
}

static json_t *strings(const char *const *v) {
  json_t *a = json_array();
  for (; *v; v++)
    json_array_append_new(a, json_string(*v));
  return a;
}

static json_t *cells_row(char cells[][96], int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, json_string(cells[i]));
  return a;
}

/* "*\/flush/poll/poll": the switches a savings pair shares, its own axis as '*'. */
static void shared_axes(const struct saving_cell *c, int axis, char *buf, size_t len) {
  char m[64], *part[4], *save = NULL;
  snprintf(m, sizeof(m), "%s", c->off->mode);
  int n = 0;
  for (char *t = strtok_r(m, "/", &save); t && n < 4; t = strtok_r(NULL, "/", &save))
    part[n++] = t;
  if (n != 4) {
    snprintf(buf, len, "%s", c->off->mode);
    return;
  }
  part[axis] = "*";
  snprintf(buf, len, "%s/%s/%s/%s", part[0], part[1], part[2], part[3]);
}

static void saving_text(const struct saving_cell *c, int a, char *buf, size_t len) {
  if (c->status != SAVING_MEASURED) {
    snprintf(buf, len, "%s", c->note);
    return;
  }
  char at[64];
  shared_axes(c, savings_assists[a].axis, at, sizeof(at));
  snprintf(buf, len, "%s, %s\nat %s\n%s", c->verdict_text, c->ratio_text, at, c->cause);
}

static const char savings_reading[] =
    "Each cell compares two configurations of the same workload that differ in that switch "
    "only (the other three shown after 'at', * = the switched one): the time per iteration "
    "with the assist divided by the time without it, so below 1 the assist saves time. "
    "Model figures are exact (the model is deterministic); KVM figures carry the 95% "
    "bootstrap interval and the Mann-Whitney U p of the two samples, and count as a "
    "difference only when the interval excludes 1 and p < 0.05. The cause is "
    "per guest iteration, with the assist against without: exits avoided or added by reason, "
    "walk references per TLB miss, TLB refills avoided, NMI/IRQ delivery latency.";

static void savings_table(json_t *d, const struct saving_row *sv, size_t n) {
  json_t *head = json_array();
  json_array_append_new(head, json_string("workload (backend)"));
  for (int a = 0; a < ASSIST_COUNT; a++)
    json_array_append_new(head, json_string(savings_assists[a].title));
  json_t *rows = report_doc__table(d, head, -1, -1);
  for (size_t r = 0; r < n; r++) {
    json_t *row = json_array();
    json_array_append_new(row, json_pack("s++", sv[r].first->label, "\n", sv[r].first->backend));
    for (int a = 0; a < ASSIST_COUNT; a++) {
      char t[640];
      saving_text(&sv[r].cell[a], a, t, sizeof(t));
      json_array_append_new(row, json_string(t));
    }
    json_array_append_new(rows, row);
  }
}

/* Per-repetition ratios time(on) / time(off), runs paired by repetition
 * number (the interleaved runs of one repetition ran close in time). */
static size_t rep_ratios(const struct saving_cell *c, double **out) {
  const char *metric = agg_group__time_metric(c->off);
  double *vo, *vn;
  unsigned *ro, *rn;
  size_t no = agg_group__values(c->off, metric, &vo, &ro),
         nn = agg_group__values(c->on, metric, &vn, &rn), k = 0;
  double *r = malloc((nn ? nn : 1) * sizeof(*r));
  for (size_t i = 0; r && i < nn; i++)
    for (size_t j = 0; j < no; j++)
      if (rn[i] == ro[j] && vo[j] > 0) {
        r[k++] = vn[i] / vo[j];
        break;
      }
  free(vo), free(vn), free(ro), free(rn);
  *out = r;
  return k;
}

static const struct saving_row *find_row(const struct saving_row *v, size_t n,
                                         const struct agg_group *g) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].first->backend, g->backend) && !strcmp(v[i].first->label, g->label))
      return &v[i];
  return NULL;
}

static const char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

/* The savings of both documents side by side, with the Mann-Whitney U test
 * of their per-repetition ratios in each cell. */
static void savings_compare(json_t *d, const struct report_page_in *p) {
  json_t *head = json_array();
  json_array_append_new(head, json_string("workload (backend)"));
  for (int a = 0; a < ASSIST_COUNT; a++)
    json_array_append_new(head, json_string(savings_assists[a].title));
  json_t *rows = report_doc__table(d, head, -1, -1);
  const char *na = base_name(p->in[0].path), *nb = base_name(p->in[1].path);
  for (size_t r = 0; r < p->nsv; r++) {
    const struct saving_row *o = find_row(p->osv, p->nosv, p->sv[r].first);
    if (!o) continue;
    json_t *row = json_array();
    json_array_append_new(row,
                          json_pack("s++", p->sv[r].first->label, "\n", p->sv[r].first->backend));
    for (int a = 0; a < ASSIST_COUNT; a++) {
      const struct saving_cell *x = &p->sv[r].cell[a], *y = &o->cell[a];
      char t[640];
      size_t off = 0;
      if (x->status == SAVING_MEASURED)
        off += (size_t)snprintf(t + off, sizeof(t) - off, "%s: %s, %s", na, x->verdict_text,
                                x->ratio_text);
      else
        off += (size_t)snprintf(t + off, sizeof(t) - off, "%s: %s", na, x->note);
      if (y->status == SAVING_MEASURED)
        off += (size_t)snprintf(t + off, sizeof(t) - off, "\n%s: %s, %s", nb, y->verdict_text,
                                y->ratio_text);
      else
        off += (size_t)snprintf(t + off, sizeof(t) - off, "\n%s: %s", nb, y->note);
      if (x->status == SAVING_MEASURED && y->status == SAVING_MEASURED && off < sizeof(t)) {
        double *rx, *ry;
        size_t nx = rep_ratios(x, &rx), ny = rep_ratios(y, &ry);
        struct mwu_result m;
        if (nx && ny && !stats__mann_whitney(rx, nx, ry, ny, &m))
          snprintf(t + off, sizeof(t) - off, "\nMann-Whitney p = %.3g (%zu/%zu reps): %s", m.p, nx,
                   ny, m.p < 0.05 ? "the saving differs" : "no significant difference");
        else
          snprintf(t + off, sizeof(t) - off, "\nMann-Whitney: no repetitions to pair");
        free(rx), free(ry);
      }
      json_array_append_new(row, json_string(t));
    }
    json_array_append_new(rows, row);
  }
}

/* hyperfine style, one line per workload: "pio n=1000 (kvm): a.json ran
 * 1.32x faster than b.json (geometric mean over 2 modes, 2 significant)". */
static json_t *compare_summary(const struct report_page_in *p, const struct compare_row *cr,
                               size_t n) {
  json_t *out = json_array();
  const char *na = base_name(p->in[0].path), *nb = base_name(p->in[1].path);
  bool *done = calloc(n + 1, sizeof(*done));
  for (size_t i = 0; i < n; i++) {
    if (done[i]) continue;
    double lsum = 0;
    size_t k = 0, sig = 0;
    for (size_t j = i; j < n; j++) {
      if (strcmp(cr[j].a->backend, cr[i].a->backend) || strcmp(cr[j].a->label, cr[i].a->label))
        continue;
      done[j] = true;
      if (cr[j].ratio > 0) lsum += log(cr[j].ratio), k++;
      sig += cr[j].significant;
    }
    if (!k) continue;
    double gm = exp(lsum / (double)k);
    char line[512];
    if (!sig)
      snprintf(line, sizeof(line),
               "%s (%s): no significant difference between %s and %s (%s/%s = %.3gx, geometric "
               "mean over %zu mode%s)",
               cr[i].a->label, cr[i].a->backend, na, nb, nb, na, gm, k, k > 1 ? "s" : "");
    else
      snprintf(line, sizeof(line),
               "%s (%s): %s ran %.3gx faster than %s (geometric mean over %zu mode%s, %zu "
               "significant by Mann-Whitney U)",
               cr[i].a->label, cr[i].a->backend, gm >= 1 ? na : nb, gm >= 1 ? gm : 1 / gm,
               gm >= 1 ? nb : na, k, k > 1 ? "s" : "", sig);
    json_array_append_new(out, json_string(line));
  }
  free(done);
  return out;
}

static void compare_table(json_t *d, const struct compare_row *cr, size_t n) {
  static const char *const head[] = {"workload", "backend",          "mode",        "this",
                                     "other",    "other/this",       "95% CI",      "n",
                                     "U",        "p (Mann-Whitney)", "significant", NULL};
  json_t *rows = report_doc__table(d, strings(head), 3, 2);
  for (size_t k = 0; k < n; k++) {
    char c[11][96];
    snprintf(c[0], 96, "%s", cr[k].a->label);
    snprintf(c[1], 96, "%s", cr[k].a->backend);
    snprintf(c[2], 96, "%s", cr[k].a->mode);
    findings__fmt_ns(cr[k].med_a, c[3], 96);
    findings__fmt_ns(cr[k].med_b, c[4], 96);
    snprintf(c[5], 96, "%.3f", cr[k].ratio);
    if (cr[k].hi - cr[k].lo <= 1e-9 * fabs(cr[k].ratio))
      snprintf(c[6], 96, "exact");
    else
      snprintf(c[6], 96, "%.3f .. %.3f", cr[k].lo, cr[k].hi);
    snprintf(c[7], 96, "%zu/%zu", cr[k].na, cr[k].nb);
    snprintf(c[8], 96, "%.1f", cr[k].u);
    snprintf(c[9], 96, "%.3g%s", cr[k].p, cr[k].exact ? "" : " (normal approx.)");
    snprintf(c[10], 96, "%s", cr[k].significant ? "yes" : "no");
    json_array_append_new(rows, cells_row(c, 11));
  }
}

static void figures(json_t *d, const struct report_page_in *p, bool savings) {
  size_t i;
  json_t *v;
  json_array_foreach(p->plots, i, v) {
    const char *out = json_string_value(json_object_get(v, "out"));
    if ((strncmp(out, "savings_", 8) == 0) != savings) continue;
    if (file_size(p->dir, out, ".png") <= 0) continue;
    report_doc__figure(
        d, out, json_string_value(json_object_get(json_object_get(v, "vars"), "ptitle")),
        json_string_value(json_object_get(v, "csv")), file_size(p->dir, out, ".svg") > 0);
  }
}

json_t *report_page__build(const struct report_page_in *p) {
  const struct report_in *in = p->in;
  const struct agg_set *s = in[0].s;
  bool cmp = p->nin > 1;
  json_t *d = report_doc__new();
  char buf[2048];
  report_doc__heading(d, 1, NULL, "vtbench report");
  snprintf(buf, sizeof(buf), "Results: %s%s%s", in[0].path, cmp ? ", compared with " : "",
           cmp ? in[1].path : "");
  report_doc__para(d, buf);
  const char *st =
      json_string_value(json_object_get(json_object_get(in[0].doc, "session"), "status"));
  if (st && strcmp(st, "complete")) {
    snprintf(buf, sizeof(buf),
             "This session is %s: figures cover the runs that finished. Complete it with "
             "vtbench run --resume -o %s",
             st, in[0].path);
    report_doc__note(d, buf);
  }
  report_kvm_exits__emulated_note(d, in[0].doc);
  report_doc__facts(d, session_facts(in, p->nin, p->baseline));

  static struct ev_row er[EV_ROWS_MAX];
  size_t ne = event_rows(s, er, EV_ROWS_MAX);
  bool has_bd = false;
  for (size_t r = 0; r < s->n && !has_bd; r++) {
    char cells[BD_COLS][96];
    has_bd = bd_cells(&s->g[r], cells);
  }
  json_t *toc = json_array();
  json_array_append_new(toc, json_pack("[s,s]", "what each assist saves", "#savings"));
  json_array_append_new(toc, json_pack("[s,s]", "findings", "#findings"));
  json_array_append_new(toc, json_pack("[s,s]", "overhead vs baseline", "#results"));
  if (has_bd)
    json_array_append_new(toc, json_pack("[s,s]", "model overhead by cause", "#breakdown"));
  if (ne) json_array_append_new(toc, json_pack("[s,s]", "NMI/IRQ delivery", "#events"));
  if (cmp) json_array_append_new(toc, json_pack("[s,s]", "comparison", "#comparison"));
  json_array_append_new(toc, json_pack("[s,s]", "plots", "#plots"));
  json_array_append_new(toc, json_pack("[s,s]", "hosts", "#hosts"));
  report_doc__links(d, "Contents:", toc);

  report_doc__heading(d, 2, "savings", "What each assist saves");
  report_doc__para(d, savings_reading);
  savings_table(d, p->sv, p->nsv);
  if (cmp) {
    snprintf(buf, sizeof(buf),
             "Side by side with %s: each cell gives both documents' saving and the two-sided "
             "Mann-Whitney U test of their per-repetition ratios (with / without, runs paired "
             "by repetition).",
             in[1].path);
    report_doc__heading(d, 3, "savings-compare", "What each assist saves, both documents");
    report_doc__para(d, buf);
    savings_compare(d, p);
  }
  figures(d, p, true);

  report_doc__heading(d, 2, "findings", "Findings");
  json_t *items = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(p->findings, i, v) json_array_append(items, v);
  report_doc__list(d, items);

  report_doc__heading(d, 2, "results", "Overhead versus the baseline mode (virtualization tax)");
  report_doc__para(
      d, "Median time per iteration (per run where the guest reports no iteration count), 95% "
         "bootstrap CI of the median, coefficient of variation, MAD-flagged outliers (kept), "
         "and the ratio to the baseline mode with its CI. Clock modeled: the model's modeled "
         "time (cost-model cycles at the profile's TSC rate; the interpreter's own wall time is "
         "not a figure of the guest), with the cost profile that priced it and whether it was "
         "calibrated (vtbench calibrate) on the host this document describes; wall: measured "
         "wall time. Exits/run marked (VM): the "
         "model's VM exits, else exits that reached refvmm.");
  json_t *rows = report_doc__table(d, strings(table_head), 3, 2);
  struct row *rw = rows_of(s, p->baseline);
  for (size_t r = 0; r < s->n; r++) {
    char cells[NCELLS][96];
    row_cells(&rw[r],
              json_string_value(json_object_get(json_object_get(in[0].doc, "context"), "host")),
              cells);
    /* exact (deterministic) figures print no interval */
    if (rw[r].have && rw[r].sm.ci_hi - rw[r].sm.ci_lo <= 1e-9 * fabs(rw[r].sm.median))
      snprintf(cells[C_MEDIAN + 1], 96, "exact");
    if (rw[r].have_ratio && rw[r].hi - rw[r].lo <= 1e-9 * fabs(rw[r].ratio))
      snprintf(cells[C_MEDIAN + 8], 96, "%.3gx (exact)", rw[r].ratio);
    json_array_append_new(rows, cells_row(cells, NCELLS));
  }
  free(rw);

  if (has_bd) {
    report_doc__heading(d, 2, "breakdown", "Model: overhead versus native by cause");
    report_doc__para(d, "Shares of the modeled overhead cycles (model.breakdown, medians; "
                        "docs/COST_MODEL.md): they add up to 100%; a negative share is a cause "
                        "that costs less than natively.");
    rows = report_doc__table(d, strings(bd_head), 2, 1);
    for (size_t r = 0; r < s->n; r++) {
      char cells[BD_COLS][96];
      if (bd_cells(&s->g[r], cells)) json_array_append_new(rows, cells_row(cells, BD_COLS));
    }
  }
  if (ne) {
    report_doc__heading(d, 2, "events", "NMI/IRQ delivery");
    report_doc__para(d, "Medians over repetitions; latency from the raise (TSC) to the guest "
                        "handler (TSC). The CDF plots show the whole distribution.");
    rows = report_doc__table(d, strings(ev_head), 3, 1);
    for (size_t k = 0; k < ne; k++) {
      char cells[8][96];
      ev_cells(&er[k], cells);
      json_array_append_new(rows, cells_row(cells, 8));
    }
  }
  report_kvm_exits__section(d, in[0].kvm_exits);
  if (cmp) {
    struct compare_row *cr;
    size_t n = compare__rows(s, in[1].s, &cr);
    report_doc__heading(d, 2, "comparison", "Comparison");
    report_doc__list(d, compare_summary(p, cr, n));
    snprintf(buf, sizeof(buf),
             "Per configuration: median time in each document (this: %s, other: %s), their ratio "
             "with its bootstrap interval, and the two-sided Mann-Whitney U test (exact p up to 20 "
             "runs a side without ties; with 3 repetitions a side no difference can reach p < "
             "0.05).",
             in[0].path, in[1].path);
    report_doc__para(d, buf);
    compare_table(d, cr, n);
    free(cr);
  }
  report_doc__heading(d, 2, "plots", "Plots");
  figures(d, p, false);

  report_doc__heading(d, 2, "hosts", "Hosts");
  json_t *hosts = hosts_of(in, p->nin);
  json_t *hh = json_array();
  json_array_append_new(hh, json_string(""));
  size_t hk;
  json_t *h;
  json_array_foreach(hosts, hk, h) json_array_append(hh, json_array_get(h, 0));
  rows = report_doc__table(d, hh, -1, -1);
  for (size_t r = 0; r < sizeof(ctx_rows) / sizeof(ctx_rows[0]); r++) {
    json_t *row = json_array();
    json_array_append_new(row, json_string(ctx_rows[r][0]));
    json_array_foreach(hosts, hk, h) {
      char val[256];
      ctx_value(json_array_get(h, 1), ctx_rows[r][1], val, sizeof(val));
      json_array_append_new(row, json_string(val));
    }
    json_array_append_new(rows, row);
  }
  json_decref(hosts);
  json_t *files = json_array();
  json_array_append_new(files, json_pack("[s,s]", "summary.csv", "summary.csv"));
  json_array_append_new(files, json_pack("[s,s]", "savings.csv", "savings.csv"));
  json_array_append_new(files, json_pack("[s,s]", "summary.md", "summary.md"));
  json_array_append_new(files, json_pack("[s,s]", "report.json", "report.json"));
  json_array_append_new(files, json_pack("[s,s]", "plots.sh (sh plots.sh PLOTS_DIR)", "plots.sh"));
  report_doc__links(d, "Data:", files);
  return d;
}
