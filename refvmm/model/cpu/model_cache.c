/* model_cache.c - the data-cache hierarchy of the model CPU (model_cache.h):
 * lookups by physical line, round-robin L1 whose hits the L1 DTLB front
 * serves by a bit per line, LRU L2 and LLC, and the classification of each
 * miss as dependent, stream or independent. */
#include "model_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "model_cpu.h"

#define WAYS_MAX 32

void model_cache__default_config(struct model_cache_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->lv[0] = (struct cache_level_geom){.sets = 64, .ways = 8};    /* 32 KiB */
  cfg->lv[1] = (struct cache_level_geom){.sets = 1024, .ways = 4};  /* 256 KiB */
  cfg->lv[2] = (struct cache_level_geom){.sets = 8192, .ways = 16}; /* 8 MiB */
}

void model_cache__free(struct model_cache *k) {
  for (int l = 0; l < 3; l++) {
    free(k->lv[l].tag);
    free(k->lv[l].owner);
    free(k->lv[l].rr);
  }
  memset(k, 0, sizeof *k);
}

int model_cache__configure(struct model_cache *k, const struct model_cache_config *cfg, char *err,
                           size_t errlen) {
  model_cache__free(k);
  static const char *const names[3] = {"L1", "L2", "LLC"};
  for (int l = 0; l < 3; l++) {
    const struct cache_level_geom *g = &cfg->lv[l];
    if (g->ways > WAYS_MAX || (g->ways && (g->sets < 16 || g->sets > (1u << 24)))) {
      snprintf(err, errlen,
               "cache %s: %u sets x %u ways: the model takes 16..2^24 sets of at most %d ways",
               names[l], g->sets, g->ways, WAYS_MAX);
      return -1;
    }
    if (!g->ways) continue;
    size_t n = (size_t)g->sets * g->ways;
    k->lv[l].sets = g->sets;
    k->lv[l].ways = g->ways;
    k->lv[l].shift = (g->sets & (g->sets - 1)) ? -1 : __builtin_ctz(g->sets);
    /* a set of 16 ways is one host cache line (one miss, one prefetch) */
    size_t bytes = (n * sizeof *k->lv[l].tag + 63) & ~(size_t)63;
    k->lv[l].tag = aligned_alloc(64, bytes);
    if (k->lv[l].tag) memset(k->lv[l].tag, 0, bytes);
    if (l == 0) {
      k->lv[l].owner = calloc(n, sizeof *k->lv[l].owner);
      k->lv[l].rr = calloc(g->sets, 1);
    }
    if (!k->lv[l].tag || (l == 0 && (!k->lv[l].owner || !k->lv[l].rr))) {
      model_cache__free(k);
      snprintf(err, errlen, "cache %s: out of memory for %zu lines", names[l], n);
      return -1;
    }
  }
  k->on = k->lv[0].ways != 0;
  return 0;
}

/* ---- one level --------------------------------------------------------------------- */

/* A line's set at level l and its tag there (line / sets + 1: 0 is empty). */
static inline uint32_t set_of(const struct model_cache *k, int l, uint64_t line, uint32_t *tag) {
  int sh = k->lv[l].shift;
  if (sh >= 0) {
    *tag = (uint32_t)(line >> sh) + 1;
    return (uint32_t)line & (k->lv[l].sets - 1);
  }
  *tag = (uint32_t)(line / k->lv[l].sets) + 1;
  return (uint32_t)(line % k->lv[l].sets);
}

/* The way of the set's tags t holding tag, or ways when none (a line is in
 * a set at most once, and tag is never 0, the empty way). Speed: four ways
 * per compare when the ways are a multiple of four (straight-line code when
 * ways is a constant: the default geometry's 4, 8 and 16, lru_access()). */
static inline __attribute__((always_inline)) uint32_t find_way(const uint32_t *t, uint32_t ways,
                                                               uint32_t tag) {
#ifdef __SSE2__
  if (!(ways & 3)) {
    const __m128i k = _mm_set1_epi32((int)tag);
    uint32_t m = 0;
    for (uint32_t j = 0; j < ways; j += 4) {
      __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(t + j)), k);
      m |= (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(eq)) << j;
    }
    return m ? (uint32_t)__builtin_ctz(m) : ways;
  }
#endif
  uint32_t i = 0;
  while (i < ways && t[i] != tag)
    i++;
  return i;
}

/* Most recently used first: t[0..i] becomes tag, t[0..i-1] (what t[i] held
 * is gone). Speed: no memmove call, four ways at a time. */
static inline __attribute__((always_inline)) void to_front(uint32_t *t, uint32_t ways, uint32_t i,
                                                           uint32_t tag) {
#ifdef __SSE2__
  if (!(ways & 3)) {
    __m128i carry = _mm_cvtsi32_si128((int)tag); /* what enters lane 0 */
    const __m128i last = _mm_set1_epi32((int)i);
    __m128i lane = _mm_setr_epi32(0, 1, 2, 3);
    for (uint32_t j = 0; j < ways; j += 4) {
      __m128i v = _mm_loadu_si128((const __m128i *)(t + j));
      __m128i moved = _mm_or_si128(_mm_slli_si128(v, 4), carry);
      carry = _mm_srli_si128(v, 12);
      __m128i keep = _mm_cmpgt_epi32(lane, last); /* ways above i keep their tag */
      _mm_storeu_si128((__m128i *)(t + j),
                       _mm_or_si128(_mm_and_si128(keep, v), _mm_andnot_si128(keep, moved)));
      lane = _mm_add_epi32(lane, _mm_set1_epi32(4));
    }
    return;
  }
#endif
  memmove(t + 1, t, i * sizeof *t);
  t[0] = tag;
}

static inline __attribute__((always_inline)) bool lru_set(uint32_t *t, uint32_t ways,
                                                          uint32_t tag) {
  if (t[0] == tag) return true; /* the most recent already: nothing moves */
  uint32_t i = find_way(t, ways, tag);
  bool hit = i < ways;
  to_front(t, ways, hit ? i : ways - 1, tag);
  return hit;
}

/* LRU level: true on a hit (moved to the front), else the line is
 * inserted at the front and the least recently used one dropped. */
static bool lru_access(struct model_cache *k, int l, uint64_t line) {
  uint32_t ways = k->lv[l].ways, tag;
  uint32_t set = set_of(k, l, line, &tag);
  uint32_t *t = k->lv[l].tag + (size_t)set * ways;
  switch (ways) { /* the default geometry's, unrolled */
  case 4:
    return lru_set(t, 4, tag);
  case 16:
    return lru_set(t, 16, tag);
  default:
    return lru_set(t, ways, tag);
  }
}

/* Clear the "in L1" bit a front slot keeps for a line (if it still maps
 * the line's page: a stale bit would claim a hit for a line not there). */
static void drop_bit(struct model_cpu *c, uint16_t owner, uint64_t line) {
  if (!owner) return;
  struct model_tlb_entry *f = &c->tlb[owner - 1];
  if ((f->gpa >> 12) == (line >> (12 - CACHE_LINE_SHIFT)))
    f->lines &= ~(1ull << (line & ((1u << (12 - CACHE_LINE_SHIFT)) - 1)));
}

/* L1: true on a hit. `slot` (front slot + 1, 0 none) gets the line's bit;
 * the line goes into the walk memo. */
static bool l1_access(struct model_cpu *c, uint64_t line, uint16_t slot) {
  struct model_cache *k = &c->cache;
  uint32_t sets = k->lv[0].sets, ways = k->lv[0].ways, tag;
  uint32_t set = set_of(k, 0, line, &tag);
  uint32_t *t = k->lv[0].tag + (size_t)set * ways;
  uint16_t *o = k->lv[0].owner + (size_t)set * ways;
  uint32_t i = find_way(t, ways, tag);
  bool hit = i < ways;
  if (!hit) { /* round-robin victim */
    i = k->lv[0].rr[set];
    k->lv[0].rr[set] = (uint8_t)(i + 1 == ways ? 0 : i + 1);
    if (t[i]) drop_bit(c, o[i], ((uint64_t)(t[i] - 1)) * sets + set);
    t[i] = tag;
    o[i] = 0;
  }
  if (slot && o[i] != slot) { /* one front slot at a time holds a line's bit */
    drop_bit(c, o[i], line);
    o[i] = slot;
  }
  if (slot) c->tlb[slot - 1].lines |= 1ull << (line & ((1u << (12 - CACHE_LINE_SHIFT)) - 1));
  unsigned h = cache_memo_slot(line);
  k->memo[h].line = line + 1;
  k->memo[h].pos = (uint32_t)(t + i - k->lv[0].tag);
  k->memo[h].tag = tag;
  return hit;
}

/* The level that served a reference that missed L1 (filling L2 and LLC). */
static enum cache_level outer(struct model_cache *k, uint64_t line) {
  if (k->lv[1].ways && lru_access(k, 1, line)) return CL_L2;
  if (k->lv[2].ways && lru_access(k, 2, line)) return CL_LLC;
  return CL_DRAM;
}

/* ---- classification ---------------------------------------------------------------- */

/* A load whose address registers hold the last missed load's value. */
static bool addr_depends(const struct model_cpu *c) {
  const struct model_insn *d = c->cur;
  const struct model_cache *k = &c->cache;
  if (!d || !k->last_valid) return false;
  return (d->base < 16 && c->gpr[d->base] == k->last_val) ||
         (d->index < 16 && c->gpr[d->index] == k->last_val);
}

/* A miss on the line some stream expects next (then it expects the one
 * after); otherwise a new stream starts after this line. */
static bool streams(struct model_cache *k, uint64_t line) {
  for (unsigned i = 0; i < CACHE_STREAMS; i++)
    if (k->stream_next[i] == line) {
      k->stream_next[i] = line + 1;
      return true;
    }
  k->stream_next[k->stream_rr] = line + 1;
  k->stream_rr = (k->stream_rr + 1) % CACHE_STREAMS;
  return false;
}

/* ---- entry points ------------------------------------------------------------------- */

/* A data reference to `line`; `slot` (front slot + 1, or 0) gets its L1
 * bit; a load that misses L1 remembers what it read (the n <= 8 bytes at
 * p, for the dependent-load test; none when p is NULL). Speed: those bytes
 * are read last, after the tag lookups: on a host cache miss (gups'
 * random word) the lookups overlap the wait for them. */
static inline __attribute__((always_inline)) void data_ref(struct model_cpu *c, uint64_t line,
                                                           uint16_t slot, bool write,
                                                           const uint8_t *p, unsigned n) {
  struct model_cache *k = &c->cache;
  if (l1_access(c, line, slot)) {
    k->st.refs[CS_DATA][CL_L1][CK_INDEPENDENT]++;
    return;
  }
  enum cache_kind kind = !write && addr_depends(c) ? CK_DEPENDENT
                         : streams(k, line)        ? CK_STREAM
                                                   : CK_INDEPENDENT;
  k->st.refs[CS_DATA][outer(k, line)][kind]++;
  if (!write) {
    uint64_t v = 0;
    if (p) memcpy(&v, p, n);
    k->last_val = v;
    k->last_valid = true;
  }
}

void model_cache__data(struct model_cpu *c, struct model_tlb_entry *e, uint64_t va, unsigned len,
                       bool write) {
  if (!c->cache.on) {
    e->lines = ~0ull; /* no caches: every reference is an L1 hit */
    return;
  }
  unsigned off = va & 0xfff;
  uint16_t slot = e >= c->tlb && e < c->tlb + MODEL_TLB_SIZE ? (uint16_t)(e - c->tlb + 1) : 0;
  unsigned n = len > 8 ? 8 : len; /* what a dependent load finds in its register */
  if (off + n > 4096) n = 4096 - off;
  data_ref(c, (e->gpa + off) >> CACHE_LINE_SHIFT, slot, write, e->host ? e->host + off : NULL, n);
}

void model_cache__data_line(struct model_cpu *c, uint64_t pa, bool write) {
  if (c->cache.on) data_ref(c, pa >> CACHE_LINE_SHIFT, 0, write, NULL, 0);
}

void model_cache__walk_begin(struct model_cpu *c, unsigned acc) {
  c->cache.walk_kind = !(acc & ACC_X) && addr_depends(c) ? CK_DEPENDENT : CK_INDEPENDENT;
}

void model_cache__walk_lookup(struct model_cpu *c, uint64_t pa, enum cache_src src) {
  struct model_cache *k = &c->cache;
  uint64_t line = pa >> CACHE_LINE_SHIFT;
  enum cache_level lv = l1_access(c, line, 0) ? CL_L1 : outer(k, line);
  k->st.refs[src][lv][k->walk_kind]++;
}
