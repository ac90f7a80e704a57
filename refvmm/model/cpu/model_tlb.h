/* model_tlb.h - the model CPU's TLB hierarchy: L1 DTLB, L1 ITLB and a
 * shared L2 TLB (STLB), set-associative, one array per supported page size,
 * entries tagged with a VPID (0 = the host / no-VPID mode) and a global bit;
 * and the paging-structure caches (PML4E, PDPTE, PDE caches) that let a
 * walk skip upper levels. Counts every lookup, hit and miss per level and
 * every walk and walk memory reference by level.
 *
 * Replacement is round-robin per set (FIFO), not LRU: a hit changes no
 * state, so the CPU's direct-mapped translation front (model_cpu.h, model_mmu.h) can
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
 *
 * EPT paging-structure caches (SDM 28.4.1: "guest-physical paging-structure
 * cache entries", keyed by guest-physical address, tagged with the EPTP,
 * not with a VPID): EPT PML4E, PDPTE and PDE caches, 2 / 4 / 32 entries.
 * Intel publishes no sizes for them: the guest caches' sizes are an
 * assumption (Bhargava et al., ASPLOS 2008, model one 2-D page-walk cache
 * and a nested TLB of this order). VM exits and entries without VPID do
 * not flush them (SDM 28.4.3.1 flushes linear and combined mappings only);
 * INVEPT (model_tlb__flush_ept) does.
 */
#ifndef REFVMM_MODEL_TLB_H
#define REFVMM_MODEL_TLB_H

#include <stdbool.h>
#include <stddef.h>
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

/* 32 bytes (a slot's number is a shift away from its address); its tag,
 * va >> shift, is in model_tlb.vpn_of */
struct tlb_slot {
  uint64_t gpa;  /* guest-physical base of the (possibly fractured) page */
  uint32_t perm; /* TLBP_* bits (model_cpu.h) */
  uint32_t gen;  /* valid only while equal to the VPID's generation */
  uint32_t ngen; /* a non-global entry: and while equal to its non-global generation */
  uint16_t vpid;
  uint8_t valid, global, shift;
};
_Static_assert(sizeof(struct tlb_slot) == 32, "a TLB slot is 32 bytes");
/* The guest-physical address of the 4 KiB page holding va that slot s maps. */
static inline uint64_t model_tlb__slot_page(const struct tlb_slot *s, uint64_t va) {
  return s->gpa + (va & ((1ull << s->shift) - 1) & ~0xfffull);
}

/* what an insert evicted */
struct tlb_evicted {
  uint64_t vpn; /* va >> shift */
  uint8_t valid, shift;
};

#define TLB_POOL      4096 /* slots over all arrays */
#define TLB_VPID_GENS 16   /* VPIDs sharing a generation flush together (over-flush only) */
#define PWC_MAX       64   /* entries per paging-structure cache */
#define PWC_LEVELS    3    /* PML4E (index 0), PDPTE (1), PDE (2) */
#define WALK_LEVELS   5    /* by_level index 1..4 = guest PT..PML4 */
#define EPT_PWC_HINTS 32   /* position hints per EPT paging-structure cache (speed) */
#define TLB_SETS_MAX  1024 /* sets with live-way masks (speed); more: plain scans */
/* entries of the EPT walk front (speed device): a 64 MiB guest working set
 * (gups' default) fits, 512 KiB of host memory */
#define EPT_FRONT 16384
/* slots of the guest walk's memo (speed device, model_mmu__walk): one per
 * 2 MiB region, direct-mapped; gups' 64 MiB table is 32 regions */
#define WALK_MEMO 64

struct tlb_array {
  struct tlb_geom g;
  uint8_t sizes;     /* TLBS_* */
  uint8_t level;     /* enum tlb_level */
  uint32_t base;     /* first slot in the pool */
  uint16_t set_base; /* its first set's index in model_tlb.setm */
};

/* speed: one probe of an array for one page size, with everything the probe
 * reads (a copy of the array's geometry: one load chain shorter) */
struct tlb_probe {
  uint32_t base;     /* the array's first slot */
  uint16_t set_mask; /* sets - 1 */
  uint16_t set_base; /* the array's first set in model_tlb.setm */
  uint8_t ways, shift, size_bit, arr;
};

/* speed: per set, a superset of the ways holding a live entry, for the one
 * VPID group (grp) that inserted into it (mixed: more than one did, the set
 * is scanned whole). The masks hold while gen / ngen equal the group's
 * generations: after a CR3-load flush (ngen moved) only gmask (the global
 * entries) can live, after a full flush (gen moved) none. */
struct tlb_setm {
  uint64_t mask, gmask;
  uint64_t mod; /* == model_tlb.mod: mask is exactly the live ways (gmask their global ones) */
  uint32_t gen, ngen;
  uint8_t grp; /* TLB_SET_FREE: no entry inserted since the last clear */
  bool mixed;
};
#define TLB_SET_FREE 0xff

/* a paging-structure cache entry: (va & 2^48-1) >> (39 - 9 level) | VPID << 48
 * | the VPID's generation << 36 (a flush is a new generation); PWC_EMPTY when
 * invalid (one compare per entry) */
#define PWC_EMPTY    UINT64_MAX
#define PWC_GEN_MASK 0xfffu

struct tlb_stats {
  uint64_t lookups[TLBL_COUNT], hits[TLBL_COUNT], misses[TLBL_COUNT];
  uint64_t walks, walk_refs, walk_refs_by_level[WALK_LEVELS];
  uint64_t ept_refs_by_level[WALK_LEVELS]; /* 2-D walks: EPT references (in walk_refs) */
  uint64_t pwc_hits[PWC_LEVELS];
  uint64_t ept_pwc_hits[PWC_LEVELS]; /* EPT PML4E (0), PDPTE (1), PDE (2) cache hits */
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
  uint32_t ngen[TLB_VPID_GENS]; /* non-global generation: a CR3-load flush is O(1) */
  uint8_t rr[TLB_POOL];         /* round-robin victim per set (first slot of a set) */
  uint64_t vpn_of[TLB_POOL];    /* speed: slot[i].vpn, scanned before the whole slot */
  bool setm_on; /* every array has <= 64 ways, <= TLB_SETS_MAX sets in all; off (or for
                 * tests): no set masks or exact victims, every way scanned */
  struct tlb_setm setm[TLB_SETS_MAX];
  /* speed: the last hit per level (consecutive fetches from one page), good
   * while nothing was invalidated since (mod unchanged) and no insert at
   * that level replaced its slot or covered its page (then its mod is 0) */
  uint64_t mod;
  struct {
    uint64_t page, mod; /* va >> 12 */
    struct tlb_slot *slot;
    uint32_t need;
    uint16_t vpid;
  } last[TLBL_COUNT];
  /* speed: what the level's last lookup past that memo found for va's page
   * in each array it probed (the live entry of the page, any permission, or
   * none): still so while no insert at that level (ins[lv]) and nothing
   * invalidated (mod) since, so the insert after the walk that miss started
   * refreshes or replaces without probing again. ins: ins[lv] + 1 then, 0
   * none. */
  uint64_t ins[TLBL_COUNT];
  struct {
    uint64_t page, mod, ins;
    struct tlb_slot *slot[TLBA_COUNT * 3]; /* by probe_used[lv][used] index */
    uint16_t vpid;
    uint8_t used;
  } missed[TLBL_COUNT];
  /* speed: per level the arrays and page sizes to probe, in order, and the
   * array (and size) an insert of a page of each size goes to */
  uint8_t nprobe[TLBL_COUNT];
  struct {
    uint8_t arr, shift, size_bit;
  } probe[TLBL_COUNT][TLBA_COUNT * 3];
  /* the same per set of sizes in use (TLBS_* bits): how many, and the probes */
  uint8_t nprobe_used[TLBL_COUNT][8];
  struct tlb_probe probe_used[TLBL_COUNT][8][TLBA_COUNT * 3];
  int8_t ins_arr[TLBL_COUNT][3];
  uint8_t ins_shift[TLBL_COUNT][3];
  uint8_t ins_size_bit[TLBL_COUNT][3]; /* TLBS_* of ins_shift */
  /* speed: the same as one probe record per level and page size (ways 0:
   * the level holds no array for it), read by the insert's first case */
  struct tlb_probe ins_p[TLBL_COUNT][3];
  /* speed: the plans of L2 and of the level for a 4 KiB page are both 4 KiB
   * arrays (model_tlb__insert_l2_l1's one-pass fill, quick_way_4k) */
  bool fresh4k[TLBL_COUNT];
  /* speed: per VPID group, a superset of the sizes (TLBS_*) of its live
   * entries per level, so a lookup probes no array that holds none; a flush
   * of the group restarts them (sizes_global: its global entries' sizes) */
  uint8_t sizes_used[TLB_VPID_GENS][TLBL_COUNT];
  uint8_t sizes_global[TLB_VPID_GENS][TLBL_COUNT];
  /* speed: per VPID group, level and size (4K, 2M, 1G), a superset of the
   * (va >> size's shift) % 64 of its live entries: bit clear, no entry of
   * that size can hold va (no probe). Restarts empty at the group's full
   * flush, as sizes_used; what other flushes invalidate may stay set. */
  uint64_t bloom[TLB_VPID_GENS][TLBL_COUNT][3];
  bool frac_used; /* a piece of a larger guest page was inserted */
  uint16_t pwc_size[PWC_LEVELS];
  uint16_t pwc_gen[TLB_VPID_GENS]; /* per VPID group: dropping its entries is O(1) */
  uint64_t pwc[PWC_LEVELS][PWC_MAX];
  /* speed: per VPID group, a superset of the positions holding an entry of
   * its current generation (bit i: pwc[l][i]); a drop of the group empties
   * them, and a lookup skips a level whose set is empty */
  uint64_t pwc_live[TLB_VPID_GENS][PWC_LEVELS];
  uint8_t pwc_rr[PWC_LEVELS];
  uint16_t ept_pwc_size[PWC_LEVELS];
  uint64_t ept_pwc[PWC_LEVELS][PWC_MAX]; /* gpa >> (39 - 9 level); PWC_EMPTY when invalid */
  uint64_t ept_pwc_live[PWC_LEVELS];     /* the same for the EPT caches (no groups) */
  /* speed: as pwc_looked for the EPT caches, which change only with ept_epoch */
  uint64_t ept_epoch;
  struct {
    uint64_t gpa, epoch;
    uint8_t start;
  } ept_looked;
  uint8_t ept_pwc_rr[PWC_LEVELS];
  /* speed: per EPT cache level, by key's low bits, the position where a
   * lookup last found that key (a hint, checked against the key: every
   * position a lookup does not search holds PWC_EMPTY, never a key) */
  uint8_t ept_pwc_hint[PWC_LEVELS][EPT_PWC_HINTS];
  /* speed device, not modeled hardware: the functional result of EPT walks
   * that reached a 4 KiB leaf, by guest frame (direct-mapped; key gfn + 1,
   * 0 empty), for the EPT tables at ept_front_mem. The VMM only ever fills
   * non-present EPT entries; one that changes a present entry must INVEPT
   * (model_tlb__flush_ept), which empties it. Counts never depend on it. */
  /* speed device: the upper three shadow-table entries (PML4E, PDPTE, PDE)
   * of recent shadow walks, by 2 MiB region; model_spt__walk uses one only
   * after re-reading those entries and finding them unchanged */
  struct tlb_spt_memo {
    const uint64_t *mem;
    uint64_t key; /* va >> 21 */
    uint64_t e[3];
    uint64_t idx[3]; /* where in mem e[] were read */
    uint64_t table;  /* the page table they lead to (shadow page number) */
    uint32_t root, pages;
    uint8_t u, w, nx; /* bits 2 and 1 ANDed, bit 63 ORed over e[] */
  } spt_memo[8];
  const uint64_t *ept_front_mem;
  uint64_t ept_front_eptp;
  /* one entry in one host cache line (a random guest frame's lookup is one
   * host cache miss, not three) */
  struct tlb_ept_front {
    uint64_t key, hpa;
    uint32_t at[4]; /* where in the EPT memory its walk read each level */
  } ept_front[EPT_FRONT];
  /* speed: the front's generation in bits 48-63 of every key it holds
   * (key = gfn + 1 | tag, model_tlb__ept_front_key), so that a flush is
   * one increment and not a pass over the front's 512 KiB */
  uint64_t ept_front_tag;
  /* speed: inserts into the TLB arrays and the guest paging-structure
   * caches. A VPID group whose last full flush saw no fill since holds
   * nothing, and another flush of it only counts (empty_at: fills + 1 at
   * that flush, 0 unknown): the entry flush after an exit's, without VPID. */
  uint64_t fills;
  uint64_t empty_at[TLB_VPID_GENS];
  /* speed: the guest paging-structure caches change only with pwc_epoch;
   * the last lookup (its va, VPID, result, and pwc_epoch + 1 then) proved
   * the keys below its hit absent, so the fill after that walk skips
   * searching for them */
  uint64_t pwc_epoch;
  struct {
    uint64_t va, epoch;
    uint16_t vpid;
    uint8_t start;
  } pwc_looked;
  struct tlb_stats st;
  /* speed device, not modeled hardware: the upper guest entries (PML4E,
   * PDPTE, PDE: levels 4 down to 5 - n) the CPU's guest walk
   * (model_mmu__walk) last read for a 2 MiB region, slot (va >> 21) %
   * WALK_MEMO: where in RAM each was read (after the EPT translation of its
   * table's address), its value (A set) and the permissions accumulated
   * down to it. Good for the same CR3, EFER.NXE, RAM and, under EPT, the
   * same EPT walk front generation (ctx: ept_front_tag | 1; 0 without EPT):
   * the EPT tables only gain entries between INVEPTs (ept_front's
   * contract), so the gpa -> hpa of a table page stays. A walk uses only
   * levels it does not count (above walk_start), after re-reading each
   * unchanged. Emptied with the front's keys when ept_front_tag wraps. */
  struct tlb_walk_memo {
    uint64_t key; /* (va >> 21) + 1, 0 empty */
    uint64_t cr3, ctx, ram_size;
    const uint8_t *ram;
    uint8_t *p[3];    /* levels 4, 3, 2 */
    uint64_t e[3];    /* the values read there */
    uint8_t above[3]; /* U | W << 1 | NX << 2 of the levels down to this one */
    uint8_t n;        /* levels kept (0..3) */
    bool nxe;
  } walk_memo[WALK_MEMO];
};

struct model_tlb_config {
  struct tlb_geom geom[TLBA_COUNT];
  uint16_t pwc[PWC_LEVELS];
  uint16_t ept_pwc[PWC_LEVELS]; /* EPT PML4E, PDPTE, PDE caches (0 = none) */
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
struct tlb_slot *model_tlb__lookup_slow(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                        uint32_t need, bool count);
/* The lookup's inline part: the level's last hit, if va is in its page and
 * nothing changed since (a counted hit), else NULL (nothing counted). */
static inline struct tlb_slot *model_tlb__lookup_last(struct model_tlb *t, enum tlb_level lv,
                                                      uint64_t va, uint32_t need, bool count) {
  if (t->last[lv].mod == t->mod && t->last[lv].page == va >> 12 && t->last[lv].need == need &&
      t->last[lv].vpid == t->vpid) { /* speed: the same entry the probes would find */
    if (count) {
      t->st.lookups[lv]++;
      t->st.hits[lv]++;
    }
    return t->last[lv].slot;
  }
  return NULL;
}
/* s becomes the level's last hit for va's page with need (what a lookup
 * that finds s records, model_tlb.c's lookup_hit(), and the memos that stand
 * for such a lookup). */
static inline void model_tlb__make_last(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                        uint32_t need, struct tlb_slot *s) {
  t->last[lv].page = va >> 12;
  t->last[lv].mod = t->mod;
  t->last[lv].slot = s;
  t->last[lv].vpid = t->vpid;
  t->last[lv].need = need;
}
/* Whether an entry of VPID group g at level lv may hold va (bloom above). */
static inline bool model_tlb__may_hold(const struct model_tlb *t, unsigned g, enum tlb_level lv,
                                       uint64_t va) {
  unsigned used = t->sizes_used[g][lv];
  const uint64_t *b = t->bloom[g][lv];
  return ((used & TLBS_4K) && ((b[0] >> ((va >> 12) & 63)) & 1)) ||
         ((used & TLBS_2M) && ((b[1] >> ((va >> 21) & 63)) & 1)) ||
         ((used & TLBS_1G) && ((b[2] >> ((va >> 30) & 63)) & 1));
}
static inline struct tlb_slot *model_tlb__lookup(struct model_tlb *t, enum tlb_level lv,
                                                 uint64_t va, uint32_t need, bool count) {
  struct tlb_slot *s = model_tlb__lookup_last(t, lv, va, need, count);
  if (s) return s;
  if (!model_tlb__may_hold(t, t->vpid % TLB_VPID_GENS, lv, va)) { /* the level holds none: a miss */
    if (count) {
      t->st.lookups[lv]++;
      t->st.misses[lv]++;
    }
    return NULL;
  }
  return model_tlb__lookup_slow(t, lv, va, need, count);
}
/* Insert a translation of the page of `shift` (12/21/30) holding va at level
 * lv, fractured to the largest size the level holds. Returns the evicted
 * valid slot's copy in *evicted (valid=0 when none). */
struct tlb_slot *model_tlb__insert(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                   uint64_t page_gpa, unsigned shift, uint32_t perm, bool global,
                                   struct tlb_evicted *evicted);
/* The fill after a walk: the same as inserting at L2, then at l1 (L1D or
 * L1I); *evicted is the L1 insert's. Returns the L1 insert's slot. */
struct tlb_slot *model_tlb__insert_l2_l1(struct model_tlb *t, enum tlb_level l1, uint64_t va,
                                         uint64_t page_gpa, unsigned shift, uint32_t perm,
                                         bool global, struct tlb_evicted *evicted);
/* Invalidate, for the current VPID: every entry (global too); the
 * non-global ones (CR3 load); the entries holding va (INVLPG, global too). */
void model_tlb__flush_vpid(struct model_tlb *t, uint16_t vpid, bool keep_global);
/* Whether a full flush of vpid's group would only count itself: nothing
 * filled since its last one (speed: the flushes of a VM exit's handling
 * and of the entry after it, without VPID). */
static inline bool model_tlb__group_empty(const struct model_tlb *t, uint16_t vpid) {
  return t->empty_at[vpid % TLB_VPID_GENS] == t->fills + 1;
}
/* speed: a second last-hit memo of one level, kept by its user (the
 * instruction fetch, model_mmu.c: code that alternates between two pages,
 * a call into another page and back, kernel and user code): a last hit the
 * level's memo gave up, with the level as it was then (mod, ins: ins[lv]).
 * While neither changed (nothing invalidated, nothing inserted at the
 * level since) a lookup of that page with that need and VPID finds the
 * same slot. mod 0: empty (t->mod starts at 1). */
struct tlb_prev {
  uint64_t page, mod, ins;
  struct tlb_slot *slot;
  uint32_t need;
  uint16_t vpid;
};
/* The level's last hit, if good, into p (before a lookup past it, which may
 * replace it). */
static inline void model_tlb__keep_prev(const struct model_tlb *t, enum tlb_level lv,
                                        struct tlb_prev *p) {
  if (t->last[lv].mod != t->mod) return; /* gone: then p, older, is too */
  p->page = t->last[lv].page;
  p->mod = t->mod;
  p->ins = t->ins[lv];
  p->slot = t->last[lv].slot;
  p->need = t->last[lv].need;
  p->vpid = t->last[lv].vpid;
}
/* A lookup of va at lv with need that the last hit does not serve, when p
 * holds va's page: counted and made the last hit as model_tlb__lookup_slow()
 * would make it (the last hit it replaces goes to p); else NULL, nothing
 * counted or changed. */
static inline struct tlb_slot *model_tlb__lookup_prev(struct model_tlb *t, enum tlb_level lv,
                                                      struct tlb_prev *p, uint64_t va,
                                                      uint32_t need) {
  if (p->page != va >> 12 || p->mod != t->mod || p->ins != t->ins[lv] || p->need != need ||
      p->vpid != t->vpid)
    return NULL;
  struct tlb_slot *s = p->slot;
  t->st.lookups[lv]++;
  t->st.hits[lv]++;
  t->missed[lv].ins = 0; /* as lookup_slow(): no miss memo for the next insert */
  model_tlb__keep_prev(t, lv, p);
  model_tlb__make_last(t, lv, va, need, s);
  return s;
}
/* speed (the instruction fetch after a flush, model_mmu.c): a lookup of va
 * at level lv with need missed, the TLB then at VPID vpid and ins (ins[lv]),
 * and the fill after it put va's page in slot s. If the VPID is the same
 * and s's insert is the only one at lv since, the next lookup of va's page
 * with need finds s: the probes before s's array found no entry of the page
 * with need and still find none (what else can have happened at lv, a
 * flush or an INVLPG, only removes entries), and s's probe finds s (the
 * insert refreshed the entry of the page that probe would find, or there
 * was none). So s becomes the level's last hit now, as that lookup would
 * make it, and that lookup (still counted) is the memo's hit instead of a
 * probe of the level. */
static inline void model_tlb__last_after_fill(struct model_tlb *t, enum tlb_level lv, uint64_t va,
                                              uint32_t need, uint64_t ins, uint16_t vpid,
                                              struct tlb_slot *s) {
  if (!s || !(s->perm & need) || t->ins[lv] != ins + 1 || t->vpid != vpid) return;
  model_tlb__make_last(t, lv, va, need, s);
}
void model_tlb__flush_all(struct model_tlb *t); /* every VPID */
void model_tlb__flush_va(struct model_tlb *t, uint64_t va);

/* Paging-structure caches: the deepest level (1..4) at which a walk of va
 * must start reading (4 = no cache hit), counted. */
unsigned model_tlb__pwc_start(struct model_tlb *t, uint64_t va);
/* Remember the upper entries a walk that ended at leaf_level (1..3) used. */
void model_tlb__pwc_fill(struct model_tlb *t, uint64_t va, unsigned leaf_level);
/* The same for a walk that started reading at level `start` (a cache hit
 * above it): only the non-leaf entries it read are cached (SDM 4.10.3.1). */
void model_tlb__pwc_fill_from(struct model_tlb *t, uint64_t va, unsigned start,
                              unsigned leaf_level);

/* EPT paging-structure caches, by guest-physical address: the EPT level
 * (1..4) at which an EPT walk of gpa starts reading, counted in
 * st.ept_pwc_hits; fill after a walk from `start` ending at leaf_level. */
unsigned model_tlb__ept_pwc_start(struct model_tlb *t, uint64_t gpa);
/* speed: whether the EPT PDE cache's hinted position for gpa holds gpa's
 * key (the key of pwc_key(gpa, 2, 0) in model_tlb.c): then
 * model_tlb__ept_pwc_start(t, gpa) would return 1 (the deepest level, hit),
 * and nothing else; a false says nothing. */
static inline bool model_tlb__ept_pde_hinted(const struct model_tlb *t, uint64_t gpa) {
  uint64_t k = (gpa & 0xffffffffffffull) >> 21;
  return t->ept_pwc[2][t->ept_pwc_hint[2][k & (EPT_PWC_HINTS - 1)] & (PWC_MAX - 1)] == k;
}
/* the key the EPT walk front holds for gfn in its current generation;
 * frames of 2^40 and above (beyond 52-bit guest-physical addresses) have
 * none: ~0, which no entry holds (a fill stores 0, empty, for them) */
static inline uint64_t model_tlb__ept_front_key(const struct model_tlb *t, uint64_t gfn) {
  return gfn < (1ull << 40) ? (gfn + 1) | t->ept_front_tag : ~0ull;
}
void model_tlb__ept_pwc_fill(struct model_tlb *t, uint64_t gpa, unsigned start,
                             unsigned leaf_level);
/* INVEPT (all contexts): drop the EPT paging-structure caches. */
void model_tlb__flush_ept(struct model_tlb *t);

/* Count a walk that read the levels start..end (4 >= start >= end >= 1). */
static inline void model_tlb__count_walk(struct model_tlb *t, unsigned start, unsigned end) {
  t->st.walks++;
  if (end > start) end = start; /* a stale cache hit below the fault: one read */
  if (end < 1) end = 1;
  if (start >= WALK_LEVELS) start = WALK_LEVELS - 1;
  if (start < end) return;
  t->st.walk_refs += start - end + 1;
  for (unsigned l = end; l <= start; l++)
    t->st.walk_refs_by_level[l]++;
}

#endif
