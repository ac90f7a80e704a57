/* export.c - CSV files for the plots and the comparison rows. */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stats.h"

#define MAX_COLS 64

void export__csv_field(const char *s, char *buf, size_t len) {
  snprintf(buf, len, "%s", s);
  for (char *p = buf; *p; p++)
    if (*p == ',' || *p == '"' || *p == '\n') *p = *p == ',' ? ';' : '\'';
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
  const struct agg_group *base = aggregate__baseline(s, g, arg);
  if (!base) return false;
  const char *metric = agg_group__time_metric(g);
  double *v, *bv;
  size_t n = agg_group__values(g, metric, &v, NULL),
         nb = agg_group__values(base, metric, &bv, NULL);
  bool ok = n && nb &&
            !stats__ratio_ci(v, n, bv, nb, STATS_BOOT_B, STATS_SEED, &out[0], &out[1], &out[2]);
  free(v);
  free(bv);
  return ok;
}

/* Per-iteration median of a model counter (arg = metric name). */
static bool cell_per_iter(const struct agg_set *s, const struct agg_group *g, const void *arg,
                          double out[3]) {
  (void)s;
  double *v, *w;
  size_t n = agg_group__values(g, arg, &v, NULL);
  size_t nw = agg_group__values(g, "wall_ns", &w, NULL);
  double *it;
  size_t ni = agg_group__values(g, "ns_per_iter", &it, NULL);
  bool ok = false;
  if (n && n == nw && nw == ni) {
    for (size_t i = 0; i < n; i++)
      v[i] = it[i] > 0 ? v[i] / (w[i] / it[i]) : NAN; /* counter / iterations */
    ok = !stats__bootstrap_median_ci(v, n, STATS_BOOT_B, 0.95, STATS_SEED, &out[1], &out[2]);
    out[0] = stats__median(v, n);
  }
  free(v);
  free(w);
  free(it);
  return ok && !isnan(out[0]);
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t plen) {
  snprintf(path, plen, "%s/%s", dir, name);
  return fopen(path, "w");
}

static int err_out(char *err, size_t len, const char *path) {
  snprintf(err, len, "%s: cannot write: %s (check the -o directory)", path, strerror(errno));
  return -1;
}

static json_t *plot_spec(const char *script, const char *csv, const char *out, json_t *vars) {
  return json_pack("{s:s,s:s,s:s,s:o}", "script", script, "csv", csv, "out", out, "vars", vars);
}

/* A bars.gp CSV for one backend: rows per workload label, value/lo/hi per
 * mode. Modes without a single value are left out. Returns the number of
 * series written, 0 when nothing, -1 on error. */
static int write_bars(const struct agg_set *s, const char *backend, cell_fn fn, const void *arg,
                      bool skip_native, const char *dir, const char *name, char *err, size_t len) {
  struct strlist labels, modes;
  backend_axes(s, backend, &labels, &modes);
  static double cell[MAX_COLS * 4][MAX_COLS][3];
  static bool have[MAX_COLS * 4][MAX_COLS];
  bool col_used[MAX_COLS] = {0};
  int ncols = 0;
  for (size_t r = 0; r < labels.n; r++)
    for (size_t c = 0; c < modes.n; c++) {
      const struct agg_group *g = find(s, backend, labels.v[r], modes.v[c]);
      have[r][c] =
          g && !(skip_native && !strncmp(modes.v[c], "native/", 7)) && fn(s, g, arg, cell[r][c]);
      if (have[r][c] && !col_used[c]) col_used[c] = true, ncols++;
    }
  if (!ncols) return 0;
  char path[4096], f[128];
  FILE *fp = open_out(dir, name, path, sizeof(path));
  if (!fp) return err_out(err, len, path);
  fprintf(fp, "workload");
  for (size_t c = 0; c < modes.n; c++)
    if (col_used[c]) {
      export__csv_field(modes.v[c], f, sizeof(f));
      fprintf(fp, ",%s,%s_lo,%s_hi", f, f, f);
    }
  fprintf(fp, "\n");
  for (size_t r = 0; r < labels.n; r++) {
    export__csv_field(labels.v[r], f, sizeof(f));
    fprintf(fp, "%s", f);
    for (size_t c = 0; c < modes.n; c++) {
      if (!col_used[c]) continue;
      if (have[r][c])
        fprintf(fp, ",%.6g,%.6g,%.6g", cell[r][c][0], cell[r][c][1], cell[r][c][2]);
      else
        fprintf(fp, ",NaN,NaN,NaN");
    }
    fprintf(fp, "\n");
  }
  if (fclose(fp)) return err_out(err, len, path);
  return ncols;
}

/* stacked.gp CSV: median count per exit reason per configuration. Returns
 * the number of columns including the label, 0 when no exits. */
static int write_exits(const struct agg_set *s, const char *backend, const char *dir,
                       const char *name, char *err, size_t len) {
  struct strlist reasons = {0};
  char *names[MAX_COLS];
  size_t nn = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->g[i].backend, backend)) continue;
    const char *k;
    json_t *v;
    json_object_foreach(s->g[i].metrics, k, v) {
      size_t kl = strlen(k);
      if (strncmp(k, "exits.", 6) || kl < 12 || strcmp(k + kl - 6, ".count")) continue;
      if (reasons.n >= MAX_COLS || nn >= MAX_COLS) continue;
      char *r = strndup(k + 6, kl - 12);
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
  char path[4096], f[160];
  FILE *fp = open_out(dir, name, path, sizeof(path));
  if (!fp) {
    rc = err_out(err, len, path);
    goto out;
  }
  fprintf(fp, "config");
  for (size_t c = 0; c < reasons.n; c++)
    fprintf(fp, ",%s", reasons.v[c]);
  fprintf(fp, "\n");
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    if (strcmp(g->backend, backend) || !g->nok) continue;
    char lab[200];
    snprintf(lab, sizeof(lab), "%s [%s]", g->label, g->mode);
    export__csv_field(lab, f, sizeof(f));
    fprintf(fp, "%s", f);
    for (size_t c = 0; c < reasons.n; c++) {
      char metric[160];
      snprintf(metric, sizeof(metric), "exits.%s.count", reasons.v[c]);
      double *v;
      size_t n = agg_group__values(g, metric, &v, NULL);
      fprintf(fp, ",%.6g", n ? stats__median(v, n) : 0.0);
      free(v);
    }
    fprintf(fp, "\n");
  }
  if (fclose(fp))
    rc = err_out(err, len, path);
  else
    rc = (int)reasons.n + 1;
out:
  for (size_t i = 0; i < nn; i++)
    free(names[i]);
  return rc;
}

size_t export__compare(const struct agg_set *a, const struct agg_set *b, struct compare_row **out) {
  struct compare_row *rows = calloc(a->n + 1, sizeof(*rows));
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct agg_group *ga = &a->g[i], *gb = NULL;
    for (size_t k = 0; k < b->n && !gb; k++)
      if (!strcmp(b->g[k].key, ga->key)) gb = &b->g[k];
    if (!gb) /* shards and other hosts may lack `config`: match on the fields */
      for (size_t k = 0; k < b->n && !gb; k++)
        if (!strcmp(b->g[k].backend, ga->backend) && !strcmp(b->g[k].label, ga->label) &&
            !strcmp(b->g[k].mode, ga->mode))
          gb = &b->g[k];
    if (!gb) continue;
    const char *metric = agg_group__time_metric(ga);
    double *va, *vb;
    size_t na = agg_group__values(ga, metric, &va, NULL),
           nb = agg_group__values(gb, metric, &vb, NULL);
    struct compare_row *r = &rows[n];
    struct mwu_result m;
    if (na && nb &&
        !stats__ratio_ci(vb, nb, va, na, STATS_BOOT_B, STATS_SEED, &r->ratio, &r->lo, &r->hi) &&
        !stats__mann_whitney(va, na, vb, nb, &m)) {
      r->a = ga;
      r->b = gb;
      r->metric = metric;
      r->med_a = stats__median(va, na);
      r->med_b = stats__median(vb, nb);
      r->p = m.p;
      r->significant = m.p < 0.05;
      n++;
    }
    free(va);
    free(vb);
  }
  *out = rows;
  return n;
}

static int write_compare(const struct agg_set *a, const struct agg_set *b, const char *dir,
                         char *err, size_t len) {
  struct compare_row *rows;
  size_t n = export__compare(a, b, &rows);
  char path[4096], f[200];
  FILE *fp = open_out(dir, "compare.csv", path, sizeof(path));
  if (!fp) {
    free(rows);
    return err_out(err, len, path);
  }
  fprintf(fp,
          "config,other/this,other/this_lo,other/this_hi,median_this,median_other,p,significant\n");
  for (size_t i = 0; i < n; i++) {
    char lab[200];
    snprintf(lab, sizeof(lab), "%s %s [%s]", rows[i].a->backend, rows[i].a->label, rows[i].a->mode);
    export__csv_field(lab, f, sizeof(f));
    fprintf(fp, "%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%d\n", f, rows[i].ratio, rows[i].lo, rows[i].hi,
            rows[i].med_a, rows[i].med_b, rows[i].p, rows[i].significant);
  }
  free(rows);
  if (fclose(fp)) return err_out(err, len, path);
  return (int)n;
}

static int write_summary(const struct agg_set *s, const char *dir, const char *baseline, char *err,
                         size_t len) {
  char path[4096], f[300];
  FILE *fp = open_out(dir, "summary.csv", path, sizeof(path));
  if (!fp) return err_out(err, len, path);
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
  if (fclose(fp)) return err_out(err, len, path);
  return 0;
}

static int write_replay(const char *dir, const json_t *plots, char *err, size_t len) {
  char path[4096];
  FILE *fp = open_out(dir, "plots.sh", path, sizeof(path));
  if (!fp) return err_out(err, len, path);
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
        fprintf(fp, "; %s='%s'", k, json_string_value(v));
      else
        fprintf(fp, "; %s=%lld", k, (long long)json_integer_value(v));
    }
    fprintf(fp, "\" \"$P/%s\"\n", json_string_value(json_object_get(p, "script")));
  }
  if (fclose(fp)) return err_out(err, len, path);
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
  for (size_t b = 0; b < backends.n; b++) {
    const char *be = backends.v[b];
    char csv[128], out[128], title[160];
    snprintf(csv, sizeof(csv), "time_%s.csv", be);
    snprintf(out, sizeof(out), "time_%s", be);
    snprintf(title, sizeof(title), "%s: time per iteration by mode (median, 95%% CI)", be);
    int n = write_bars(s, be, cell_time, NULL, false, dir, csv, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots, plot_spec("bars.gp", csv, out,
                           json_pack("{s:i,s:s,s:s,s:i}", "nseries", n, "ytitle",
                                     "ns per iteration (log scale)", "ptitle", title, "logy", 1)));
    snprintf(csv, sizeof(csv), "overhead_%s.csv", be);
    snprintf(out, sizeof(out), "overhead_%s", be);
    snprintf(title, sizeof(title), "%s: overhead vs baseline mode (ratio of medians, 95%% CI)", be);
    n = write_bars(s, be, cell_ratio, baseline, false, dir, csv, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots, plot_spec("bars.gp", csv, out,
                           json_pack("{s:i,s:s,s:s,s:i}", "nseries", n, "ytitle",
                                     "time / baseline time", "ptitle", title, "refline", 1)));
    snprintf(csv, sizeof(csv), "exits_%s.csv", be);
    snprintf(out, sizeof(out), "exits_%s", be);
    snprintf(title, sizeof(title), "%s: exits to user space by reason (median per run)", be);
    n = write_exits(s, be, dir, csv, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(plots, plot_spec("stacked.gp", csv, out,
                                             json_pack("{s:i,s:s,s:s}", "ncols", n, "ytitle",
                                                       "exits per run", "ptitle", title)));
    static const char *const model_metrics[][2] = {
        {"model.walk_refs", "page-walk memory references per iteration"},
        {"model.tlb.misses", "TLB misses per iteration"},
    };
    for (size_t m = 0; m < sizeof(model_metrics) / sizeof(model_metrics[0]); m++) {
      const char *metric = model_metrics[m][0];
      snprintf(csv, sizeof(csv), "%s_%s.csv", metric, be);
      for (char *p = csv; *p; p++)
        if (*p == '.' && strcmp(p, ".csv")) *p = '_';
      snprintf(out, sizeof(out), "%.*s", (int)(strlen(csv) - 4), csv);
      snprintf(title, sizeof(title), "%s: %s (median, 95%% CI)", be, model_metrics[m][1]);
      n = write_bars(s, be, cell_per_iter, metric, false, dir, csv, err, len);
      if (n < 0) goto fail;
      if (n)
        json_array_append_new(plots, plot_spec("bars.gp", csv, out,
                                               json_pack("{s:i,s:s,s:s}", "nseries", n, "ytitle",
                                                         model_metrics[m][1], "ptitle", title)));
    }
  }
  if (other) {
    int n = write_compare(s, other, dir, err, len);
    if (n < 0) goto fail;
    if (n)
      json_array_append_new(
          plots, plot_spec("bars.gp", "compare.csv", "compare",
                           json_pack("{s:i,s:s,s:s,s:i}", "nseries", 1, "ytitle",
                                     "other / this (median time, 95% CI)", "ptitle",
                                     "comparison per configuration (> 1: other is slower)",
                                     "refline", 1)));
  }
  char path[4096];
  snprintf(path, sizeof(path), "%s/plots.json", dir);
  if (json_dump_file(plots, path, JSON_INDENT(1))) {
    err_out(err, len, path);
    goto fail;
  }
  if (write_replay(dir, plots, err, len)) goto fail;
  return plots;
fail:
  json_decref(plots);
  return NULL;
}
