/* cmdline.h - the kernel command line's vtb.* words (cmdline.c). */
#ifndef LX_CMDLINE_H
#define LX_CMDLINE_H

#include "lx.h"

/* Picks the workload and sets its parameters from the command line text;
 * 0, or prints the message and returns VTB_EXIT_BAD_PARAM. */
int lx_cmdline__parse(const char *text);
/* The workload named, or NULL (none or unknown); also after a bad parameter. */
const struct lx_workload *lx_cmdline__workload(void);
/* Prints " vtb.KEY=VALUE" for every parameter, defaults included. */
void lx_cmdline__print(void);

#endif
