/* report_opts.c - options shared by export, merge and report. */
#include "report_opts.h"

#include <getopt.h>
#include <string.h>

#include "commands.h"
#include "matrix.h"
#include "msg.h"
#include "msg.h"

int report_opts__baseline(const char *mode, char *buf, size_t len) {
  char err[256];
  struct matrix_mode bm;
  if (matrix__parse_mode(mode, &bm, err, sizeof(err))) {
    msg__error("--baseline: %s", err);
    return -1;
  }
  matrix__mode_str(&bm, buf, len);
  return 0;
}

int report_opts__parse(struct report_opts *o, int argc, char **argv, void (*usage)(FILE *out)) {
  struct option opts[] = {{"output", required_argument, NULL, 'o'},
                          {"baseline", required_argument, NULL, 'b'},
                          {"help", no_argument, NULL, 'h'},
                          {o->c_long, required_argument, NULL, 'c'},
                          {0}};
  const char *shortopts = o->c_long ? "c:o:b:h" : "o:b:h";
  if (!o->c_long) memset(&opts[3], 0, sizeof(opts[3]));
  const char *baseline = NULL;
  int c;
  o->c_arg = NULL;
  o->baseline = NULL;
  optind = 1;
  while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      o->c_arg = optarg;
      break;
    case 'o':
      o->output = optarg;
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
    if (report_opts__baseline(baseline, o->baseline_buf, sizeof(o->baseline_buf)))
      return VTB_EXIT_USAGE;
    o->baseline = o->baseline_buf;
  }
  return REPORT_OPTS_CONTINUE;
}
