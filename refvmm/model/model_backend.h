/* model_backend.h - the software x86-64 backend (struct backend_ops "model"):
 * the machine (cpu/), refvmm's VMM code on its exits (vmm/) and the
 * accounting (cost/) bound to one VM. Accessors for tests and tools. */
#ifndef REFVMM_MODEL_BACKEND_H
#define REFVMM_MODEL_BACKEND_H

#include <stdio.h>

#include "../vm.h"

struct json_t;

extern const struct backend_ops model_backend_ops;

struct model_cpu;
struct model_counters;

/* The CPU behind a model VM (after create), NULL otherwise: for counters,
 * tests and the JSON writer. */
struct model_cpu *model_backend__cpu(const struct vm *vm);
const struct model_counters *model_backend__counters(const struct vm *vm);
/* The model's own last message (internal error or triple fault: what, where,
 * instruction bytes); "" when none. The exit that ends such a run carries it
 * to the run loop (vcpu_exit.why), which puts it in status_detail. */
const char *model_backend__message(const struct vm *vm);
/* refvmm's shadow MMU of a model VM in paging shadow (counters), else NULL. */
struct vmm_shadow;
const struct vmm_shadow *model_backend__shadow(const struct vm *vm);
/* refvmm's NMI/IRQ policies of a model VM (vmm_events.h), NULL before create. */
struct vmm_events;
struct vmm_events *model_backend__events(const struct vm *vm);
/* The cost accounting of a model VM (cost/cost_model.h), NULL before create. */
struct model_cost;
struct model_cost *model_backend__cost(const struct vm *vm);

/* The run's `model` JSON section (cost/model_report.h): instructions, tlb
 * {l1d,l1i,l2 {lookups,hits,misses}}, walks {count, refs, refs_per_walk,
 * by_level, pwc_hits}, flushes, shadow, ept, exits; the cost model's
 * modeled_cycles, cycles_by_group, baseline, overhead_vs_native, breakdown,
 * profile (docs/COST_MODEL.md); events. JSON null when vm has
 * no model CPU. New reference: the caller owns it. */
struct json_t *model_backend__to_json(const struct vm *vm);
/* The same as a few human lines. */
void model_backend__print(const struct vm *vm, FILE *out);

#endif
