/* timing.h - TSC and monotonic clocks, TSC frequency with its source.
 *
 * The TSC is read with rdtsc (cheap, not ordered) or rdtscp (waits for
 * earlier instructions; returns the CPU id in aux). The frequency comes from
 * the first source that answers: sysfs tsc_freq_khz, CPUID 0x15 (crystal
 * ratio), CPUID 0x16 (base MHz), the hypervisor leaf 0x40000010 (kHz), or a
 * 50 ms calibration against CLOCK_MONOTONIC; the source is recorded.
 */
#ifndef PROBES_TIMING_H
#define PROBES_TIMING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

static inline uint64_t timing__rdtsc(void) {
  return __rdtsc();
}
static inline uint64_t timing__rdtscp(uint32_t *aux) {
  unsigned int a;
  uint64_t t = __rdtscp(&a);
  if (aux) *aux = a;
  return t;
}
static inline uint64_t timing__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum tsc_source {
  TSC_SRC_NONE,
  TSC_SRC_SYSFS,      /* /sys/devices/system/cpu/cpu0/tsc_freq_khz */
  TSC_SRC_CPUID_15H,  /* crystal clock * TSC/crystal ratio */
  TSC_SRC_CPUID_16H,  /* processor base frequency (MHz) */
  TSC_SRC_HV_LEAF,    /* hypervisor CPUID 0x40000010 EAX (kHz) */
  TSC_SRC_CALIBRATED, /* measured against CLOCK_MONOTONIC */
  TSC_SRC_KVM,        /* KVM_GET_TSC_KHZ on a vCPU (timing__tsc_set) */
};

struct tsc_info {
  uint64_t hz;
  enum tsc_source source;
  char detail[96]; /* e.g. "cpuid 0x15: crystal 25000000 Hz * 188/2" */
};

/* Frequency from the first source that answers; cached after the first
 * call (thread-safe enough: every caller computes the same value). */
const struct tsc_info *timing__tsc(void);
static inline uint64_t timing__tsc_hz(void) {
  return timing__tsc()->hz;
}
const char *tsc_source__name(enum tsc_source s); /* "sysfs", "cpuid_15h", ... */
/* Seed the cache with a rate known otherwise (refvmm: KVM_GET_TSC_KHZ, which
 * is the kernel's own calibrated tsc_khz unless a VMM changed it), so that
 * nothing calibrates for 50 ms; later timing__tsc() calls return it. */
void timing__tsc_set(uint64_t hz, enum tsc_source source, const char *detail);

/* The individual sources (0 when the source does not answer); `path` lets
 * tests point the sysfs reader at a file of their own. */
uint64_t timing__tsc_hz_sysfs(const char *path);
uint64_t timing__tsc_hz_cpuid15(char *detail, size_t len);
uint64_t timing__tsc_hz_cpuid16(void);
uint64_t timing__tsc_hz_hv_leaf(void);
uint64_t timing__tsc_hz_calibrate(unsigned ms);

/* {"hz", "source", "detail"} for the result context. */
json_t *timing__tsc_json(void);

/* ticks -> ns with the detected frequency (0 if unknown). */
double timing__ticks_to_ns(uint64_t ticks);

#endif
