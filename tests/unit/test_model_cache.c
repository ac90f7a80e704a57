/* test_model_cache.c - the model CPU's data caches (model_cache.c): where
 * a reference is served (L1 round-robin, L2 and LLC LRU, DRAM beyond), the
 * classification of misses (stream: the line after a miss; dependent: a
 * load whose address register holds the last missed load's value;
 * independent otherwise), walk references counted at every level, the
 * front's "line in L1" bits cleared when the line leaves L1, the profile's
 * geometry refused when the model cannot take it; and on real workloads
 * that ptrchase misses dependently, gups independently, memstream as
 * streams, with the counts deterministic. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/model/cpu/model_cache.h"
#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_walk_count.h"
#include "tests/lib/run_refvmm.h"

static struct model_cpu *cpu_new(void) {
  struct model_cpu *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  struct model_cache_config cfg;
  model_cache__default_config(&cfg);
  char err[200];
  ck_assert_int_eq(model_cache__configure(&c->cache, &cfg, err, sizeof err), 0);
  return c;
}

static void cpu_free(struct model_cpu *c) {
  model_cache__free(&c->cache);
  free(c);
}

static uint64_t data(const struct model_cpu *c, enum cache_level l, enum cache_kind k) {
  return c->cache.st.refs[CS_DATA][l][k];
}

#define LINE(n) ((uint64_t)(n) << CACHE_LINE_SHIFT)

START_TEST(test_levels_and_streams) {
  struct model_cpu *c = cpu_new();
  model_cache__data_line(c, LINE(1000), false); /* cold: DRAM, a new stream */
  ck_assert_uint_eq(data(c, CL_DRAM, CK_INDEPENDENT), 1);
  model_cache__data_line(c, LINE(1001), false); /* the next line: a stream */
  ck_assert_uint_eq(data(c, CL_DRAM, CK_STREAM), 1);
  model_cache__data_line(c, LINE(1000), true); /* now in L1 */
  ck_assert_uint_eq(data(c, CL_L1, CK_INDEPENDENT), 1);
  /* 8 more lines in L1 set 1000 % 64 (other L2 sets): the 8-way round
   * robin drops line 1000 from L1; L2 (1024 sets, 4 ways) still holds it */
  for (int i = 1; i <= 8; i++)
    model_cache__data_line(c, LINE(1000 + 64 * i), false);
  model_cache__data_line(c, LINE(1000), false);
  ck_assert_uint_eq(data(c, CL_L2, CK_INDEPENDENT), 1);
  /* 4 more lines in its L2 set (every 1024th line) and 8 in its L1 set: L2
   * drops it (LRU), the LLC (8192 sets, 16 ways) serves it */
  for (int i = 1; i <= 8; i++)
    model_cache__data_line(c, LINE(1000 + 1024 * 8 * i), false);
  model_cache__data_line(c, LINE(1000), false);
  ck_assert_uint_eq(data(c, CL_LLC, CK_INDEPENDENT), 1);
  cpu_free(c);
}
END_TEST

START_TEST(test_lru_keeps_the_recent_line) {
  struct model_cpu *c = cpu_new();
  /* L2 set 5: lines 5 + 1024 k. Touch A, B, C, D, then A again (hit, made
   * most recent), then E: LRU drops B, not A. The L1 is kept out of it by
   * 8 lines of A's L1 set between the accesses. */
  const uint64_t A = 5, B = 5 + 1024, C = 5 + 2048, D = 5 + 3072, E = 5 + 4096;
  uint64_t seq[] = {A, B, C, D};
  for (int i = 0; i < 4; i++)
    model_cache__data_line(c, LINE(seq[i]), false);
  for (int i = 1; i <= 8; i++) /* flush L1 set 5 (these go to other L2 sets) */
    model_cache__data_line(c, LINE(5 + 64 * i), false);
  model_cache__data_line(c, LINE(A), false);
  ck_assert_uint_eq(data(c, CL_L2, CK_INDEPENDENT), 1);
  model_cache__data_line(c, LINE(E), false);
  for (int i = 9; i <= 16; i++)
    model_cache__data_line(c, LINE(5 + 64 * i), false);
  model_cache__data_line(c, LINE(A), false); /* still in L2 */
  ck_assert_uint_eq(data(c, CL_L2, CK_INDEPENDENT), 2);
  model_cache__data_line(c, LINE(B), false); /* dropped from L2: the LLC */
  ck_assert_uint_eq(data(c, CL_LLC, CK_INDEPENDENT), 1);
  cpu_free(c);
}
END_TEST

START_TEST(test_dependent_load) {
  struct model_cpu *c = cpu_new();
  static uint8_t page[4096];
  uint64_t next = 0x123450;
  memcpy(page + 64, &next, 8);
  struct model_tlb_entry *e = &c->tlb[3];
  e->host = page;
  e->gpa = 0x7000;
  struct model_insn d;
  memset(&d, 0, sizeof d);
  d.base = 0; /* [rax] */
  d.index = MODEL_NOREG;
  c->cur = &d;
  c->gpr[0] = 0x999;
  model_cache__data(c, e, 0x40000 + 64, 8, false); /* rax is no loaded value: independent */
  ck_assert_uint_eq(data(c, CL_DRAM, CK_INDEPENDENT), 1);
  ck_assert(e->lines & 2); /* line 1 of the page is in L1 now */
  c->gpr[0] = next;        /* the address is what the last miss loaded */
  /* the walk of a dependent access is dependent too; an L1 hit is counted */
  model_cache__walk_begin(c, 0);
  model_cache__walk_ref(c, 0x100000, CS_WALK);
  model_cache__walk_ref(c, 0x100000, CS_WALK);
  ck_assert_uint_eq(c->cache.st.refs[CS_WALK][CL_DRAM][CK_DEPENDENT], 1);
  ck_assert_uint_eq(c->cache.st.refs[CS_WALK][CL_L1][CK_DEPENDENT], 1);
  model_cache__data_line(c, LINE(777777), false);
  ck_assert_uint_eq(data(c, CL_DRAM, CK_DEPENDENT), 1);
  c->gpr[0] = 5; /* an independent access's walk */
  model_cache__walk_begin(c, 0);
  model_cache__walk_ref(c, CACHE_EPT_BASE + 8, CS_EPT);
  ck_assert_uint_eq(c->cache.st.refs[CS_EPT][CL_DRAM][CK_INDEPENDENT], 1);
  cpu_free(c);
}
END_TEST

START_TEST(test_front_bit_cleared_on_eviction) {
  struct model_cpu *c = cpu_new();
  static uint8_t page[4096];
  struct model_tlb_entry *e = &c->tlb[7];
  e->host = page;
  e->gpa = 0x40000; /* line 0x1000: L1 set 0 */
  model_cache__data(c, e, 0x9000, 8, true);
  ck_assert(e->lines & 1);
  for (int i = 1; i <= 8; i++) /* 8 other lines of L1 set 0 */
    model_cache__data_line(c, LINE(0x1000 + 64 * i), false);
  ck_assert_msg(!(e->lines & 1), "the line left L1: the front must not claim a hit");
  cpu_free(c);
}
END_TEST

/* The levels' tag search and LRU order (four ways per compare, the order
 * moved without memmove when the ways are a multiple of four) against a
 * plain reference: per set a list of lines, most recent first, searched one
 * by one; L1 round-robin. Every reference must be served where the
 * reference serves it, on the default geometry and on others (ways not a
 * multiple of four take the scalar code). */
struct ref_level {
  uint32_t sets, ways;
  uint64_t *line; /* [set][way] line + 1, 0 empty; L2/LLC most recent first */
  uint32_t *rr;
};

static bool ref_access(struct ref_level *r, uint64_t line, bool lru) {
  uint32_t set = (uint32_t)(line % r->sets);
  uint64_t *t = r->line + (size_t)set * r->ways;
  uint32_t i = 0;
  while (i < r->ways && t[i] != line + 1)
    i++;
  bool hit = i < r->ways;
  if (!lru) {
    if (!hit) {
      t[r->rr[set]] = line + 1;
      r->rr[set] = (r->rr[set] + 1) % r->ways;
    }
    return hit;
  }
  if (!hit) i = r->ways - 1;
  for (; i > 0; i--)
    t[i] = t[i - 1];
  t[0] = line + 1;
  return hit;
}

START_TEST(test_levels_match_reference) {
  static const struct cache_level_geom geoms[][3] = {
      {{64, 8}, {1024, 4}, {8192, 16}}, /* the default */
      {{16, 4}, {64, 12}, {128, 20}},   {{16, 5}, {32, 3}, {64, 32}}, {{16, 4}, {32, 8}, {64, 24}},
      {{16, 12}, {64, 8}, {128, 16}}, /* an L1 of more than 8 ways */
  };
  for (unsigned gi = 0; gi < sizeof geoms / sizeof geoms[0]; gi++) {
    struct model_cpu *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    struct model_cache_config cfg;
    memcpy(cfg.lv, geoms[gi], sizeof cfg.lv);
    char err[200];
    ck_assert_int_eq(model_cache__configure(&c->cache, &cfg, err, sizeof err), 0);
    struct ref_level ref[3];
    for (int l = 0; l < 3; l++) {
      ref[l].sets = cfg.lv[l].sets;
      ref[l].ways = cfg.lv[l].ways;
      ref[l].line = calloc((size_t)ref[l].sets * ref[l].ways, sizeof *ref[l].line);
      ref[l].rr = calloc(ref[l].sets, sizeof *ref[l].rr);
    }
    uint64_t rng = 77 + gi, served[CL_COUNT] = {0};
    /* a quarter of the references each to twice what L1, L2, the LLC hold
     * (the same lines' first part), a quarter to 3 times the LLC */
    uint64_t span[4];
    for (int l = 0; l < 3; l++)
      span[l] = (uint64_t)cfg.lv[l].sets * cfg.lv[l].ways * 2;
    span[3] = span[2] * 3 / 2;
    for (int i = 0; i < 200000; i++) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t r = rng >> 20, line = (r >> 2) % span[r & 3];
      enum cache_level want = CL_DRAM;
      if (ref_access(&ref[0], line, false))
        want = CL_L1;
      else if (ref_access(&ref[1], line, true))
        want = CL_L2;
      else if (ref_access(&ref[2], line, true))
        want = CL_LLC;
      served[want]++;
      model_cache__data_line(c, line << CACHE_LINE_SHIFT, (r >> 40) & 1);
      for (int l = 0; l < CL_COUNT; l++) {
        uint64_t n = 0;
        for (int k = 0; k < CK_COUNT; k++)
          n += c->cache.st.refs[CS_DATA][l][k];
        if (n != served[l]) /* (ck_assert in the loop: a file write per check) */
          ck_abort_msg("geometry %u, reference %d (line %llu): level %d served %llu, "
                       "the reference %llu",
                       gi, i, (unsigned long long)line, l, (unsigned long long)n,
                       (unsigned long long)served[l]);
      }
    }
    ck_assert_uint_gt(served[CL_L2], 1000); /* every level served some */
    ck_assert_uint_gt(served[CL_LLC], 1000);
    ck_assert_uint_gt(served[CL_DRAM], 1000);
    for (int l = 0; l < 3; l++) {
      free(ref[l].line);
      free(ref[l].rr);
    }
    cpu_free(c);
  }
}
END_TEST

START_TEST(test_geometry_refused) {
  struct model_cache k;
  memset(&k, 0, sizeof k);
  struct model_cache_config cfg;
  model_cache__default_config(&cfg);
  cfg.lv[1].ways = 64;
  char err[200] = "";
  ck_assert_int_eq(model_cache__configure(&k, &cfg, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "L2") && strstr(err, "64"), "%s", err);
  model_cache__default_config(&cfg);
  cfg.lv[2].sets = 8;
  ck_assert_int_eq(model_cache__configure(&k, &cfg, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "LLC"), "%s", err);
  model_cache__free(&k);
}
END_TEST

/* model_walk__count_shadow() (the shadow walk's counts, model_mmu.c) against
 * the plain path it stands for, model_tlb__count_walk() and one
 * model_cache__walk_ref() per level read, on two CPUs fed the same random
 * walks (every start and end, the clamped cases included) and data
 * references: 48 lines over 4 L1 sets of 8 ways, so that walk lines leave
 * L1 between walks while the walk memo still names them. Every TLB and
 * cache count must match after every step. */
START_TEST(test_shadow_walk_count_matches_plain) {
  struct model_cpu *a = cpu_new(), *b = cpu_new();
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 200000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t r = x;
    uint64_t line = (r >> 8) % 4 + 64 * ((r >> 12) % 12);
    if (r % 4 == 0) { /* a data reference */
      model_cache__data_line(a, LINE(line), (r >> 20) & 1);
      model_cache__data_line(b, LINE(line), (r >> 20) & 1);
    } else {
      unsigned start = 1 + (unsigned)((r >> 24) % 4), end = (unsigned)((r >> 28) % 5);
      for (int l = 0; l < 5; l++) {
        uint64_t ln = (r >> (32 + 6 * l)) % 4 + 64 * ((r >> (34 + 6 * l)) % 12);
        a->walk_pa[l] = b->walk_pa[l] = CACHE_SPT_BASE + LINE(ln) + 8 * (l + 1);
      }
      a->cache.walk_kind = b->cache.walk_kind = (r >> 62) & 1 ? CK_DEPENDENT : CK_INDEPENDENT;
      model_walk__count_shadow(a, start, end);
      model_tlb__count_walk(&b->tlbm, start, end);
      for (unsigned l = end; l <= start; l++)
        model_cache__walk_ref(b, b->walk_pa[l], CS_WALK);
    }
    ck_assert_msg(!memcmp(&a->tlbm.st, &b->tlbm.st, sizeof a->tlbm.st), "TLB counts, step %d", i);
    ck_assert_msg(!memcmp(&a->cache.st, &b->cache.st, sizeof a->cache.st), "cache counts, step %d",
                  i);
  }
  ck_assert_uint_gt(a->cache.st.refs[CS_WALK][CL_L1][CK_INDEPENDENT], 10000);
  ck_assert_uint_gt(a->cache.st.refs[CS_WALK][CL_L2][CK_DEPENDENT], 1000);
  cpu_free(a);
  cpu_free(b);
}
END_TEST

/* ---- real workloads on the model ------------------------------------------------------ */

/* model.timed.caches of a native model run (refvmm as a subprocess). */
static bool run_caches(const char *wl, const char *const *params, json_t **caches) {
  char img[256];
  snprintf(img, sizeof img, "workloads/build/%s.elf", wl);
  if (access(img, R_OK)) return false;
  const char *args[24] = {"run", img, "--backend", "model", "--paging", "native", "--quiet"};
  int a = 7;
  for (int i = 0; params[i]; i++) {
    args[a++] = "--param";
    args[a++] = params[i];
  }
  args[a] = NULL;
  struct refvmm_result r;
  if (run_refvmm(&r, true, args)) return false;
  ck_assert_msg(r.exit_code == 0, "refvmm %s: exit %d: %s", wl, r.exit_code, r.err);
  *caches = json_incref(refvmm_result__get(&r, "model.timed.caches"));
  refvmm_result__free(&r);
  ck_assert_ptr_nonnull(*caches);
  return true;
}

static uint64_t at(json_t *caches, const char *lv, const char *kind) {
  json_t *v = json_object_get(json_object_get(json_object_get(caches, "data"), lv), kind);
  ck_assert_msg(json_is_integer(v), "caches.data.%s.%s", lv, kind);
  return (uint64_t)json_integer_value(v);
}

static uint64_t beyond_l1(json_t *caches, const char *kind) {
  return at(caches, "l2", kind) + at(caches, "llc", kind) + at(caches, "dram", kind);
}

START_TEST(test_workloads_miss_as_they_access) {
  json_t *pc, *gu, *ms, *pc2;
  /* 32 MiB: 4 x the default LLC */
  if (!run_caches("ptrchase", (const char *const[]){"n=20000", "ws=33554432", NULL}, &pc)) {
    printf("test_model_cache: skipped (ptrchase image or refvmm missing)\n");
    return;
  }
  ck_assert(run_caches("gups", (const char *const[]){"n=20000", "ws=33554432", NULL}, &gu));
  ck_assert(run_caches("memstream", (const char *const[]){"passes=1", "ws=4194304", NULL}, &ms));
  ck_assert(run_caches("ptrchase", (const char *const[]){"n=20000", "ws=33554432", NULL}, &pc2));
  /* every chase load misses L1, nearly all dependently */
  ck_assert_uint_ge(beyond_l1(pc, "dependent"), 19000);
  ck_assert_uint_le(beyond_l1(pc, "independent") + beyond_l1(pc, "stream"), 500);
  ck_assert_uint_ge(at(pc, "dram", "dependent"), 10000);
  /* gups: a read and a write of a random word, (almost) never dependent */
  ck_assert_uint_le(beyond_l1(gu, "dependent"), 20);
  ck_assert_uint_ge(beyond_l1(gu, "independent"), 15000);
  /* memstream: 4 MiB read and written once: 65536 lines, nearly all streams */
  ck_assert_uint_ge(beyond_l1(ms, "stream"), 60000);
  ck_assert_uint_le(beyond_l1(ms, "independent"), 2000);
  ck_assert_msg(json_equal(pc, pc2), "the model's cache counts are not deterministic");
  json_decref(pc);
  json_decref(pc2);
  json_decref(gu);
  json_decref(ms);
}
END_TEST

Suite *suite_model_cache(void) {
  Suite *s = suite_create("model_cache");
  TCase *tc = tcase_create("cache");
  tcase_add_test(tc, test_levels_and_streams);
  tcase_add_test(tc, test_lru_keeps_the_recent_line);
  tcase_add_test(tc, test_dependent_load);
  tcase_add_test(tc, test_front_bit_cleared_on_eviction);
  tcase_add_test(tc, test_geometry_refused);
  tcase_add_test(tc, test_levels_match_reference);
  tcase_add_test(tc, test_shadow_walk_count_matches_plain);
  suite_add_tcase(s, tc);
  TCase *tw = tcase_create("workloads");
  tcase_set_timeout(tw, 120);
  tcase_add_test(tw, test_workloads_miss_as_they_access);
  suite_add_tcase(s, tw);
  return s;
}
