/* model_cache.h - the model CPU's data-cache hierarchy (model_cache.c): set-
 * associative L1, L2 and last-level caches of 64-byte lines, tags only, in
 * front of DRAM. Every data reference and every counted page-walk reference
 * is looked up by physical address (guest RAM's own; the VMM's EPT and
 * shadow tables sit in address ranges of their own above RAM), and counted
 * by where it was served and by how the core would wait for it:
 *
 * - dependent: a load whose address registers hold the value the last load
 *   that missed L1 returned (pointer chasing: ptrchase): the whole latency;
 * - stream: the line after one missed a moment ago (a sequential stream the
 *   hardware prefetchers run ahead of: memstream);
 * - independent: any other miss (random updates: gups), whose latency
 *   overlaps other misses'.
 * A page walk's references are dependent or independent as its access is.
 *
 * L1 hits are not counted: the CPU's L1 DTLB front (model_cpu.h) keeps, per
 * page, a bit for each line the L1 holds, so a hit costs one bit test in
 * model_mem__read/write. For that the L1 replaces round-robin per set (a hit
 * changes no state, as in the TLB model); L2 and LLC are LRU. Levels fill
 * on a miss (non-inclusive, no back-invalidation); stores allocate.
 *
 * Counts depend only on the guest's references and the geometry (never on
 * the front), so they are deterministic. */
#ifndef REFVMM_MODEL_CACHE_H
#define REFVMM_MODEL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_LINE_SHIFT 6
#define CACHE_STREAMS    8   /* sequential streams tracked */
#define CACHE_MEMO       512 /* walk lines remembered in L1 (a power of two) */
/* Physical address ranges of the VMM's tables (above any guest RAM). */
#define CACHE_EPT_BASE (1ull << 40)
#define CACHE_SPT_BASE (2ull << 40)

enum cache_level { CL_L1, CL_L2, CL_LLC, CL_DRAM, CL_COUNT };
enum cache_kind { CK_DEPENDENT, CK_INDEPENDENT, CK_STREAM, CK_COUNT };
/* who made the reference: the guest's data accesses, walks of the guest's
 * (or in shadow paging the shadow) tables, the EPT references of 2-D walks */
enum cache_src { CS_DATA, CS_WALK, CS_EPT, CS_COUNT };

/* refs[src][level][kind]: references served at `level`. For CS_DATA the
 * L1 row counts only the hits the slow path found (the front's are not
 * counted); every walk reference is counted at its level. */
struct cache_stats {
  uint64_t refs[CS_COUNT][CL_COUNT][CK_COUNT];
};

struct cache_level_geom {
  uint32_t sets, ways; /* sets * ways * 64 bytes; 0 ways: the level is absent */
};

struct model_cache_config {
  struct cache_level_geom lv[3]; /* L1, L2, LLC */
};

struct model_cache {
  bool on;
  struct {
    uint32_t sets, ways;
    int shift;       /* log2(sets) when a power of two (then no division), else -1 */
    uint32_t *tag;   /* [sets][ways]: line / sets + 1, 0 = empty; L2/LLC in MRU order */
    uint16_t *owner; /* L1: [sets][ways] front slot + 1 whose line bit says "in L1", 0 none */
    uint8_t *rr;     /* L1: round-robin victim per set */
  } lv[3];
  uint64_t stream_next[CACHE_STREAMS]; /* the line each stream expects next */
  unsigned stream_rr;
  uint64_t last_val; /* the value the last load that missed L1 returned */
  bool last_valid;
  int walk_kind; /* CK_DEPENDENT or CK_INDEPENDENT for the walk under way */
  /* speed: walk references hit the same few table lines again and again.
   * memo[cache_memo_slot(line)]: where in L1's tag array that line was last
   * found or put (pos) and its tag there; still there (the tag at pos is
   * unchanged) means still in L1: a hit without the lookup. */
  struct {
    uint64_t line; /* + 1; 0 empty */
    uint32_t pos, tag;
  } memo[CACHE_MEMO];
  struct cache_stats st;
};

struct model_cpu;
struct model_tlb_entry;

/* The walk memo's slot of a line: every bit of the line mixed in
 * (multiplicative hashing), since the upper-level entries a walk reads sit
 * at the same few offsets of different table pages (index 0 of a PML4, a
 * PDPT ...: the line's low bits alone would put them all into one slot).
 * Speed: one multiply and a shift (the xor of three shifts it replaced
 * took twice the host instructions). */
static inline unsigned cache_memo_slot(uint64_t line) {
  return (unsigned)((line * 0x9e3779b97f4a7c15ull) >> (64 - 9)) & (CACHE_MEMO - 1);
}

/* Skylake-like defaults (32 KiB 8-way, 256 KiB 4-way, 8 MiB 16-way). */
void model_cache__default_config(struct model_cache_config *cfg);
/* Install a geometry (empties the caches, keeps no counts). 0, or -1 with a
 * message when a level's ways exceed 32 or memory runs out. */
int model_cache__configure(struct model_cache *k, const struct model_cache_config *cfg, char *err,
                           size_t errlen);
void model_cache__free(struct model_cache *k);

/* A data reference of len bytes at va through front entry e (whose line
 * bit for va is clear, or which is not a front slot): looks the line up,
 * counts it, and sets e's bit when the line is in L1 afterwards. */
void model_cache__data(struct model_cpu *c, struct model_tlb_entry *e, uint64_t va, unsigned len,
                       bool write);
/* The same for a reference at physical address pa that no front entry
 * serves (the first part of a page-crossing access). */
void model_cache__data_line(struct model_cpu *c, uint64_t pa, bool write);
/* Before a page walk for an access (acc: ACC_* of model_cpu's x86.h):
 * decide whether its references are dependent (see above). */
void model_cache__walk_begin(struct model_cpu *c, unsigned acc);
/* One counted walk reference at physical address pa by `src` (the lookup
 * when the memo does not know the line in L1). */
void model_cache__walk_lookup(struct model_cpu *c, uint64_t pa, enum cache_src src);
/* Whether the walk memo knows `line` is in L1 (its slot names the line
 * and L1's tag there still holds it). */
static inline bool model_cache__memo_hit(const struct model_cache *k, uint64_t line) {
  unsigned h = cache_memo_slot(line);
  return k->memo[h].line == line + 1 && k->lv[0].tag[k->memo[h].pos] == k->memo[h].tag;
}

static inline void model_cache__walk_ref_k(struct model_cpu *c, struct model_cache *k, uint64_t pa,
                                           enum cache_src src) {
  if (model_cache__memo_hit(k, pa >> CACHE_LINE_SHIFT))
    k->st.refs[src][CL_L1][k->walk_kind]++;
  else if (k->on)
    model_cache__walk_lookup(c, pa, src);
}
/* speed: prefetch the LLC's tag set of the line at physical address pa (a
 * random line of a 512 KiB array by default, which a reference to pa will
 * search); nothing when the LLC is absent or its sets are not a power of
 * two. Changes no state. */
static inline void model_cache__prefetch_sets(const struct model_cache *k, uint64_t pa) {
  if (k->lv[2].ways && k->lv[2].shift >= 0)
    __builtin_prefetch(k->lv[2].tag +
                       (size_t)((pa >> CACHE_LINE_SHIFT) & (k->lv[2].sets - 1)) * k->lv[2].ways);
}
/* (c's cache is passed apart: struct model_cpu is incomplete here) */
#define model_cache__walk_ref(c, pa, src) model_cache__walk_ref_k((c), &(c)->cache, (pa), (src))

#endif
