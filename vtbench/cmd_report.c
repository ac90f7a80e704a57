/* cmd_report.c - `vtbench report RESULTS.json [--compare OTHER.json] [-o DIR]`:
 * CSVs (export.c), gnuplot PNG + SVG from the plots/ scripts, summary.md and
 * index.html with the tables, each host's context and the findings. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aggregate.h"
#include "commands.h"
#include "export.h"
#include "findings.h"
#include "json_util.h"
#include "matrix.h"
#include "paths.h"
#include "stats.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench report RESULTS.json [--compare OTHER.json] [-o DIR] [--baseline MODE]\n"
          "  Writes DIR/index.html, DIR/summary.md, PNG and SVG plots and their CSVs\n"
          "  (default DIR: report/). --baseline names the mode overheads are relative to\n"
          "  (default: native on the model, the first mode measured on kvm).\n");
}

static long file_size(const char *dir, const char *name, const char *ext) {
  char p[4200];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s%s", dir, name, ext);
  return stat(p, &st) ? -1 : (long)st.st_size;
}

/* gnuplot -e "vars" SCRIPT, run inside dir. 0 on success. */
static int run_gnuplot(const char *dir, const char *plots_dir, const json_t *spec) {
  char vars[2048], script[4200];
  size_t off = (size_t)snprintf(vars, sizeof(vars), "infile='%s'; outbase='%s'",
                                json_string_value(json_object_get(spec, "csv")),
                                json_string_value(json_object_get(spec, "out")));
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
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (!pid) {
    if (chdir(dir)) _exit(126);
    execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return 127;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
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
    {"PMU", "pmu.libpfm4"},
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
    double *v, *bv;
    const char *metric = agg_group__time_metric(g);
    size_t n = agg_group__values(g, metric, &v, NULL);
    r[i].have = n && !stats__summarize(v, n, &r[i].sm);
    const struct agg_group *b = aggregate__baseline(s, g, baseline);
    size_t nb = b ? agg_group__values(b, metric, &bv, NULL) : 0;
    if (n && nb &&
        !stats__ratio_ci(v, n, bv, nb, STATS_BOOT_B, STATS_SEED, &r[i].ratio, &r[i].lo, &r[i].hi)) {
      r[i].have_ratio = true;
      r[i].base = b->mode;
    }
    if (nb) free(bv);
    free(v);
  }
  return r;
}

static const char *const table_head[] = {"backend",   "workload",    "mode", "ok/runs",
                                         "median",    "95% CI",      "CV",   "outliers",
                                         "exits/run", "vs baseline", NULL};

static void row_cells(const struct row *r, char cells[][96]) {
  const struct agg_group *g = r->g;
  snprintf(cells[0], 96, "%s", g->backend);
  snprintf(cells[1], 96, "%s", g->label);
  snprintf(cells[2], 96, "%s", g->mode);
  snprintf(cells[3], 96, "%zu/%zu", g->nok, g->nruns);
  const char *unit = strcmp(agg_group__time_metric(g), "ns_per_iter") ? "/run" : "/iter";
  if (r->have) {
    char a[32], b[32], c[32];
    findings__fmt_ns(r->sm.median, a, sizeof(a));
    findings__fmt_ns(r->sm.ci_lo, b, sizeof(b));
    findings__fmt_ns(r->sm.ci_hi, c, sizeof(c));
    snprintf(cells[4], 96, "%s%s", a, unit);
    snprintf(cells[5], 96, "%s .. %s", b, c);
    snprintf(cells[6], 96, "%.1f%%", 100 * r->sm.cv);
    snprintf(cells[7], 96, "%zu", r->sm.outliers);
  } else {
    for (int i = 4; i < 8; i++)
      snprintf(cells[i], 96, "-");
  }
  double *v;
  size_t n = agg_group__values(g, "exits.total", &v, NULL);
  if (n)
    snprintf(cells[8], 96, "%.7g", stats__median(v, n));
  else
    snprintf(cells[8], 96, "-");
  free(v);
  if (r->have_ratio)
    snprintf(cells[9], 96, "%.2fx [%.2f, %.2f] vs %s", r->ratio, r->lo, r->hi, r->base);
  else
    snprintf(cells[9], 96, "-");
}

struct report_in {
  const char *path;
  const json_t *doc;
  const struct agg_set *s;
};

static int write_md(const char *dir, const struct report_in *in, int nin, const struct row *rows,
                    const json_t *findings, const json_t *plots, const struct agg_set *other) {
  char p[4200];
  snprintf(p, sizeof(p), "%s/summary.md", dir);
  FILE *f = fopen(p, "w");
  if (!f) return -1;
  fprintf(f, "# vtbench report: %s\n\n", in[0].path);
  const char *st =
      json_string_value(json_object_get(json_object_get(in[0].doc, "session"), "status"));
  if (st && strcmp(st, "complete"))
    fprintf(f, "> **This session is %s**: figures cover the runs that finished.\n\n", st);
  fprintf(f, "## Findings\n\n");
  size_t i;
  json_t *v;
  json_array_foreach(findings, i, v) fprintf(f, "- %s\n", json_string_value(v));
  fprintf(f, "\n## Results (time per iteration; CI of the median, bootstrap)\n\n|");
  for (int c = 0; table_head[c]; c++)
    fprintf(f, " %s |", table_head[c]);
  fprintf(f, "\n|");
  for (int c = 0; table_head[c]; c++)
    fprintf(f, "---|");
  fprintf(f, "\n");
  for (size_t r = 0; r < in[0].s->n; r++) {
    char cells[10][96];
    row_cells(&rows[r], cells);
    fprintf(f, "|");
    for (int c = 0; c < 10; c++)
      fprintf(f, " %s |", cells[c]);
    fprintf(f, "\n");
  }
  if (other) {
    struct compare_row *cr;
    size_t n = export__compare(in[0].s, other, &cr);
    fprintf(f,
            "\n## Comparison with %s\n\n| configuration | this | other | other/this | 95%% CI | p "
            "(Mann-Whitney) | significant |\n|---|---|---|---|---|---|---|\n",
            in[1].path);
    for (size_t k = 0; k < n; k++) {
      char a[32], b[32];
      findings__fmt_ns(cr[k].med_a, a, sizeof(a));
      findings__fmt_ns(cr[k].med_b, b, sizeof(b));
      fprintf(f, "| %s %s [%s] | %s | %s | %.3f | %.3f .. %.3f | %.3g | %s |\n", cr[k].a->backend,
              cr[k].a->label, cr[k].a->mode, a, b, cr[k].ratio, cr[k].lo, cr[k].hi, cr[k].p,
              cr[k].significant ? "yes" : "no");
    }
    free(cr);
  }
  fprintf(f, "\n## Hosts\n\n| | ");
  for (int k = 0; k < nin; k++)
    fprintf(f, "%s | ", in[k].path);
  fprintf(f, "\n|---|");
  for (int k = 0; k < nin; k++)
    fprintf(f, "---|");
  fprintf(f, "\n");
  for (size_t r = 0; r < sizeof(ctx_rows) / sizeof(ctx_rows[0]); r++) {
    fprintf(f, "| %s | ", ctx_rows[r][0]);
    for (int k = 0; k < nin; k++) {
      char val[256];
      ctx_value(json_object_get(in[k].doc, "context"), ctx_rows[r][1], val, sizeof(val));
      for (char *q = val; *q; q++)
        if (*q == '|') *q = '/';
      fprintf(f, "%s | ", val);
    }
    fprintf(f, "\n");
  }
  fprintf(f, "\n## Plots\n\n");
  json_array_foreach(plots, i, v) {
    const char *out = json_string_value(json_object_get(v, "out"));
    if (file_size(dir, out, ".png") > 0) fprintf(f, "![%s](%s.png)\n\n", out, out);
  }
  return fclose(f);
}

static int write_html(const char *dir, const struct report_in *in, int nin, const struct row *rows,
                      const json_t *findings, const json_t *plots, const struct agg_set *other) {
  char p[4200];
  snprintf(p, sizeof(p), "%s/index.html", dir);
  FILE *f = fopen(p, "w");
  if (!f) return -1;
  fprintf(
      f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<title>vtbench report</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
         "padding:3px 8px;font-size:90%%}th{background:#eee}\n"
         "td.num{text-align:right}.warn{background:#fff3cd;padding:.5em}\n"
         "figure{margin:1em 0}img{max-width:100%%;border:1px solid #ddd}\n</style></head><body>\n");
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
    fprintf(f, "</b>: figures cover the runs that finished.</p>\n");
  }
  fprintf(f, "<h2>Findings</h2>\n<ul>\n");
  size_t i;
  json_t *v;
  json_array_foreach(findings, i, v) {
    fprintf(f, "<li>");
    html_esc(f, json_string_value(v));
    fprintf(f, "</li>\n");
  }
  fprintf(f, "</ul>\n<h2>Plots</h2>\n");
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
  fprintf(f, "<h2>Results</h2>\n<p>Median time per iteration (per run where the guest reports "
             "no iteration count), 95%% bootstrap CI of the median, coefficient of variation, "
             "MAD-flagged outliers (kept), and the ratio to the baseline mode with its CI.</p>\n"
             "<table>\n<tr>");
  for (int c = 0; table_head[c]; c++)
    fprintf(f, "<th>%s</th>", table_head[c]);
  fprintf(f, "</tr>\n");
  for (size_t r = 0; r < in[0].s->n; r++) {
    char cells[10][96];
    row_cells(&rows[r], cells);
    fprintf(f, "<tr>");
    for (int c = 0; c < 10; c++) {
      fprintf(f, "<td%s>", c >= 3 ? " class=\"num\"" : "");
      html_esc(f, cells[c]);
      fprintf(f, "</td>");
    }
    fprintf(f, "</tr>\n");
  }
  fprintf(f, "</table>\n");
  if (other) {
    struct compare_row *cr;
    size_t n = export__compare(in[0].s, other, &cr);
    fprintf(f, "<h2>Comparison</h2>\n<table>\n<tr><th>configuration</th><th>this</th><th>other</th>"
               "<th>other/this</th><th>95%% CI</th><th>p (Mann-Whitney "
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
              "<td class=\"num\">%.3f .. %.3f</td><td class=\"num\">%.3g</td><td>%s</td></tr>\n",
              a, b, cr[k].ratio, cr[k].lo, cr[k].hi, cr[k].p, cr[k].significant ? "yes" : "no");
    }
    fprintf(f, "</table>\n");
    free(cr);
  }
  fprintf(f, "<h2>Hosts</h2>\n<table>\n<tr><th></th>");
  for (int k = 0; k < nin; k++) {
    fprintf(f, "<th>");
    html_esc(f, in[k].path);
    fprintf(f, "</th>");
  }
  fprintf(f, "</tr>\n");
  for (size_t r = 0; r < sizeof(ctx_rows) / sizeof(ctx_rows[0]); r++) {
    fprintf(f, "<tr><th>%s</th>", ctx_rows[r][0]);
    for (int k = 0; k < nin; k++) {
      char val[256];
      ctx_value(json_object_get(in[k].doc, "context"), ctx_rows[r][1], val, sizeof(val));
      fprintf(f, "<td>");
      html_esc(f, val);
      fprintf(f, "</td>");
    }
    fprintf(f, "</tr>\n");
  }
  fprintf(f, "</table>\n<p>Data: <a href=\"summary.csv\">summary.csv</a>, "
             "<a href=\"summary.md\">summary.md</a>; replay the plots with "
             "<code>sh plots.sh PLOTS_DIR</code> (<a href=\"plots.sh\">plots.sh</a>).</p>\n"
             "</body></html>\n");
  return fclose(f);
}

int cmd_report(int argc, char **argv) {
  static const struct option opts[] = {{"compare", required_argument, NULL, 'c'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"baseline", required_argument, NULL, 'b'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  char baseline_buf[64];
  const char *other_path = NULL, *dir = "report", *baseline = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:o:b:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      other_path = optarg;
      break;
    case 'o':
      dir = optarg;
      break;
    case 'b':
      baseline = optarg;
      break;
    case 'h':
      usage(stdout);
      return VTB_EXIT_OK;
    default:
      usage(stderr);
      return VTB_EXIT_USAGE;
    }
  }
  if (baseline) {
    char err[256];
    struct matrix_mode bm;
    if (matrix__parse_mode(baseline, &bm, err, sizeof(err))) {
      fprintf(stderr, "vtbench: --baseline: %s\n", err);
      return VTB_EXIT_USAGE;
    }
    matrix__mode_str(&bm, baseline_buf, sizeof(baseline_buf));
    baseline = baseline_buf;
  }

  if (optind != argc - 1) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  const char *path = argv[optind];
  json_t *doc = json_util__load_doc(path), *odoc = NULL;
  if (!doc) return VTB_EXIT_IO;
  if (other_path && !(odoc = json_util__load_doc(other_path))) {
    json_decref(doc);
    return VTB_EXIT_IO;
  }
  struct agg_set s, o;
  aggregate__group(doc, &s);
  if (odoc) aggregate__group(odoc, &o);
  int rc = VTB_EXIT_OK;
  char err[512], plots_dir[4096];
  json_t *plots = export__csv(&s, odoc ? &o : NULL, dir, baseline, err, sizeof(err));
  if (!plots) {
    fprintf(stderr, "vtbench report: %s\n", err);
    rc = VTB_EXIT_IO;
    goto out;
  }
  if (!s.n) fprintf(stderr, "vtbench report: note: %s has no runs\n", path);
  if (paths__plots_dir(plots_dir, sizeof(plots_dir))) {
    fprintf(
        stderr,
        "vtbench report: plot scripts not found (%s; set VTBENCH_PLOTS): report without plots\n",
        plots_dir);
    rc = VTB_EXIT_FAILED;
  } else if (plots_dir[0] != '/') {
    char *abs = realpath(plots_dir, NULL); /* gnuplot runs inside the output directory */
    if (abs) {
      snprintf(plots_dir, sizeof(plots_dir), "%s", abs);
      free(abs);
    }
  }
  size_t i, made = 0;
  json_t *spec;
  if (rc == VTB_EXIT_OK) json_array_foreach(plots, i, spec) {
      const char *out = json_string_value(json_object_get(spec, "out"));
      int g = run_gnuplot(dir, plots_dir, spec);
      if (g == 127) {
        fprintf(stderr, "vtbench report: gnuplot not found: install gnuplot-nox (make deps); "
                        "report without plots\n");
        rc = VTB_EXIT_FAILED;
        break;
      }
      if (g || file_size(dir, out, ".png") <= 0 || file_size(dir, out, ".svg") <= 0) {
        fprintf(stderr, "vtbench report: gnuplot failed on %s/%s (script %s)\n", dir,
                json_string_value(json_object_get(spec, "csv")),
                json_string_value(json_object_get(spec, "script")));
        rc = VTB_EXIT_FAILED;
        continue;
      }
      made++;
    }
  json_t *findings = findings__compute(&s, odoc ? &o : NULL, baseline);
  struct row *rows = rows_of(&s, baseline);
  struct report_in in[2] = {{path, doc, &s}, {other_path, odoc, odoc ? &o : NULL}};
  if (write_md(dir, in, odoc ? 2 : 1, rows, findings, plots, odoc ? &o : NULL) ||
      write_html(dir, in, odoc ? 2 : 1, rows, findings, plots, odoc ? &o : NULL)) {
    fprintf(stderr, "vtbench report: %s: cannot write the report: %s\n", dir, strerror(errno));
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
