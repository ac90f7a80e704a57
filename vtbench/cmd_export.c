/* cmd_export.c - `vtbench export --csv RESULTS.json -o DIR`: the CSV files
 * the plots/ scripts read, plus plots.json and plots.sh to replay them;
 * `vtbench export --format gbench RESULTS.json [-o FILE]`: Google Benchmark
 * JSON. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "commands.h"
#include "export.h"
#include "export_gbench.h"
#include "json_util.h"
#include "report_opts.h"
#include "report_order.h"
#include "results/result_doc.h"

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench export --csv RESULTS.json [-o DIR] [--baseline MODE]\n"
               "  Writes summary.csv, time_*.csv, overhead_*.csv, exits_*.csv, latency_*.csv,\n"
               "  events_*.csv (NMI/IRQ delivery CDFs), model_*.csv, plots.json and plots.sh\n"
               "  into DIR (default: csv/). `sh DIR/plots.sh PLOTS_DIR` redraws the plots with\n"
               "  the gnuplot scripts in PLOTS_DIR (docs/REPORTS.md).\n"
               "usage: vtbench export --format gbench RESULTS.json [-o FILE]\n"
               "  Writes the runs as Google Benchmark JSON (its --benchmark_out format) to FILE\n"
               "  (default: standard output), for Google Benchmark's compare.py.\n");
}

/* --format FMT (or --format=FMT) taken out of argv; "csv" when absent.
 * NULL (after a message) when FMT is not csv or gbench. */
static const char *take_format(int *argc, char **argv) {
  const char *fmt = "csv";
  int w = 0;
  for (int r = 0; r < *argc; r++) {
    if (!strcmp(argv[r], "--format") && r + 1 < *argc) {
      fmt = argv[++r];
      continue;
    }
    if (!strncmp(argv[r], "--format=", 9)) {
      fmt = argv[r] + 9;
      continue;
    }
    argv[w++] = argv[r];
  }
  *argc = w;
  argv[w] = NULL;
  if (strcmp(fmt, "csv") && strcmp(fmt, "gbench")) {
    fprintf(stderr, "vtbench export: --format %s: unknown format (csv or gbench)\n", fmt);
    return NULL;
  }
  return fmt;
}

static int export_gbench(const char *in, const char *out) {
  json_t *doc = json_util__load_doc(in);
  if (!doc) return VTB_EXIT_IO;
  struct agg_set s;
  aggregate__group(doc, &s);
  report_order__sort(&s);
  json_t *gb = export_gbench__doc(&s, doc);
  int rc = VTB_EXIT_OK;
  if (out) {
    int w = result_doc__write(gb, out); /* atomic */
    if (w) {
      fprintf(stderr, "vtbench export: %s: cannot write: %s (check the -o path)\n", out,
              strerror(-w));
      rc = VTB_EXIT_IO;
    } else {
      printf("vtbench export: %zu benchmarks (Google Benchmark JSON) -> %s\n",
             json_array_size(json_object_get(gb, "benchmarks")), out);
    }
  } else if (json_dumpf(gb, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF ||
             fflush(stdout)) {
    fprintf(stderr, "vtbench export: standard output: %s\n", strerror(errno));
    rc = VTB_EXIT_IO;
  }
  json_decref(gb);
  aggregate__free(&s);
  json_decref(doc);
  return rc;
}

int cmd_export(int argc, char **argv) {
  const char *fmt = take_format(&argc, argv);
  if (!fmt) return VTB_EXIT_USAGE;
  bool gbench = !strcmp(fmt, "gbench");
  struct report_opts o = {.c_long = "csv", .output = gbench ? NULL : "csv"};
  int rc = report_opts__parse(&o, argc, argv, usage);
  if (rc != REPORT_OPTS_CONTINUE) return rc;
  const char *in = o.c_arg, *dir = o.output, *baseline = o.baseline;
  if (!in && optind < argc) in = argv[optind];
  if (!in) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  if (gbench) return export_gbench(in, o.output);
  json_t *doc = json_util__load_doc(in);
  if (!doc) return VTB_EXIT_IO;
  struct agg_set s;
  aggregate__group(doc, &s);
  report_order__sort(&s);
  char err[512];
  json_t *plots = export__csv(&s, NULL, dir, baseline, err, sizeof(err));
  rc = VTB_EXIT_OK;
  if (!plots) {
    fprintf(stderr, "vtbench export: %s\n", err);
    rc = VTB_EXIT_IO;
  } else {
    printf("vtbench export: %zu configurations, %zu plot inputs in %s/\n", s.n,
           json_array_size(plots), dir);
  }
  json_decref(plots);
  aggregate__free(&s);
  json_decref(doc);
  return rc;
}
