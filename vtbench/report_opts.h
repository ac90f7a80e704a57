/* report_opts.h - the command line `vtbench export`, `merge` and `report`
 * share: -o/--output, -b/--baseline MODE (checked and written in its
 * canonical form), -h/--help, and one subcommand-specific option with an
 * argument on -c (--csv for export, --compare for report). */
#ifndef VTBENCH_REPORT_OPTS_H
#define VTBENCH_REPORT_OPTS_H

#include <getopt.h> /* optind, for the positional arguments */
#include <stdio.h>

struct report_opts {
  const char *c_long;   /* in: long name of -c ("csv", "compare"); NULL: no -c */
  const char *c_arg;    /* out: -c's argument, NULL when not given */
  const char *output;   /* in: default; out: -o's argument when given */
  const char *baseline; /* out: canonical baseline mode (baseline_buf) or NULL */
  char baseline_buf[64];
};

#define REPORT_OPTS_CONTINUE (-1)

/* getopt_long over argv (optind is reset; positional arguments start at
 * optind afterwards). REPORT_OPTS_CONTINUE to go on, else the exit status
 * to return: VTB_EXIT_OK after --help (usage on stdout), VTB_EXIT_USAGE
 * after a bad option or --baseline (usage or the message on stderr). */
int report_opts__parse(struct report_opts *o, int argc, char **argv, void (*usage)(FILE *out));

/* Check a --baseline MODE and write its canonical form into buf. 0, or -1
 * after printing "vtbench COMMAND: --baseline: PROBLEM" on stderr. */
int report_opts__baseline(const char *mode, char *buf, size_t len);

#endif
