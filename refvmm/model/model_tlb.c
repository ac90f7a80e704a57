/* model_tlb.c - set-associative TLB arrays with VPID tags and round-robin
 * replacement, and the paging-structure caches (model_tlb.h). */
#include "model_tlb.h"

#include <stdio.h>

/* the TLBP_2M / TLBP_1G bits of model_cpu.h: the guest's page size */
#define TLBP_FRAC_2M 0x100u
#define TLBP_FRAC_1G 0x200u
#include <string.h>

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
    base += (uint32_t)g.sets * g.ways;
  }
  if (base > TLB_POOL) {
    if (err)
      snprintf(err, errlen, "TLB geometry needs %u slots, the model holds %u", base, TLB_POOL);
    return -1;
  }
  for (int l = 0; l < PWC_LEVELS; l++)
    if (cfg->pwc[l] > PWC_MAX) {
      if (err)
        snprintf(err, errlen, "paging-structure cache %d: %u entries > %u", l, cfg->pwc[l],
                 PWC_MAX);
      return -1;
    }
  memset(t, 0, sizeof *t);
  base = 0;
  for (int a = 0; a < TLBA_COUNT; a++) {
    t->arr[a].g = cfg->geom[a];
    if (!cfg->geom[a].ways) t->arr[a].g.sets = 0;
    t->arr[a].sizes = arr_sizes[a];
    t->arr[a].level = arr_level[a];
    t->arr[a].base = base;
    base += (uint32_t)t->arr[a].g.sets * t->arr[a].g.ways;
  }
  memcpy(t->pwc_size, cfg->pwc, sizeof t->pwc_size);
  t->configured = true;
  return 0;
}

static inline bool arr_present(const struct tlb_array *a) {
  return a->g.sets && a->g.ways;
}

static inline struct tlb_slot *set_of(struct model_tlb *t, const struct tlb_array *a, uint64_t vpn,
                                      uint32_t *first) {
  *first = a->base + (uint32_t)(vpn & (a->g.sets - 1)) * a->g.ways;
  return &t->slot[*first];
}

static struct tlb_slot *probe(struct model_tlb *t, const struct tlb_array *a, uint64_t va,
                              unsigned shift) {
  if (!a->g.sets) return NULL;
  uint64_t vpn = va >> shift;
  uint32_t first;
  struct tlb_slot *s = set_of(t, a, vpn, &first);
  for (unsigned w = 0; w < a->g.ways; w++)
    if (s[w].valid && s[w].shift == shift && s[w].vpn == vpn && s[w].vpid == t->vpid &&
        s[w].gen == t->gen[t->vpid % TLB_VPID_GENS])
      return &s[w];
  return NULL;
}

static const unsigned shifts[3] = {12, 21, 30};

struct tlb_slot *model_tlb__lookup(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                   uint32_t need, bool count) {
  if (count) t->st.lookups[lv]++;
  for (int a = 0; a < TLBA_COUNT; a++) {
    const struct tlb_array *ar = &t->arr[a];
    if (ar->level != lv || !arr_present(ar)) continue;
    for (int k = 0; k < 3; k++) {
      if (!(ar->sizes & (1u << k))) continue;
      struct tlb_slot *s = probe(t, ar, va, shifts[k]);
      if (s && (s->perm & need)) {
        if (count) t->st.hits[lv]++;
        return s;
      }
    }
  }
  if (count) t->st.misses[lv]++;
  return NULL;
}

struct tlb_slot *model_tlb__insert(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                   uint64_t page_gpa, unsigned shift, uint32_t perm, bool global,
                                   struct tlb_slot *evicted) {
  evicted->valid = 0;
  /* the largest size this level holds that is not larger than the page */
  const struct tlb_array *best = NULL;
  unsigned bshift = 0;
  for (int a = 0; a < TLBA_COUNT; a++) {
    const struct tlb_array *ar = &t->arr[a];
    if (ar->level != lv || !arr_present(ar)) continue;
    for (int k = 0; k < 3; k++)
      if ((ar->sizes & (1u << k)) && shifts[k] <= shift && shifts[k] > bshift) {
        best = ar;
        bshift = shifts[k];
      }
  }
  if (!best) return NULL;
  uint64_t gpa = page_gpa + (va & ((1ull << shift) - 1) & ~((1ull << bshift) - 1));
  struct tlb_slot *s = probe(t, best, va, bshift); /* refresh in place */
  if (!s) {
    uint32_t first;
    struct tlb_slot *set = set_of(t, best, va >> bshift, &first);
    unsigned w = t->rr[first] % best->g.ways;
    for (unsigned i = 0; i < best->g.ways; i++) /* an invalid way first */
      if (!set[i].valid || set[i].gen != t->gen[set[i].vpid % TLB_VPID_GENS]) {
        set[i].valid = 0;
        w = i;
        goto found;
      }
    t->rr[first] = (uint8_t)((w + 1) % best->g.ways);
  found:
    s = &set[w];
    if (s->valid) *evicted = *s;
  }
  *s = (struct tlb_slot){.vpn = va >> bshift,
                         .gpa = gpa,
                         .perm = perm,
                         .vpid = t->vpid,
                         .valid = 1,
                         .global = global,
                         .shift = (uint8_t)bshift,
                         .gen = t->gen[t->vpid % TLB_VPID_GENS]};
  return s;
}

void model_tlb__flush_vpid(struct model_tlb *t, uint16_t vpid, bool keep_global) {
  if (keep_global) {
    for (unsigned i = 0; i < TLB_POOL; i++) {
      struct tlb_slot *s = &t->slot[i];
      if (s->valid && s->vpid == vpid && !s->global) s->valid = 0;
    }
  } else {
    t->gen[vpid % TLB_VPID_GENS]++; /* O(1): every entry of these VPIDs is stale */
  }
  for (int l = 0; l < PWC_LEVELS; l++)
    for (unsigned i = 0; i < PWC_MAX; i++)
      if (t->pwc[l][i].vpid == vpid) t->pwc[l][i].valid = 0;
  t->st.flushes++;
  if (keep_global) t->st.flushes_nonglobal++;
}

void model_tlb__flush_all(struct model_tlb *t) {
  for (unsigned i = 0; i < TLB_POOL; i++)
    t->slot[i].valid = 0;
  memset(t->pwc, 0, sizeof t->pwc);
  t->st.flushes++;
}

void model_tlb__flush_va(struct model_tlb *t, uint64_t va) {
  for (int a = 0; a < TLBA_COUNT; a++) {
    const struct tlb_array *ar = &t->arr[a];
    if (!arr_present(ar)) continue;
    for (int k = 0; k < 3; k++) {
      if (!(ar->sizes & (1u << k))) continue;
      struct tlb_slot *s = probe(t, ar, va, shifts[k]);
      if (s) s->valid = 0;
    }
  }
  /* pieces of a larger guest page (fractured: the entry's perm says 2M/1G,
   * its size is smaller) anywhere in that page go too (SDM 4.10.4.1: all
   * entries for the page holding va, whatever size they are cached at) */
  for (unsigned i = 0; i < TLB_POOL; i++) {
    struct tlb_slot *s = &t->slot[i];
    if (!s->valid || s->vpid != t->vpid || !(s->perm & (TLBP_FRAC_2M | TLBP_FRAC_1G))) continue;
    unsigned big = (s->perm & TLBP_FRAC_1G) ? 30 : 21;
    if (s->shift < big &&
        (((s->vpn << s->shift) & 0xffffffffffffull) >> big) == (va & 0xffffffffffffull) >> big)
      s->valid = 0;
  }
  /* INVLPG also invalidates the paging-structure caches (SDM 4.10.4.1) */
  for (int l = 0; l < PWC_LEVELS; l++)
    for (unsigned i = 0; i < PWC_MAX; i++)
      if (t->pwc[l][i].vpid == t->vpid) t->pwc[l][i].valid = 0;
  t->st.invlpg++;
}

/* PWC level l (0 PML4E, 1 PDPTE, 2 PDE) maps va >> (39 - 9 l). */
static inline uint64_t pwc_key(uint64_t va, int l) {
  return (va & 0xffffffffffffull) >> (39 - 9 * l);
}

unsigned model_tlb__pwc_start(struct model_tlb *t, uint64_t va) {
  for (int l = PWC_LEVELS - 1; l >= 0; l--) { /* the deepest hit wins */
    uint64_t k = pwc_key(va, l);
    for (unsigned i = 0; i < t->pwc_size[l]; i++) {
      const struct pwc_entry *p = &t->pwc[l][i];
      if (p->valid && p->key == k && p->vpid == t->vpid) {
        t->st.pwc_hits[l]++;
        return (unsigned)(3 - l); /* PDE hit: read the PT (level 1) only */
      }
    }
  }
  return 4;
}

void model_tlb__pwc_fill(struct model_tlb *t, uint64_t va, unsigned leaf_level) {
  /* a walk ending at leaf_level used the non-leaf entries above it */
  for (int l = 0; l < PWC_LEVELS; l++) {
    unsigned table_level = (unsigned)(4 - l); /* PML4E lives at level 4 */
    if (table_level <= leaf_level || !t->pwc_size[l]) continue;
    uint64_t k = pwc_key(va, l);
    bool have = false;
    for (unsigned i = 0; i < t->pwc_size[l]; i++)
      if (t->pwc[l][i].valid && t->pwc[l][i].key == k && t->pwc[l][i].vpid == t->vpid) have = true;
    if (have) continue;
    unsigned w = t->pwc_rr[l] % t->pwc_size[l];
    t->pwc_rr[l] = (uint8_t)((w + 1) % t->pwc_size[l]);
    t->pwc[l][w] = (struct pwc_entry){.key = k, .vpid = t->vpid, .valid = 1};
  }
}

void model_tlb__count_walk(struct model_tlb *t, unsigned start, unsigned end) {
  t->st.walks++;
  if (end > start) end = start; /* a stale cache hit below the fault: one read */
  for (unsigned l = start; l >= end && l >= 1; l--) {
    t->st.walk_refs++;
    t->st.walk_refs_by_level[l]++;
  }
}
