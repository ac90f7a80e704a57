/* test_model_tlb.c - the model's TLB hierarchy (model_tlb.c): set
 * associativity and round-robin replacement, VPID tags, global pages on CR3
 * loads, INVLPG, page fracturing, paging-structure caches; and, on whole
 * workloads, that the CPU's translation front keeps the counts exact (the
 * same counts with the front disabled) and the level invariants hold. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/backend.h"
#include "refvmm/model/model_backend.h"
#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"
#include "refvmm/session.h"

static struct model_tlb tlb;

/* t with the default geometry (the TLB under test, or a reference one) */
static void configure_default(struct model_tlb *t) {
  struct model_tlb_config cfg;
  model_tlb__default_config(&cfg);
  char err[128];
  ck_assert_int_eq(model_tlb__configure(t, &cfg, err, sizeof err), 0);
}

static void setup(void) {
  configure_default(&tlb);
}

/* the VPIDs the randomized tests switch between: 1 and 1 + TLB_VPID_GENS
 * share a generation group */
static const uint16_t vpids[] = {0, 1, 1 + TLB_VPID_GENS, 2};

static struct tlb_slot *ins(enum tlb_level lv, uint64_t va, unsigned shift, bool global) {
  struct tlb_evicted ev;
  return model_tlb__insert(&tlb, lv, va,
                           0x100000000ull + (va & ~((1ull << shift) - 1)) % (1ull << 34), shift,
                           TLBP_R | TLBP_W, global, &ev);
}
static bool hit(enum tlb_level lv, uint64_t va) {
  return model_tlb__lookup(&tlb, lv, va, TLBP_R, true) != NULL;
}

START_TEST(test_default_geometry_is_skylake) {
  /* 64 + 32 + 4 L1D, 128 + 8 L1I, 1536 + 16 STLB entries */
  unsigned n[TLBA_COUNT];
  for (int a = 0; a < TLBA_COUNT; a++)
    n[a] = (unsigned)tlb.arr[a].g.sets * tlb.arr[a].g.ways;
  ck_assert_uint_eq(n[TLBA_L1D_4K], 64);
  ck_assert_uint_eq(n[TLBA_L1D_2M], 32);
  ck_assert_uint_eq(n[TLBA_L1D_1G], 4);
  ck_assert_uint_eq(n[TLBA_L1I_4K], 128);
  ck_assert_uint_eq(n[TLBA_L1I_2M], 8);
  ck_assert_uint_eq(n[TLBA_L1I_1G], 0);
  ck_assert_uint_eq(n[TLBA_L2_4K2M], 1536);
  ck_assert_uint_eq(n[TLBA_L2_1G], 16);
}
END_TEST

START_TEST(test_bad_geometry_refused) {
  struct model_tlb_config cfg;
  model_tlb__default_config(&cfg);
  cfg.geom[TLBA_L2_4K2M].sets = 100;
  char err[128] = "";
  ck_assert_int_eq(model_tlb__configure(&tlb, &cfg, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "power of two"));
  model_tlb__default_config(&cfg);
  cfg.geom[TLBA_L2_4K2M] = (struct tlb_geom){1024, 16};
  ck_assert_int_eq(model_tlb__configure(&tlb, &cfg, err, sizeof err), -1);
}
END_TEST

START_TEST(test_set_eviction_round_robin) {
  /* L1D 4K: 16 sets x 4 ways; five pages of one set evict the first */
  uint64_t stride = 16ull << 12;
  for (int i = 0; i < 4; i++)
    ins(TLBL_L1D, 0x10000000 + i * stride, 12, false);
  for (int i = 0; i < 4; i++)
    ck_assert(hit(TLBL_L1D, 0x10000000 + i * stride));
  struct tlb_evicted ev;
  model_tlb__insert(&tlb, TLBL_L1D, 0x10000000 + 4 * stride, 0x5000, 12, TLBP_R, false, &ev);
  ck_assert(ev.valid);
  ck_assert_uint_eq(ev.vpn << 12, 0x10000000);
  ck_assert(!hit(TLBL_L1D, 0x10000000));
  ck_assert(hit(TLBL_L1D, 0x10000000 + 1 * stride));
  ck_assert(hit(TLBL_L1D, 0x10000000 + 4 * stride));
  /* a different set is untouched */
  ins(TLBL_L1D, 0x10001000, 12, false);
  ck_assert(hit(TLBL_L1D, 0x10001000));
  ck_assert_uint_eq(tlb.st.lookups[TLBL_L1D], tlb.st.hits[TLBL_L1D] + tlb.st.misses[TLBL_L1D]);
}
END_TEST

START_TEST(test_vpid_tags_and_flushes) {
  tlb.vpid = 1;
  ins(TLBL_L1D, 0x1000, 12, false);
  ins(TLBL_L1D, 0x2000, 12, true);
  tlb.vpid = 0;
  ck_assert(!hit(TLBL_L1D, 0x1000)); /* another VPID's entry */
  ins(TLBL_L1D, 0x1000, 12, false);
  model_tlb__flush_vpid(&tlb, 0, false); /* flushes VPID 0 only */
  ck_assert(!hit(TLBL_L1D, 0x1000));
  tlb.vpid = 1;
  ck_assert(hit(TLBL_L1D, 0x1000));
  model_tlb__flush_vpid(&tlb, 1, true); /* CR3 load: global survives */
  ck_assert(!hit(TLBL_L1D, 0x1000));
  ck_assert(hit(TLBL_L1D, 0x2000));
  model_tlb__flush_va(&tlb, 0x2abc); /* INVLPG drops global too */
  ck_assert(!hit(TLBL_L1D, 0x2000));
}
END_TEST

START_TEST(test_large_pages_and_fracturing) {
  struct tlb_slot *s = ins(TLBL_L1D, 0x40212345, 21, false);
  ck_assert_uint_eq(s->shift, 21);
  ck_assert(hit(TLBL_L1D, 0x40200000));
  ck_assert(hit(TLBL_L1D, 0x403fffff));
  ck_assert(!hit(TLBL_L1D, 0x40400000));
  /* the L1 ITLB has no 1 GiB array: the page is held as its 2 MiB piece */
  s = ins(TLBL_L1I, 0x80654321, 30, false);
  ck_assert_uint_eq(s->shift, 21);
  ck_assert_uint_eq(s->gpa & 0x3fffffff, 0x00600000);
  ck_assert(hit(TLBL_L1I, 0x80600000));
  ck_assert(!hit(TLBL_L1I, 0x80800000));
  model_tlb__flush_va(&tlb, 0x80601000);
  ck_assert(!hit(TLBL_L1I, 0x80600000));
}
END_TEST

START_TEST(test_paging_structure_caches) {
  uint64_t va = 0x7f8040201000ull;
  ck_assert_uint_eq(model_tlb__pwc_start(&tlb, va), 4);
  model_tlb__pwc_fill(&tlb, va, 1); /* a 4K walk used PML4E, PDPTE, PDE */
  ck_assert_uint_eq(model_tlb__pwc_start(&tlb, va + 0x1000), 1);
  ck_assert_uint_eq(model_tlb__pwc_start(&tlb, va + 0x200000), 2);     /* other PDE */
  ck_assert_uint_eq(model_tlb__pwc_start(&tlb, va + 0x40000000), 3);   /* other PDPTE */
  ck_assert_uint_eq(model_tlb__pwc_start(&tlb, va + (1ull << 39)), 4); /* other PML4E */
  model_tlb__count_walk(&tlb, 1, 1);
  model_tlb__count_walk(&tlb, 4, 1);
  ck_assert_uint_eq(tlb.st.walks, 2);
  ck_assert_uint_eq(tlb.st.walk_refs, 5);
  ck_assert_uint_eq(tlb.st.walk_refs_by_level[1], 2);
  ck_assert_uint_eq(tlb.st.walk_refs_by_level[4], 1);
  model_tlb__flush_va(&tlb, va);
  ck_assert_uint_eq(model_tlb__pwc_start(&tlb, va), 4);
}
END_TEST

START_TEST(test_ept_paging_structure_caches) {
  uint64_t gpa = 0x12345000ull;
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa), 4);
  model_tlb__ept_pwc_fill(&tlb, gpa, 4, 1); /* a full EPT walk to a 4K leaf */
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa + 0x1000), 1);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa + 0x200000), 2);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa + 0x40000000), 3);
  ck_assert_uint_eq(tlb.st.ept_pwc_hits[2], 1);
  ck_assert_uint_eq(tlb.st.ept_pwc_hits[1], 1);
  ck_assert_uint_eq(tlb.st.ept_pwc_hits[0], 1);
  /* a walk that started below a PDPTE hit caches only the PDE it read */
  model_tlb__ept_pwc_fill(&tlb, gpa + 0x200000, 2, 1);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa + 0x200000), 1);
  /* guest-physical: no VPID tag, kept by VPID flushes, CR3 loads and
   * INVLPG (SDM 28.4.3.1), dropped by INVEPT */
  tlb.vpid = 1;
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa), 1);
  model_tlb__flush_vpid(&tlb, 1, false);
  model_tlb__flush_vpid(&tlb, 0, false);
  model_tlb__flush_va(&tlb, gpa);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa), 1);
  model_tlb__flush_ept(&tlb);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa), 4);
  /* FIFO: the 33rd PDE evicts the first */
  for (uint64_t i = 0; i <= 32; i++)
    model_tlb__ept_pwc_fill(&tlb, i << 21, 4, 1);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, 0), 2);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, 32ull << 21), 1);
  /* configurable: no EPT caches, every EPT walk reads 4 levels */
  struct model_tlb_config cfg;
  model_tlb__default_config(&cfg);
  memset(cfg.ept_pwc, 0, sizeof cfg.ept_pwc);
  ck_assert_int_eq(model_tlb__configure(&tlb, &cfg, NULL, 0), 0);
  model_tlb__ept_pwc_fill(&tlb, gpa, 4, 1);
  ck_assert_uint_eq(model_tlb__ept_pwc_start(&tlb, gpa), 4);
  cfg.ept_pwc[2] = PWC_MAX + 1;
  char err[128] = "";
  ck_assert_int_eq(model_tlb__configure(&tlb, &cfg, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "EPT"));
}
END_TEST

/* The EPT paging-structure caches' position hints (a speed device) change
 * no result: a random mix of EPT walks (a lookup, then the fill from the
 * level it returned), fills without a lookup and INVEPTs over 72 regions of
 * 2 MiB (more than the 32-entry PDE cache holds) gives, at every lookup, the level and
 * the hit counts of a plain search of each cache's entries, and a hinted
 * PDE (model_tlb__ept_pde_hinted) is always a PDE hit. */
START_TEST(test_ept_pwc_hints_change_no_result) {
  uint64_t hits[PWC_LEVELS] = {0};
  unsigned x = 12345, pde_hinted = 0;
  for (int i = 0; i < 200000; i++) {
    x = x * 1103515245u + 12345u;
    unsigned r = x >> 8;
    uint64_t gpa = (uint64_t)(r % 3) << 39 | (uint64_t)(r / 3 % 2) << 30 |
                   (uint64_t)(r / 6 % 12) << 21 | (uint64_t)(r / 72 % 512) << 12;
    x = x * 1103515245u + 12345u;
    unsigned op = (x >> 8) % 100;
    if (op < 2) {
      model_tlb__flush_ept(&tlb);
      continue;
    }
    if (op < 10) { /* a fill whose lookup was another address's */
      model_tlb__ept_pwc_fill(&tlb, gpa, 4 - op % 4, 1);
      continue;
    }
    unsigned want = 4; /* the deepest level holding gpa's key among its entries */
    for (int l = PWC_LEVELS - 1; l >= 0 && want == 4; l--) {
      uint64_t k = (gpa & 0xffffffffffffull) >> (39 - 9 * l);
      for (unsigned w = 0; w < tlb.ept_pwc_size[l]; w++)
        if (tlb.ept_pwc[l][w] == k) {
          want = (unsigned)(3 - l);
          hits[l]++;
          break;
        }
    }
    bool hinted = model_tlb__ept_pde_hinted(&tlb, gpa);
    pde_hinted += hinted;
    if (hinted) ck_assert_uint_eq(want, 1);
    unsigned start = model_tlb__ept_pwc_start(&tlb, gpa);
    ck_assert_uint_eq(start, want);
    for (int l = 0; l < PWC_LEVELS; l++)
      ck_assert_uint_eq(tlb.st.ept_pwc_hits[l], hits[l]);
    if (op < 95) model_tlb__ept_pwc_fill(&tlb, gpa, start, 1);
  }
  ck_assert_uint_gt(pde_hinted, 5000);        /* the hints were used */
  ck_assert_uint_gt(hits[0] + hits[1], 1000); /* and the upper levels searched */
}
END_TEST

/* The EPT walk front's keys carry its generation: a flush makes every key
 * stale at once, and the generation's wrap clears the keys left over */
START_TEST(test_ept_front_flush_by_generation) {
  uint64_t gfn = 0x12345, far = 1ull << 40;
  struct tlb_ept_front *f = &tlb.ept_front[gfn & (EPT_FRONT - 1)];
  f->key = model_tlb__ept_front_key(&tlb, gfn);
  ck_assert_uint_eq(f->key, model_tlb__ept_front_key(&tlb, gfn));
  ck_assert_uint_ne(f->key, model_tlb__ept_front_key(&tlb, gfn + EPT_FRONT)); /* same entry */
  ck_assert_uint_eq(model_tlb__ept_front_key(&tlb, far), ~0ull); /* beyond 52 bits: none */
  model_tlb__flush_ept(&tlb);
  ck_assert_uint_ne(f->key, model_tlb__ept_front_key(&tlb, gfn));
  tlb.ept_front_tag = 0xffffull << 48; /* the last generation before the wrap */
  f->key = 0x77;                       /* a key of the generation 0, left over */
  model_tlb__flush_ept(&tlb);
  ck_assert_uint_eq(tlb.ept_front_tag, 0);
  ck_assert_uint_eq(f->key, 0);
}
END_TEST

START_TEST(test_cr3_flush_keeps_globals_of_other_levels) {
  /* the O(1) non-global flush: globals survive at every level, other
   * VPIDs keep everything, a later insert is live again */
  tlb.vpid = 1;
  ins(TLBL_L2, 0x5000, 12, true);
  ins(TLBL_L2, 0x6000, 12, false);
  tlb.vpid = 0;
  ins(TLBL_L2, 0x6000, 12, false);
  tlb.vpid = 1;
  model_tlb__flush_vpid(&tlb, 1, true);
  ck_assert(hit(TLBL_L2, 0x5000));
  ck_assert(!hit(TLBL_L2, 0x6000));
  ins(TLBL_L2, 0x6000, 12, false);
  ck_assert(hit(TLBL_L2, 0x6000));
  tlb.vpid = 0;
  ck_assert(hit(TLBL_L2, 0x6000));
}
END_TEST

/* ---- whole workloads: the front is exact --------------------------------------------- */
struct wl_run {
  uint64_t checksum;
  struct tlb_stats st;
  uint64_t instructions;
};

static int run_wl(const char *name, const char *p1, const char *p2, bool front_off,
                  struct wl_run *out) {
  char image[256];
  snprintf(image, sizeof image, "workloads/build/%s.elf", name);
  if (access(image, R_OK) != 0 || !backend__find("model")) return -1;
  struct vm_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.image = image;
  cfg.backend = "model";
  cfg.mem_size = 256ull << 20;
  cfg.timeout_s = 60;
  cfg.quiet = true;
  if (p1) cfg.params[cfg.nparams++] = p1;
  if (p2) cfg.params[cfg.nparams++] = p2;
  struct session_opts opts = {.no_probes = true};
  struct session *s = session__new(&cfg, &opts);
  ck_assert_int_eq(session__prepare(s), 0);
  struct model_cpu *c = model_backend__cpu(&s->vm);
  ck_assert_ptr_nonnull(c);
  c->tlbm.front_off = front_off;
  ck_assert_int_eq(session__run(s), RUN_OK);
  memset(out, 0, sizeof *out);
  for (int i = 0; i < s->vm.nreports; i++)
    if (strcmp(s->vm.reports[i].key, "checksum") == 0) out->checksum = s->vm.reports[i].value;
  out->st = c->tlbm.st;
  out->instructions = c->cnt.instructions;
  session__free(s);
  return 0;
}

static const struct {
  const char *name, *p1, *p2;
} exact_wls[] = {
    {"gups", "n=100000", "ws=4194304"},
    {"cr3switch", "n=200", NULL},
    {"ptemod", "n=200", NULL},
    {"pgfault", "n=200", NULL},
    {"memstream", "passes=1", "ws=1048576"},
};

/* The per-set live-way masks (a speed device) change no result: the same
 * random mix of inserts, lookups, flushes, INVLPGs and VPID switches (two
 * VPIDs sharing a generation group: mixed sets) on a TLB that scans every
 * way gives the same slots and the same counts. */
/* One operation of the random mixes below, chosen by op (a 4-bit draw): an
 * insert when op < ins_ops, a lookup up to 12, then a VPID flush, a
 * single-address flush, a VPID switch; r supplies the operands. Returns the
 * slot an insert or lookup gave. */
static struct tlb_slot *random_tlb_op(struct model_tlb *t, unsigned op, unsigned ins_ops,
                                      unsigned r, uint64_t va, enum tlb_level lv) {
  struct tlb_evicted ev;
  if (op < ins_ops)
    return model_tlb__insert(t, lv, va, va + 0x40000000ull, (r >> 14) % 5 ? 12 : 21,
                             TLBP_R | ((r >> 17) & 1 ? TLBP_W : 0), (r >> 18) % 8 == 0, &ev);
  if (op < 12) return model_tlb__lookup(t, lv, va, (r >> 19) & 1 ? TLBP_W : TLBP_R, true);
  if (op == 12)
    model_tlb__flush_vpid(t, t->vpid, (r >> 13) & 1);
  else if (op == 13 && r % 16 == 0)
    model_tlb__flush_va(t, va);
  else if (op == 14)
    t->vpid = vpids[(r >> 9) % 4];
  return NULL;
}

static struct model_tlb tlb_scan;

START_TEST(test_set_masks_change_no_result) {
  configure_default(&tlb_scan);
  ck_assert(tlb.setm_on);
  tlb_scan.setm_on = false;
  uint64_t rng = 12345;
  unsigned found = 0;
  for (int i = 0; i < 200000; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned op = (unsigned)(rng >> 60), r = (unsigned)(rng >> 20);
    uint64_t va = ((uint64_t)(r % 300) << 12) | ((uint64_t)(r % 3) << 30);
    enum tlb_level lv = (enum tlb_level)((r >> 12) % TLBL_COUNT);
    struct model_tlb *ts[2] = {&tlb, &tlb_scan};
    struct tlb_slot *got[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++)
      got[k] = random_tlb_op(ts[k], op, 6, r, va, lv);
    if (got[0] || got[1]) {
      ck_assert_ptr_nonnull(got[0]);
      ck_assert_ptr_nonnull(got[1]);
      ck_assert_int_eq(got[0] - tlb.slot, got[1] - tlb_scan.slot);
      ck_assert_uint_eq(got[0]->gpa, got[1]->gpa);
      found += op >= 6;
    }
  }
  ck_assert_uint_gt(found, 1000); /* the lookups did hit */
  ck_assert_mem_eq(&tlb.st, &tlb_scan.st, sizeof tlb.st);
}
END_TEST

/* The lookup's bloom masks (a speed device) change no result: the same
 * random mix on a TLB whose masks are saturated before every operation (so
 * every lookup and insert probes, as without them) gives the same slots and
 * counts. */
static struct model_tlb tlb_probe_all;

START_TEST(test_bloom_changes_no_result) {
  configure_default(&tlb_probe_all);
  uint64_t rng = 987654321;
  unsigned found = 0, missed = 0;
  for (int i = 0; i < 200000; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned op = (unsigned)(rng >> 60), r = (unsigned)(rng >> 20);
    uint64_t va = ((uint64_t)(r % 500) << 12) | ((uint64_t)(r % 3) << 30);
    enum tlb_level lv = (enum tlb_level)((r >> 12) % TLBL_COUNT);
    struct model_tlb *ts[2] = {&tlb, &tlb_probe_all};
    struct tlb_slot *got[2] = {NULL, NULL};
    memset(tlb_probe_all.bloom, 0xff, sizeof tlb_probe_all.bloom);
    for (int k = 0; k < 2; k++)
      got[k] = random_tlb_op(ts[k], op, 7, r, va, lv);
    ck_assert((got[0] == NULL) == (got[1] == NULL));
    if (got[0]) {
      ck_assert_int_eq(got[0] - tlb.slot, got[1] - tlb_probe_all.slot);
      ck_assert_uint_eq(got[0]->gpa, got[1]->gpa);
    }
    if (op >= 7 && op < 12) {
      found += got[0] != NULL;
      missed += got[0] == NULL;
    }
  }
  ck_assert_uint_gt(found, 1000); /* the lookups did hit, and miss */
  ck_assert_uint_gt(missed, 1000);
  ck_assert_mem_eq(&tlb.st, &tlb_probe_all.st, sizeof tlb.st);
}
END_TEST

/* The insert after a missed lookup (the memo of what that lookup's probes
 * found) and the exact live-way masks (the victim without testing each way)
 * change no result: translations as the CPU makes them (a lookup, on a miss
 * maybe something in between, then the insert of the same page), against a
 * TLB that scans every way and probes again at every insert. What comes in
 * between (an insert elsewhere at the same level, a flush, an INVLPG, a VPID
 * switch) must make the insert probe again; a lookup that needs W finding an
 * entry without it is refreshed in place. */
static struct model_tlb tlb_plain;

START_TEST(test_insert_after_miss_changes_no_result) {
  configure_default(&tlb_plain);
  tlb_plain.setm_on = false;
  uint64_t rng = 4242;
  unsigned refreshed = 0, between = 0, evicted = 0;
  for (int i = 0; i < 200000; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned op = (unsigned)(rng >> 60), r = (unsigned)(rng >> 20);
    uint64_t va = ((uint64_t)(r % 700) << 12) | ((uint64_t)(r % 3) << 30);
    enum tlb_level lv = (enum tlb_level)((r >> 12) % TLBL_COUNT);
    uint32_t need = (r >> 19) & 1 ? TLBP_W : TLBP_R;
    struct model_tlb *ts[2] = {&tlb, &tlb_plain};
    if (op >= 12) { /* a flush (rarely: the sets fill up), an INVLPG, a VPID switch alone */
      if (op == 12 && r % 8) continue;
      for (int k = 0; k < 2; k++)
        random_tlb_op(ts[k], op, 0, r, va, lv);
      continue;
    }
    struct tlb_slot *got[2];
    struct tlb_evicted ev[2];
    bool hit[2];
    for (int k = 0; k < 2; k++) {
      struct model_tlb *t = ts[k];
      got[k] = model_tlb__lookup(t, lv, va, need, true);
      hit[k] = got[k] != NULL;
      if (hit[k]) continue;
      if (op < 3) { /* something in between */
        uint64_t va2 = va ^ ((uint64_t)((r >> 22) % 64 + 1) << 12);
        if (op == 0) { /* elsewhere, or this very page (then the insert below refreshes it) */
          uint64_t at = (r >> 21) & 1 ? va : va2;
          model_tlb__insert(t, lv, at, at + 0x40000000ull, 12, TLBP_R, false, &ev[k]);
        } else if (op == 1) {
          model_tlb__flush_va(t, (r >> 21) & 1 ? va : va2);
        } else if (r % 8 == 0) {
          model_tlb__flush_vpid(t, t->vpid, (r >> 21) & 1);
        } else {
          t->vpid = vpids[(r >> 9) % 4];
        }
        between += k == 0;
      }
      if (k == 1) { /* the plain TLB probes again; an entry without W is refreshed */
        if (op >= 3 && need == TLBP_W && model_tlb__lookup(t, lv, va, TLBP_R, false)) refreshed++;
        t->missed[lv].ins = 0;
      }
      uint32_t perm = TLBP_R | (need == TLBP_W || (r >> 23) % 3 == 0 ? TLBP_W : 0);
      if ((r >> 25) % 4 == 0) perm &= ~(uint32_t)TLBP_W; /* stays without W: refreshed later */
      got[k] = model_tlb__insert(t, lv, va, va + 0x40000000ull, (r >> 14) % 5 ? 12 : 21, perm,
                                 (r >> 18) % 8 == 0, &ev[k]);
    }
    /* (no ck_assert per operation: each one writes a file) */
    bool same = hit[0] == hit[1] && (got[0] == NULL) == (got[1] == NULL);
    if (same && got[0])
      same = got[0] - tlb.slot == got[1] - tlb_plain.slot && got[0]->gpa == got[1]->gpa &&
             got[0]->perm == got[1]->perm;
    if (same && !hit[0]) {
      same = ev[0].valid == ev[1].valid &&
             (!ev[0].valid || (ev[0].vpn == ev[1].vpn && ev[0].shift == ev[1].shift));
      evicted += ev[0].valid;
    }
    if (!same)
      ck_abort_msg("operation %d (op %u, va 0x%llx, level %d): results differ", i, op,
                   (unsigned long long)va, (int)lv);
  }
  ck_assert_uint_gt(between, 1000);
  ck_assert_uint_gt(evicted, 1000);
  ck_assert_uint_gt(refreshed, 100);
  ck_assert_mem_eq(&tlb.st, &tlb_plain.st, sizeof tlb.st);
}
END_TEST

/* The fill after a walk (model_tlb__insert_l2_l1: both inserts of one call
 * read the VPID's group and generations once) is the insert at L2, then at
 * the L1 level: the same slots, evictions and counts as those two inserts
 * on a TLB without set masks (whose inserts never take the emptied-set
 * case), through flushes, INVLPGs and VPID switches (two VPIDs sharing a
 * group) between fills. */
START_TEST(test_insert_l2_l1_is_two_inserts) {
  configure_default(&tlb_plain);
  tlb_plain.setm_on = false;
  uint64_t rng = 777;
  unsigned fills = 0, evicted = 0, misses_before = 0, lookups[2];
  for (int i = 0; i < 100000; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned op = (unsigned)(rng >> 60), r = (unsigned)(rng >> 20);
    uint64_t va = ((uint64_t)(r % 600) << 12) | ((uint64_t)(r % 3) << 30);
    enum tlb_level l1 = (r >> 12) & 1 ? TLBL_L1I : TLBL_L1D;
    struct model_tlb *ts[2] = {&tlb, &tlb_plain};
    if (op >= 12) { /* a flush (full or CR3-load), an INVLPG, a VPID switch, a flush of all */
      if ((op == 12 && r % 4) || (op == 14 && r % 8) || (op == 15 && r % 64)) continue;
      for (int k = 0; k < 2; k++)
        if (op == 15)
          model_tlb__flush_all(ts[k]); /* (its sets restart: no mixed ones) */
        else if (op == 13)             /* INVLPG of another page in va's 2 MiB: its pieces go */
          model_tlb__flush_va(ts[k], va ^ ((uint64_t)((r >> 22) % 511 + 1) << 12));
        else
          random_tlb_op(ts[k], op, 0, r, va, l1);
      continue;
    }
    if (op >= 8) { /* a lookup (hits leave the last-hit memos the inserts must spoil) */
      struct tlb_slot *got[2];
      for (int k = 0; k < 2; k++)
        got[k] = model_tlb__lookup(ts[k], (r >> 13) & 1 ? TLBL_L2 : l1, va, TLBP_R, true);
      ck_assert_int_eq(got[0] ? got[0] - tlb.slot : -1, got[1] ? got[1] - tlb_plain.slot : -1);
      continue;
    }
    unsigned shift = (r >> 14) % 5 ? 12 : (r >> 14) % 10 ? 21 : 30;
    uint64_t page = 0x100000000ull + (va & ~((1ull << shift) - 1) & 0x3fffffffull);
    uint32_t perm = TLBP_R | ((r >> 17) & 1 ? TLBP_W : 0);
    if (shift == 12 && (r >> 21) % 4 == 0) /* EPT's 4 KiB piece of a guest 2 MiB page */
      perm |= TLBP_2M;
    bool global = (r >> 18) % 8 == 0;
    if ((r >> 23) & 1) { /* as the CPU fills: the L1 and L2 lookups of va missed first (their
                          * miss records; an entry without W misses a write: a refresh) */
      uint32_t need = (r >> 24) & 1 ? TLBP_W : TLBP_R;
      for (int k = 0; k < 2; k++) {
        struct tlb_slot *a = model_tlb__lookup(ts[k], l1, va, need, true);
        struct tlb_slot *b = a ? a : model_tlb__lookup(ts[k], TLBL_L2, va, need, true);
        lookups[k] = (a ? 2 : 0) + (b ? 1 : 0);
      }
      ck_assert_uint_eq(lookups[0], lookups[1]);
      if (lookups[0]) continue; /* a hit: no walk, no fill */
      perm |= need;
      misses_before++;
    }
    struct tlb_evicted ev[2], ev2;
    model_tlb__insert_l2_l1(&tlb, l1, va, page, shift, perm, global, &ev[0]);
    model_tlb__insert(&tlb_plain, TLBL_L2, va, page, shift, perm, global, &ev2);
    model_tlb__insert(&tlb_plain, l1, va, page, shift, perm, global, &ev[1]);
    fills++;
    ck_assert_uint_eq(ev[0].valid, ev[1].valid);
    if (ev[0].valid) {
      evicted++;
      ck_assert_uint_eq(ev[0].vpn, ev[1].vpn);
      ck_assert_uint_eq(ev[0].shift, ev[1].shift);
    }
  }
  for (unsigned i = 0; i < TLB_POOL; i++) { /* every slot, live or not */
    const struct tlb_slot *a = &tlb.slot[i], *b = &tlb_plain.slot[i];
    if (a->valid != b->valid ||
        (a->valid && (a->gpa != b->gpa || a->perm != b->perm || a->gen != b->gen ||
                      a->ngen != b->ngen || a->vpid != b->vpid || a->global != b->global ||
                      a->shift != b->shift || tlb.vpn_of[i] != tlb_plain.vpn_of[i])))
      ck_abort_msg("slot %u differs", i);
  }
  ck_assert_uint_gt(fills, 30000);
  ck_assert_uint_gt(evicted, 500);
  ck_assert_uint_gt(misses_before, 10000);
  ck_assert_mem_eq(&tlb.st, &tlb_plain.st, sizeof tlb.st);
  /* the last-hit memo: a 2 MiB entry found for va, then a 4 KiB fill of va
   * into emptied sets; the next lookup finds the 4 KiB entry (probed first) */
  setup();
  struct tlb_evicted ev;
  uint64_t va = 0x40212000ull;
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x200000, 12, TLBP_R, false, &ev);
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x400000, 21, TLBP_R, false, &ev);
  model_tlb__flush_vpid(&tlb, 0, false); /* the group's sets are emptied ones now */
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x400000, 21, TLBP_R, false, &ev);
  ck_assert_uint_eq(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_R, true)->shift, 21);
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x200000, 12, TLBP_R, false, &ev);
  ck_assert_uint_eq(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_R, true)->shift, 12);
  /* a write to a page whose entries lack W: both lookups miss (their miss
   * records hold the entries), and the fill refreshes those entries in place
   * (sets whose masks are exact, a free way in each: not taken) */
  setup();
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x200000, 12, TLBP_R, false, &ev);
  struct tlb_slot *was = model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_R, true);
  ck_assert_ptr_null(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_W, true));
  ck_assert_ptr_null(model_tlb__lookup(&tlb, TLBL_L2, va, TLBP_W, true));
  ck_assert_ptr_eq(
      model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x200000, 12, TLBP_R | TLBP_W, false, &ev), was);
  ck_assert_ptr_eq(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_W, true), was);
  /* a 4 KiB piece of a guest 2 MiB page filled into emptied sets: an INVLPG
   * of another address in that 2 MiB page drops it */
  setup();
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x200000, 12, TLBP_R, false, &ev);
  model_tlb__flush_vpid(&tlb, 0, false);
  model_tlb__insert_l2_l1(&tlb, TLBL_L1D, va, 0x200000, 12, TLBP_R | TLBP_2M, false, &ev);
  ck_assert_ptr_nonnull(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_R, true));
  model_tlb__flush_va(&tlb, va + 0x5000);
  ck_assert_ptr_null(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_R, true));
  ck_assert_ptr_null(model_tlb__lookup(&tlb, TLBL_L2, va, TLBP_R, true));
}
END_TEST

/* An entry lacking the permission a lookup needs is a miss (the walk then
 * sets D or faults), with one page size in use (the lookup's one-probe
 * case) and with two. */
START_TEST(test_lookup_needs_permission) {
  uint64_t va = 0x7000;
  struct tlb_evicted ev;
  model_tlb__insert(&tlb, TLBL_L1D, va, 0x100000, 12, TLBP_R, false, &ev);
  for (int sizes = 1; sizes <= 2; sizes++) {
    uint64_t misses = tlb.st.misses[TLBL_L1D];
    ck_assert_ptr_null(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_W, true));
    ck_assert_uint_eq(tlb.st.misses[TLBL_L1D], misses + 1);
    ck_assert_ptr_nonnull(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_R, true));
    ck_assert_ptr_null(model_tlb__lookup(&tlb, TLBL_L1D, va, TLBP_W, true));
    model_tlb__insert(&tlb, TLBL_L1D, 0x40000000, 0x200000, 21, TLBP_R | TLBP_W, false, &ev);
  }
  ck_assert_uint_eq(tlb.nprobe_used[TLBL_L1D][tlb.sizes_used[0][TLBL_L1D]], 2);
}
END_TEST

/* The guest paging-structure caches (straight-line lookup, a fill right
 * after its lookup without searching) against a plain reference: per cache
 * a FIFO of (VPID, key) entries searched one by one, a drop of a VPID group
 * clearing its entries. Random walks (a lookup, then the fill from the level
 * it returned down to a random leaf), fills whose lookup was another
 * address's or came before a flush, full and CR3-load flushes, INVLPGs,
 * VPID switches (1 and 1 + TLB_VPID_GENS share a group) and rare full
 * flushes: every lookup's level and hit counts must match. */
START_TEST(test_guest_pwc_matches_reference) {
  struct {
    uint64_t key;
    uint16_t vpid;
    bool valid;
  } ref[PWC_LEVELS][PWC_MAX];
  unsigned ref_rr[PWC_LEVELS] = {0};
  memset(ref, 0, sizeof ref);
  uint64_t hits[PWC_LEVELS] = {0};
  unsigned x = 4711, deep = 0, after_flush = 0;
  for (int i = 0; i < 200000; i++) {
    x = x * 1103515245u + 12345u;
    unsigned r = x >> 8;
    uint64_t va = (uint64_t)(r % 3) << 39 | (uint64_t)(r / 3 % 3) << 30 |
                  (uint64_t)(r / 9 % 4) << 21 | (uint64_t)(r / 36 % 512) << 12 |
                  ((r & 1) ? 0xffff000000000000ull : 0);
    x = x * 1103515245u + 12345u;
    unsigned op = (x >> 8) % 100, r2 = x >> 16;
    unsigned leaf = 1 + (r2 % 8 == 0) + (r2 % 16 == 0);
    if (op < 6) { /* drops: the VPID's group (flush, CR3 load, INVLPG) */
      if (op < 3)
        model_tlb__flush_vpid(&tlb, tlb.vpid, op == 1);
      else
        model_tlb__flush_va(&tlb, va);
      for (int l = 0; l < PWC_LEVELS; l++) /* (a skipped flush: the group held none) */
        for (unsigned w = 0; w < PWC_MAX; w++)
          if (ref[l][w].vpid % TLB_VPID_GENS == tlb.vpid % TLB_VPID_GENS) ref[l][w].valid = false;
      continue;
    }
    if (op < 9) {
      tlb.vpid = vpids[r2 % 4];
      continue;
    }
    if (op == 9 && r2 % 8 == 0) {
      model_tlb__flush_all(&tlb);
      memset(ref, 0, sizeof ref);
      continue;
    }
    unsigned start = 4 - (r2 >> 4) % 4; /* a fill whose lookup was another address's */
    if (op >= 14) {
      unsigned want = 4; /* the deepest cache holding the key */
      for (int l = PWC_LEVELS - 1; l >= 0 && want == 4; l--)
        for (unsigned w = 0; w < tlb.pwc_size[l]; w++)
          if (ref[l][w].valid && ref[l][w].vpid == tlb.vpid &&
              ref[l][w].key == (va & 0xffffffffffffull) >> (39 - 9 * l)) {
            want = (unsigned)(3 - l);
            hits[l]++;
            break;
          }
      start = model_tlb__pwc_start(&tlb, va);
      ck_assert_uint_eq(start, want);
      for (int l = 0; l < PWC_LEVELS; l++)
        ck_assert_uint_eq(tlb.st.pwc_hits[l], hits[l]);
      deep += start == 1;
      if (op < 18) { /* a drop between the lookup and its fill */
        model_tlb__flush_va(&tlb, va ^ 0x1000);
        for (int l = 0; l < PWC_LEVELS; l++)
          for (unsigned w = 0; w < PWC_MAX; w++)
            if (ref[l][w].vpid % TLB_VPID_GENS == tlb.vpid % TLB_VPID_GENS) ref[l][w].valid = false;
        after_flush++;
      }
    }
    model_tlb__pwc_fill_from(&tlb, va, start, leaf);
    int lo = start >= 4 ? 0 : 4 - (int)start, hi = 3 - (int)leaf; /* the levels it read */
    for (int l = lo; l <= hi && l < PWC_LEVELS; l++) {
      uint64_t k = (va & 0xffffffffffffull) >> (39 - 9 * l);
      unsigned n = tlb.pwc_size[l];
      bool have = false;
      for (unsigned w = 0; w < n; w++)
        have |= ref[l][w].valid && ref[l][w].vpid == tlb.vpid && ref[l][w].key == k;
      if (have || !n) continue;
      ref[l][ref_rr[l]].key = k;
      ref[l][ref_rr[l]].vpid = tlb.vpid;
      ref[l][ref_rr[l]].valid = true;
      ref_rr[l] = (ref_rr[l] + 1) % n;
    }
  }
  ck_assert_uint_gt(deep, 10000); /* PDE hits, and the upper levels searched */
  ck_assert_uint_gt(hits[0] + hits[1], 5000);
  ck_assert_uint_gt(after_flush, 1000);
}
END_TEST

/* The fill's slot taken as the level's last hit right after the fill
 * (model_tlb__last_after_fill(), the instruction fetch after a flush)
 * changes no result: lookups, each missed one followed by the fill of its
 * page (sometimes with something in between: an insert of the same page at
 * the other size or of another page at that level, a VPID switch, an
 * INVLPG or a flush), and often the same lookup again right after, against
 * the same TLB without the shortcut (which probes to find the filled slot).
 * Taking the memo after another insert at the level, after a VPID switch,
 * or for an entry without the permission the lookup needs each fails it. */
static struct model_tlb tlb_nofill;

START_TEST(test_last_after_fill_changes_no_result) {
  configure_default(&tlb_nofill);
  static const uint32_t needs[] = {TLBP_R, TLBP_W, TLBP_X, TLBP_X << 3};
  uint64_t rng = 777;
  uint64_t pva = 0;
  enum tlb_level plv = TLBL_L1I;
  uint32_t pneed = TLBP_X;
  unsigned taken = 0, memo_hits = 0;
  struct tlb_slot *took = NULL; /* the slot the shortcut last made the memo */
  struct model_tlb *ts[2] = {&tlb, &tlb_nofill};
  for (int i = 0; i < 200000; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned op = (unsigned)(rng >> 60), r = (unsigned)(rng >> 20);
    uint64_t va = ((uint64_t)(r % 300) << 12) | ((uint64_t)(r % 3) << 30);
    enum tlb_level lv = (enum tlb_level)((r >> 12) % TLBL_COUNT);
    uint32_t need = needs[(r >> 19) % 4];
    if (op >= 14) { /* a flush (rarely), an INVLPG, a VPID switch alone */
      if (op == 14 && r % 8) continue;
      for (int k = 0; k < 2; k++)
        random_tlb_op(ts[k], op == 14 ? 12 : 13 + (r & 1), 0, r, va, lv);
      continue;
    }
    if (op >= 7) { /* the same lookup as the last fill's (the next fetch from its page) */
      va = pva | (r & 0xfff);
      lv = plv;
      need = pneed;
    }
    bool on_memo = took && op >= 7 && tlb.last[lv].slot == took && tlb.last[lv].mod == tlb.mod &&
                   tlb.last[lv].page == va >> 12 && tlb.last[lv].vpid == tlb.vpid;
    struct tlb_slot *got[2];
    for (int k = 0; k < 2; k++)
      got[k] = model_tlb__lookup(ts[k], lv, va, need, true);
    memo_hits += on_memo && got[0] == took;
    if (!got[0] && !got[1]) {
      uint64_t ins = tlb.ins[lv];
      uint16_t vpid = tlb.vpid;
      unsigned shift = (r >> 14) % 4 ? 12 : 21;
      uint32_t perm = need | ((r >> 23) & 1 ? TLBP_R : 0) | ((r >> 24) & 1 ? TLBP_W : 0);
      if ((r >> 25) % 6 == 0) perm = (need == TLBP_R ? TLBP_W : TLBP_R); /* without need */
      for (int k = 0; k < 2; k++) {
        struct model_tlb *t = ts[k];
        struct tlb_evicted ev;
        if (op == 0) /* this page at the other size: maybe found before the fill */
          model_tlb__insert(t, lv, va, va + 0x80000000ull, shift == 12 ? 21 : 12, need | TLBP_R,
                            false, &ev);
        else if (op == 1)
          model_tlb__insert(t, lv, va ^ (((uint64_t)(r % 7) + 1) << 12), 0x1000, 12, need, false,
                            &ev);
        else if (op == 2)
          t->vpid = vpids[(r >> 9) % 4];
        else if (op == 3)
          model_tlb__flush_va(t, (r >> 21) & 1 ? va : va ^ 0x1000);
        else if (op == 4 && r % 4 == 0)
          model_tlb__flush_vpid(t, t->vpid, (r >> 21) & 1);
        got[k] =
            model_tlb__insert(t, lv, va, va + 0x40000000ull, shift, perm, (r >> 18) % 8 == 0, &ev);
      }
      model_tlb__last_after_fill(&tlb, lv, va, need, ins, vpid, got[0]);
      took = got[0] && tlb.last[lv].slot == got[0] && tlb.last[lv].mod == tlb.mod &&
                     tlb.last[lv].page == va >> 12 && tlb.last[lv].need == need
                 ? got[0]
                 : NULL;
      taken += took != NULL;
      pva = va & ~0xfffull;
      plv = lv;
      pneed = need;
    }
    bool same = (got[0] == NULL) == (got[1] == NULL);
    if (same && got[0])
      same = got[0] - tlb.slot == got[1] - tlb_nofill.slot && got[0]->gpa == got[1]->gpa;
    if (!same)
      ck_abort_msg("operation %d (op %u, va 0x%llx, level %d): results differ", i, op,
                   (unsigned long long)va, (int)lv);
  }
  ck_assert_uint_gt(taken, 5000);
  ck_assert_uint_gt(memo_hits, 5000); /* lookups served by a memo the shortcut took */
  ck_assert_mem_eq(&tlb.st, &tlb_nofill.st, sizeof tlb.st);
}
END_TEST

/* The second last-hit memo (model_tlb__keep_prev(), model_tlb__lookup_prev(),
 * the instruction fetch's) changes no result: lookups at L1I as the fetch
 * makes them (the memo first, else the lookup, the memo taking the last hit
 * it replaces; on a miss the fill), over pages that alternate and crowd one
 * set (evictions), with both needs (supervisor and user fetch; some entries
 * only for one), and now and then an insert of another page, an INVLPG, a
 * flush or a VPID switch, against the same TLB without the memo. Dropping
 * the memo's page, mod, insert-count, need or VPID test each fails it. */
static struct model_tlb tlb_noprev;

START_TEST(test_lookup_prev_changes_no_result) {
  configure_default(&tlb_noprev);
  struct tlb_prev prev = {0};
  uint64_t rng = 31337;
  unsigned prev_hits = 0;
  struct model_tlb *ts[2] = {&tlb, &tlb_noprev};
  const enum tlb_level lv = TLBL_L1I;
  for (int i = 0; i < 200000; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned op = (unsigned)(rng >> 60), r = (unsigned)(rng >> 20);
    /* 12 pages of one L1I set (16 sets), and their 2 MiB regions */
    /* mostly two pages in turn (a pair that moves on every 64 operations) */
    unsigned pick = (r >> 21) % 4 ? (unsigned)(i / 64 + (r & 1)) : r >> 3;
    uint64_t page = (uint64_t)(pick % 12) * 16 + ((r >> 7) % 4 == 0 ? 0x200 : 0);
    uint64_t va = (page << 12) | (r & 0xfff);
    uint32_t need = (r >> 11) % 3 == 0 ? TLBP_X << 3 : TLBP_X;
    if (op >= 13) {
      for (int k = 0; k < 2; k++) {
        struct model_tlb *t = ts[k];
        struct tlb_evicted ev;
        if (op == 13)
          model_tlb__insert(t, lv, va ^ 0x5000, 0x7000, (r >> 13) % 4 ? 12 : 21, TLBP_X, false,
                            &ev);
        else if (op == 14 && r % 4 == 0)
          model_tlb__flush_va(t, va);
        else if (op == 14 && r % 4 == 1)
          model_tlb__flush_vpid(t, t->vpid, (r >> 13) & 1);
        else if (op == 15)
          t->vpid = vpids[(r >> 9) % 4];
      }
      continue;
    }
    struct tlb_slot *got[2];
    got[0] = model_tlb__lookup_last(&tlb, lv, va, need, true);
    if (!got[0]) {
      got[0] = model_tlb__lookup_prev(&tlb, lv, &prev, va, need);
      prev_hits += got[0] != NULL;
      if (!got[0]) {
        model_tlb__keep_prev(&tlb, lv, &prev);
        got[0] = model_tlb__lookup(&tlb, lv, va, need, true);
      }
    }
    got[1] = model_tlb__lookup(&tlb_noprev, lv, va, need, true);
    bool same = (got[0] == NULL) == (got[1] == NULL);
    if (same && got[0])
      same = got[0] - tlb.slot == got[1] - tlb_noprev.slot && got[0]->gpa == got[1]->gpa;
    if (!same)
      ck_abort_msg("operation %d (op %u, va 0x%llx): results differ", i, op,
                   (unsigned long long)va);
    if (!got[0]) { /* the fill: some pages' entries only for supervisor fetches */
      uint32_t perm = TLBP_R | TLBP_X | (page % 3 ? TLBP_X << 3 : 0);
      for (int k = 0; k < 2; k++) {
        struct tlb_evicted ev;
        model_tlb__insert(ts[k], lv, va, (page << 12) + 0x40000000ull + ((r >> 15) & 1) * 0x1000,
                          (r >> 16) % 8 ? 12 : 21, perm, false, &ev);
      }
    }
  }
  ck_assert_uint_gt(prev_hits, 5000);
  ck_assert_mem_eq(&tlb.st, &tlb_noprev.st, sizeof tlb.st);
}
END_TEST

/* A set of more than 64 ways has no live-way masks: every way is scanned
 * (the probe must not stop at 64). */
START_TEST(test_wide_set_scans_every_way) {
  struct model_tlb_config cfg;
  model_tlb__default_config(&cfg);
  cfg.geom[TLBA_L1D_4K] = (struct tlb_geom){1, 128}; /* fully associative, 128 entries */
  ck_assert_int_eq(model_tlb__configure(&tlb, &cfg, NULL, 0), 0);
  ck_assert(!tlb.setm_on);
  for (uint64_t p = 0; p < 128; p++)
    ins(TLBL_L1D, p << 12, 12, false);
  for (uint64_t p = 0; p < 128; p++)
    ck_assert_msg(hit(TLBL_L1D, p << 12), "page %llu", (unsigned long long)p);
  ck_assert_uint_eq(tlb.st.hits[TLBL_L1D], 128);
  ins(TLBL_L1D, 128ull << 12, 12, false); /* the 129th evicts the first (round-robin) */
  ck_assert(!hit(TLBL_L1D, 0));
  ck_assert(hit(TLBL_L1D, 128ull << 12));
}
END_TEST

START_TEST(test_front_keeps_counts_exact) {
  struct wl_run on, off;
  if (run_wl(exact_wls[_i].name, exact_wls[_i].p1, exact_wls[_i].p2, false, &on) < 0) {
    printf("test_model_tlb: %s: skipped: image or model backend missing\n", exact_wls[_i].name);
    return;
  }
  run_wl(exact_wls[_i].name, exact_wls[_i].p1, exact_wls[_i].p2, true, &off);
  ck_assert_uint_eq(on.checksum, off.checksum);
  ck_assert_uint_eq(on.instructions, off.instructions);
  ck_assert_uint_eq(off.st.front_hits, 0);
  ck_assert_uint_eq(on.st.lookups[TLBL_L1D] + on.st.front_hits, off.st.lookups[TLBL_L1D]);
  ck_assert_uint_eq(on.st.hits[TLBL_L1D] + on.st.front_hits, off.st.hits[TLBL_L1D]);
  for (int lv = 0; lv < TLBL_COUNT; lv++) {
    ck_assert_uint_eq(on.st.misses[lv], off.st.misses[lv]);
    ck_assert_uint_eq(off.st.lookups[lv], off.st.hits[lv] + off.st.misses[lv]);
  }
  ck_assert_uint_eq(on.st.lookups[TLBL_L1I], off.st.lookups[TLBL_L1I]);
  ck_assert_uint_eq(on.st.walks, off.st.walks);
  ck_assert_uint_eq(on.st.walk_refs, off.st.walk_refs);
  /* an L1 miss looks in the L2; an L2 miss walks */
  ck_assert_uint_eq(on.st.lookups[TLBL_L2], on.st.misses[TLBL_L1D] + on.st.misses[TLBL_L1I]);
  ck_assert_uint_eq(on.st.walks, on.st.misses[TLBL_L2]);
  ck_assert_uint_gt(on.st.walks, 0);
  uint64_t sum = 0;
  for (int l = 1; l < WALK_LEVELS; l++)
    sum += on.st.walk_refs_by_level[l];
  ck_assert_uint_eq(sum, on.st.walk_refs);
  ck_assert_uint_ge(on.st.walk_refs, on.st.walks);
  ck_assert_uint_le(on.st.walk_refs, 4 * on.st.walks);
}
END_TEST

START_TEST(test_gups_misses_more_with_larger_working_set) {
  struct wl_run small, big;
  if (run_wl("gups", "n=50000", "ws=65536", false, &small) < 0) return;
  run_wl("gups", "n=50000", "ws=67108864", false, &big);
  /* 16 pages fit the L1 DTLB; 16384 pages miss the STLB too */
  ck_assert_uint_lt(small.st.misses[TLBL_L2] * 10, big.st.misses[TLBL_L2]);
  ck_assert_uint_lt(small.st.misses[TLBL_L1D] * 10, big.st.misses[TLBL_L1D]);
}
END_TEST

Suite *suite_model_tlb(void) {
  Suite *s = suite_create("model_tlb");
  TCase *tc = tcase_create("arrays");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_default_geometry_is_skylake);
  tcase_add_test(tc, test_bad_geometry_refused);
  tcase_add_test(tc, test_set_eviction_round_robin);
  tcase_add_test(tc, test_vpid_tags_and_flushes);
  tcase_add_test(tc, test_large_pages_and_fracturing);
  tcase_add_test(tc, test_paging_structure_caches);
  tcase_add_test(tc, test_ept_paging_structure_caches);
  tcase_add_test(tc, test_ept_pwc_hints_change_no_result);
  tcase_add_test(tc, test_ept_front_flush_by_generation);
  tcase_add_test(tc, test_cr3_flush_keeps_globals_of_other_levels);
  tcase_add_test(tc, test_set_masks_change_no_result);
  tcase_add_test(tc, test_bloom_changes_no_result);
  tcase_add_test(tc, test_insert_after_miss_changes_no_result);
  tcase_add_test(tc, test_last_after_fill_changes_no_result);
  tcase_add_test(tc, test_lookup_prev_changes_no_result);
  tcase_add_test(tc, test_wide_set_scans_every_way);
  tcase_add_test(tc, test_insert_l2_l1_is_two_inserts);
  tcase_add_test(tc, test_guest_pwc_matches_reference);
  tcase_add_test(tc, test_lookup_needs_permission);
  suite_add_tcase(s, tc);
  TCase *tw = tcase_create("workloads");
  tcase_set_timeout(tw, 120);
  tcase_add_loop_test(tw, test_front_keeps_counts_exact, 0,
                      (int)(sizeof exact_wls / sizeof exact_wls[0]));
  tcase_add_test(tw, test_gups_misses_more_with_larger_working_set);
  suite_add_tcase(s, tw);
  return s;
}
