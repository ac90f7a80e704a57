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
#include "msg.h"
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
    msg__error("--format %s: unknown format (csv or gbench)", fmt);
    return NULL;
  }
  return fmt;
}

static int export_gbench(const char *in, const char *out) {
  json_t *doc;
  struct agg_set s;
  char err[1024];
  int lrc = aggregate__load(in, &s, &doc, err, sizeof(err));
  if (lrc) {
    msg__error("%s", err);
    return lrc == AGG_LOAD_DUPLICATE ? VTB_EXIT_DATA : VTB_EXIT_IO;
  }
  report_order__sort(&s);
  json_t *gb = export_gbench__doc(&s, doc);
  int rc = VTB_EXIT_OK;
  if (out) {
    int w = result_doc__write(gb, out); /* atomic */
    if (w) {
      msg__error("%s: cannot write: %s (check the -o path)", out, strerror(-w));
      rc = VTB_EXIT_IO;
    } else {
      printf("vtbench export: %zu benchmarks (Google Benchmark JSON) -> %s\n",
             json_array_size(json_object_get(gb, "benchmarks")), out);
    }
  } else if (json_dumpf(gb, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF ||
             fflush(stdout)) {
    msg__error("standard output: %s", strerror(errno));
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
    msg__error("no result document given");
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  if (gbench) return export_gbench(in, o.output);
  json_t *doc;
  struct agg_set s;
  char err[1024];
  rc = aggregate__load(in, &s, &doc, err, sizeof(err));
  if (rc) {
    msg__error("%s", err);
    return rc == AGG_LOAD_DUPLICATE ? VTB_EXIT_DATA : VTB_EXIT_IO;
  }
  report_order__sort(&s);
  aggregate__prepare(&s, baseline);
  json_t *plots = export__csv(&s, NULL, dir, baseline, err, sizeof(err));
  rc = VTB_EXIT_OK;
  if (!plots) {
    msg__error("%s", err);
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
