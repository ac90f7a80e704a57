/* model_tlb.h - the model CPU's TLB hierarchy: L1 DTLB, L1 ITLB and a
 * shared L2 TLB (STLB), set-associative, one array per supported page size,
 * entries tagged with a VPID (0 = the host / no-VPID mode) and a global bit;
 * and the paging-structure caches (PML4E, PDPTE, PDE caches) that let a
 * walk skip upper levels. Counts every lookup, hit and miss per level and
 * every walk and walk memory reference by level.
 *
 * Replacement is round-robin per set (FIFO), not LRU: a hit changes no
 * state, so the CPU's direct-mapped translation front (model_cpu.h) can
 * serve hits without consulting this model and the counts stay exact (the
 * front only ever holds pages present in the L1 DTLB; see docs/MODEL.md).
 *
 * Default geometry: Intel Skylake client core (Intel 64 and IA-32
 * Architectures Optimization Reference Manual, table "TLB parameters of the
 * Skylake microarchitecture"): L1 DTLB 64 x 4 KiB 4-way, 32 x 2 MiB 4-way,
 * 4 x 1 GiB fully assoc.; L1 ITLB 128 x 4 KiB 8-way, 8 x 2 MiB fully assoc.
 * (1 GiB pages are fractured into 2 MiB entries); STLB 1536 x 4 KiB/2 MiB
 * 12-way, 16 x 1 GiB 4-way. Paging-structure caches: 2 PML4E, 4 PDPTE,
 * 32 PDE entries (sizes as commonly reported for Intel cores, e.g.
 * Bhattacharjee, "Large-reach memory management unit caches", MICRO 2013).
 */
#ifndef REFVMM_MODEL_TLB_H
#define REFVMM_MODEL_TLB_H

#include <stdbool.h>
#include <stdint.h>

enum tlb_arr {
  TLBA_L1D_4K,
  TLBA_L1D_2M,
  TLBA_L1D_1G,
  TLBA_L1I_4K,
  TLBA_L1I_2M,
  TLBA_L1I_1G,
  TLBA_L2_4K2M,
  TLBA_L2_1G,
  TLBA_COUNT
};
enum tlb_level { TLBL_L1D, TLBL_L1I, TLBL_L2, TLBL_COUNT };

/* page-size bits of an array */
#define TLBS_4K 1u
#define TLBS_2M 2u
#define TLBS_1G 4u

struct tlb_geom {
  uint16_t sets, ways; /* sets a power of two; sets * ways == 0: not present */
};

struct tlb_slot {
  uint64_t vpn;  /* va >> shift */
  uint64_t gpa;  /* guest-physical base of the (possibly fractured) page */
  uint32_t perm; /* TLBP_* bits (model_cpu.h) */
  uint16_t vpid;
  uint8_t valid, global, shift;
  uint32_t gen; /* valid only while equal to the VPID's generation */
};

#define TLB_POOL      4096 /* slots over all arrays */
#define TLB_VPID_GENS 16   /* VPIDs sharing a generation flush together (over-flush only) */
#define PWC_MAX       64   /* entries per paging-structure cache */
#define PWC_LEVELS    3    /* PML4E (index 0), PDPTE (1), PDE (2) */
#define WALK_LEVELS   5    /* by_level index 1..4 = guest PT..PML4 */

struct tlb_array {
  struct tlb_geom g;
  uint8_t sizes; /* TLBS_* */
  uint8_t level; /* enum tlb_level */
  uint32_t base; /* first slot in the pool */
};

struct pwc_entry {
  uint64_t key; /* va >> (12 + 9 * level) */
  uint16_t vpid;
  uint8_t valid;
};

struct tlb_stats {
  uint64_t lookups[TLBL_COUNT], hits[TLBL_COUNT], misses[TLBL_COUNT];
  uint64_t walks, walk_refs, walk_refs_by_level[WALK_LEVELS];
  uint64_t ept_refs_by_level[WALK_LEVELS]; /* 2-D walks: EPT references (in walk_refs) */
  uint64_t pwc_hits[PWC_LEVELS];
  uint64_t flushes, flushes_nonglobal, invlpg;
  uint64_t front_hits; /* L1 DTLB hits the CPU's front served (not in hits[]) */
};

struct model_tlb {
  bool configured;
  bool front_off;              /* tests: every access consults the model */
  uint16_t vpid;               /* the tag of new entries and of lookups */
  uint32_t gen[TLB_VPID_GENS]; /* per VPID (mod TLB_VPID_GENS): a full flush is O(1) */
  struct tlb_array arr[TLBA_COUNT];
  struct tlb_slot slot[TLB_POOL];
  uint8_t rr[TLB_POOL]; /* round-robin victim per set (first slot of a set) */
  uint16_t pwc_size[PWC_LEVELS];
  struct pwc_entry pwc[PWC_LEVELS][PWC_MAX];
  uint8_t pwc_rr[PWC_LEVELS];
  struct tlb_stats st;
};

struct model_tlb_config {
  struct tlb_geom geom[TLBA_COUNT];
  uint16_t pwc[PWC_LEVELS];
};

/* The Skylake defaults above. */
void model_tlb__default_config(struct model_tlb_config *cfg);
/* Install a geometry (clears all entries and counters). 0, or -1 with a
 * message in err when a size is not a power of two or the pool is too small. */
int model_tlb__configure(struct model_tlb *t, const struct model_tlb_config *cfg, char *err,
                         unsigned errlen);

/* Lookup at one level for the current VPID: the slot or NULL. An entry
 * without a bit of `need` (TLBP_*) is a miss: the hardware walks again (to
 * set D, or to fault). Counts unless !count. */
struct tlb_slot *model_tlb__lookup(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                   uint32_t need, bool count);
/* Insert a translation of the page of `shift` (12/21/30) holding va at level
 * lv, fractured to the largest size the level holds. Returns the evicted
 * valid slot's copy in *evicted (valid=0 when none). */
struct tlb_slot *model_tlb__insert(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                   uint64_t page_gpa, unsigned shift, uint32_t perm, bool global,
                                   struct tlb_slot *evicted);
/* Invalidate, for the current VPID: every entry (global too); the
 * non-global ones (CR3 load); the entries holding va (INVLPG, global too). */
void model_tlb__flush_vpid(struct model_tlb *t, uint16_t vpid, bool keep_global);
void model_tlb__flush_all(struct model_tlb *t); /* every VPID */
void model_tlb__flush_va(struct model_tlb *t, uint64_t va);

/* Paging-structure caches: the deepest level (1..4) at which a walk of va
 * must start reading (4 = no cache hit), counted. */
unsigned model_tlb__pwc_start(struct model_tlb *t, uint64_t va);
/* Remember the upper entries a walk that ended at leaf_level (1..3) used. */
void model_tlb__pwc_fill(struct model_tlb *t, uint64_t va, unsigned leaf_level);

/* Count a walk that read the levels start..end (4 >= start >= end >= 1). */
void model_tlb__count_walk(struct model_tlb *t, unsigned start, unsigned end);

#endif
