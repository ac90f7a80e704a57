/* model_walk_count.h - the counts of a shadow walk (model_mmu.c): the TLB
 * model's walk counts and each read level's reference in the data caches,
 * in one pass (speed). Its own header so that tests/unit/test_model_cache.c
 * can compare it with the plain path. */
#ifndef REFVMM_MODEL_WALK_COUNT_H
#define REFVMM_MODEL_WALK_COUNT_H

#include "model_cpu.h"

/* A shadow walk that read levels start..end (c->walk_pa[l]: where each
 * level's entry was read): the same as model_tlb__count_walk(&c->tlbm,
 * start, end) and then model_cache__walk_ref(c, c->walk_pa[l], CS_WALK) for
 * l = end..start. Speed: one pass over the levels for both, and the L1 hits
 * of the walk memo added up and counted once (no one reads the counts in
 * between). The cases count_walk clamps (a stale cache hit below the fault:
 * end above start) take the plain path. */
static inline void model_walk__count_shadow(struct model_cpu *c, unsigned start, unsigned end) {
  if (end > start || end < 1 || start >= WALK_LEVELS) {
    model_tlb__count_walk(&c->tlbm, start, end);
    for (unsigned l = end; l <= start; l++)
      model_cache__walk_ref(c, c->walk_pa[l], CS_WALK);
    return;
  }
  struct tlb_stats *st = &c->tlbm.st;
  struct model_cache *k = &c->cache;
  uint64_t hits = 0;
  st->walks++;
  st->walk_refs += start - end + 1;
  for (unsigned l = end; l <= start; l++) {
    st->walk_refs_by_level[l]++;
    if (model_cache__memo_hit(k, c->walk_pa[l] >> CACHE_LINE_SHIFT))
      hits++; /* model_cache__walk_ref_k()'s memo hit */
    else if (k->on)
      model_cache__walk_lookup(c, c->walk_pa[l], CS_WALK);
  }
  k->st.refs[CS_WALK][CL_L1][k->walk_kind] += hits;
}

#endif
