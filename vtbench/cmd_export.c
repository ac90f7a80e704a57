/* cmd_export.c - `vtbench export --csv RESULTS.json -o DIR`: the CSV files
 * the plots/ scripts read, plus plots.json and plots.sh to replay them. */
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "commands.h"
#include "export.h"
#include "msg.h"
#include "report_opts.h"

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench export --csv RESULTS.json [-o DIR] [--baseline MODE]\n"
               "  Writes summary.csv, time_*.csv, overhead_*.csv, exits_*.csv, latency_*.csv,\n"
               "  events_*.csv (NMI/IRQ delivery CDFs), model_*.csv, plots.json and plots.sh\n"
               "  into DIR (default: csv/). `sh DIR/plots.sh PLOTS_DIR` redraws the plots with\n"
               "  the gnuplot scripts in PLOTS_DIR (docs/REPORTS.md).\n");
}

int cmd_export(int argc, char **argv) {
  struct report_opts o = {.c_long = "csv", .output = "csv"};
  int rc = report_opts__parse(&o, argc, argv, usage);
  if (rc != REPORT_OPTS_CONTINUE) return rc;
  const char *in = o.c_arg, *dir = o.output, *baseline = o.baseline;
  if (!in && optind < argc) in = argv[optind];
  if (!in) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  json_t *doc;
  struct agg_set s;
  char err[1024];
  rc = aggregate__load(in, &s, &doc, err, sizeof(err));
  if (rc) {
    msg__error("%s", err);
    return rc == AGG_LOAD_DUPLICATE ? VTB_EXIT_DATA : VTB_EXIT_IO;
  }
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
