/* cli_num.h - checked numeric command-line arguments for vtbench's
 * subcommands (one message format for every bounded count). */
#ifndef VTBENCH_CLI_NUM_H
#define VTBENCH_CLI_NUM_H

/* Parse `arg` as a decimal integer in [lo, hi] into *out: 0, or -1 after
 * printing "vtbench COMMAND: --OPT 'ARG': expected LO..HI" on stderr. */
int cli__count(const char *opt, const char *arg, long lo, long hi, long *out);

#endif
