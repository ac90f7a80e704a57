/* context.h - the result document's `context`: which host, kernel, CPU, KVM
 * and tool produced the numbers (docs/RESULTS.md).
 */
#ifndef RESULTS_CONTEXT_H
#define RESULTS_CONTEXT_H

#include <jansson.h>

/* New context object: date, host, os, kernel, cpu, num_cpus, mhz_per_cpu,
 * mem_total_bytes, tool, executable, command_line, argv, kvm (live host).
 * Callers add what only they know (tsc_hz, pmu). Never NULL but on ENOMEM. */
json_t *context__collect(int argc, char **argv);

/* The `cpu` object alone: vendor, family, model, stepping, model_name, flags
 * (from the CPUID instruction and /proc/cpuinfo), hypervisor_vendor. */
json_t *context__cpu(void);

/* Shell-quoted join of argv into buf ("" for argc 0). */
void context__join_argv(int argc, char **argv, char *buf, size_t len);

#endif
