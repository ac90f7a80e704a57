/* export.c - CSV files for the plots and the comparison rows. */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "compare.h"
#include "event_cdf.h"
#include "msg.h"
#include "report_order.h"
#include "savings.h"
#include "results/result_doc.h"
#include "stats.h"

#define MAX_COLS 64

/* The fixed colours of the columns the last write_grid() wrote (modes;
 * "#999999" for a column that is not a mode), for bars.gp's `colours`. */
static char grid_colours[MAX_COLS * 8 + 1];

void export__csv_field(const char *s, char *buf, size_t len) {
  if (!len) return;
  if (!strpbrk(s, ",\"\r\n")) {
    snprintf(buf, len, "%s", s);
    return;
  }
  /* RFC 4180: the field in double quotes, a quote inside doubled */
  size_t o = 0;
  buf[o++] = '"';
  for (; *s && o + 3 < len; s++) {
    if (*s == '"') buf[o++] = '"';
    buf[o++] = *s;
  }
  buf[o++] = '"';
  buf[o] = 0;
}

const char *export__gp_quote(const char *s) {
  static char buf[4096];
  size_t o = 0;
  for (; s && *s && o + 3 < sizeof(buf); s++) {
    if (*s == '\'') buf[o++] = '\'';
    buf[o++] = *s;
  }
  buf[o] = 0;
  return buf;
}

/* Distinct strings in order of first appearance. */
struct strlist {
  const char *v[MAX_COLS * 4];
  size_t n;
};
static size_t strlist__add(struct strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i], s)) return i;
  if (l->n < sizeof(l->v) / sizeof(l->v[0])) l->v[l->n++] = s;
  return l->n - 1;
}

/* Modes with native first, then in order of appearance. */
static void backend_axes(const struct agg_set *s, const char *backend, struct strlist *labels,
                         struct strlist *modes) {
  memset(labels, 0, sizeof(*labels));
  memset(modes, 0, sizeof(*modes));
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->g[i].backend, backend) && !strncmp(s->g[i].mode, "native/", 7))
      strlist__add(modes, s->g[i].mode);
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->g[i].backend, backend)) continue;
    strlist__add(labels, s->g[i].label);
    strlist__add(modes, s->g[i].mode);
  }
  if (modes->n > MAX_COLS) modes->n = MAX_COLS;
}

static const struct agg_group *find(const struct agg_set *s, const char *backend, const char *label,
                                    const char *mode) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->g[i].backend, backend) && !strcmp(s->g[i].label, label) &&
        !strcmp(s->g[i].mode, mode))
      return &s->g[i];
  return NULL;
}

/* value/lo/hi of one cell; false when there is nothing to show. */
typedef bool (*cell_fn)(const struct agg_set *s, const struct agg_group *g, const void *arg,
                        double out[3]);

static bool cell_time(const struct agg_set *s, const struct agg_group *g, const void *arg,
                      double out[3]) {
  (void)s, (void)arg;
  double *v;
  size_t n = agg_group__values(g, agg_group__time_metric(g), &v, NULL);
  bool ok =
      n && !stats__bootstrap_median_ci(v, n, STATS_BOOT_B, 0.95, STATS_SEED, &out[1], &out[2]);
  if (ok) out[0] = stats__median(v, n);
  free(v);
  return ok;
}

static bool cell_ratio(const struct agg_set *s, const struct agg_group *g, const void *arg,
                       double out[3]) {
  const char *bm;
  return !aggregate__ratio(s, g, arg, &out[0], &out[1], &out[2], &bm);
}

/* Per-iteration median of a counter (arg = metric name): each run's count
 * divided by its own iterations. */
static bool per_iter(const struct agg_group *g, const char *metric, double out[3]) {
  double *v, *it;
  size_t n = g ? agg_group__values(g, metric, &v, NULL) : 0;
  if (!n) return false;
  size_t ni = agg_group__values(g, "iterations", &it, NULL);
  bool ok = false;
  if (n == ni) {
    for (size_t i = 0; i < n; i++)
      v[i] = it[i] > 0 ? v[i] / it[i] : NAN;
    ok = !stats__bootstrap_median_ci(v, n, STATS_BOOT_B, 0.95, STATS_SEED, &out[1], &out[2]);
    out[0] = stats__median(v, n);
  }
  free(v);
  free(it);
  return ok && !isnan(out[0]);
}

/* Median of each run's num / den (both metrics present in every run). */
static bool per_run_ratio(const struct agg_group *g, const char *num, const char *den,
                          double *out) {
  double *v, *d;
  size_t n = agg_group__values(g, num, &v, NULL), nd = agg_group__values(g, den, &d, NULL);
  bool ok = n && n == nd;
  for (size_t i = 0; ok && i < n; i++)
    v[i] = d[i] > 0 ? v[i] / d[i] : NAN;
  if (ok) *out = stats__median(v, n);
  free(v);
  free(d);
  return ok && !isnan(*out);
}

static bool cell_per_iter(const struct agg_set *s, const struct agg_group *g, const void *arg,
                          double out[3]) {
  (void)s;
  return per_iter(g, arg, out);
}

static int err_out(char *err, size_t len, const char *path) {
  return msg__fail(err, len, "%s: cannot write: %s (check the -o directory)", path,
                   strerror(errno));
}

static json_t *plot_spec(const char *script, const char *csv, const char *out, json_t *vars) {
  return json_pack("{s:s,s:s,s:s,s:o}", "script", script, "csv", csv, "out", out, "vars", vars);
}

/* The last plot's series are the modes write_grid() just wrote: give it
 * their fixed colours. */
static void mode_colours(json_t *plots) {
  json_t *last = json_array_get(plots, json_array_size(plots) - 1);
  if (last && grid_colours[0])
    json_object_set_new(json_object_get(last, "vars"), "colours", json_string(grid_colours));
}

/* Plot width that keeps `per` px per bar or cluster so its multi-line tick
 * label stays readable (at least 1100, at most 1600: wider plots become
 * strips nobody reads; stacked plots split into panels instead). */
static int plot_width(size_t bars, size_t per) {
  size_t w = per * bars + 450;
  return w < 1100 ? 1100 : w > 1600 ? 1600 : (int)w;
}

static size_t backend_labels(const struct agg_set *s, const char *backend) {
  struct strlist labels, modes;
  backend_axes(s, backend, &labels, &modes);
  return labels.n;
}

#define MODE_KEY "mode: paging/tlb/nmi/irq"

/* value/lo/hi of the cell at (row r, column c); false: nothing there. */
typedef bool (*grid_fn)(const struct agg_set *s, size_t r, size_t c, const void *arg,
                        double out[3]);

/* A bars.gp CSV: one row per rows[], value/lo/hi per column; columns without
 * a single value are left out. Returns the number of series written, 0 when
 * nothing, -1 on error. */
static int write_grid(const struct agg_set *s, const struct strlist *rows,
                      const struct strlist *cols, grid_fn fn, const void *arg, const char *dir,
                      const char *name, char *err, size_t len) {
  static double cell[MAX_COLS * 4][MAX_COLS][3];
  static bool have[MAX_COLS * 4][MAX_COLS];
  bool col_used[MAX_COLS] = {0};
  int ncols = 0;
  for (size_t r = 0; r < rows->n; r++)
    for (size_t c = 0; c < cols->n && c < MAX_COLS; c++) {
      have[r][c] = fn(s, r, c, arg, cell[r][c]);
      if (have[r][c] && !col_used[c]) col_used[c] = true, ncols++;
    }
  if (!ncols) return 0;
  char f[128];
  struct atomic_file af;
  FILE *fp = atomic_file__open_in(&af, dir, name);
  if (!fp) return err_out(err, len, af.path);
  fprintf(fp, "workload");
  grid_colours[0] = 0;
  for (size_t c = 0; c < cols->n && c < MAX_COLS; c++)
    if (col_used[c]) {
      static const char *const suffix[] = {"", "_lo", "_hi"};
      for (int k = 0; k < 3; k++) {
        char col[160];
        snprintf(col, sizeof(col), "%s%s", cols->v[c], suffix[k]);
        export__csv_field(col, f, sizeof(f));
        fprintf(fp, ",%s", f);
      }
      size_t cl = strlen(grid_colours);
      snprintf(grid_colours + cl, sizeof(grid_colours) - cl, "%s%s", cl ? " " : "",
               report_order__colour(cols->v[c]));
    }
  fprintf(fp, "\n");
  for (size_t r = 0; r < rows->n; r++) {
    export__csv_field(rows->v[r], f, sizeof(f));
    fprintf(fp, "%s", f);
    for (size_t c = 0; c < cols->n && c < MAX_COLS; c++) {
      if (!col_used[c]) continue;
      if (have[r][c])
        fprintf(fp, ",%.6g,%.6g,%.6g", cell[r][c][0], cell[r][c][1], cell[r][c][2]);
      else
        fprintf(fp, ",NaN,NaN,NaN");
    }
    fprintf(fp, "\n");
  }
  if (atomic_file__commit(&af)) return err_out(err, len, af.path);
  return ncols;
}

/* Median and bootstrap CI of one metric of a group. */
static bool median_ci(const struct agg_group *g, const char *metric, double out[3]) {
  double *v;
  size_t n = g ? agg_group__values(g, metric, &v, NULL) : 0;
  if (!n) return false;
  bool ok = !stats__bootstrap_median_ci(v, n, STATS_BOOT_B, 0.95, STATS_SEED, &out[1], &out[2]);
  out[0] = stats__median(v, n);
  free(v);
  return ok;
}

struct bars_arg {
  const char *backend;
  const struct strlist *labels, *modes;
  cell_fn fn;
  const void *arg;
};

static bool bars_cell(const struct agg_set *s, size_t r, size_t c, const void *arg, double out[3]) {
  const struct bars_arg *a = arg;
  const struct agg_group *g = find(s, a->backend, a->labels->v[r], a->modes->v[c]);
  return g && a->fn(s, g, a->arg, out);
}

/* Rows: workloads of one backend; columns: its modes. */
static int write_bars(const struct agg_set *s, const char *backend, cell_fn fn, const void *arg,
                      const char *dir, const char *name, char *err, size_t len) {
  struct strlist labels, modes;
  backend_axes(s, backend, &labels, &modes);
  struct bars_arg a = {backend, &labels, &modes, fn, arg};
  return write_grid(s, &labels, &modes, bars_cell, &a, dir, name, err, len);
}

/* Exit handling latency: rows "workload REASON", columns modes, the median
 * over runs of each run's p50 latency. */
struct lat_arg {
  const char *backend;
  const struct strlist *modes;
  const char *label[MAX_COLS * 4], *reason[MAX_COLS * 4];
};

static bool lat_cell(const struct agg_set *s, size_t r, size_t c, const void *arg, double out[3]) {
  const struct lat_arg *a = arg;
  char metric[160];
  snprintf(metric, sizeof(metric), "exits.%s.p50_ns", a->reason[r]);
  return median_ci(find(s, a->backend, a->label[r], a->modes->v[c]), metric, out);
}

static int write_latency(const struct agg_set *s, const char *backend, const char *dir,
                         const char *name, size_t *nrows, char *err, size_t len) {
  struct strlist labels, modes, rows = {0};
  backend_axes(s, backend, &labels, &modes);
  static struct lat_arg a;
  memset(&a, 0, sizeof(a));
  a.backend = backend;
  a.modes = &modes;
  char names[MAX_COLS * 4][160];
  for (size_t i = 0; i < s->n && rows.n < MAX_COLS * 4; i++) {
    const struct agg_group *g = &s->g[i];
    if (strcmp(g->backend, backend)) continue;
    const char *k;
    json_t *v;
    json_object_foreach(g->metrics, k, v) {
      size_t kl = strlen(k);
      if (strncmp(k, "exits.", 6) || kl < 14 || strcmp(k + kl - 7, ".p50_ns")) continue;
      if (rows.n >= MAX_COLS * 4) break;
      snprintf(names[rows.n], sizeof(names[0]), "%s [%.*s exits]", g->label, (int)(kl - 13), k + 6);
      size_t before = rows.n;
      size_t at = strlist__add(&rows, names[before]);
      if (at == before) {
        a.label[at] = g->label;
        a.reason[at] = k + 6; /* "REASON.p50_ns": cut below */
      }
    }
  }
  char reasons[MAX_COLS * 4][128];
  for (size_t r = 0; r < rows.n; r++) {
    snprintf(reasons[r], sizeof(reasons[0]), "%s", a.reason[r]);
    char *dot = strstr(reasons[r], ".p50_ns");
    if (dot) *dot = 0;
    a.reason[r] = reasons[r];
  }
  *nrows = rows.n;
  return rows.n ? write_grid(s, &rows, &modes, lat_cell, &a, dir, name, err, len) : 0;
}

/* Model and KVM side by side, per iteration (so runs with other
 * parameters compare): every exit KVM handled (its stats), the exits that
 * reached refvmm, and the model's VM exits, for each workload and mode
 * measured on both backends (same parameters preferred). */
static const char *const side_cols[][2] = {{"kvm: all exits (KVM stats)", "kvm.exits"},
                                           {"kvm: exits to refvmm", "exits.total"},
                                           {"model: VM exits", "model.vmx_exits"}};
#define SIDE_COLS (sizeof(side_cols) / sizeof(side_cols[0]))

struct side_arg {
  const struct agg_group *pair[MAX_COLS * 4][2];
};

static bool side_cell(const struct agg_set *s, size_t r, size_t c, const void *arg, double out[3]) {
  (void)s;
  const struct side_arg *a = arg;
  return per_iter(a->pair[r][c < 2 ? 0 : 1], side_cols[c][1], out);
}

static int write_side_by_side(const struct agg_set *s, const char *dir, size_t *nrows, char *err,
                              size_t len) {
  static struct side_arg a;
  memset(&a, 0, sizeof(a));
  struct strlist rows = {0}, cols = {0};
  for (size_t c = 0; c < SIDE_COLS; c++)
    strlist__add(&cols, side_cols[c][0]);
  static char names[MAX_COLS * 4][200];
  for (size_t i = 0; i < s->n && rows.n < MAX_COLS * 4; i++) {
    const struct agg_group *k = &s->g[i], *m = NULL;
    if (strcmp(k->backend, "kvm") || !k->nok) continue;
    for (size_t j = 0; j < s->n; j++) {
      const struct agg_group *c = &s->g[j];
      if (strcmp(c->backend, "model") || strcmp(c->workload, k->workload) ||
          strcmp(c->mode, k->mode) || !c->nok)
        continue;
      if (!m || !strcmp(c->label, k->label)) m = c;
    }
    if (!m) continue;
    if (!strcmp(m->label, k->label))
      snprintf(names[rows.n], sizeof(names[0]), "%s [%s]", k->label, k->mode);
    else /* other parameters: per iteration still compares */
      snprintf(names[rows.n], sizeof(names[0]), "%s (kvm%s; model%s) [%s]", k->workload,
               k->label + strlen(k->workload), m->label + strlen(m->workload), k->mode);
    a.pair[rows.n][0] = k;
    a.pair[rows.n][1] = m;
    strlist__add(&rows, names[rows.n]);
  }
  *nrows = rows.n;
  return rows.n ? write_grid(s, &rows, &cols, side_cell, &a, dir, "model_vs_kvm.csv", err, len) : 0;
}

/* stacked.gp CSV: the model's overhead versus native by cause
 * (model.breakdown) as fractions of the native run's modeled cycles, so
 * a bar's height is ratio - 1 and workloads of any length compare; one bar
 * per configuration with a breakdown. Parts below zero (a mode whose walks
 * cost less than native's) are drawn as 0; *negative says whether any was.
 * Returns the column count including the label, 0 when no breakdown. */
static const char *const cause_cols[][2] = {{"VM exits", "model.breakdown.exits.cycles"},
                                            {"walk references", "model.breakdown.walks"},
                                            {"TLB refills", "model.breakdown.refills"},
                                            {"NMI/IRQ delivery", "model.breakdown.events"},
                                            {"other", "model.breakdown.other"}};
#define CAUSE_COLS (sizeof(cause_cols) / sizeof(cause_cols[0]))

/* stacked.gp panels: one data block per workload (rows of one label are
 * contiguous in report order), each with its own header line, the mode as
 * the bar's label; the panel titles '|'-separated. */
struct panels {
  char titles[2048];
  int n;
  const char *cur;
};

static void panel_row(FILE *fp, struct panels *pn, const struct agg_group *g, const char *header) {
  if (!pn->cur || strcmp(pn->cur, g->label)) {
    char title[200], f[220];
    snprintf(title, sizeof(title), "%s (%s)", g->label, g->backend);
    size_t tl = strlen(pn->titles);
    snprintf(pn->titles + tl, sizeof(pn->titles) - tl, "%s%s", pn->n ? "|" : "", title);
    /* the block's header names its panel in place of "config" */
    export__csv_field(title, f, sizeof(f));
    const char *rest = strchr(header, ',');
    fprintf(fp, "%s%s%s\n", pn->n ? "\n\n" : "", f, rest ? rest : "");
    pn->n++;
    pn->cur = g->label;
  }
  fprintf(fp, "%s", g->mode);
}

static int write_breakdown(const struct agg_set *s, const char *backend, const char *dir,
                           const char *name, struct panels *pn, int *negative, char *err,
                           size_t len) {
  struct atomic_file af;
  FILE *fp = NULL;
  char header[256] = "config";
  for (size_t c = 0; c < CAUSE_COLS; c++)
    snprintf(header + strlen(header), sizeof(header) - strlen(header), ",%s", cause_cols[c][0]);
  memset(pn, 0, sizeof(*pn));
  *negative = 0;
  for (size_t oi = 0; oi < s->n; oi++) {
    const struct agg_group *g = &s->g[oi];
    static const char *const native = "model.overhead_vs_native.native_cycles";
    double tot, cell[CAUSE_COLS][1];
    if (strcmp(g->backend, backend) || !strncmp(g->mode, "native/", 7) ||
        !per_run_ratio(g, "model.overhead_vs_native.cycles", native, &tot))
      continue;
    bool any = false;
    for (size_t c = 0; c < CAUSE_COLS; c++) {
      if (!per_run_ratio(g, cause_cols[c][1], native, &cell[c][0])) cell[c][0] = 0;
      any |= cell[c][0] != 0;
    }
    if (!any) continue;
    if (!fp && !(fp = atomic_file__open_in(&af, dir, name))) return err_out(err, len, af.path);
    panel_row(fp, pn, g, header);
    for (size_t c = 0; c < CAUSE_COLS; c++) {
      if (cell[c][0] < 0) *negative = 1;
      fprintf(fp, ",%.6g", cell[c][0] > 0 ? cell[c][0] : 0.0);
    }
    fprintf(fp, "\n");
  }
  if (!fp) return 0;
  if (atomic_file__commit(&af)) return err_out(err, len, af.path);
  return (int)CAUSE_COLS + 1;
}

/* stacked.gp CSV: median count per exit reason per configuration. Returns
 * the number of columns including the label, 0 when no exits. */
/* Where a backend's exits by reason are: on the model its VM exits by SDM
 * reason over the timed region (model.timed.exits.REASON), else the exits
 * that reached refvmm (exits.REASON.count). */
static bool vmx_exit_metrics(const struct agg_set *s, const char *backend) {
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->g[i].backend, backend)) continue;
    const char *k;
    json_t *v;
    json_object_foreach(s->g[i].metrics, k,
                        v) if (!strncmp(k, "model.timed.exits.", 18)) return true;
  }
  return false;
}

static int write_exits(const struct agg_set *s, const char *backend, const char *dir,
                       const char *name, struct panels *pn, char *err, size_t len) {
  struct strlist reasons = {0};
  char *names[MAX_COLS];
  size_t nn = 0;
  bool vmx = vmx_exit_metrics(s, backend);
  const char *pre = vmx ? "model.timed.exits." : "exits.", *suf = vmx ? "" : ".count";
  size_t pl = strlen(pre), sl = strlen(suf);
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->g[i].backend, backend)) continue;
    const char *k;
    json_t *v;
    json_object_foreach(s->g[i].metrics, k, v) {
      size_t kl = strlen(k);
      if (strncmp(k, pre, pl) || kl <= pl + sl || strcmp(k + kl - sl, suf)) continue;
      if (reasons.n >= MAX_COLS || nn >= MAX_COLS) continue;
      char *r = strndup(k + pl, kl - pl - sl);
      size_t before = reasons.n;
      strlist__add(&reasons, r);
      if (reasons.n > before)
        names[nn++] = r;
      else
        free(r);
    }
  }
  int rc = 0;
  if (!reasons.n) goto out;
  char f[160];
  struct atomic_file af;
  FILE *fp = atomic_file__open_in(&af, dir, name);
  if (!fp) {
    rc = err_out(err, len, af.path);
    goto out;
  }
  char header[MAX_COLS * 40] = "config";
  for (size_t c = 0; c < reasons.n; c++) {
    export__csv_field(reasons.v[c], f, sizeof(f));
    snprintf(header + strlen(header), sizeof(header) - strlen(header), ",%s", f);
  }
  memset(pn, 0, sizeof(*pn));
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    if (strcmp(g->backend, backend) || !g->nok) continue;
    panel_row(fp, pn, g, header);
    for (size_t c = 0; c < reasons.n; c++) {
      char metric[160];
      snprintf(metric, sizeof(metric), "%s%s%s", pre, reasons.v[c], suf);
      double *v;
      size_t n = agg_group__values(g, metric, &v, NULL);
      fprintf(fp, ",%.6g", n ? stats__median(v, n) : 0.0);
      free(v);
    }
    fprintf(fp, "\n");
  }
  if (atomic_file__commit(&af))
    rc = err_out(err, len, af.path);
  else
    rc = (int)reasons.n + 1;
out:
  for (size_t i = 0; i < nn; i++)
    free(names[i]);
  return rc;
}

static int write_compare(const struct agg_set *a, const struct agg_set *b, const char *dir,
                         char *err, size_t len) {
  struct compare_row *rows;
  size_t n = compare__rows(a, b, &rows);
  char f[200];
  struct atomic_file af;
  FILE *fp = atomic_file__open_in(&af, dir, "compare.csv");
  if (!fp) {
    free(rows);
    return err_out(err, len, af.path);
  }
  fprintf(fp,
          "config,other/this,other/this_lo,other/this_hi,median_this,median_other,p,significant\n");
  for (size_t i = 0; i < n; i++) {
    char lab[200];
    snprintf(lab, sizeof(lab), "%s (%s)%s [%s]", rows[i].a->label, rows[i].a->backend,
             rows[i].significant ? " *" : "", rows[i].a->mode);
    export__csv_field(lab, f, sizeof(f));
    fprintf(fp, "%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%d\n", f, rows[i].ratio, rows[i].lo, rows[i].hi,
            rows[i].med_a, rows[i].med_b, rows[i].p, rows[i].significant);
  }
  free(rows);
  if (atomic_file__commit(&af)) return err_out(err, len, af.path);
  return (int)n;
}

static int write_summary(const struct agg_set *s, const char *dir, const char *baseline, char *err,
                         size_t len) {
  char f[300];
  struct atomic_file af;
  FILE *fp = atomic_file__open_in(&af, dir, "summary.csv");
  if (!fp) return err_out(err, len, af.path);
  fprintf(fp, "backend,workload,mode,runs,ok,metric,median,ci_lo,ci_hi,mean,stddev,cv,min,max,"
              "outliers,baseline,ratio,ratio_lo,ratio_hi\n");
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    export__csv_field(g->label, f, sizeof(f));
    fprintf(fp, "%s,%s,%s,%zu,%zu,", g->backend, f, g->mode, g->nruns, g->nok);
    const char *metric = agg_group__time_metric(g);
    double *v;
    size_t n = agg_group__values(g, metric, &v, NULL);
    struct stats_summary sm;
    if (n && !stats__summarize(v, n, &sm))
      fprintf(fp, "%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%.6g,%.6g,%zu,", metric, sm.median, sm.ci_lo,
              sm.ci_hi, sm.mean, sm.stddev, sm.cv, sm.min, sm.max, sm.outliers);
    else
      fprintf(fp, "%s,NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN,0,", metric);
    free(v);
    double cell[3];
    const struct agg_group *base = aggregate__baseline(s, g, baseline);
    if (base && cell_ratio(s, g, baseline, cell))
      fprintf(fp, "%s,%.6g,%.6g,%.6g\n", base->mode, cell[0], cell[1], cell[2]);
    else
      fprintf(fp, ",NaN,NaN,NaN\n");
  }
  if (atomic_file__commit(&af)) return err_out(err, len, af.path);
  return 0;
}

static int write_replay(const char *dir, const json_t *plots, char *err, size_t len) {
  struct atomic_file af;
  FILE *fp = atomic_file__open_in(&af, dir, "plots.sh");
  if (!fp) return err_out(err, len, af.path);
  fprintf(fp, "#!/bin/sh\n# Replays the plots of this report: edit plots/*.gp and rerun.\n"
              "# usage: sh plots.sh [PLOTS_DIR]   (run inside this directory)\n"
              "P=${1:-${VTBENCH_PLOTS:-plots}}\nset -e\n");
  size_t i;
  json_t *p;
  json_array_foreach(plots, i, p) {
    fprintf(fp, "gnuplot -e \"infile='%s'; outbase='%s'",
            json_string_value(json_object_get(p, "csv")),
            json_string_value(json_object_get(p, "out")));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(p, "vars"), k, v) {
      if (json_is_string(v))
        fprintf(fp, "; %s='%s'", k, export__gp_quote(json_string_value(v)));
      else
        fprintf(fp, "; %s=%lld", k, (long long)json_integer_value(v));
    }
    fprintf(fp, "\" \"$P/%s\"\n", json_string_value(json_object_get(p, "script")));
  }
  if (atomic_file__commit(&af)) return err_out(err, len, af.path);
  return 0;
}

/* savings.csv: every savings cell (RFC 4180 quoting: causes hold commas);
 * savings_ASSIST.csv (ratio.gp): one row per workload, the ratio with/without
 * and its interval per backend. Appends the plot specs. -1 on error. */
static int write_savings(const struct agg_set *s, const char *dir, json_t *plots, char *err,
                         size_t len) {
  struct saving_row *sv;
  size_t n = savings__compute(s, NULL, &sv);
  struct atomic_file af;
  FILE *fp = atomic_file__open_in(&af, dir, "savings.csv");
  if (!fp) {
    free(sv);
    return err_out(err, len, af.path);
  }
  fprintf(fp, "backend,workload,assist,status,without,with,ratio,ratio_lo,ratio_hi,exact,verdict,"
              "cause\n");
  for (size_t r = 0; r < n; r++)
    for (int a = 0; a < ASSIST_COUNT; a++) {
      const struct saving_cell *c = &sv[r].cell[a];
      char f1[200], f2[600];
      export__csv_field(sv[r].first->label, f1, sizeof(f1));
      fprintf(fp, "%s,%s,%s,", sv[r].first->backend, f1, savings_assists[a].name);
      if (c->status == SAVING_MEASURED) {
        export__csv_field(c->cause, f2, sizeof(f2));
        fprintf(fp, "measured,%s,%s,%.6g,%.6g,%.6g,%d,%s,%s\n", c->off->mode, c->on->mode, c->ratio,
                c->lo, c->hi, c->exact, c->verdict_text, f2);
      } else {
        export__csv_field(c->note, f2, sizeof(f2));
        fprintf(fp, "%s,,,NaN,NaN,NaN,,,%s\n",
                c->status == SAVING_HOST_FIXED ? "host_cannot_switch" : "not_measured", f2);
      }
    }
  if (atomic_file__commit(&af)) {
    free(sv);
    return err_out(err, len, af.path);
  }
  static const char *const backends[] = {"model", "kvm"};
  static const char *const colour[] = {"#7570b3", "#d95f02"};
  for (int a = 0; a < ASSIST_COUNT; a++) {
    bool used[2] = {false, false};
    double lo_min = INFINITY, hi_max = 0;
    size_t rows = 0;
    for (size_t r = 0; r < n; r++) {
      const struct saving_cell *c = &sv[r].cell[a];
      if (c->status != SAVING_MEASURED) continue;
      for (int b = 0; b < 2; b++)
        used[b] |= !strcmp(sv[r].first->backend, backends[b]);
      lo_min = c->lo < lo_min ? c->lo : lo_min;
      hi_max = c->hi > hi_max ? c->hi : hi_max;
    }
    if (!used[0] && !used[1]) continue;
    char name[96], out[64];
    snprintf(out, sizeof(out), "savings_%.40s", savings_assists[a].name);
    snprintf(name, sizeof(name), "%s.csv", out);
    if (!(fp = atomic_file__open_in(&af, dir, name))) {
      free(sv);
      return err_out(err, len, af.path);
    }
    fprintf(fp, "workload");
    char colours[32] = "";
    int nseries = 0;
    for (int b = 0; b < 2; b++)
      if (used[b]) {
        fprintf(fp, ",%s,%s_lo,%s_hi", backends[b], backends[b], backends[b]);
        snprintf(colours + strlen(colours), sizeof(colours) - strlen(colours), "%s%s",
                 nseries++ ? " " : "", colour[b]);
      }
    fprintf(fp, "\n");
    /* one row per workload (label); a backend without the pair is NaN */
    for (size_t r = 0; r < n; r++) {
      bool first = true, any = false;
      for (size_t q = 0; q < r && first; q++)
        first = strcmp(sv[q].first->label, sv[r].first->label) != 0;
      if (!first) continue;
      for (size_t q = r; q < n; q++)
        any |= !strcmp(sv[q].first->label, sv[r].first->label) &&
               sv[q].cell[a].status == SAVING_MEASURED;
      if (!any) continue;
      char f[200];
      export__csv_field(sv[r].first->label, f, sizeof(f));
      fprintf(fp, "%s", f);
      for (int b = 0; b < 2; b++) {
        if (!used[b]) continue;
        const struct saving_cell *c = NULL;
        for (size_t q = r; q < n && !c; q++)
          if (!strcmp(sv[q].first->label, sv[r].first->label) &&
              !strcmp(sv[q].first->backend, backends[b]) && sv[q].cell[a].status == SAVING_MEASURED)
            c = &sv[q].cell[a];
        if (c)
          fprintf(fp, ",%.6g,%.6g,%.6g", c->ratio, c->lo, c->hi);
        else
          fprintf(fp, ",NaN,NaN,NaN");
      }
      fprintf(fp, "\n");
      rows++;
    }
    if (atomic_file__commit(&af)) {
      free(sv);
      return err_out(err, len, af.path);
    }
    const struct assist_info *ai = &savings_assists[a];
    char title[256], ytitle[160];
    /* "EPT vs shadow": the assist and the baseline it is measured against */
    char with[64];
    snprintf(with, sizeof(with), "%s", ai->title);
    char *vs = strstr(with, " vs ");
    const char *without = vs ? vs + 4 : "without";
    if (vs) *vs = 0;
    snprintf(title, sizeof(title),
             "%s: time per iteration with %s / with %s (below 1: %s saves; exact on the model, "
             "95%% CI on kvm)",
             ai->title, with, without, with);
    bool logy = hi_max > 0 && lo_min > 0 && hi_max / lo_min >= 10;
    snprintf(ytitle, sizeof(ytitle), "time with %s / with %s%s", with, without,
             logy ? " (log scale)" : "");
    json_array_append_new(
        plots,
        plot_spec("ratio.gp", name, out,
                  json_pack("{s:i,s:s,s:s,s:i,s:i,s:s,s:s,s:i}", "nseries", nseries, "ytitle",
                            ytitle, "ptitle", title, "refline", 1, "logy", logy, "keytitle",
                            "backend", "colours", colours, "width", plot_width(rows, 160))));
  }
  free(sv);
  return 0;
}

json_t *export__csv(const struct agg_set *s, const struct agg_set *other, const char *dir,
                    const char *baseline, char *err, size_t len) {
  if (mkdir(dir, 0755) && errno != EEXIST) {
    snprintf(err, len, "%s: cannot create the output directory: %s", dir, strerror(errno));
    return NULL;
  }
  json_t *plots = json_array();
  struct strlist backends = {0};
  for (size_t i = 0; i < s->n; i++)
    strlist__add(&backends, s->g[i].backend);
  if (write_summary(s, dir, baseline, err, len)) goto fail;
  if (write_savings(s, dir, plots, err, len)) goto fail;
  for (size_t b = 0; b < backends.n; b++) {
    const char *be = backends.v[b];
    char csv[128], out[128], title[160];
    snprintf(csv, sizeof(csv), "time_%s.csv", be);
    snprintf(out, sizeof(out), "time_%s", be);
    /* the clock of this backend's time metric: modeled on the model, wall on kvm */
    const char *clock = "wall";
    for (size_t i = 0; i < s->n; i++)
      if (!strcmp(s->g[i].backend, be) && s->g[i].nok)
        clock = aggregate__time_clock(agg_group__time_metric(&s->g[i]));
    char ytitle[128];
    snprintf(title, sizeof(title), "%s: %s time per iteration by mode (median, 95%% CI)", be,
             clock);
    snprintf(ytitle, sizeof(ytitle), "%s time per iteration (log scale)", clock);
    int n = write_bars(s, be, cell_time, NULL, dir, csv, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots,
          plot_spec("bars.gp", csv, out,
                    json_pack("{s:i,s:s,s:s,s:i,s:i,s:s}", "nseries", n, "ytitle", ytitle, "ptitle",
                              title, "logy", 1, "yscale", 1000000000, "yformat", "%.0s %cs")));
    json_t *last = json_array_get(plots, json_array_size(plots) - 1);
    if (n) {
      json_object_set_new(json_object_get(last, "vars"), "keytitle", json_string(MODE_KEY));
      json_object_set_new(json_object_get(last, "vars"), "width",
                          json_integer(plot_width(backend_labels(s, be), 150)));
      mode_colours(plots);
    }
    snprintf(csv, sizeof(csv), "overhead_%s.csv", be);
    snprintf(out, sizeof(out), "overhead_%s", be);
    /* the baseline this backend's ratios are against, named in the title */
    const char *base_name = NULL;
    for (size_t i = 0; i < s->n && !base_name; i++) {
      double r, lo, hi;
      if (!strcmp(s->g[i].backend, be) &&
          !aggregate__ratio(s, &s->g[i], baseline, &r, &lo, &hi, &base_name))
        break;
    }
    snprintf(title, sizeof(title), "%s: time / time in %s (ratio of median %s times, 95%% CI)", be,
             base_name ? base_name : "the baseline mode", clock);
    snprintf(ytitle, sizeof(ytitle), "%s time / %s (1 = same)", clock,
             base_name ? base_name : "baseline");
    n = write_bars(s, be, cell_ratio, baseline, dir, csv, err, len);
    if (n < 0) goto fail;
    /* ratios over 10x (a pio in shadow on the model) flatten the rest: log scale then */
    double max_ratio = 0;
    for (size_t i = 0; i < s->n; i++) {
      double cell[3];
      if (!strcmp(s->g[i].backend, be) && cell_ratio(s, &s->g[i], baseline, cell) &&
          cell[2] > max_ratio)
        max_ratio = cell[2];
    }
    if (max_ratio > 10) {
      size_t tl = strlen(ytitle);
      snprintf(ytitle + tl, sizeof(ytitle) - tl, ", log scale");
    }
    if (n)
      json_array_append_new(
          plots,
          plot_spec("bars.gp", csv, out,
                    json_pack("{s:i,s:s,s:s,s:i,s:s,s:i}", "nseries", n, "ytitle", ytitle, "ptitle",
                              title, "refline", 1, "keytitle", MODE_KEY, "logy", max_ratio > 10)));
    if (n) mode_colours(plots);
    snprintf(csv, sizeof(csv), "breakdown_%s.csv", be);
    snprintf(out, sizeof(out), "breakdown_%s", be);
    static struct panels pn;
    int bd_neg = 0;
    n = write_breakdown(s, be, dir, csv, &pn, &bd_neg, err, len);
    if (n < 0) goto fail;
    snprintf(title, sizeof(title), "%s: overhead vs native by cause (model.breakdown, median)%s",
             be, bd_neg ? "; parts below 0 drawn as 0" : "");
    if (n)
      json_array_append_new(
          plots, plot_spec("stacked.gp", csv, out,
                           json_pack("{s:i,s:s,s:s,s:s,s:i,s:s}", "ncols", n, "ytitle",
                                     "overhead / native time (= ratio - 1)", "ptitle", title,
                                     "keytitle", "cause", "npanels", pn.n, "panels", pn.titles)));
    snprintf(csv, sizeof(csv), "exits_%s.csv", be);
    snprintf(out, sizeof(out), "exits_%s", be);
    if (vmx_exit_metrics(s, be))
      snprintf(title, sizeof(title), "%s: VM exits by SDM reason, timed region (median per run)",
               be);
    else
      snprintf(title, sizeof(title), "%s: exits to user space by reason (median per run)", be);
    n = write_exits(s, be, dir, csv, &pn, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots, plot_spec("stacked.gp", csv, out,
                           json_pack("{s:i,s:s,s:s,s:i,s:s}", "ncols", n, "ytitle", "exits per run",
                                     "ptitle", title, "npanels", pn.n, "panels", pn.titles)));
    snprintf(csv, sizeof(csv), "latency_%s.csv", be);
    snprintf(out, sizeof(out), "latency_%s", be);
    snprintf(title, sizeof(title), "%s: exit handling latency, p50 per run (median, 95%% CI)", be);
    size_t lat_rows = 0;
    n = write_latency(s, be, dir, csv, &lat_rows, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots, plot_spec("bars.gp", csv, out,
                           json_pack("{s:i,s:s,s:s,s:i,s:i,s:s,s:s,s:i}", "nseries", n, "ytitle",
                                     "handling time per exit (log scale)", "ptitle", title, "logy",
                                     1, "yscale", 1000000000, "yformat", "%.0s %cs", "keytitle",
                                     MODE_KEY, "width", plot_width(lat_rows, 200))));
    if (n) mode_colours(plots);
    char kinds[4][16];
    for (size_t k = 0, nk = event_cdf__kinds(s, be, kinds, 4); k < nk; k++) {
      char path[4096];
      int coarse;
      snprintf(csv, sizeof(csv), "events_%s_%s.csv", kinds[k], be);
      snprintf(out, sizeof(out), "events_%s_%s", kinds[k], be);
      snprintf(path, sizeof(path), "%s/%s", dir, csv);
      n = event_cdf__write(s, be, kinds[k], path, &coarse);
      if (n < 0) {
        err_out(err, len, path);
        goto fail;
      }
      for (char *p = kinds[k]; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
      bool ev_modeled = event_cdf__modeled(s, be);
      snprintf(title, sizeof(title), "%s: %s delivery latency, raise to guest handler (CDF%s%s)",
               be, kinds[k], ev_modeled ? ", modeled time" : "",
               coarse ? "; from min/p50/p99/max only" : "");
      if (n)
        json_array_append_new(
            plots, plot_spec("cdf.gp", csv, out,
                             json_pack("{s:i,s:s,s:s,s:i}", "nseries", n, "xtitle",
                                       ev_modeled ? "delivery latency, modeled ns (log scale)"
                                                  : "delivery latency, wall time (log scale)",
                                       "ptitle", title, "coarse", coarse)));
    }
    /* model.timed's counts (the timed region) where the runs carry them */
    static const char *const model_metrics[][2] = {
        {"model.walk_refs", "page-walk memory references per iteration"},
        {"model.tlb_misses", "TLB misses (L1 dTLB + iTLB) per iteration"},
    };
    for (size_t m = 0; m < sizeof(model_metrics) / sizeof(model_metrics[0]); m++) {
      const char *metric = model_metrics[m][0];
      snprintf(csv, sizeof(csv), "%s_%s.csv", metric, be);
      for (char *p = csv; *p; p++)
        if (*p == '.' && strcmp(p, ".csv")) *p = '_';
      snprintf(out, sizeof(out), "%.*s", (int)(strlen(csv) - 4), csv);
      snprintf(title, sizeof(title), "%s: %s (median, 95%% CI)", be, model_metrics[m][1]);
      n = write_bars(s, be, cell_per_iter, metric, dir, csv, err, len);
      if (n < 0) goto fail;
      if (n)
        json_array_append_new(plots, plot_spec("bars.gp", csv, out,
                                               json_pack("{s:i,s:s,s:s,s:s}", "nseries", n,
                                                         "ytitle", model_metrics[m][1], "ptitle",
                                                         title, "keytitle", MODE_KEY)));
      if (n) mode_colours(plots);
    }
  }
  size_t side_rows = 0;
  int side = write_side_by_side(s, dir, &side_rows, err, len);
  if (side < 0) goto fail;
  if (side)
    json_array_append_new(
        plots, plot_spec("bars.gp", "model_vs_kvm.csv", "model_vs_kvm",
                         json_pack("{s:i,s:s,s:s,s:s,s:i}", "nseries", side, "ytitle",
                                   "exits per iteration", "ptitle",
                                   "model vs KVM: exits per iteration (median, 95% CI)", "keytitle",
                                   "backend: count", "width", plot_width(side_rows, 260))));
  if (other) {
    int n = write_compare(s, other, dir, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots, plot_spec("bars.gp", "compare.csv", "compare",
                           json_pack("{s:i,s:s,s:s,s:i,s:i}", "nseries", 1, "ytitle",
                                     "other / this (median time, 95% CI)", "ptitle",
                                     "other / this per configuration (> 1: other is slower; *: "
                                     "significant, Mann-Whitney p < 0.05)",
                                     "refline", 1, "width", plot_width((size_t)n, 200))));
  }
  char path[4096];
  snprintf(path, sizeof(path), "%s/plots.json", dir);
  int w = result_doc__write(plots, path); /* atomic: temp file, fsync, rename */
  if (w) {
    errno = -w;
    err_out(err, len, path);
    goto fail;
  }
  if (write_replay(dir, plots, err, len)) goto fail;
  return plots;
fail:
  json_decref(plots);
  return NULL;
}
