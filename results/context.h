/* context.h - the result document's `context`: which host, kernel, CPU, KVM
 * and tool produced the numbers (docs/RESULTS.md).
 */
#ifndef RESULTS_CONTEXT_H
#define RESULTS_CONTEXT_H

#include <jansson.h>

/* New context object: date, host, os, kernel, cpu, num_cpus, mhz_per_cpu,
 * mem_total_bytes, tool, executable, command_line, argv, kvm (live host),
 * tsc_hz and tsc {hz, source, detail} (probes/timing.h), pmu (libpfm4's core
 * PMU, whether perf_event_open works: probes/pmu.h). Callers may replace
 * tsc_hz/tsc with what only they know (the vCPU's TSC rate). Never NULL but
 * on ENOMEM. */
json_t *context__collect(int argc, char **argv);

/* The `cpu` object alone: vendor, family, model, stepping, model_name, flags
 * (from the CPUID instruction and /proc/cpuinfo), hypervisor_vendor. */
json_t *context__cpu(void);

/* Shell-quoted join of argv into buf ("" for argc 0). */
void context__join_argv(int argc, char **argv, char *buf, size_t len);

#endif
