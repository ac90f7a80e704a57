/* matrix.h - what a session runs: backends x workloads x modes x reps.
 *
 * File format (JSON, docs in the header of matrix.c):
 *   {"backends": ["kvm", "model"],
 *    "workloads": [{"name": "pio", "params": {"n": 1000}}, "cpuid", ...],
 *    "modes": [{"paging": "shadow", "tlb": "flush", "nmi": "poll", "irq": "poll"},
 *              "ept/vpid/window/window", "native", ...],
 *    "reps": 5, "warmup": 1, "model_reps": 1}
 *
 * Expansion: configurations are the cross product (minus modes a backend
 * cannot run); jobs run them interleaved: warm-up rounds, then one round per
 * repetition, each round a deterministic shuffle of the configurations.
 * --shard I/N keeps the configurations whose position in the whole cross
 * product (before a host leaves out what it cannot run) is I - 1 modulo N,
 * with all their repetitions, so every shard computes its own statistics,
 * the union of the shards is the whole matrix, and a configuration is in
 * the same shard on every host.
 */
#ifndef VTBENCH_MATRIX_H
#define VTBENCH_MATRIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refvmm/kvm/kvm_host.h"

/* bounds of a matrix's repetitions and warm-up runs (files and --reps/--warmup) */
#define MATRIX_REPS_MAX     1000
#define MATRIX_WARMUP_MAX   100
#define MATRIX_BACKENDS_MAX 4
#define MATRIX_SEED         0x6d61747269780aull

struct matrix_mode {
  char paging[8], tlb[8], nmi[8], irq[8];
};

struct matrix_workload {
  char name[32];
  json_t *params; /* object: name -> integer or string */
};

struct matrix {
  char backends[MATRIX_BACKENDS_MAX][16];
  size_t nbackends;
  struct matrix_workload *workloads;
  size_t nworkloads;
  struct matrix_mode *modes;
  size_t nmodes;
  unsigned reps, warmup;
  unsigned model_reps; /* runs of each model configuration, no warm-up (deterministic) */
};

struct matrix_config {
  size_t backend, workload, mode; /* indices into the matrix */
  size_t index;                   /* position in the whole cross product (what shards cut) */
  char key[256];                  /* "backend workload {params} paging/tlb/nmi/irq" */
};

struct matrix_job {
  size_t config; /* index into the config array */
  unsigned rep;  /* repetition (or warm-up round) number */
  bool warmup;
};

/* Parse a matrix from JSON; `where` names the source in messages
 * ("matrix.json: workloads[2].params.n: expected ..."). 0 or -1. */
int matrix__from_json(struct matrix *m, const json_t *j, const char *where, char *err, size_t len);
int matrix__load(struct matrix *m, const char *path, char *err, size_t len);
json_t *matrix__to_json(const struct matrix *m);
void matrix__free(struct matrix *m);

/* "paging[/tlb[/nmi[/irq]]]", missing parts default to shadow/flush/poll/poll
 * ("native" alone is the model's baseline). 0 or -1 with a message. */
int matrix__parse_mode(const char *s, struct matrix_mode *out, char *err, size_t len);
void matrix__mode_str(const struct matrix_mode *mode, char *buf, size_t len);

/* Drop from jobs j[0..n) the model's warm-up rounds and its repetitions
 * from model_reps on (the model is deterministic: they would repeat the
 * same counts); the order of the rest is kept. Returns the new count. */
size_t matrix__trim_model(const struct matrix *m, const struct matrix_config *cfgs,
                          struct matrix_job *j, size_t n);

/* The built-in matrices. */
void matrix__standard(struct matrix *m);
void matrix__quick(struct matrix *m);

/* Which (backend, mode) pairs can run; NULL accepts all. */
typedef bool (*matrix_supported_fn)(const char *backend, const struct matrix_mode *mode, void *ctx);

/* Cross product in a fixed order (backend, workload, mode). Caller frees. */
size_t matrix__configs(const struct matrix *m, matrix_supported_fn ok, void *ctx,
                       struct matrix_config **out);
void matrix__config_key(const struct matrix *m, const struct matrix_config *c, char *buf,
                        size_t len);

/* ---- host modes on kvm (vtbench run --allow-host-reconfig) ----
 * paging and tlb of a kvm cell are properties of the host's KVM module. The
 * vendor-module settings a cell in `mode` needs on host h: 0 with
 * plan->n == 0 when the host runs it as it is; 0 with plan->n > 0 when
 * reloading plan->module with plan->set gives it (kvm_intel ept/vpid,
 * kvm_amd npt); -1 with the reason in why when no setting of this flavour
 * can (paravirtual or unknown flavour, tlb flush on kvm_amd, native). */
int matrix__host_plan(const struct kvm_host_info *h, const struct matrix_mode *mode,
                      struct kvm_host_plan *plan, char *why, size_t len);
/* "kvm_intel ept=0 vpid=1" */
void matrix__plan_str(const struct kvm_host_plan *plan, char *buf, size_t len);
bool matrix__plan_eq(const struct kvm_host_plan *a, const struct kvm_host_plan *b);

/* "I/N" with 1 <= I <= N. 0 or -1. */
int matrix__parse_shard(const char *s, unsigned *i, unsigned *n);
/* Keep the configurations of shard i/n: those whose index in the whole
 * cross product is i - 1 modulo n, so a configuration belongs to the same
 * shard on every host, whatever else each host leaves out. The new count. */
size_t matrix__shard_configs(struct matrix_config *c, size_t n, unsigned shard_i, unsigned shard_n);
/* Jobs of shard i/n (1/1: everything) in interleaved order. Caller frees. */
size_t matrix__jobs(const struct matrix *m, size_t nconfigs, unsigned shard_i, unsigned shard_n,
                    uint64_t seed, struct matrix_job **out);

#endif
