/* validate.h - the model's counts against KVM's statistics: shadow paging on
 * a shadow-paging host, ept mode on an EPT/NPT host (`vtbench validate`,
 * docs/VALIDATION.md).
 *
 * Both sides are compared over the same span, the guest's timed region:
 * KVM's statistics in a run record are deltas between the marks
 * (docs/PROBES.md) and the model's `model.timed` section holds its counters'
 * deltas between the same marks. Each workload runs once per side at one
 * size (KVM repeated, medians taken; the model is deterministic).
 *
 * Which model counter is KVM's counterpart depends on how the host runs the
 * guest's ring 0: natively (VT-x/SVM with ept=0/npt=0) or through KVM's
 * instruction emulator (kvm_pvm), where ring-0 stores count as
 * mmu_pte_write, ring-0 instructions as insn_emulation, ring-0 accesses need
 * no shadow entry and flush requests coalesce until the return to ring 3.
 *
 * The tables here (workloads, stat pairs) and the arithmetic are pure so the
 * unit of comparison can be checked without running anything. */
#ifndef VTBENCH_VALIDATE_H
#define VTBENCH_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "checklist.h"

#define VALIDATE_FIXED_MAX 2

struct validate_workload {
  const char *name;
  const char *scale;                     /* the parameter that sets the amount of work */
  unsigned long base;                    /* N for the full run */
  unsigned long quick;                   /* N with --quick */
  const char *fixed[VALIDATE_FIXED_MAX]; /* other parameters, "k=v" (NULL ends) */
};

extern const struct validate_workload validate_workloads[];
extern const size_t validate_workloads_len;
const struct validate_workload *validate__workload(const char *name);

/* How the host's KVM runs the guest, which decides each KVM statistic's
 * counterpart in the model. */
enum validate_kind {
  VALIDATE_KIND_EMU0,   /* shadow paging, ring 0 in KVM's emulator (kvm_pvm) */
  VALIDATE_KIND_NATIVE, /* shadow paging, ring 0 native (kvm_intel ept=0, kvm_amd npt=0) */
  VALIDATE_KIND_TDP,    /* EPT/NPT (kvm_intel ept=1, kvm_amd npt=1): the model in ept mode */
};
const char *validate__kind_name(enum validate_kind k); /* "emu0", "native", "tdp" */

/* Hosts a pair applies to: a set of (1 << enum validate_kind). */
enum validate_host {
  VALIDATE_HOST_EMU0 = 1 << VALIDATE_KIND_EMU0,
  VALIDATE_HOST_NATIVE = 1 << VALIDATE_KIND_NATIVE,
  VALIDATE_HOST_TDP = 1 << VALIDATE_KIND_TDP,
  VALIDATE_HOST_SHADOW = VALIDATE_HOST_EMU0 | VALIDATE_HOST_NATIVE,
  VALIDATE_HOST_ANY = VALIDATE_HOST_SHADOW | VALIDATE_HOST_TDP,
};

/* One row of the comparison: a KVM statistic and the model's counterpart.
 * `model` is a '+'-separated sum of terms, each a dotted path below the run
 * object ("model.timed.shadow.hidden_faults", "exits.total") or "PATH.*"
 * (the sum of the numbers in the object at PATH, e.g. "model.timed.exits.*":
 * the model's VM exits by SDM reason). `kvm` is a vCPU or VM cumulative
 * statistic, or "run:PATH" for a path below the KVM run object (refvmm's
 * own exit accounting, already a timed-region figure). */
struct validate_pair {
  const char *label; /* row name in the table */
  const char *kvm;
  const char *model;
  enum validate_host host;
  /* KVM's side also counts the host's own exits, which KVM names
   * (VALIDATE_NOISE_STATS): they widen the band above the model's count. */
  bool host_noise;
};

/* KVM statistics that count exits of the host's own (timer interrupts,
 * preemptions), not the guest's. */
#define VALIDATE_NOISE_STATS "irq_exits", "preemption_other"

#define VALIDATE_PAIRS_MAX 32

extern const struct validate_pair validate_pairs[];
extern const size_t validate_pairs_len;

/* A KVM-side value from a run object: a cumulative statistic of kvm_stats
 * (vcpu first, then vm) or "run:PATH". 0 and *out set, or -1 when absent. */
int validate__kvm_value(const json_t *run, const char *what, double *out);
/* A model-side value (a sum as described above). 0 and *out set, or -1 when a
 * term is absent (the model section is missing or another mode ran). */
int validate__model_value(const json_t *run, const char *expr, double *out);
/* A number at a dotted path below obj; -1 when absent or not a number. */
int validate__path_number(const json_t *obj, const char *path, double *out);
/* Whether pair p is compared on a host of this kind. */
bool validate__pair_applies(const struct validate_pair *p, enum validate_kind kind);

/* Agreement band: |model - kvm| <= max(VALIDATE_TOL_ABS, VALIDATE_TOL_REL * |kvm|).
 * KVM's side carries a few events of the host's own (timer interrupts,
 * preemptions: irq_exits and preemption_other move by 0-50 per run, and
 * they are exits); 1% plus 3 counts covers that noise measured over
 * repetitions (docs/VALIDATION.md), and a few counts at the region's edges. */
#define VALIDATE_TOL_ABS 3.0
#define VALIDATE_TOL_REL 0.01

enum validate_verdict {
  VALIDATE_EXACT,  /* equal */
  VALIDATE_AGREE,  /* inside the band */
  VALIDATE_DIFFER, /* outside it */
};
enum validate_verdict validate__verdict(double kvm, double model);
/* The same with `noise` host exits KVM counted: KVM may exceed the model by
 * the band plus noise. */
enum validate_verdict validate__verdict_noise(double kvm, double model, double noise);
const char *validate__verdict_name(enum validate_verdict v);
/* Differences docs/VALIDATION.md explains, reported as known (XFAIL), not as
 * failures: a (workload, row label) on hosts of these kinds, and why. */
struct validate_known {
  const char *workload, *label;
  enum validate_host host;
  const char *why;
};
extern const struct validate_known validate_known[];
extern const size_t validate_known_len;
/* Why row `label` of `workload` may differ on this host, or NULL. */
const char *validate__known(const char *workload, const char *label, enum validate_kind kind);

/* The check of one row: PASS inside the band (widened by `noise` host
 * exits), XFAIL outside it where validate__known explains why, else FAIL;
 * the line's text ("pio io_exits kvm 0 model 500 (known: ...)") into text. */
enum check_result validate__row_check(const char *workload, const char *label,
                                      enum validate_kind kind, double kvm, double model,
                                      double noise, char *text, size_t len);

/* model / kvm; 1 when both are 0; INFINITY when only kvm is 0. */
double validate__ratio(double kvm, double model);

#endif
