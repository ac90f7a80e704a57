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
#include "report_doc.h"
#include "report_kvm_exits.h"
#include "report_order.h"
#include "report_page.h"
#include "report_opts.h"
#include "results/result_doc.h"
#include "savings.h"
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
      off += (size_t)snprintf(vars + off, sizeof(vars) - off, "; %s='%s'", k,
                              export__gp_quote(json_string_value(v)));
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

/* DIR/NAME from the page's document, atomically (complete or not at all). */
static int write_page(const char *dir, const char *name, const json_t *page, bool html) {
  struct atomic_file af;
  FILE *f = atomic_file__open_in(&af, dir, name);
  if (!f) return -1;
  int rc = html ? report_doc__write_html(page, "vtbench report", f) : report_doc__write_md(page, f);
  if (rc) {
    atomic_file__abort(&af);
    return -1;
  }
  return atomic_file__commit(&af);
}

/* DIR/report.json: the statistics behind the page, for scripts: the
 * aggregates[] (as `vtbench run` writes them), the comparison rows with
 * their Mann-Whitney U test, and the findings. */
static int write_json(const char *dir, const struct agg_set *s, const struct agg_set *other,
                      const char *other_path, const char *baseline, const json_t *findings,
                      json_t *savings) {
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
  json_t *doc = json_pack("{s:s?,s:s?,s:o,s:o,s:o,s:O}", "baseline", baseline, "compared_with",
                          other_path, "savings", savings, "aggregates",
                          aggregate__compute(s, baseline), "comparison", cmp, "findings", findings);
  char p[4200];
  snprintf(p, sizeof(p), "%s/report.json", dir);
  int rc = result_doc__write(doc, p); /* atomic: temp file, fsync, rename */
  json_decref(doc);
  if (rc) errno = -rc;
  return rc ? -1 : 0;
}

static void kvm_exits_observe(const json_t *run, void *ctx) {
  report_kvm_exits__add(ctx, run);
}

int cmd_report(int argc, char **argv) {
  struct report_opts opt = {.c_long = "compare", .output = "report"};
  int rc = report_opts__parse(&opt, argc, argv, usage);
  if (rc != REPORT_OPTS_CONTINUE) return rc;
  const char *other_path = opt.c_arg, *dir = opt.output, *baseline = opt.baseline;
  if (optind != argc - 1) {
    if (optind >= argc)
      msg__error("no result document given");
    else
      msg__error("one result document at a time, got %d (another to compare: --compare FILE)",
                 argc - optind);
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  const char *path = argv[optind];
  json_t *doc = NULL, *odoc = NULL;
  struct agg_set s, o;
  char err[1024], plots_dir[4096];
  struct kvm_exits_acc *kx = report_kvm_exits__new();
  rc = aggregate__load_observed(path, &s, &doc, kvm_exits_observe, kx, err, sizeof(err));
  if (!rc && other_path && (rc = aggregate__load(other_path, &o, &odoc, err, sizeof(err))))
    aggregate__free(&s), json_decref(doc);
  if (rc) {
    msg__error("%s", err);
    report_kvm_exits__free(kx);
    return rc == AGG_LOAD_DUPLICATE ? VTB_EXIT_DATA : VTB_EXIT_IO;
  }
  report_order__sort(&s); /* tables and plots in catalog and canonical mode order */
  if (odoc) report_order__sort(&o);
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
  struct saving_row *sv = NULL, *osv = NULL;
  size_t nsv = savings__compute(&s, json_object_get(doc, "context"), &sv), nosv = 0;
  if (odoc) nosv = savings__compute(&o, json_object_get(odoc, "context"), &osv);
  json_t *findings = findings__compute(&s, odoc ? &o : NULL, baseline, sv, nsv);
  struct report_in in[2] = {{path, doc, &s, kx}, {other_path, odoc, odoc ? &o : NULL, NULL}};
  struct report_page_in page = {in,    odoc ? 2 : 1, dir, baseline, findings,
                                plots, sv,           osv, nsv,      nosv};
  json_t *page_doc = report_page__build(&page);
  if (write_json(dir, &s, odoc ? &o : NULL, other_path, baseline, findings,
                 savings__json(sv, nsv)) ||
      write_page(dir, "summary.md", page_doc, false) ||
      write_page(dir, "index.html", page_doc, true)) {
    msg__error("%s: cannot write the report: %s", dir, strerror(errno));
    rc = VTB_EXIT_IO;
  } else {
    printf("vtbench report: %zu configurations, %zu plots -> %s/index.html (and summary.md)\n", s.n,
           made, dir);
  }
  json_decref(page_doc);
  free(sv);
  free(osv);
  json_decref(findings);
  json_decref(plots);
out:
  report_kvm_exits__free(kx);
  aggregate__free(&s);
  if (odoc) aggregate__free(&o);
  json_decref(odoc);
  json_decref(doc);
  return rc;
}
