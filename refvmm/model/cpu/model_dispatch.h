/* model_dispatch.h - the model CPU's threaded dispatch of decoded
 * instructions (model_dispatch.c). The decoded-instruction cache keeps, next
 * to each decoded instruction, a handler number chosen when it was decoded:
 * a specialised handler for the common forms (opcode, operand kinds and
 * size fixed at compile time) or 0, exec()'s generic interpreter. The run
 * loop jumps from handler to handler through a computed goto at the end of
 * each one (direct-threaded code: one indirect jump per handler, which the
 * host's branch predictor learns per site, where a single dispatch site
 * mispredicts most transitions).
 *
 * A handler computes exactly what exec() computes for the forms it takes
 * (the same primitives, model_ops.h) and retires the instruction the same
 * way; the cache lookup, its counters and the stop condition are those of
 * the loop it replaces. The lookup itself is skipped when the entry that
 * just ran remembers its successor at this RIP from a time no entry changed
 * since (struct model_icache_entry, memo). */
#ifndef REFVMM_MODEL_DISPATCH_H
#define REFVMM_MODEL_DISPATCH_H

#include "model_cpu.h"
#include "model_insn.h"

/* The decoded-instruction cache's slot for rip, and whether it holds rip's
 * decode for the current cache generation and CPL. */
static inline struct model_icache_entry *model_icache__slot(const struct model_cpu *c,
                                                            uint64_t rip) {
  return &c->icache[(rip ^ (rip >> 13)) & (MODEL_ICACHE_SIZE - 1)];
}
static inline bool model_icache__hit(const struct model_cpu *c, const struct model_icache_entry *e,
                                     uint64_t rip) {
  return e->rip == rip && e->gen == c->icache_gen && e->cpl == c->cpl;
}

/* The handler number for d (0: exec() runs it). */
uint8_t model_dispatch__select(const struct model_insn *d);

/* `fetch` after a miss in e, RIP's slot: the entry of the instruction at
 * RIP (decoded, or a decode kept; faulting by longjmp). gpa1 is ~0, or the
 * page RIP's fetch already translated to (the ITLB lookup made and counted
 * with `fetches`). */
typedef struct model_icache_entry *model_fetch_fn(struct model_cpu *c, struct model_icache_entry *e,
                                                  uint64_t gpa1);
/* Run instructions while c->cnt.instructions < c->slice_end: `fetch` as
 * above, `generic` runs an instruction no specialised handler takes. */
void model_dispatch__run(struct model_cpu *c,
                         void (*generic)(struct model_cpu *c, const struct model_insn *d),
                         model_fetch_fn *fetch);

#endif
