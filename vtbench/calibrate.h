/* calibrate.h - `vtbench calibrate`: measure this KVM host (calibrate_measure.c:
 * refvmm runs on /dev/kvm, each the median of several, and one run of the
 * same image on the model for its exact counts) and fit the cost profile's
 * figures to the measured times (calibrate_fit.c: least squares with
 * non-negative figures over the counts), then write the profile
 * (calibrate_profile.c) in the format of docs/COST_MODEL.md, every figure
 * marked measured (with the measurements it came from) or default. */
#ifndef VTBENCH_CALIBRATE_H
#define VTBENCH_CALIBRATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "refvmm/model/cost/cost_model.h"

#define CALIB_REPS_MAX 25

/* What is measured, one refvmm workload each (calibrate_measure.c gives the
 * parameters and the reason for each). */
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
  CM_CHASE_HALF, /* ... at 1/2, 1 and 2 x the LLC's nominal size: where it stops fitting */
  CM_CHASE_ONE,
  CM_CHASE_TWO,
  CM_UB_ALU, /* ubench kernels 0..10: 32 instructions of a kind per iteration */
  CM_UB_ALU_DEP,
  CM_UB_MOV,
  CM_UB_MOV_DEP,
  CM_UB_MUL,
  CM_UB_MUL_DEP,
  CM_UB_LOAD,
  CM_UB_LOAD_DEP,
  CM_UB_BRANCH,
  CM_UB_STACK,
  CM_UB_NOP,
  CM_GUPS_L2, /* gups (independent random updates), working set inside L2 */
  CM_GUPS_LLC,
  CM_GUPS_TWO, /* ... at 2 x the LLC's nominal size */
  CM_GUPS_DRAM,
  CM_STREAM_L2, /* memstream (sequential read + write), working set inside L2 */
  CM_STREAM_LLC,
  CM_STREAM_DRAM,
  CM_SYSCALL3, /* a system call from ring 3: event delivery and return */
  CM_PGFAULT,  /* demand faults under shadow paging: the shadow MMU's #PF exits */
  CM_COUNT
};

struct calib_meas {
  const char *label; /* "vmcall cpl=3" */
  const char *what;  /* what one iteration is */
  char args[160];    /* workload and parameters as run: "vmcall n=20000 cpl=3" */
  uint64_t ws;       /* working set in bytes (ptrchase, gups, memstream) */
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
  /* the same image on the model: what each figure counts per iteration */
  bool modeled;
  double feat[CF_COUNT];
  char model_err[320];
};

struct calib_host {
  char host[128], kvm[32], cpu[160], date[32];
  double tsc_hz;
  bool flavour_known;               /* its paging and TLB modes are known */
  bool shadow;                      /* the host's KVM pages with shadow tables */
  bool vpid;                        /* ... and tags translations (VPID/ASID) */
  bool emulates_ring0;              /* kvm_pvm: the model's shadow policy is sync */
  struct cost_cache_level cache[3]; /* L1 data, L2, LLC from sysfs (size_kib 0: unknown) */
  uint32_t llc_nominal_kib;         /* the LLC as sysfs gives it, before the sweep */
};

/* The groups of measurements --only selects (bits of calib_opts.groups). */
enum calib_group {
  CG_EXITS = 1,   /* vmcall, cpuid, mmio, pio, callret cpl=0 */
  CG_INSN = 2,    /* the ubench kernels */
  CG_CACHES = 4,  /* ptrchase, gups, memstream at every level */
  CG_EVENTS = 8,  /* syscall */
  CG_SHADOW = 16, /* pgfault */
  CG_ALL = 31
};
/* "exits,insn" -> CG_EXITS | CG_INSN; -1 naming the unknown group in err. */
int calibrate__groups(const char *list, char *err, size_t errlen);

struct calib_opts {
  const char *refvmm, *images, *tmpdir;
  const struct cost_profile *base; /* figures not measured, for the model runs */
  int reps;
  int groups; /* enum calib_group bits: what is measured (0: all) */
  bool quick, verbose;
};

struct calib_result {
  struct calib_host host;
  struct calib_meas m[CM_COUNT];
};

/* The host's facts (flavour, paging mode, caches) before any run: 0, or -1
 * when the KVM's paging mode is unknown (err says why). */
int calibrate__host(struct calib_host *h, char *err, size_t errlen);
/* Run every measurement o->reps times (interleaved) and take medians, then
 * each once on the model. 0 when at least one measurement succeeded; a
 * measurement that failed has ok = false and err set. A signal recorded by
 * spawn__catch_signals() (spawn.h) ends the running refvmm and the
 * measurement: -1. */
int calibrate__measure(const struct calib_opts *o, struct calib_result *r);

/* A profile figure derived from measurements, in TSC cycles. */
struct calib_figure {
  enum cost_fig fig;
  double cycles;
  char how[300]; /* which measurements and the arithmetic */
};

/* Figures derivable from r (those whose inputs were measured and make
 * sense), the rest taken from base where a fit needs them; returns how many
 * were written to out[max]. */
int calibrate__derive(const struct calib_result *r, const struct cost_profile *base,
                      struct calib_figure *out, int max);

/* The profile document: base's figures, measured ones replaced, this host's
 * caches and KVM flavour. */
json_t *calibrate__profile_json(const struct cost_profile *base, const struct calib_result *r,
                                const struct calib_figure *f, int nf, const char *command);

/* The table of every figure (value, measured or default) and of the raw
 * measurements. */
void calibrate__print(FILE *out, const struct cost_profile *base, const struct calib_result *r,
                      const struct calib_figure *f, int nf);

/* Write doc to path atomically (atomic_file.h: a temporary next to it,
 * fsync, rename). 0, or -errno with a message naming the file in err. */
int calibrate__write(const json_t *doc, const char *path, char *err, size_t errlen);

/* Non-negative least squares (Lawson and Hanson): x >= 0 minimising
 * |A x - b| for A (m rows, n columns, row-major), n <= CALIB_FIT_MAX.
 * 0, or -1 when it does not converge. */
#define CALIB_FIT_MAX 16
int calibrate__nnls(int m, int n, const double *A, const double *b, double *x);

#endif
