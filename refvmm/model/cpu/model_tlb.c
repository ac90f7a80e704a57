/* model_tlb.c - set-associative TLB arrays with VPID tags and round-robin
 * replacement, and the paging-structure caches for guest and EPT levels
 * (model_tlb.h). */
#include "model_tlb.h"

#include <stdio.h>
#include <string.h>

/* the TLBP_2M / TLBP_1G bits of model_cpu.h: the guest's page size */
#define TLBP_FRAC_2M 0x100u
#define TLBP_FRAC_1G 0x200u
#define VA48         0xffffffffffffull

static const uint8_t arr_sizes[TLBA_COUNT] = {
    [TLBA_L1D_4K] = TLBS_4K,
    [TLBA_L1D_2M] = TLBS_2M,
    [TLBA_L1D_1G] = TLBS_1G,
    [TLBA_L1I_4K] = TLBS_4K,
    [TLBA_L1I_2M] = TLBS_2M,
    [TLBA_L1I_1G] = TLBS_1G,
    [TLBA_L2_4K2M] = TLBS_4K | TLBS_2M,
    [TLBA_L2_1G] = TLBS_1G,
};
static const uint8_t arr_level[TLBA_COUNT] = {
    [TLBA_L1D_4K] = TLBL_L1D, [TLBA_L1D_2M] = TLBL_L1D, [TLBA_L1D_1G] = TLBL_L1D,
    [TLBA_L1I_4K] = TLBL_L1I, [TLBA_L1I_2M] = TLBL_L1I, [TLBA_L1I_1G] = TLBL_L1I,
    [TLBA_L2_4K2M] = TLBL_L2, [TLBA_L2_1G] = TLBL_L2,
};
static const unsigned shifts[3] = {12, 21, 30};

void model_tlb__default_config(struct model_tlb_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->geom[TLBA_L1D_4K] = (struct tlb_geom){16, 4};    /* 64 entries */
  cfg->geom[TLBA_L1D_2M] = (struct tlb_geom){8, 4};     /* 32 */
  cfg->geom[TLBA_L1D_1G] = (struct tlb_geom){1, 4};     /* 4 */
  cfg->geom[TLBA_L1I_4K] = (struct tlb_geom){16, 8};    /* 128 */
  cfg->geom[TLBA_L1I_2M] = (struct tlb_geom){1, 8};     /* 8 */
  cfg->geom[TLBA_L2_4K2M] = (struct tlb_geom){128, 12}; /* 1536 */
  cfg->geom[TLBA_L2_1G] = (struct tlb_geom){4, 4};      /* 16 */
  cfg->pwc[0] = 2;
  cfg->pwc[1] = 4;
  cfg->pwc[2] = 32;
  /* EPT caches: no published sizes; assumed equal to the guest ones */
  cfg->ept_pwc[0] = 2;
  cfg->ept_pwc[1] = 4;
  cfg->ept_pwc[2] = 32;
}

static inline bool arr_present(const struct tlb_array *a) {
  return a->g.sets && a->g.ways;
}

/* the probe order per level and the insert target per page size */
static void plan(struct model_tlb *t) {
  for (int lv = 0; lv < TLBL_COUNT; lv++) {
    t->nprobe[lv] = 0;
    for (int a = 0; a < TLBA_COUNT; a++) {
      const struct tlb_array *ar = &t->arr[a];
      if (ar->level != lv || !arr_present(ar)) continue;
      for (int k = 0; k < 3; k++)
        if (ar->sizes & (1u << k)) {
          unsigned n = t->nprobe[lv]++;
          t->probe[lv][n].arr = (uint8_t)a;
          t->probe[lv][n].shift = (uint8_t)shifts[k];
          t->probe[lv][n].size_bit = (uint8_t)(1u << k);
        }
    }
    for (unsigned used = 0; used < 8; used++) {
      t->nprobe_used[lv][used] = 0;
      for (unsigned i = 0; i < t->nprobe[lv]; i++)
        if (used & t->probe[lv][i].size_bit) {
          const struct tlb_array *ar = &t->arr[t->probe[lv][i].arr];
          t->probe_used[lv][used][t->nprobe_used[lv][used]++] =
              (struct tlb_probe){.base = ar->base,
                                 .set_mask = (uint16_t)(ar->g.sets - 1),
                                 .set_base = ar->set_base,
                                 .ways = (uint8_t)ar->g.ways,
                                 .shift = t->probe[lv][i].shift,
                                 .size_bit = t->probe[lv][i].size_bit,
                                 .arr = t->probe[lv][i].arr};
        }
    }
    for (int ps = 0; ps < 3; ps++) { /* the largest size held that is <= the page's */
      t->ins_arr[lv][ps] = -1;
      unsigned bshift = 0;
      for (int a = 0; a < TLBA_COUNT; a++) {
        const struct tlb_array *ar = &t->arr[a];
        if (ar->level != lv || !arr_present(ar)) continue;
        for (int k = 0; k <= ps; k++)
          if ((ar->sizes & (1u << k)) && shifts[k] > bshift) {
            t->ins_arr[lv][ps] = (int8_t)a;
            bshift = shifts[k];
          }
      }
      t->ins_shift[lv][ps] = (uint8_t)bshift;
      t->ins_size_bit[lv][ps] = bshift == 30 ? TLBS_1G : bshift == 21 ? TLBS_2M : TLBS_4K;
      t->ins_p[lv][ps] = (struct tlb_probe){0};
      if (t->ins_arr[lv][ps] >= 0) {
        const struct tlb_array *ar = &t->arr[t->ins_arr[lv][ps]];
        t->ins_p[lv][ps] = (struct tlb_probe){.base = ar->base,
                                              .set_mask = (uint16_t)(ar->g.sets - 1),
                                              .set_base = ar->set_base,
                                              .ways = (uint8_t)ar->g.ways,
                                              .shift = (uint8_t)bshift,
                                              .size_bit = t->ins_size_bit[lv][ps],
                                              .arr = (uint8_t)t->ins_arr[lv][ps]};
      }
    }
  }
  for (int lv = 0; lv < TLBL_COUNT; lv++)
    t->fresh4k[lv] = t->ins_p[TLBL_L2][0].shift == 12 && t->ins_p[lv][0].shift == 12;
}

_Static_assert(PWC_MAX <= 64, "pwc_live holds one bit per paging-structure cache entry");

static void setm_clear(struct model_tlb *t) {
  for (unsigned i = 0; i < TLB_SETS_MAX; i++)
    t->setm[i] = (struct tlb_setm){.grp = TLB_SET_FREE};
}

static void pwc_clear(uint64_t (*pwc)[PWC_MAX], uint64_t *live, unsigned nlive) {
  for (int l = 0; l < PWC_LEVELS; l++)
    for (unsigned i = 0; i < PWC_MAX; i++)
      pwc[l][i] = PWC_EMPTY;
  memset(live, 0, nlive * sizeof *live);
}

int model_tlb__configure(struct model_tlb *t, const struct model_tlb_config *cfg, char *err,
                         unsigned errlen) {
  uint32_t base = 0;
  for (int a = 0; a < TLBA_COUNT; a++) {
    struct tlb_geom g = cfg->geom[a];
    if (g.sets && (g.sets & (g.sets - 1))) {
      if (err) snprintf(err, errlen, "TLB array %d: %u sets is not a power of two", a, g.sets);
      return -1;
    }
    if (g.ways > 255) {
      if (err) snprintf(err, errlen, "TLB array %d: %u ways > 255", a, g.ways);
      return -1;
    }
    base += (uint32_t)g.sets * g.ways;
  }
  if (base > TLB_POOL) {
    if (err)
      snprintf(err, errlen, "TLB geometry needs %u slots, the model holds %u", base, TLB_POOL);
    return -1;
  }
  for (int l = 0; l < PWC_LEVELS; l++)
    if (cfg->pwc[l] > PWC_MAX || cfg->ept_pwc[l] > PWC_MAX) {
      if (err)
        snprintf(err, errlen, "%spaging-structure cache %d: %u entries > %u",
                 cfg->pwc[l] > PWC_MAX ? "" : "EPT ", l,
                 cfg->pwc[l] > PWC_MAX ? cfg->pwc[l] : cfg->ept_pwc[l], PWC_MAX);
      return -1;
    }
  memset(t, 0, sizeof *t);
  base = 0;
  unsigned nsets = 0;
  t->setm_on = true;
  for (int a = 0; a < TLBA_COUNT; a++) {
    t->arr[a].g = cfg->geom[a];
    if (!cfg->geom[a].ways) t->arr[a].g.sets = 0;
    t->arr[a].sizes = arr_sizes[a];
    t->arr[a].level = arr_level[a];
    t->arr[a].base = base;
    t->arr[a].set_base = (uint16_t)(nsets < TLB_SETS_MAX ? nsets : 0);
    base += (uint32_t)t->arr[a].g.sets * t->arr[a].g.ways;
    nsets += t->arr[a].g.sets;
    if (t->arr[a].g.ways > 64) t->setm_on = false;
  }
  if (nsets > TLB_SETS_MAX) t->setm_on = false;
  setm_clear(t);
  plan(t);
  t->mod = 1; /* the last-hit memos (mod 0) are empty */
  memcpy(t->pwc_size, cfg->pwc, sizeof t->pwc_size);
  memcpy(t->ept_pwc_size, cfg->ept_pwc, sizeof t->ept_pwc_size);
  pwc_clear(t->pwc, &t->pwc_live[0][0], TLB_VPID_GENS * PWC_LEVELS);
  pwc_clear(t->ept_pwc, t->ept_pwc_live, PWC_LEVELS);
  t->configured = true;
  return 0;
}

/* An entry is live while its VPID group's generation (and, if it is not
 * global, the group's non-global generation) is the one it was made in. */
static inline bool live(const struct model_tlb *t, const struct tlb_slot *s) {
  unsigned g = s->vpid % TLB_VPID_GENS;
  return s->valid && s->gen == t->gen[g] && (s->global || s->ngen == t->ngen[g]);
}

static inline struct tlb_setm *setm_of(struct model_tlb *t, const struct tlb_array *a,
                                       uint32_t set) {
  return &t->setm[t->setm_on ? a->set_base + set : 0]; /* off: never read */
}

/* the n lowest bits set (all 64 from n = 64 on): a set's every way, a
 * cache's every position */
static inline uint64_t low_bits(unsigned n) {
  return n >= 64 ? ~0ull : (1ull << n) - 1;
}

static inline uint64_t ways_all(const struct tlb_array *a) {
  return low_bits(a->g.ways);
}

/* a set's masks restarted with way 0 the one live way, for the generations
 * gen/ngen (mod: exact) */
static inline __attribute__((always_inline)) void
setm_restart_way0(struct tlb_setm *m, bool global, uint32_t gen, uint32_t ngen, uint64_t mod) {
  m->mask = 1;
  m->gmask = global;
  m->gen = gen;
  m->ngen = ngen;
  m->mod = mod;
}

/* way w joins a set's masks (and its global mask if global, else leaves it) */
static inline __attribute__((always_inline)) void setm_add_way(struct tlb_setm *m, unsigned w,
                                                               bool global) {
  uint64_t bit = 1ull << w;
  m->mask |= bit;
  if (global)
    m->gmask |= bit;
  else
    m->gmask &= ~bit;
}

/* the set's ways that may hold a live entry of VPID group g (all when the
 * set has no masks) */
static inline uint64_t set_ways(const struct model_tlb *t, const struct tlb_array *a,
                                const struct tlb_setm *m, unsigned g) {
  if (!t->setm_on || m->mixed) return ways_all(a);
  if (m->grp != g || m->gen != t->gen[g]) return 0;
  return m->ngen == t->ngen[g] ? m->mask : m->gmask;
}

/* The first of the ways (ascending, as a scan of every way) holding vpn at
 * `shift` for the current VPID, live. */
static inline __attribute__((always_inline)) struct tlb_slot *
probe_ways(struct model_tlb *t, uint32_t first, uint64_t ways, uint64_t vpn, unsigned shift) {
  const uint64_t *tags = &t->vpn_of[first];
  for (; ways; ways &= ways - 1) {
    unsigned w = (unsigned)__builtin_ctzll(ways);
    if (tags[w] == vpn) {
      struct tlb_slot *s = &t->slot[first + w];
      if (s->shift == shift && s->vpid == t->vpid && live(t, s)) return s;
    }
  }
  return NULL;
}

/* without the set masks (a set of more than 64 ways; tests): every way's tag */
static struct tlb_slot *probe_wide(struct model_tlb *t, uint32_t first, unsigned nways,
                                   uint64_t vpn, unsigned shift) {
  for (unsigned w = 0; w < nways; w++)
    if (t->vpn_of[first + w] == vpn) {
      struct tlb_slot *s = &t->slot[first + w];
      if (s->shift == shift && s->vpid == t->vpid && live(t, s)) return s;
    }
  return NULL;
}

static inline __attribute__((always_inline)) struct tlb_slot *
probe(struct model_tlb *t, const struct tlb_array *a, uint64_t va, unsigned shift) {
  uint64_t vpn = va >> shift;
  uint32_t set = (uint32_t)(vpn & (a->g.sets - 1));
  uint32_t first = a->base + set * a->g.ways;
  if (!t->setm_on) return probe_wide(t, first, a->g.ways, vpn, shift); /* no speed devices */
  uint64_t ways = set_ways(t, a, setm_of(t, a, set), t->vpid % TLB_VPID_GENS);
  return probe_ways(t, first, ways, vpn, shift);
}

/* probe() from a precomputed plan (the same slots in the same order) */
static inline __attribute__((always_inline)) struct tlb_slot *
probe_p(struct model_tlb *t, const struct tlb_probe *p, uint64_t va, unsigned g) {
  uint64_t vpn = va >> p->shift;
  uint32_t set = (uint32_t)vpn & p->set_mask;
  uint32_t first = p->base + set * p->ways;
  if (!t->setm_on) return probe_wide(t, first, p->ways, vpn, p->shift); /* no speed devices */
  const struct tlb_setm *m = &t->setm[p->set_base + set];
  uint64_t ways;
  if (!m->mixed) { /* set_ways() */
    if (m->grp != g || m->gen != t->gen[g]) return NULL;
    ways = m->ngen == t->ngen[g] ? m->mask : m->gmask;
  } else { /* mixed: every way */
    ways = p->ways == 64 ? ~0ull : (1ull << p->ways) - 1;
  }
  return probe_ways(t, first, ways, vpn, p->shift);
}

/* the end of a lookup that found s: counted, the level's last-hit memo */
static inline __attribute__((always_inline)) struct tlb_slot *
lookup_hit(struct model_tlb *t, enum tlb_level lv, uint64_t va, uint32_t need, bool count,
           struct tlb_slot *s) {
  if (count) t->st.hits[lv]++;
  model_tlb__make_last(t, lv, va, need, s);
  return s;
}

/* the end of a lookup that missed: counted, the record of its probes
 * (missed[lv].slot[], written by the caller) made valid */
static inline __attribute__((always_inline)) struct tlb_slot *
lookup_miss(struct model_tlb *t, enum tlb_level lv, uint64_t va, bool count, unsigned used) {
  if (count) t->st.misses[lv]++;
  t->missed[lv].page = va >> 12;
  t->missed[lv].mod = t->mod;
  t->missed[lv].ins = t->ins[lv] + 1;
  t->missed[lv].vpid = t->vpid;
  t->missed[lv].used = (uint8_t)used;
  return NULL;
}

/* model_tlb__lookup_slow() for one level (lv a constant: its fields at
 * constant offsets) */
static inline __attribute__((always_inline)) struct tlb_slot *
lookup_slow_lv(struct model_tlb *t, enum tlb_level lv, uint64_t va, uint32_t need, bool count) {
  if (count) t->st.lookups[lv]++;
  unsigned g = t->vpid % TLB_VPID_GENS;
  unsigned used = t->sizes_used[g][lv] & 7; /* no other size exists */
  t->missed[lv].ins = 0;
  const struct tlb_probe *p = t->probe_used[lv][used];
  unsigned n = t->nprobe_used[lv][used];
  if (n == 1) { /* speed: one array and size in use (4 KiB pages only): no loop */
    struct tlb_slot *s = probe_p(t, p, va, g);
    t->missed[lv].slot[0] = s;
    if (s && (s->perm & need)) return lookup_hit(t, lv, va, need, count, s);
    return lookup_miss(t, lv, va, count, used);
  }
  for (unsigned k = 0; k < n; k++) {
    struct tlb_slot *s = probe_p(t, &p[k], va, g);
    t->missed[lv].slot[k] = s;
    if (s && (s->perm & need)) return lookup_hit(t, lv, va, need, count, s);
  }
  return lookup_miss(t, lv, va, count, used);
}

/* model_tlb__lookup (model_tlb.h) past its last-hit memo */
struct tlb_slot *model_tlb__lookup_slow(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                        uint32_t need, bool count) {
  switch (lv) { /* speed: a body per level */
  case TLBL_L1D:
    return lookup_slow_lv(t, TLBL_L1D, va, need, count);
  case TLBL_L1I:
    return lookup_slow_lv(t, TLBL_L1I, va, need, count);
  default:
    return lookup_slow_lv(t, TLBL_L2, va, need, count);
  }
}

/* TLBS_4K, TLBS_2M, TLBS_1G -> 0, 1, 2 (model_tlb.bloom's index) */
static inline unsigned ps_of_bit(unsigned size_bit) {
  return (unsigned)__builtin_ctz(size_bit);
}

static inline unsigned ps_of_shift(unsigned shift) {
  return shift >= 30 ? 2 : shift >= 21 ? 1 : 0;
}

/* speed: what every insert of one fill reads and none changes (the
 * inserts' stores to slots and set masks could alias the generations for
 * the compiler, which would load them again in each) */
struct ins_ctx {
  unsigned g; /* the VPID's group */
  uint32_t gen, ngen;
  uint16_t vpid;
};

static inline __attribute__((always_inline)) struct ins_ctx ins_ctx_of(const struct model_tlb *t) {
  unsigned g = t->vpid % TLB_VPID_GENS;
  return (struct ins_ctx){.g = g, .gen = t->gen[g], .ngen = t->ngen[g], .vpid = t->vpid};
}

/* the common tail of an insert: the slot's tag and entry, the group's sizes
 * and bloom bits */
static inline __attribute__((always_inline)) void
insert_tail(struct model_tlb *t, enum tlb_level lv, struct tlb_slot *s, uint32_t slotno,
            uint64_t vpn, unsigned bshift, uint8_t size_bit, uint64_t gpa, uint32_t perm,
            bool global, const struct ins_ctx *c) {
  unsigned g = c->g;
  /* the level's last-hit memo is stale if this slot was it, or if the new
   * entry covers its page (a lookup could find this one first); the other
   * levels' slots and memos are untouched */
  if (t->last[lv].slot == s || (t->last[lv].page << 12) >> bshift == vpn) t->last[lv].mod = 0;
  t->vpn_of[slotno] = vpn;
  *s = (struct tlb_slot){.gpa = gpa,
                         .perm = perm,
                         .vpid = c->vpid,
                         .valid = 1,
                         .global = global,
                         .shift = (uint8_t)bshift,
                         .gen = c->gen,
                         .ngen = c->ngen};
  t->sizes_used[g][lv] |= size_bit;
  t->bloom[g][lv][ps_of_bit(size_bit)] |= 1ull << (vpn & 63);
  if (global) t->sizes_global[g][lv] |= size_bit;
  if ((perm & (TLBP_FRAC_2M | TLBP_FRAC_1G)) && bshift < ((perm & TLBP_FRAC_1G) ? 30u : 21u))
    t->frac_used = true;
}

/* speed: insert()'s first case, from the level's plan for the page size
 * (p, one record): a set of group g with nothing live since the group's
 * last full flush (every set after a flush) takes the entry in way 0
 * (nothing live to refresh or evict). NULL (nothing done): another case. */
static inline __attribute__((always_inline)) struct tlb_slot *
insert_fresh(struct model_tlb *t, enum tlb_level lv, const struct tlb_probe *p, uint64_t va,
             uint64_t page_gpa, unsigned shift, uint32_t perm, bool global,
             const struct ins_ctx *c) {
  if (!t->setm_on || !p->ways) return NULL;
  uint64_t vpn = va >> p->shift;
  uint32_t setno = (uint32_t)vpn & p->set_mask;
  struct tlb_setm *m = &t->setm[p->set_base + setno];
  if (m->mixed || m->grp != c->g || m->gen == c->gen) return NULL;
  uint32_t first = p->base + setno * p->ways;
  t->fills++;
  t->ins[lv]++;
  setm_restart_way0(m, global, c->gen, c->ngen, t->mod);
  /* the piece of the page at the array's size (the page itself when equal) */
  uint64_t gpa = shift == p->shift
                     ? page_gpa
                     : page_gpa + (va & ((1ull << shift) - 1) & ~((1ull << p->shift) - 1));
  struct tlb_slot *s = &t->slot[first];
  insert_tail(t, lv, s, first, vpn, p->shift, p->size_bit, gpa, perm, global, c);
  return s;
}

static inline __attribute__((always_inline)) struct tlb_slot *
insert(struct model_tlb *t, enum tlb_level lv, uint64_t va, uint64_t page_gpa, unsigned shift,
       uint32_t perm, bool global, struct tlb_evicted *evicted, const struct ins_ctx *c,
       bool maybe_fresh) {
  evicted->valid = 0;
  unsigned ps = ps_of_shift(shift);
  unsigned g = c->g;
  struct tlb_slot *s = NULL;
  if (maybe_fresh) /* else the caller saw the set is no emptied one */
    s = insert_fresh(t, lv, &t->ins_p[lv][ps], va, page_gpa, shift, perm, global, c);
  if (s) return s;
  int ai = t->ins_arr[lv][ps];
  if (ai < 0) return NULL;
  const struct tlb_array *best = &t->arr[ai];
  unsigned bshift = t->ins_shift[lv][ps], nways = best->g.ways;
  uint8_t size_bit = t->ins_size_bit[lv][ps];
  uint64_t vpn = va >> bshift;
  uint64_t gpa = page_gpa + (va & ((1ull << shift) - 1) & ~((1ull << bshift) - 1));
  uint32_t setno = (uint32_t)(vpn & (best->g.sets - 1));
  uint32_t first = best->base + setno * nways;
  struct tlb_slot *set = &t->slot[first];
  struct tlb_setm *m = setm_of(t, best, setno);
  t->fills++;
  const uint64_t ins_was = t->ins[lv]++;
  unsigned w;
  /* (a set of the group with nothing live since its last full flush: insert_fresh) */
  if (t->missed[lv].ins == ins_was + 1 && t->missed[lv].mod == t->mod &&
      t->missed[lv].page == va >> 12 && t->missed[lv].vpid == t->vpid) {
    /* speed: the miss right before probed this array for va's page */
    unsigned used = t->missed[lv].used;
    const struct tlb_probe *p = t->probe_used[lv][used];
    for (unsigned k = 0, n = t->nprobe_used[lv][used]; k < n; k++)
      if (p[k].arr == ai && p[k].shift == bshift) {
        s = t->missed[lv].slot[k];
        break;
      }
  } else if ((t->sizes_used[g][lv] & size_bit) && /* else no live entry of this size to refresh */
             ((t->bloom[g][lv][ps_of_bit(size_bit)] >> (vpn & 63)) & 1)) {
    s = probe(t, best, va, bshift); /* refresh in place */
  }
  if (s) {
    w = (unsigned)(s - set);
  } else {
    w = t->rr[first] < nways ? t->rr[first] : 0; /* rr < ways: no division */
    /* an invalid way first; a way outside the live-way superset is one */
    unsigned i = 0;
    if (t->setm_on && !m->mixed && m->grp == g && m->mod == t->mod) {
      /* speed: the mask is exactly the live ways (none invalidated since) */
      i = m->mask == ways_all(best) ? nways : (unsigned)__builtin_ctzll(~m->mask);
    } else {
      uint64_t maybe = t->setm_on && m->grp == TLB_SET_FREE ? 0 : set_ways(t, best, m, g);
      if (t->setm_on && !m->mixed && m->grp != TLB_SET_FREE && m->grp != g)
        maybe = ways_all(best); /* the owner's: scan */
      if (nways <= 64) {
        uint64_t liv = 0; /* every way of the superset tested: the exact live ways */
        for (uint64_t b = maybe; b; b &= b - 1) {
          unsigned k = (unsigned)__builtin_ctzll(b);
          if (live(t, &set[k])) liv |= 1ull << k;
        }
        i = liv == ways_all(best) ? nways : (unsigned)__builtin_ctzll(~liv);
        if (t->setm_on && !m->mixed && m->grp == g && m->gen == c->gen) {
          m->mask = liv; /* exact from now on, as the flush's generations left it */
          m->gmask &= liv;
          m->ngen = c->ngen;
          m->mod = t->mod;
        }
      } else { /* no masks (maybe is every way): every way's entry tested */
        for (; i < nways; i++)
          if (!live(t, &set[i])) break;
      }
    }
    if (i < nways) {
      set[i].valid = 0;
      w = i;
    } else {
      t->rr[first] = (uint8_t)(w + 1 < nways ? w + 1 : 0);
    }
    s = &set[w];
    if (s->valid) {
      evicted->valid = 1;
      evicted->vpn = t->vpn_of[first + w];
      evicted->shift = s->shift;
    }
  }
  if (t->setm_on && !m->mixed) { /* the new entry's way joins the group's masks */
    if (m->grp == TLB_SET_FREE) {
      *m = (struct tlb_setm){.grp = (uint8_t)g, .gen = c->gen, .ngen = c->ngen, .mod = t->mod};
    } else if (m->grp != g) {
      m->mixed = true;
    } else if (m->gen != c->gen) {
      m->mask = m->gmask = 0;
      m->gen = c->gen;
      m->ngen = c->ngen;
      m->mod = t->mod;
    } else if (m->ngen != c->ngen) {
      m->mask = m->gmask;
      m->ngen = c->ngen;
    }
    setm_add_way(m, w, global);
  }
  insert_tail(t, lv, s, first + w, vpn, bshift, size_bit, gpa, perm, global, c);
  return s;
}

struct tlb_slot *model_tlb__insert(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                   uint64_t page_gpa, unsigned shift, uint32_t perm, bool global,
                                   struct tlb_evicted *evicted) {
  struct ins_ctx c = ins_ctx_of(t);
  return insert(t, lv, va, page_gpa, shift, perm, global, evicted, &c, true);
}

/* speed, the fill of a 4 KiB page into 4 KiB arrays (below): where
 * insert() puts it at level lv (p: the level's plan for it, m: the set's
 * masks) when that needs no probe and evicts nothing. *fresh and way 0: an
 * emptied set of the group (insert_fresh()). Else, *fresh false: a set of
 * the group whose mask is exact (mod): the way of the page's live entry
 * that the miss record of the lookup right before found in this array
 * (insert()'s refresh in place), else, when no entry of the page can be in
 * the set (that record found none, or the level holds no 4 KiB entry with
 * the page's bloom bit), the first way outside the mask. -1: another case
 * (insert() decides: a probe, a victim to evict). */
static inline __attribute__((always_inline)) int
quick_way_4k(const struct model_tlb *t, enum tlb_level lv, const struct tlb_probe *p,
             const struct tlb_setm *m, uint64_t va, const struct ins_ctx *c, bool *fresh) {
  if (m->mixed || m->grp != c->g) return -1;
  *fresh = m->gen != c->gen;
  if (*fresh) return 0;
  if (m->mod != t->mod) return -1;
  uint64_t vpn = va >> 12;
  if (t->missed[lv].ins == t->ins[lv] + 1 && t->missed[lv].mod == t->mod &&
      t->missed[lv].page == vpn && t->missed[lv].vpid == c->vpid) {
    unsigned used = t->missed[lv].used;
    const struct tlb_probe *q = t->probe_used[lv][used];
    for (unsigned k = 0, n = t->nprobe_used[lv][used]; k < n; k++)
      if (q[k].arr == p->arr && q[k].shift == 12) {
        const struct tlb_slot *s = t->missed[lv].slot[k];
        if (s) /* insert()'s refresh in place: that entry's way (of this set: the same tag) */
          return (int)(s - &t->slot[p->base + ((uint32_t)vpn & p->set_mask) * p->ways]);
        break;
      }
  } else if ((t->sizes_used[c->g][lv] & TLBS_4K) && ((t->bloom[c->g][lv][0] >> (vpn & 63)) & 1)) {
    return -1; /* insert() would probe */
  }
  if (m->mask == low_bits(p->ways)) return -1; /* a victim */
  return __builtin_ctzll(~m->mask);
}

/* insert() of a 4 KiB page into way w of a 4 KiB array's set (quick_way_4k:
 * fresh, the set's masks restart; else the way joins them), the set's masks
 * m, its first slot first: the entry e (vpn its tag) */
static inline __attribute__((always_inline)) void
quick_put_4k(struct model_tlb *t, enum tlb_level lv, struct tlb_setm *m, uint32_t first, int w,
             bool fresh, uint64_t vpn, const struct tlb_slot *e, uint64_t bloom_bit, unsigned g,
             bool global) {
  t->ins[lv]++;
  if (fresh)
    setm_restart_way0(m, global, e->gen, e->ngen, t->mod);
  else
    setm_add_way(m, (unsigned)w, global);
  uint32_t slotno = first + (uint32_t)w;
  struct tlb_slot *s = &t->slot[slotno];
  /* insert_tail()'s memo test at 4 KiB: last.page < 2^52, so (page << 12) >> 12 == page */
  if (t->last[lv].slot == s || t->last[lv].page == vpn) t->last[lv].mod = 0;
  t->vpn_of[slotno] = vpn;
  memcpy(s, e, sizeof *s);
  t->sizes_used[g][lv] |= TLBS_4K;
  t->bloom[g][lv][0] |= bloom_bit;
  if (global) t->sizes_global[g][lv] |= TLBS_4K;
}

/* the set of vpn in the 4 KiB array of level lv's plan p: its masks */
static inline __attribute__((always_inline)) struct tlb_setm *
setm_4k(struct model_tlb *t, const struct tlb_probe *p, uint64_t vpn) {
  return &t->setm[p->set_base + ((uint32_t)vpn & p->set_mask)];
}

/* model_tlb__insert_l2_l1's first case (below) for the L1 level l1, once
 * both levels' ways are known: both inserts' writes, the entry built once */
static inline __attribute__((always_inline)) struct tlb_slot *
fill_quick_4k(struct model_tlb *t, enum tlb_level l1, uint64_t va, uint64_t page_gpa, uint32_t perm,
              bool global, struct tlb_evicted *evicted, const struct ins_ctx *c, int w2,
              bool fresh2, int w1, bool fresh1) {
  const struct tlb_probe *p2 = &t->ins_p[TLBL_L2][0], *p1 = &t->ins_p[l1][0];
  uint64_t vpn = va >> 12;
  uint32_t s2 = (uint32_t)vpn & p2->set_mask, s1 = (uint32_t)vpn & p1->set_mask;
  const struct tlb_slot e = {.gpa = page_gpa,
                             .perm = perm,
                             .vpid = c->vpid,
                             .valid = 1,
                             .global = global,
                             .shift = 12,
                             .gen = c->gen,
                             .ngen = c->ngen};
  uint64_t bit = 1ull << (vpn & 63);
  uint32_t f2 = p2->base + s2 * p2->ways, f1 = p1->base + s1 * p1->ways;
  evicted->valid = 0;
  t->fills += 2;
  quick_put_4k(t, TLBL_L2, &t->setm[p2->set_base + s2], f2, w2, fresh2, vpn, &e, bit, c->g, global);
  quick_put_4k(t, l1, &t->setm[p1->set_base + s1], f1, w1, fresh1, vpn, &e, bit, c->g, global);
  if (perm & (TLBP_FRAC_2M | TLBP_FRAC_1G)) t->frac_used = true; /* a piece below 2 MiB */
  return &t->slot[f1 + (uint32_t)w1];
}

struct tlb_slot *model_tlb__insert_l2_l1(struct model_tlb *t, enum tlb_level l1, uint64_t va,
                                         uint64_t page_gpa, unsigned shift, uint32_t perm,
                                         bool global, struct tlb_evicted *evicted) {
  struct ins_ctx c = ins_ctx_of(t); /* the same for both */
  /* speed: a 4 KiB fill that needs no probe and evicts nothing at either
   * level (quick_way_4k: every fill right after a full flush, as in forkwait
   * shadow/flush, and most fills into sets of the current generation): both
   * inserts in one pass, per L1 level (its fields at constant offsets). The
   * two inserts touch different sets, slots and per-level state, so finding
   * both ways first and then writing both is the same as insert() at L2,
   * then at l1. fresh4k: both levels' plans for a 4 KiB page are 4 KiB
   * arrays. */
  bool l2_fresh = true; /* false: its set is known to be no emptied one */
  if (shift == 12 && t->setm_on && t->fresh4k[l1]) {
    const struct tlb_probe *p2 = &t->ins_p[TLBL_L2][0];
    uint64_t vpn = va >> 12;
    bool f2 = false, f1 = false;
    int w2 = quick_way_4k(t, TLBL_L2, p2, setm_4k(t, p2, vpn), va, &c, &f2);
    l2_fresh = w2 == 0 && f2;
    if (w2 >= 0) {
      if (l1 == TLBL_L1D) {
        const struct tlb_probe *p1 = &t->ins_p[TLBL_L1D][0];
        int w1 = quick_way_4k(t, TLBL_L1D, p1, setm_4k(t, p1, vpn), va, &c, &f1);
        if (w1 >= 0)
          return fill_quick_4k(t, TLBL_L1D, va, page_gpa, perm, global, evicted, &c, w2, f2, w1,
                               f1);
      } else if (l1 == TLBL_L1I) {
        const struct tlb_probe *p1 = &t->ins_p[TLBL_L1I][0];
        int w1 = quick_way_4k(t, TLBL_L1I, p1, setm_4k(t, p1, vpn), va, &c, &f1);
        if (w1 >= 0)
          return fill_quick_4k(t, TLBL_L1I, va, page_gpa, perm, global, evicted, &c, w2, f2, w1,
                               f1);
      }
    }
  }
  insert(t, TLBL_L2, va, page_gpa, shift, perm, global, evicted, &c, l2_fresh);
  return insert(t, l1, va, page_gpa, shift, perm, global, evicted, &c, true);
}

/* Drop a VPID's paging-structure-cache entries: O(1), a new generation in
 * their keys; when the 12-bit generation wraps, the VPID group's entries
 * are really cleared, so no entry of an older lap can match again. */
static void pwc_drop_vpid(struct model_tlb *t, uint16_t vpid) {
  unsigned g = vpid % TLB_VPID_GENS;
  t->pwc_epoch++;
  t->pwc_gen[g] = (uint16_t)((t->pwc_gen[g] + 1) & PWC_GEN_MASK);
  for (int l = 0; l < PWC_LEVELS; l++) /* none of the group's entries can match */
    t->pwc_live[g][l] = 0;
  if (t->pwc_gen[g]) return;
  for (int l = 0; l < PWC_LEVELS; l++)
    for (unsigned i = 0; i < PWC_MAX; i++)
      if (t->pwc[l][i] != PWC_EMPTY && (t->pwc[l][i] >> 48) % TLB_VPID_GENS == g)
        t->pwc[l][i] = PWC_EMPTY;
}

void model_tlb__flush_vpid(struct model_tlb *t, uint16_t vpid, bool keep_global) {
  /* O(1): every (non-global) entry of the VPID's group is stale now */
  unsigned g = vpid % TLB_VPID_GENS;
  t->st.flushes++;
  if (keep_global) t->st.flushes_nonglobal++;
  if (model_tlb__group_empty(t, vpid)) return; /* nothing filled since it was emptied */
  if (!keep_global) t->empty_at[g] = t->fills + 1;
  t->mod++;
  if (keep_global)
    t->ngen[g]++;
  else
    t->gen[g]++;
  for (int lv = 0; lv < TLBL_COUNT; lv++) /* only the group's global entries may live on */
    t->sizes_used[g][lv] = keep_global ? t->sizes_global[g][lv] : 0;
  if (!keep_global) {
    memset(t->sizes_global[g], 0, sizeof t->sizes_global[g]);
    memset(t->bloom[g], 0, sizeof t->bloom[g]);
  }
  pwc_drop_vpid(t, vpid); /* the EPT caches are guest-physical: kept */
}

void model_tlb__flush_all(struct model_tlb *t) {
  t->mod++;
  for (unsigned i = 0; i < TLB_POOL; i++)
    t->slot[i].valid = 0;
  memset(t->sizes_used, 0, sizeof t->sizes_used);
  memset(t->sizes_global, 0, sizeof t->sizes_global);
  memset(t->bloom, 0, sizeof t->bloom);
  setm_clear(t);
  t->frac_used = false;
  pwc_clear(t->pwc, &t->pwc_live[0][0], TLB_VPID_GENS * PWC_LEVELS);
  t->pwc_epoch++;
  model_tlb__flush_ept(t);
  t->st.flushes++;
}

void model_tlb__flush_ept(struct model_tlb *t) {
  t->ept_epoch++;
  pwc_clear(t->ept_pwc, t->ept_pwc_live, PWC_LEVELS);
  t->ept_front_tag += 1ull << 48; /* a new generation: every key held is stale */
  if (!t->ept_front_tag) {        /* wrapped: keys of the generation 0 may be left */
    for (unsigned i = 0; i < EPT_FRONT; i++)
      t->ept_front[i].key = 0;
    memset(t->walk_memo, 0, sizeof t->walk_memo); /* their ctx holds the tag too */
  }
}

void model_tlb__flush_va(struct model_tlb *t, uint64_t va) {
  t->mod++;
  for (int lv = 0; lv < TLBL_COUNT; lv++)
    for (unsigned i = 0; i < t->nprobe[lv]; i++) {
      struct tlb_slot *s = probe(t, &t->arr[t->probe[lv][i].arr], va, t->probe[lv][i].shift);
      if (s) s->valid = 0;
    }
  /* pieces of a larger guest page (fractured: the entry's perm says 2M/1G,
   * its size is smaller) anywhere in that page go too (SDM 4.10.4.1: all
   * entries for the page holding va, whatever size they are cached at) */
  if (t->frac_used)
    for (unsigned i = 0; i < TLB_POOL; i++) {
      struct tlb_slot *s = &t->slot[i];
      if (!s->valid || s->vpid != t->vpid || !(s->perm & (TLBP_FRAC_2M | TLBP_FRAC_1G))) continue;
      unsigned big = (s->perm & TLBP_FRAC_1G) ? 30 : 21;
      if (s->shift < big && (((t->vpn_of[i] << s->shift) & VA48) >> big) == (va & VA48) >> big)
        s->valid = 0;
    }
  /* INVLPG also invalidates the paging-structure caches (SDM 4.10.4.1) */
  pwc_drop_vpid(t, t->vpid);
  t->st.invlpg++;
}

/* PWC level l (0 PML4E, 1 PDPTE, 2 PDE) maps va >> (39 - 9 l) (at most 27
 * bits), tagged with `tag` (VPID << 48 | generation << 36; 0 for EPT). */
static inline uint64_t pwc_key(uint64_t va, int l, uint64_t tag) {
  return ((va & VA48) >> (39 - 9 * l)) | tag;
}

static inline uint64_t guest_tag(const struct model_tlb *t) {
  return (uint64_t)t->vpid << 48 | (uint64_t)t->pwc_gen[t->vpid % TLB_VPID_GENS] << 36;
}

/* the first of the positions in `live` (a superset of those that can hold
 * k; a position past the cache's size is never in it) holding k, or -1 */
static inline int pwc_find_live(const uint64_t *keys, uint64_t live, uint64_t k) {
  for (; live; live &= live - 1)
    if (keys[__builtin_ctzll(live)] == k) return __builtin_ctzll(live);
  return -1;
}

/* the position of k among the n entries, or -1: only the positions in
 * `live` can hold it; all n, in order, when they are all live */
static inline int pwc_find(const uint64_t *keys, unsigned n, uint64_t live, uint64_t k) {
  if (live == low_bits(n)) {
    for (unsigned i = 0; i < n; i++)
      if (keys[i] == k) return (int)i;
    return -1;
  }
  return pwc_find_live(keys, live, k);
}

static inline bool pwc_has(const uint64_t *keys, unsigned n, uint64_t live, uint64_t k) {
  return pwc_find(keys, n, live, k) >= 0;
}

/* a walk that read the levels start..leaf_level used the non-leaf entries
 * of the levels start..leaf_level+1: cache those not cached yet (absent:
 * the caller knows none is). Cache level l holds table level 4 - l, so the
 * levels are l in [4 - start, 3 - leaf_level]. The position's old entry, of
 * any group, goes: its group's live bit stays, a superset. */
static inline void pwc_insert(uint64_t (*pwc)[PWC_MAX], const uint16_t *size, uint8_t *rr,
                              uint64_t *live, uint64_t addr, uint64_t tag, unsigned start,
                              unsigned leaf_level, bool absent) {
  int lo = start >= 4 ? 0 : 4 - (int)start, hi = 3 - (int)leaf_level;
  if (hi > PWC_LEVELS - 1) hi = PWC_LEVELS - 1;
  for (int l = lo; l <= hi; l++) {
    unsigned n = size[l];
    if (!n) continue;
    uint64_t k = pwc_key(addr, l, tag);
    if (!absent && pwc_has(pwc[l], n, live[l], k)) continue;
    unsigned w = rr[l] < n ? rr[l] : 0; /* rr < size always: no division (speed) */
    rr[l] = (uint8_t)(w + 1 < n ? w + 1 : 0);
    pwc[l][w] = k;
    live[l] |= 1ull << w;
  }
}

_Static_assert(PWC_LEVELS == 3, "model_tlb__pwc_start tests three live sets");
unsigned model_tlb__pwc_start(struct model_tlb *t, uint64_t va) {
  /* the first level to read (1..4), straight-line: the deepest hit wins, a
   * level with no live position is not searched, and no live position at
   * all (none of the group's entries since its last drop) is no hit */
  const uint64_t *live = t->pwc_live[t->vpid % TLB_VPID_GENS];
  unsigned start = 4;
  if (live[0] | live[1] | live[2]) {
    uint64_t a = va & VA48, tag = guest_tag(t);
    if (live[2] && pwc_find_live(t->pwc[2], live[2], (a >> 21) | tag) >= 0) {
      t->st.pwc_hits[2]++;
      start = 1; /* PDE hit: read the PT (level 1) only */
    } else if (live[1] && pwc_find_live(t->pwc[1], live[1], (a >> 30) | tag) >= 0) {
      t->st.pwc_hits[1]++;
      start = 2;
    } else if (live[0] && pwc_find_live(t->pwc[0], live[0], (a >> 39) | tag) >= 0) {
      t->st.pwc_hits[0]++;
      start = 3;
    }
  }
  t->pwc_looked.va = va;
  t->pwc_looked.epoch = t->pwc_epoch + 1;
  t->pwc_looked.vpid = t->vpid;
  t->pwc_looked.start = (uint8_t)start;
  return start;
}

void model_tlb__pwc_fill(struct model_tlb *t, uint64_t va, unsigned leaf_level) {
  model_tlb__pwc_fill_from(t, va, 4, leaf_level);
}

/* speed: pwc_insert's absent case for one guest cache level l (its key,
 * not searched for: the lookup right before missed it) */
static inline __attribute__((always_inline)) void pwc_put(struct model_tlb *t, uint64_t *live,
                                                          int l, uint64_t k) {
  unsigned n = t->pwc_size[l];
  if (!n) return;
  unsigned w = t->pwc_rr[l] < n ? t->pwc_rr[l] : 0; /* rr < size always: no division */
  t->pwc_rr[l] = (uint8_t)(w + 1 < n ? w + 1 : 0);
  t->pwc[l][w] = k;
  live[l] |= 1ull << w;
}

/* the general case of the guest caches' fill (out of line: the common case
 * below then saves no registers) */
static __attribute__((noinline)) void pwc_fill_general(struct model_tlb *t, uint64_t va,
                                                       unsigned start, unsigned leaf_level,
                                                       bool absent) {
  pwc_insert(t->pwc, t->pwc_size, t->pwc_rr, t->pwc_live[t->vpid % TLB_VPID_GENS], va, guest_tag(t),
             start, leaf_level, absent);
}

void model_tlb__pwc_fill_from(struct model_tlb *t, uint64_t va, unsigned start,
                              unsigned leaf_level) {
  /* right after the lookup that returned start, the levels it fills are the
   * ones that lookup missed (deepest hit first) */
  bool absent = t->pwc_looked.epoch == t->pwc_epoch + 1 && t->pwc_looked.va == va &&
                t->pwc_looked.vpid == t->vpid && t->pwc_looked.start == start;
  t->fills++;
  t->pwc_epoch++;
  if (start <= leaf_level) return; /* a walk from a hit right above its leaf: nothing read */
  if (!absent || leaf_level != 1) {
    pwc_fill_general(t, va, start, leaf_level, absent);
    return;
  }
  /* speed: a 4 KiB walk's fill right after its lookup, straight-line (as
   * pwc_insert: cache levels 4 - start .. 2) */
  uint64_t *live = t->pwc_live[t->vpid % TLB_VPID_GENS];
  uint64_t a = va & VA48, tag = guest_tag(t);
  if (start >= 4) pwc_put(t, live, 0, (a >> 39) | tag);
  if (start >= 3) pwc_put(t, live, 1, (a >> 30) | tag);
  pwc_put(t, live, 2, (a >> 21) | tag);
}

_Static_assert(EPT_PWC_HINTS <= 256 && (EPT_PWC_HINTS & (EPT_PWC_HINTS - 1)) == 0,
               "EPT PWC hints: a power of two");
unsigned model_tlb__ept_pwc_start(struct model_tlb *t, uint64_t gpa) {
  /* the deepest hit wins (as model_tlb__pwc_start), the hinted position tried
   * first: the 2-D walk's guest tables and data sit in a few regions. A
   * position outside the searched ones (not live, or past the size) holds
   * PWC_EMPTY (pwc_clear; never written), which no key equals: a hint hit is
   * a hit of the search. */
  unsigned start = 4;
  for (int l = PWC_LEVELS - 1; l >= 0; l--) {
    if (!t->ept_pwc_live[l]) continue;
    uint64_t k = pwc_key(gpa, l, 0);
    uint8_t *hint = &t->ept_pwc_hint[l][k & (EPT_PWC_HINTS - 1)];
    if (t->ept_pwc[l][*hint & (PWC_MAX - 1)] != k) {
      int w = pwc_find(t->ept_pwc[l], t->ept_pwc_size[l], t->ept_pwc_live[l], k);
      if (w < 0) continue;
      *hint = (uint8_t)w;
    }
    t->st.ept_pwc_hits[l]++;
    start = (unsigned)(3 - l);
    break;
  }
  t->ept_looked.gpa = gpa;
  t->ept_looked.epoch = t->ept_epoch + 1;
  t->ept_looked.start = (uint8_t)start;
  return start;
}

void model_tlb__ept_pwc_fill(struct model_tlb *t, uint64_t gpa, unsigned start,
                             unsigned leaf_level) {
  /* right after the lookup that returned start: the keys it fills are the
   * ones that lookup missed (as model_tlb__pwc_fill_from) */
  bool absent = t->ept_looked.epoch == t->ept_epoch + 1 && t->ept_looked.gpa == gpa &&
                t->ept_looked.start == start;
  t->ept_epoch++;
  pwc_insert(t->ept_pwc, t->ept_pwc_size, t->ept_pwc_rr, t->ept_pwc_live, gpa, 0, start, leaf_level,
             absent);
}
