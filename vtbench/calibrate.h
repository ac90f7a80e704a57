/* calibrate.h - `vtbench calibrate`: measure on this KVM host what the cost
 * model's figures can be tied to (calibrate_measure.c: exit round trips from
 * the cpuid, vmcall, mmio and pio workloads, ring-0 emulation cost, memory
 * reference latency from ptrchase; each the median of several refvmm runs)
 * and turn them into a cost profile (calibrate_profile.c), in the format of
 * docs/COST_MODEL.md, with every figure marked measured or default. */
#ifndef VTBENCH_CALIBRATE_H
#define VTBENCH_CALIBRATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "refvmm/model/cost/cost_model.h"

#define CALIB_REPS_MAX 25

/* What is measured, one refvmm workload run each (see calibrate_measure.c
 * for the parameters and the reason for each). */
enum calib_meas_id {
  CM_VMCALL3,   /* VMCALL/VMMCALL from ring 3, refused in the host kernel */
  CM_CPUID3,    /* CPUID from ring 3, answered in the host kernel */
  CM_MMIO3,     /* MMIO write from ring 3: exit to refvmm and back */
  CM_PIO0,      /* OUT from ring 0: exit to refvmm and back */
  CM_EMUL0,     /* ring-0 code emulated by the host, per instruction (callret cpl=0) */
  CM_CHASE_L1,  /* ptrchase, working set inside L1 */
  CM_CHASE_L2,  /* ... inside L2 */
  CM_CHASE_LLC, /* ... inside the last-level cache */
  CM_CHASE_DRAM,
  CM_COUNT
};

struct calib_meas {
  const char *label; /* "vmcall cpl=3" */
  const char *what;  /* what one iteration is */
  char args[160];    /* workload and parameters as run: "vmcall n=20000 cpl=3" */
  uint64_t ws;       /* ptrchase: working set in bytes */
  int nrep;
  int task_clock;              /* runs timed by the vCPU thread's task clock (else wall time) */
  double ns[CALIB_REPS_MAX];   /* ns per iteration (CM_EMUL0: per emulated instruction) */
  double emul[CALIB_REPS_MAX]; /* KVM insn_emulation per iteration */
  double handling_ns[CALIB_REPS_MAX]; /* refvmm's own handling per exit (p50), if any */
  double median, lo, hi;              /* of ns[] */
  double emul_median, handling_median;
  bool ok;
  bool na;       /* not applicable on this host (not a failure): err says why */
  char err[320]; /* why not (first failure) */
};

struct calib_host {
  char host[128], kvm[32], cpu[160], date[32];
  double tsc_hz;
};

struct calib_opts {
  const char *refvmm, *images, *tmpdir;
  int reps;
  bool quick, verbose;
};

struct calib_result {
  struct calib_host host;
  struct calib_meas m[CM_COUNT];
};

/* Run every measurement o->reps times (interleaved) and take medians.
 * 0 when at least one measurement succeeded; a measurement that failed has
 * ok = false and err set. A signal recorded by spawn__catch_signals()
 * (spawn.h) ends the running refvmm and the measurement: -1. */
int calibrate__measure(const struct calib_opts *o, struct calib_result *r);

/* A profile figure derived from measurements. */
struct calib_figure {
  enum cost_fig fig;
  double ns;     /* the value in ns (cycles = ns * tsc GHz) */
  char how[300]; /* which measurements and the arithmetic */
};

/* Figures derivable from r (those whose inputs were measured and make
 * sense); returns how many were written to out[max]. */
int calibrate__derive(const struct calib_result *r, struct calib_figure *out, int max);

/* The profile document: base's figures, measured ones replaced. */
json_t *calibrate__profile_json(const struct cost_profile *base, const struct calib_result *r,
                                const struct calib_figure *f, int nf, const char *command);

/* The table of every figure (value, measured or default) and of the raw
 * measurements. */
void calibrate__print(FILE *out, const struct cost_profile *base, const struct calib_result *r,
                      const struct calib_figure *f, int nf);

/* Write doc to path atomically (atomic_file.h: a temporary next to it,
 * fsync, rename). 0, or -errno with a message naming the file in err. */
int calibrate__write(const json_t *doc, const char *path, char *err, size_t errlen);

#endif
