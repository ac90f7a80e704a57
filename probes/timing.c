/* timing.c - TSC frequency detection (see timing.h for the order). */
#include "probes/timing.h"

#include <cpuid.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t timing__tsc_hz_sysfs(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  unsigned long long khz = 0;
  int ok = fscanf(f, "%llu", &khz) == 1;
  fclose(f);
  return ok ? (uint64_t)khz * 1000 : 0;
}

uint64_t timing__tsc_hz_cpuid15(char *detail, size_t len) {
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, NULL) < 0x15) return 0;
  __cpuid_count(0x15, 0, a, b, c, d);
  /* EAX/EBX = denominator/numerator of TSC/crystal; ECX = crystal Hz (0 if
   * not enumerated: then the leaf is not usable on its own). */
  if (!a || !b || !c) return 0;
  if (detail) snprintf(detail, len, "cpuid 0x15: crystal %u Hz * %u/%u", c, b, a);
  return (uint64_t)c * b / a;
}

uint64_t timing__tsc_hz_cpuid16(void) {
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, NULL) < 0x16) return 0;
  __cpuid_count(0x16, 0, a, b, c, d);
  return (uint64_t)(a & 0xffff) * 1000000;
}

uint64_t timing__tsc_hz_hv_leaf(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31))) return 0; /* no hypervisor */
  __cpuid(0x40000000, a, b, c, d);
  if (a < 0x40000010 || a > 0x400000ff) return 0;
  __cpuid(0x40000010, a, b, c, d);
  return (uint64_t)a * 1000;
}

uint64_t timing__tsc_hz_calibrate(unsigned ms) {
  uint64_t t0 = timing__mono_ns(), c0 = timing__rdtscp(NULL);
  struct timespec req = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&req, &req) != 0) {
  }
  uint64_t t1 = timing__mono_ns(), c1 = timing__rdtscp(NULL);
  if (t1 <= t0 || c1 <= c0) return 0;
  return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
}

const char *tsc_source__name(enum tsc_source s) {
  switch (s) {
  case TSC_SRC_SYSFS:
    return "sysfs";
  case TSC_SRC_CPUID_15H:
    return "cpuid_15h";
  case TSC_SRC_CPUID_16H:
    return "cpuid_16h";
  case TSC_SRC_HV_LEAF:
    return "hypervisor_leaf";
  case TSC_SRC_CALIBRATED:
    return "calibrated";
  case TSC_SRC_KVM:
    return "kvm_get_tsc_khz";
  case TSC_SRC_NONE:
    break;
  }
  return "none";
}

static struct tsc_info tsc;

const struct tsc_info *timing__tsc(void) {
  if (tsc.hz) return &tsc;
  struct tsc_info t = {0};
  const char *sysfs = "/sys/devices/system/cpu/cpu0/tsc_freq_khz";
  if ((t.hz = timing__tsc_hz_sysfs(sysfs))) {
    t.source = TSC_SRC_SYSFS;
    snprintf(t.detail, sizeof(t.detail), "%s", sysfs);
  } else if ((t.hz = timing__tsc_hz_cpuid15(t.detail, sizeof(t.detail)))) {
    t.source = TSC_SRC_CPUID_15H;
  } else if ((t.hz = timing__tsc_hz_cpuid16())) {
    t.source = TSC_SRC_CPUID_16H;
    snprintf(t.detail, sizeof(t.detail), "cpuid 0x16: base frequency");
  } else if ((t.hz = timing__tsc_hz_hv_leaf())) {
    t.source = TSC_SRC_HV_LEAF;
    snprintf(t.detail, sizeof(t.detail), "cpuid 0x40000010: TSC kHz from the hypervisor");
  } else if ((t.hz = timing__tsc_hz_calibrate(50))) {
    t.source = TSC_SRC_CALIBRATED;
    snprintf(t.detail, sizeof(t.detail), "50 ms against CLOCK_MONOTONIC");
  }
  tsc = t;
  return &tsc;
}

void timing__tsc_set(uint64_t hz, enum tsc_source source, const char *detail) {
  struct tsc_info t = {.hz = hz, .source = source};
  snprintf(t.detail, sizeof(t.detail), "%s", detail ? detail : "");
  tsc = t;
}

json_t *timing__tsc_json(void) {
  const struct tsc_info *t = timing__tsc();
  return json_pack("{s:I, s:s, s:s}", "hz", (json_int_t)t->hz, "source",
                   tsc_source__name(t->source), "detail", t->detail);
}

double timing__ticks_to_ns(uint64_t ticks) {
  uint64_t hz = timing__tsc_hz();
  return hz ? (double)ticks * 1e9 / (double)hz : 0.0;
}
