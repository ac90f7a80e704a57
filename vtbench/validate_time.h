/* validate_time.h - `vtbench validate --time`: the model's modeled time per
 * iteration against KVM's measured time per iteration of the same image and
 * parameters (validate_time.c), one PASS/FAIL line per workload against a
 * stated tolerance, in the kvm-unit-tests style
 *   PASS compute ns/iter model 3.40 kvm 3.36 (1.01x, tolerance ±25%)
 * and a summary "N passed, M failed". KVM's time is the vCPU thread's task
 * clock over the guest's timed region, the median of the repetitions; the
 * model runs once (it is deterministic) in the host's paging and TLB modes
 * with the profile given (docs/COST_MODEL.md, "Modeled against measured"). */
#ifndef VTBENCH_VALIDATE_TIME_H
#define VTBENCH_VALIDATE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define VTIME_PARAMS_MAX 3

struct vtime_workload {
  const char *name;
  const char *params[VTIME_PARAMS_MAX]; /* "k=v", NULL ends */
  const char *quick[VTIME_PARAMS_MAX];  /* with --quick */
  bool shadow_only;                     /* only on a shadow-paging host */
  double tolerance;                     /* |model / kvm - 1| allowed */
  const char *mem;                      /* refvmm --mem, or NULL */
};

extern const struct vtime_workload vtime_workloads[];
extern const size_t vtime_workloads_len;
const struct vtime_workload *vtime__workload(const char *name);

/* Ring-3 work that runs natively on every KVM (and its event delivery):
 * 25 %; shadow paging's exits and the host's handling of them: 35 %. */
#define VTIME_TOL_NATIVE 0.25
#define VTIME_TOL_SHADOW 0.35

/* The verdict: model / kvm within 1 +- tolerance (both positive). */
bool vtime__pass(double model_ns, double kvm_ns, double tolerance);
/* The text of one workload's check line (checklist.h adds PASS or FAIL):
 * "compute ns/iter model 3.40 kvm 3.36 (1.01x, tolerance ±25%)". */
void vtime__line(char *buf, size_t len, const char *name, double model_ns, double kvm_ns,
                 double tolerance);

struct vtime_opts {
  const char *out;     /* directory: time.json and time.md go there */
  const char *only;    /* comma-separated workload names, or NULL for all */
  const char *profile; /* the model's --profile, or NULL for the built-in one */
  unsigned reps;
  bool quick;
  int timeout;
};

/* Run the time section; the process exit status (0 all passed, 1 a check
 * failed or a run failed, 3 no usable KVM, 20 output not written). */
int validate_time__run(const struct vtime_opts *o, int argc, char **argv);

#endif
