/* cmd_report.c - `vtbench report RESULTS.json [--compare OTHER.json] [-o DIR]`:
 * CSVs (export.c), gnuplot PNG + SVG from the plots/ scripts, summary.md and
 * index.html with the tables, each host's context and the findings. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregate.h"
#include "atomic_file.h"
#include "commands.h"
#include "compare.h"
#include "export.h"
#include "findings.h"
#include "json_util.h"
#include "msg.h"
#include "paths.h"
#include "report_opts.h"
#include "results/result_doc.h"
#include "spawn.h"
#include "stats.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench report RESULTS.json [--compare OTHER.json] [-o DIR] [--baseline MODE]\n"
          "  Writes DIR/index.html, DIR/summary.md, DIR/report.json (aggregates[],\n"
          "  comparison[] with Mann-Whitney U, findings), PNG and SVG plots and their CSVs\n"
          "  (default DIR: report/). --baseline names the mode overheads are relative to\n"
          "  (default: native on the model, the first mode measured on kvm).\n");
}

static long file_size(const char *dir, const char *name, const char *ext) {
  char p[4200];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s%s", dir, name, ext);
  return stat(p, &st) ? -1 : (long)st.st_size;
}

/* OUT.png and OUT.svg from gnuplot's temporaries TMPBASE.{png,svg} (all in
 * dir) when gnuplot succeeded: both published, or neither, and no temporary
 * left either way. 0 or -1. */
static int publish_plot(const char *dir, const char *tmpbase, const char *out, bool ok) {
  static const char *const ext[] = {".png", ".svg"};
  int rc = ok ? 0 : -1;
  for (int e = 0; e < 2; e++) {
    char from[4200], to[4200];
    snprintf(from, sizeof(from), "%s/%s%s", dir, tmpbase, ext[e]);
    snprintf(to, sizeof(to), "%s/%s%s", dir, out, ext[e]);
    if (rc)
      unlink(from);
    else if (atomic_file__publish(from, to))
      rc = -1;
  }
  return rc;
}

#define GNUPLOT_TIMEOUT_S 120

/* gnuplot -e "vars" SCRIPT, run inside dir. gnuplot writes OUT.tmp.PID.png
 * and .svg, published as OUT.png and OUT.svg once it succeeded, so an
 * interrupted report never leaves a truncated plot. 0 on success, 127 when
 * gnuplot is not installed. */
static int run_gnuplot(const char *dir, const char *plots_dir, const json_t *spec) {
  char vars[2048], script[4200], tmpbase[300];
  const char *out = json_string_value(json_object_get(spec, "out"));
  snprintf(tmpbase, sizeof(tmpbase), "%s.tmp.%ld", out, (long)getpid());
  size_t off = (size_t)snprintf(vars, sizeof(vars), "infile='%s'; outbase='%s'",
                                json_string_value(json_object_get(spec, "csv")), tmpbase);
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(spec, "vars"), k, v) {
    if (off >= sizeof(vars)) break;
    if (json_is_string(v))
      off += (size_t)snprintf(vars + off, sizeof(vars) - off, "; %s='%s'", k, json_string_value(v));
    else
      off += (size_t)snprintf(vars + off, sizeof(vars) - off, "; %s=%lld", k,
                              (long long)json_integer_value(v));
  }
  snprintf(script, sizeof(script), "%s/%s", plots_dir,
           json_string_value(json_object_get(spec, "script")));
  /* gnuplot's warnings (an empty y range, ...) go to a log, not the user's
   * terminal; a plot that takes minutes is a hung gnuplot */
  const char *argv[] = {"gnuplot", "-e", vars, script, NULL};
  struct spawn_opts o = {.argv = argv,
                         .search_path = true,
                         .cwd = dir,
                         .err_file = "gnuplot.log",
                         .err_append = true,
                         .timeout_s = GNUPLOT_TIMEOUT_S};
  struct spawn_result r;
  if (spawn__run(&o, &r)) return r.error == ENOENT ? 127 : -1;
  return publish_plot(dir, tmpbase, out, r.how == SPAWN_EXITED && r.code == 0);
}

static void html_esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

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

static void row_cells(const struct row *r, char cells[][96]) {
  const struct agg_group *g = r->g;
  snprintf(cells[0], 96, "%s", g->backend);
  snprintf(cells[1], 96, "%s", g->label);
  snprintf(cells[2], 96, "%s", g->mode);
  snprintf(cells[3], 96, "%zu/%zu", g->nok, g->nruns);
  /* modeled time on the model (its wall time is the interpreter's), wall time elsewhere */
  const char *metric = agg_group__time_metric(g);
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

struct report_in {
  const char *path;
  const json_t *doc;
  const struct agg_set *s;
};

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

static int write_md(const char *dir, const struct report_in *in, int nin, const struct row *rows,
                    const json_t *findings, const json_t *plots, const struct agg_set *other,
                    const char *baseline) {
  struct atomic_file af; /* the page appears complete or not at all */
  FILE *f = atomic_file__open_in(&af, dir, "summary.md");
  if (!f) return -1;
  fprintf(f, "# vtbench report: %s\n\n", in[0].path);
  const char *st =
      json_string_value(json_object_get(json_object_get(in[0].doc, "session"), "status"));
  if (st && strcmp(st, "complete"))
    fprintf(f,
            "> **This session is %s**: figures cover the runs that finished. Complete it with "
            "`vtbench run --resume -o %s`.\n\n",
            st, in[0].path);
  size_t i;
  json_t *v;
  json_t *facts = session_facts(in, nin, baseline);
  json_array_foreach(facts, i, v)
      fprintf(f, "- **%s**: `%s`\n", json_string_value(json_array_get(v, 0)),
              json_string_value(json_array_get(v, 1)));
  json_decref(facts);
  fprintf(f, "\n## Findings\n\n");
  json_array_foreach(findings, i, v) fprintf(f, "- %s\n", json_string_value(v));
  fprintf(f, "\n## Results (time per iteration; CI of the median, bootstrap)\n\n"
             "clock: `modeled` = the model's modeled time (cost model cycles at the profile's "
             "TSC rate), `wall` = measured wall time; exits/run: `(VM)` = the model's VM exits, "
             "else exits that reached refvmm.\n\n|");
  for (int c = 0; table_head[c]; c++)
    fprintf(f, " %s |", table_head[c]);
  fprintf(f, "\n|");
  for (int c = 0; table_head[c]; c++)
    fprintf(f, "---|");
  fprintf(f, "\n");
  for (size_t r = 0; r < in[0].s->n; r++) {
    char cells[NCELLS][96];
    row_cells(&rows[r], cells);
    fprintf(f, "|");
    for (int c = 0; c < NCELLS; c++)
      fprintf(f, " %s |", cells[c]);
    fprintf(f, "\n");
  }
  for (size_t r = 0, hdr = 0; r < in[0].s->n; r++) {
    char cells[BD_COLS][96];
    if (!bd_cells(&in[0].s->g[r], cells)) continue;
    if (!hdr++) {
      fprintf(f, "\n## Model: overhead versus native by cause\n\nShares of the modeled "
                 "overhead cycles (`model.breakdown`, medians; docs/COST_MODEL.md): they add up "
                 "to 100%%; a negative share is a cause that costs less than natively.\n\n|");
      for (int c = 0; bd_head[c]; c++)
        fprintf(f, " %s |", bd_head[c]);
      fprintf(f, "\n|");
      for (int c = 0; bd_head[c]; c++)
        fprintf(f, "---|");
      fprintf(f, "\n");
    }
    fprintf(f, "|");
    for (int c = 0; c < BD_COLS; c++)
      fprintf(f, " %s |", cells[c]);
    fprintf(f, "\n");
  }
  {
    static struct ev_row er[EV_ROWS_MAX];
    size_t ne = event_rows(in[0].s, er, EV_ROWS_MAX);
    if (ne) {
      fprintf(f, "\n## NMI/IRQ delivery (medians over repetitions; latency: raise to guest "
                 "handler)\n\n|");
      for (int c = 0; ev_head[c]; c++)
        fprintf(f, " %s |", ev_head[c]);
      fprintf(f, "\n|");
      for (int c = 0; ev_head[c]; c++)
        fprintf(f, "---|");
      fprintf(f, "\n");
      for (size_t k = 0; k < ne; k++) {
        char cells[8][96];
        ev_cells(&er[k], cells);
        fprintf(f, "|");
        for (int c = 0; c < 8; c++)
          fprintf(f, " %s |", cells[c]);
        fprintf(f, "\n");
      }
    }
  }
  if (other) {
    struct compare_row *cr;
    size_t n = compare__rows(in[0].s, other, &cr);
    fprintf(f,
            "\n## Comparison with %s\n\nMedian time in each document, their ratio with its "
            "bootstrap interval, and the two-sided Mann-Whitney U test (exact p up to 20 runs a "
            "side without ties).\n\n| configuration | this | other | other/this | 95%% CI | n | "
            "U | p (Mann-Whitney) | significant |\n|---|---|---|---|---|---|---|---|---|\n",
            in[1].path);
    for (size_t k = 0; k < n; k++) {
      char a[32], b[32];
      findings__fmt_ns(cr[k].med_a, a, sizeof(a));
      findings__fmt_ns(cr[k].med_b, b, sizeof(b));
      fprintf(f, "| %s %s [%s] | %s | %s | %.3f | %.3f .. %.3f | %zu/%zu | %.1f | %.3g%s | %s |\n",
              cr[k].a->backend, cr[k].a->label, cr[k].a->mode, a, b, cr[k].ratio, cr[k].lo,
              cr[k].hi, cr[k].na, cr[k].nb, cr[k].u, cr[k].p,
              cr[k].exact ? "" : " (normal approx.)", cr[k].significant ? "yes" : "no");
    }
    free(cr);
  }
  json_t *hosts = hosts_of(in, nin);
  size_t hk;
  json_t *h;
  fprintf(f, "\n## Hosts\n\n| | ");
  json_array_foreach(hosts, hk, h) fprintf(f, "%s | ", json_string_value(json_array_get(h, 0)));
  fprintf(f, "\n|---|");
  json_array_foreach(hosts, hk, h) fprintf(f, "---|");
  fprintf(f, "\n");
  for (size_t r = 0; r < sizeof(ctx_rows) / sizeof(ctx_rows[0]); r++) {
    fprintf(f, "| %s | ", ctx_rows[r][0]);
    json_array_foreach(hosts, hk, h) {
      char val[256];
      ctx_value(json_array_get(h, 1), ctx_rows[r][1], val, sizeof(val));
      for (char *q = val; *q; q++)
        if (*q == '|') *q = '/';
      fprintf(f, "%s | ", val);
    }
    fprintf(f, "\n");
  }
  json_decref(hosts);
  fprintf(f, "\n## Plots\n\n");
  json_array_foreach(plots, i, v) {
    const char *out = json_string_value(json_object_get(v, "out"));
    if (file_size(dir, out, ".png") > 0) fprintf(f, "![%s](%s.png)\n\n", out, out);
  }
  return atomic_file__commit(&af);
}

static int write_html(const char *dir, const struct report_in *in, int nin, const struct row *rows,
                      const json_t *findings, const json_t *plots, const struct agg_set *other,
                      const char *baseline) {
  struct atomic_file af; /* the page appears complete or not at all */
  FILE *f = atomic_file__open_in(&af, dir, "index.html");
  if (!f) return -1;
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
             "<title>vtbench report</title>\n<style>\n"
             "body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}\n"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
             "padding:3px 8px;font-size:90%%}th{background:#eee}\n"
             "td{white-space:nowrap}td.num{text-align:right}div.wide{overflow-x:auto}"
             ".toc{color:#555}.warn{background:#fff3cd;padding:.5em}\n"
             "figure{margin:1em 0;overflow-x:auto}img{border:1px solid #ddd}\n"
             "table.facts th{text-align:left;background:none;border:none;padding-right:1em}"
             "table.facts td{border:none}\nli{margin:.25em 0}\n</style></head><body>\n");
  fprintf(f, "<h1>vtbench report</h1>\n<p>Results: <code>");
  html_esc(f, in[0].path);
  fprintf(f, "</code>%s", other ? ", compared with <code>" : "");
  if (other) html_esc(f, in[1].path), fprintf(f, "</code>");
  fprintf(f, "</p>\n");
  const char *st =
      json_string_value(json_object_get(json_object_get(in[0].doc, "session"), "status"));
  if (st && strcmp(st, "complete")) {
    fprintf(f, "<p class=\"warn\">This session is <b>");
    html_esc(f, st);
    fprintf(f, "</b>: figures cover the runs that finished. Complete it with "
               "<code>vtbench run --resume -o ");
    html_esc(f, in[0].path);
    fprintf(f, "</code>.</p>\n");
  }
  size_t i;
  json_t *v;
  json_t *facts = session_facts(in, nin, baseline);
  fprintf(f, "<table class=\"facts\">\n");
  json_array_foreach(facts, i, v) {
    fprintf(f, "<tr><th>");
    html_esc(f, json_string_value(json_array_get(v, 0)));
    fprintf(f, "</th><td><code>");
    html_esc(f, json_string_value(json_array_get(v, 1)));
    fprintf(f, "</code></td></tr>\n");
  }
  fprintf(f, "</table>\n");
  json_decref(facts);
  static struct ev_row toc_er[EV_ROWS_MAX];
  bool has_events = event_rows(in[0].s, toc_er, EV_ROWS_MAX) > 0, has_bd = false;
  for (size_t r = 0; r < in[0].s->n && !has_bd; r++) {
    char cells[BD_COLS][96];
    has_bd = bd_cells(&in[0].s->g[r], cells);
  }
  fprintf(f,
          "<p class=\"toc\">Contents: <a href=\"#findings\">findings</a> &middot; "
          "<a href=\"#results\">results table</a>%s%s%s &middot; <a href=\"#plots\">plots</a> "
          "&middot; <a href=\"#hosts\">hosts</a></p>\n",
          has_bd ? " &middot; <a href=\"#breakdown\">model overhead by cause</a>" : "",
          other ? " &middot; <a href=\"#comparison\">comparison</a>" : "",
          has_events ? " &middot; <a href=\"#events\">NMI/IRQ delivery</a>" : "");
  fprintf(f, "<h2 id=\"findings\">Findings</h2>\n<ul>\n");
  json_array_foreach(findings, i, v) {
    fprintf(f, "<li>");
    html_esc(f, json_string_value(v));
    fprintf(f, "</li>\n");
  }
  fprintf(f, "</ul>\n<h2 id=\"plots\">Plots</h2>\n");
  json_array_foreach(plots, i, v) {
    const char *out = json_string_value(json_object_get(v, "out"));
    const char *title = json_string_value(json_object_get(json_object_get(v, "vars"), "ptitle"));
    bool svg = file_size(dir, out, ".svg") > 0, png = file_size(dir, out, ".png") > 0;
    if (!png) continue;
    fprintf(f, "<figure><img src=\"%s.%s\" alt=\"", out, svg ? "svg" : "png");
    html_esc(f, title);
    fprintf(f, "\"><figcaption>");
    html_esc(f, title);
    fprintf(f,
            " (<a href=\"%s.png\">PNG</a>%s%s%s, <a href=\"%s\">data</a>)</figcaption></figure>\n",
            out, svg ? ", <a href=\"" : "", svg ? out : "", svg ? ".svg\">SVG</a>" : "",
            json_string_value(json_object_get(v, "csv")));
  }
  fprintf(f, "<h2 id=\"results\">Results</h2>\n<p>Median time per iteration (per run where the "
             "guest reports "
             "no iteration count), 95%% bootstrap CI of the median, coefficient of variation, "
             "MAD-flagged outliers (kept), and the ratio to the baseline mode with its CI. "
             "Clock <b>modeled</b>: the model's modeled time (cost-model cycles at the profile's "
             "TSC rate; the interpreter's own wall time is not a figure of the guest); "
             "<b>wall</b>: measured wall time. Exits/run marked (VM): the model's VM exits.</p>\n"
             "<div class=\"wide\"><table>\n<tr>");
  for (int c = 0; table_head[c]; c++)
    fprintf(f, "<th>%s</th>", table_head[c]);
  fprintf(f, "</tr>\n");
  for (size_t r = 0; r < in[0].s->n; r++) {
    char cells[NCELLS][96];
    row_cells(&rows[r], cells);
    fprintf(f, "<tr>");
    for (int c = 0; c < NCELLS; c++) {
      fprintf(f, "<td%s>", c >= 3 ? " class=\"num\"" : "");
      html_esc(f, cells[c]);
      fprintf(f, "</td>");
    }
    fprintf(f, "</tr>\n");
  }
  fprintf(f, "</table></div>\n");
  size_t hdr = 0;
  for (size_t r = 0; r < in[0].s->n; r++) {
    char cells[BD_COLS][96];
    if (!bd_cells(&in[0].s->g[r], cells)) continue;
    if (!hdr++) {
      fprintf(f, "<h2 id=\"breakdown\">Model: overhead versus native by cause</h2>\n<p>Shares "
                 "of the modeled overhead cycles (<code>model.breakdown</code>, medians): they "
                 "add up to 100%%; a negative share is a cause that costs less than natively."
                 "</p>\n<div class=\"wide\"><table>\n<tr>");
      for (int c = 0; bd_head[c]; c++)
        fprintf(f, "<th>%s</th>", bd_head[c]);
      fprintf(f, "</tr>\n");
    }
    fprintf(f, "<tr>");
    for (int c = 0; c < BD_COLS; c++) {
      fprintf(f, "<td%s>", c >= 2 && c < 8 ? " class=\"num\"" : "");
      html_esc(f, cells[c]);
      fprintf(f, "</td>");
    }
    fprintf(f, "</tr>\n");
  }
  if (hdr) fprintf(f, "</table></div>\n");
  {
    static struct ev_row er[EV_ROWS_MAX];
    size_t ne = event_rows(in[0].s, er, EV_ROWS_MAX);
    if (ne) {
      fprintf(
          f,
          "<h2 id=\"events\">NMI/IRQ delivery</h2>\n<p>Medians over repetitions; latency from the "
          "raise (TSC) to the guest handler (TSC). The CDF plots above show the whole "
          "distribution.</p>\n<table>\n<tr>");
      for (int c = 0; ev_head[c]; c++)
        fprintf(f, "<th>%s</th>", ev_head[c]);
      fprintf(f, "</tr>\n");
      for (size_t k = 0; k < ne; k++) {
        char cells[8][96];
        ev_cells(&er[k], cells);
        fprintf(f, "<tr>");
        for (int c = 0; c < 8; c++) {
          fprintf(f, "<td%s>", c >= 3 ? " class=\"num\"" : "");
          html_esc(f, cells[c]);
          fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
      }
      fprintf(f, "</table>\n");
    }
  }
  if (other) {
    struct compare_row *cr;
    size_t n = compare__rows(in[0].s, other, &cr);
    fprintf(f, "<h2 "
               "id=\"comparison\">Comparison</h2>\n<p>Median time in each document, their ratio "
               "with its bootstrap interval, and the two-sided Mann-Whitney U test (exact p up to "
               "20 runs a side without ties).</p>\n<table>\n<tr><th>configuration</th><th>this</"
               "th><th>other</th>"
               "<th>other/this</th><th>95%% CI</th><th>n</th><th>U</th><th>p (Mann-Whitney "
               "U)</th><th>significant</th></tr>\n");
    for (size_t k = 0; k < n; k++) {
      char a[32], b[32], lab[200];
      findings__fmt_ns(cr[k].med_a, a, sizeof(a));
      findings__fmt_ns(cr[k].med_b, b, sizeof(b));
      snprintf(lab, sizeof(lab), "%s %s [%s]", cr[k].a->backend, cr[k].a->label, cr[k].a->mode);
      fprintf(f, "<tr><td>");
      html_esc(f, lab);
      fprintf(f,
              "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%.3f</td>"
              "<td class=\"num\">%.3f .. %.3f</td><td class=\"num\">%zu/%zu</td>"
              "<td class=\"num\">%.1f</td><td class=\"num\">%.3g%s</td><td>%s</td></tr>\n",
              a, b, cr[k].ratio, cr[k].lo, cr[k].hi, cr[k].na, cr[k].nb, cr[k].u, cr[k].p,
              cr[k].exact ? "" : " (normal approx.)", cr[k].significant ? "yes" : "no");
    }
    fprintf(f, "</table>\n");
    free(cr);
  }
  json_t *hosts = hosts_of(in, nin);
  size_t hk;
  json_t *h;
  fprintf(f, "<h2 id=\"hosts\">Hosts</h2>\n<table>\n<tr><th></th>");
  json_array_foreach(hosts, hk, h) {
    fprintf(f, "<th>");
    html_esc(f, json_string_value(json_array_get(h, 0)));
    fprintf(f, "</th>");
  }
  fprintf(f, "</tr>\n");
  for (size_t r = 0; r < sizeof(ctx_rows) / sizeof(ctx_rows[0]); r++) {
    fprintf(f, "<tr><th>%s</th>", ctx_rows[r][0]);
    json_array_foreach(hosts, hk, h) {
      char val[256];
      ctx_value(json_array_get(h, 1), ctx_rows[r][1], val, sizeof(val));
      fprintf(f, "<td>");
      html_esc(f, val);
      fprintf(f, "</td>");
    }
    fprintf(f, "</tr>\n");
  }
  json_decref(hosts);
  fprintf(f, "</table>\n<p>Data: <a href=\"summary.csv\">summary.csv</a>, "
             "<a href=\"summary.md\">summary.md</a>; replay the plots with "
             "<code>sh plots.sh PLOTS_DIR</code> (<a href=\"plots.sh\">plots.sh</a>).</p>\n"
             "</body></html>\n");
  return atomic_file__commit(&af);
}

/* DIR/report.json: the statistics behind the page, for scripts: the
 * aggregates[] (as `vtbench run` writes them), the comparison rows with
 * their Mann-Whitney U test, and the findings. */
static int write_json(const char *dir, const struct agg_set *s, const struct agg_set *other,
                      const char *other_path, const char *baseline, const json_t *findings) {
  json_t *cmp = json_array();
  if (other) {
    struct compare_row *cr;
    size_t n = compare__rows(s, other, &cr);
    for (size_t k = 0; k < n; k++)
      json_array_append_new(
          cmp,
          json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:f,s:f,s:[f,f],s:{s:f,s:f,s:b,s:I,s:I},s:b}",
                    "config", cr[k].a->key, "backend", cr[k].a->backend, "workload", cr[k].a->label,
                    "mode", cr[k].a->mode, "metric", cr[k].metric, "median_this", cr[k].med_a,
                    "median_other", cr[k].med_b, "ratio_other_to_this", cr[k].ratio, "ci95",
                    cr[k].lo, cr[k].hi, "mann_whitney", "u", cr[k].u, "p", cr[k].p, "exact",
                    cr[k].exact, "n_this", (json_int_t)cr[k].na, "n_other", (json_int_t)cr[k].nb,
                    "significant", cr[k].significant));
    free(cr);
  }
  json_t *doc = json_pack("{s:s?,s:s?,s:o,s:o,s:O}", "baseline", baseline, "compared_with",
                          other_path, "aggregates", aggregate__compute(s, baseline), "comparison",
                          cmp, "findings", findings);
  char p[4200];
  snprintf(p, sizeof(p), "%s/report.json", dir);
  int rc = result_doc__write(doc, p); /* atomic: temp file, fsync, rename */
  json_decref(doc);
  if (rc) errno = -rc;
  return rc ? -1 : 0;
}

int cmd_report(int argc, char **argv) {
  struct report_opts opt = {.c_long = "compare", .output = "report"};
  int rc = report_opts__parse(&opt, argc, argv, usage);
  if (rc != REPORT_OPTS_CONTINUE) return rc;
  const char *other_path = opt.c_arg, *dir = opt.output, *baseline = opt.baseline;
  if (optind != argc - 1) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  const char *path = argv[optind];
  json_t *doc = NULL, *odoc = NULL;
  struct agg_set s, o;
  char err[1024], plots_dir[4096];
  rc = aggregate__load(path, &s, &doc, err, sizeof(err));
  if (!rc && other_path && (rc = aggregate__load(other_path, &o, &odoc, err, sizeof(err))))
    aggregate__free(&s), json_decref(doc);
  if (rc) {
    msg__error("%s", err);
    return rc == AGG_LOAD_DUPLICATE ? VTB_EXIT_DATA : VTB_EXIT_IO;
  }
  aggregate__prepare(&s, baseline); /* every interval in batches, before the CSVs ask */
  rc = VTB_EXIT_OK;
  json_t *plots = export__csv(&s, odoc ? &o : NULL, dir, baseline, err, sizeof(err));
  if (!plots) {
    msg__error("%s", err);
    rc = VTB_EXIT_IO;
    goto out;
  }
  if (!s.n) msg__note("%s has no runs", path);
  if (paths__plots_dir(plots_dir, sizeof(plots_dir))) {
    msg__error("plot scripts not found (%s; set VTBENCH_PLOTS): report without plots", plots_dir);
    rc = VTB_EXIT_FAILED;
  } else if (plots_dir[0] != '/') {
    char *abs = realpath(plots_dir, NULL); /* gnuplot runs inside the output directory */
    if (abs) {
      snprintf(plots_dir, sizeof(plots_dir), "%s", abs);
      free(abs);
    }
  }
  char log_path[4200];
  snprintf(log_path, sizeof(log_path), "%s/gnuplot.log", dir);
  unlink(log_path); /* this report's warnings only */
  size_t i, made = 0;
  json_t *spec;
  spawn__catch_signals(); /* Ctrl-C: gnuplot ends, its temporaries go, pages stay as they were */
  if (rc == VTB_EXIT_OK) json_array_foreach(plots, i, spec) {
      const char *out = json_string_value(json_object_get(spec, "out"));
      int g = run_gnuplot(dir, plots_dir, spec);
      if (spawn__caught()) break;
      if (g == 127) {
        msg__error("gnuplot not found: install gnuplot-nox (make deps); report without plots");
        rc = VTB_EXIT_FAILED;
        break;
      }
      if (g || file_size(dir, out, ".png") <= 0 || file_size(dir, out, ".svg") <= 0) {
        msg__error("gnuplot failed on %s/%s (script %s; see %s/gnuplot.log)", dir,
                   json_string_value(json_object_get(spec, "csv")),
                   json_string_value(json_object_get(spec, "script")), dir);
        rc = VTB_EXIT_FAILED;
        continue;
      }
      made++;
    }
  spawn__restore_signals();
  if (spawn__caught()) {
    msg__error("interrupted: %s/index.html and summary.md not updated", dir);
    rc = VTB_EXIT_INTERRUPTED;
    json_decref(plots);
    goto out;
  }
  json_t *findings = findings__compute(&s, odoc ? &o : NULL, baseline);
  struct row *rows = rows_of(&s, baseline);
  struct report_in in[2] = {{path, doc, &s}, {other_path, odoc, odoc ? &o : NULL}};
  if (write_json(dir, &s, odoc ? &o : NULL, other_path, baseline, findings) ||
      write_md(dir, in, odoc ? 2 : 1, rows, findings, plots, odoc ? &o : NULL, baseline) ||
      write_html(dir, in, odoc ? 2 : 1, rows, findings, plots, odoc ? &o : NULL, baseline)) {
    msg__error("%s: cannot write the report: %s", dir, strerror(errno));
    rc = VTB_EXIT_IO;
  } else {
    printf("vtbench report: %zu configurations, %zu plots -> %s/index.html (and summary.md)\n", s.n,
           made, dir);
  }
  free(rows);
  json_decref(findings);
  json_decref(plots);
out:
  aggregate__free(&s);
  if (odoc) aggregate__free(&o);
  json_decref(odoc);
  json_decref(doc);
  return rc;
}
