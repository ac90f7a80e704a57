/* run_plan.h - what `vtbench run` will run: the matrix (from a file, a
 * built-in matrix and the command-line overrides, or the document being
 * resumed), the configurations this host can run (kvm modes the host's
 * KVM module gives, or can give after a reload with
 * --allow-host-reconfig; images that are built), the host groups (kvm
 * configurations that need the module reloaded, one group per set of
 * module parameters) and the interleaved jobs of the shard. */
#ifndef VTBENCH_RUN_PLAN_H
#define VTBENCH_RUN_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "linux_guest.h"
#include "matrix.h"
#include "refvmm/kvm/kvm_host.h"

/* The command line of `vtbench run`. */
struct run_opts {
  const char *matrix_file, *out, *backends, *workloads, *modes, *shard, *baseline;
  bool quick, resume, dry_run, allow_host_reconfig, force, kvm_exits;
  int reps, warmup, model_reps, cpu, timeout; /* -1: not given (timeout 0: refvmm's default) */
};

/* Which modes each backend can run on this host. */
struct run_host {
  bool kvm_ok, model_ok;
  int kvm_errno;              /* why /dev/kvm is not usable */
  char kvm_paging[8];         /* "shadow", "ept" or "" (unknown: let refvmm decide) */
  char kvm_tlb[8];            /* "flush", "vpid" or "" */
  struct kvm_host_info *info; /* NULL when the sysfs root cannot be read */
  struct kvm_host_env env;    /* sysfs root: $VTBENCH_HOST_SYSFS (tests) or /sys */
  bool reconfig;              /* --allow-host-reconfig and something to reconfigure */
};

struct run_plan {
  struct matrix m;
  bool have_matrix; /* m needs matrix__free */
  unsigned shard_i, shard_n;
  char baseline[64]; /* canonical --baseline, or "" */
  struct run_host host;
  char refvmm[4096], images[4096];
  struct matrix_config *cfgs;
  size_t ncfg;
  size_t *cfg_group;           /* per configuration: 0, the host as it is; g, plans[g - 1] */
  struct kvm_host_plan *plans; /* module settings of groups 1.. */
  size_t nplans;
  struct matrix_job *jobs;
  size_t njobs;
  struct linux_guest lg; /* the linux:NAME workloads' kernel and initramfs */
};

/* The plan for options o; `resumed` is the document being resumed (its
 * session.matrix, shard, baseline and cpu), or NULL. VTB_EXIT_OK, or the
 * exit status after printing why (the plan is freed then). */
int run_plan__build(struct run_plan *p, struct run_opts *o, const json_t *resumed);
void run_plan__free(struct run_plan *p);
/* --dry-run: the Linux guest's command lines, the jobs grouped by host
 * configuration, and the counts. */
void run_plan__print(const struct run_plan *p);

#endif
