/* paths.h - where vtbench finds its companions: refvmm next to the vtbench
 * binary (readlink /proc/self/exe), workload images and plot scripts in the
 * source tree (bin/../workloads/build, bin/../plots) or an installed prefix
 * (bin/../share/vtbench/...). Environment overrides: VTBENCH_REFVMM,
 * VTBENCH_WORKLOADS, VTBENCH_PLOTS. */
#ifndef VTBENCH_PATHS_H
#define VTBENCH_PATHS_H

#include <stddef.h>

/* Directory of the running executable. 0 or -1. */
int paths__exe_dir(char *buf, size_t len);
/* Path of bin/refvmm into buf. 0 when it exists and is executable. */
int paths__refvmm(char *buf, size_t len);
/* Directory holding NAME.elf images; 0 when found. */
int paths__workloads_dir(char *buf, size_t len);
/* Directory holding the gnuplot scripts; 0 when found. */
int paths__plots_dir(char *buf, size_t len);

#endif
