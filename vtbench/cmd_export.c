/* cmd_export.c - `vtbench export --csv RESULTS.json -o DIR`: the CSV files
 * the plots/ scripts read, plus plots.json and plots.sh to replay them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "commands.h"
#include "export.h"
#include "json_util.h"
#include "matrix.h"

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench export --csv RESULTS.json [-o DIR] [--baseline MODE]\n"
               "  Writes summary.csv, time_*.csv, overhead_*.csv, exits_*.csv, latency_*.csv,\n"
               "  events_*.csv (NMI/IRQ delivery CDFs), model_*.csv, plots.json and plots.sh\n"
               "  into DIR (default: csv/). `sh DIR/plots.sh PLOTS_DIR` redraws the plots with\n"
               "  the gnuplot scripts in PLOTS_DIR (docs/REPORTS.md).\n");
}

int cmd_export(int argc, char **argv) {
  static const struct option opts[] = {{"csv", required_argument, NULL, 'c'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"baseline", required_argument, NULL, 'b'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  char baseline_buf[64];
  const char *in = NULL, *dir = "csv", *baseline = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:o:b:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      in = optarg;
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

  if (!in && optind < argc) in = argv[optind];
  if (!in) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  json_t *doc = json_util__load_doc(in);
  if (!doc) return VTB_EXIT_IO;
  struct agg_set s;
  aggregate__group(doc, &s);
  char err[512];
  json_t *plots = export__csv(&s, NULL, dir, baseline, err, sizeof(err));
  int rc = VTB_EXIT_OK;
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
