/* test_model_mmu.c - the model's native 4-level page walk: 4 KiB, 2 MiB and
 * 1 GiB pages, A/D bits, U/S, R/W with CR0.WP, NX, reserved bits, error
 * codes, walk reference counts, and the translation cache's INVLPG/CR3
 * behaviour seen from guest code. Expected values from the SDM (vol. 3,
 * ch. 4.5 and 4.7). */
#include <check.h>
#include <string.h>

#include "refvmm/model/vmm/vmm_ept.h"
#include "test_model_harness.h"

#define P  0x1ull
#define W  0x2ull
#define U  0x4ull
#define A  0x20ull
#define D  0x40ull
#define PS 0x80ull
#define NX (1ull << 63)

/* private tables at 0x400000.. (inside the harness's RAM, away from its own) */
#define T_PML4 0x400000ull
#define T_PDPT 0x401000ull
#define T_PD   0x402000ull
#define T_PT   0x403000ull
#define VA4K   0x00007f8040201123ull /* PML4 255, PDPT 1, PD 1, PT 1, offset 0x123 */

static struct tm *t;

static void put(uint64_t gpa, uint64_t v) {
  memcpy(t->ram + gpa, &v, 8);
}
static uint64_t get(uint64_t gpa) {
  uint64_t v;
  memcpy(&v, t->ram + gpa, 8);
  return v;
}

static void setup(void) {
  static const uint8_t nop[] = {0x90};
  struct tm_state st = {.cpl = 0};
  t = tm_new(nop, sizeof nop, &st);
  t->c->cr3 = T_PML4;
  put(T_PML4 + 255 * 8, T_PDPT | P | W | U);
  put(T_PDPT + 1 * 8, T_PD | P | W | U);
  put(T_PD + 1 * 8, T_PT | P | W | U);
  put(T_PT + 1 * 8, 0x500000 | P | W | U);
}
static void teardown(void) {
  tm_free(t);
  t = NULL;
}

#define F(code) ((int)(MMU_FAULT | (code)))

static int walk(uint64_t va, unsigned acc, uint64_t *gpa) {
  uint32_t perm;
  return model_mmu__walk(t->c, va, acc, gpa, &perm, true);
}

START_TEST(test_4k_read_sets_accessed_only) {
  uint64_t gpa;
  uint64_t walks = t->c->cnt.walks, refs = t->c->cnt.walk_refs;
  ck_assert_int_eq(walk(VA4K, ACC_U, &gpa), 0);
  ck_assert_uint_eq(gpa, 0x500123);
  ck_assert_uint_eq(t->c->cnt.walks - walks, 1);
  ck_assert_uint_eq(t->c->cnt.walk_refs - refs, 4);
  ck_assert(get(T_PML4 + 255 * 8) & A);
  ck_assert(get(T_PDPT + 8) & A);
  ck_assert(get(T_PD + 8) & A);
  ck_assert(get(T_PT + 8) & A);
  ck_assert(!(get(T_PT + 8) & D));
  ck_assert(!(get(T_PD + 8) & D)); /* D only in the leaf */
}
END_TEST

START_TEST(test_4k_write_sets_dirty) {
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, ACC_U | ACC_W, &gpa), 0);
  ck_assert(get(T_PT + 8) & D);
  ck_assert(!(get(T_PD + 8) & D));
}
END_TEST

START_TEST(test_2m_page) {
  put(T_PD + 1 * 8, 0x600000 | P | W | U | PS);
  uint64_t gpa, refs = t->c->cnt.walk_refs;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
  ck_assert_uint_eq(gpa, 0x600000 + (VA4K & 0x1fffff));
  ck_assert_uint_eq(t->c->cnt.walk_refs - refs, 3);
  ck_assert_int_eq(walk(VA4K, ACC_W, &gpa), 0);
  ck_assert(get(T_PD + 8) & D);
}
END_TEST

START_TEST(test_1g_page) {
  put(T_PDPT + 1 * 8, 0xc0000000ull | P | W | U | PS);
  uint64_t gpa, refs = t->c->cnt.walk_refs;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
  ck_assert_uint_eq(gpa, 0xc0000000ull + (VA4K & 0x3fffffff));
  ck_assert_uint_eq(t->c->cnt.walk_refs - refs, 2);
}
END_TEST

START_TEST(test_1g_page_misaligned_is_reserved) {
  put(T_PDPT + 1 * 8, 0xc0200000ull | P | W | U | PS);
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), F((PFEC_P | PFEC_RSVD)));
}
END_TEST

START_TEST(test_not_present_error_codes) {
  put(T_PD + 1 * 8, 0);
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), F(0));
  ck_assert_int_eq(walk(VA4K, ACC_W, &gpa), F(PFEC_W));
  ck_assert_int_eq(walk(VA4K, ACC_W | ACC_U, &gpa), F((PFEC_W | PFEC_U)));
  ck_assert_int_eq(walk(VA4K, ACC_X, &gpa), F(PFEC_I)); /* EFER.NXE=1 */
}
END_TEST

START_TEST(test_user_supervisor) {
  put(T_PD + 1 * 8, T_PT | P | W); /* U clear at one level is enough */
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
  ck_assert_int_eq(walk(VA4K, ACC_U, &gpa), F((PFEC_P | PFEC_U)));
  ck_assert_int_eq(walk(VA4K, ACC_U | ACC_X, &gpa), F((PFEC_P | PFEC_U | PFEC_I)));
}
END_TEST

START_TEST(test_read_only_and_wp) {
  put(T_PT + 1 * 8, 0x500000 | P | U);
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, ACC_U, &gpa), 0);
  ck_assert_int_eq(walk(VA4K, ACC_U | ACC_W, &gpa), F((PFEC_P | PFEC_W | PFEC_U)));
  ck_assert_int_eq(walk(VA4K, ACC_W, &gpa), F((PFEC_P | PFEC_W))); /* CR0.WP=1 */
  t->c->cr0 &= ~(1ull << 16);
  ck_assert_int_eq(walk(VA4K, ACC_W, &gpa), 0); /* WP=0: supervisor may write */
  ck_assert_int_eq(walk(VA4K, ACC_U | ACC_W, &gpa), F((PFEC_P | PFEC_W | PFEC_U)));
}
END_TEST

START_TEST(test_nx) {
  put(T_PD + 1 * 8, T_PT | P | W | U | NX);
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
  ck_assert_int_eq(walk(VA4K, ACC_X, &gpa), F((PFEC_P | PFEC_I)));
  t->c->efer &= ~(1ull << 11); /* NXE=0: bit 63 is reserved */
  ck_assert_int_eq(walk(VA4K, 0, &gpa), F((PFEC_P | PFEC_RSVD)));
}
END_TEST

START_TEST(test_reserved_bits) {
  uint64_t gpa;
  put(T_PML4 + 255 * 8, T_PDPT | P | W | U | PS); /* PS in a PML4E */
  ck_assert_int_eq(walk(VA4K, 0, &gpa), F((PFEC_P | PFEC_RSVD)));
  put(T_PML4 + 255 * 8, T_PDPT | P | W | U);
  put(T_PT + 1 * 8, (1ull << 45) | 0x500000 | P); /* above MAXPHYADDR (40) */
  ck_assert_int_eq(walk(VA4K, ACC_W, &gpa), F((PFEC_P | PFEC_RSVD | PFEC_W)));
}
END_TEST

START_TEST(test_table_outside_ram_is_not_present) {
  put(T_PD + 1 * 8, 0x80000000ull | P | W | U); /* page table beyond RAM */
  uint64_t gpa;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), F(0));
}
END_TEST

/* Guest view: a changed PTE is not seen until INVLPG (the translation is
 * cached), then it is; A and D bits appear in the guest's PTE. */
START_TEST(test_invlpg_from_guest) {
  /* mov rax,[rbx]; mov [rdx],rsi; mov rcx,[rbx]; invlpg [rbx]; mov r8,[rbx]; mov [rbx],r8 */
  static const uint8_t code[] = {0x48, 0x8b, 0x03, 0x48, 0x89, 0x32, 0x48, 0x8b, 0x0b,
                                 0x0f, 0x01, 0x3b, 0x4c, 0x8b, 0x03, 0x4c, 0x89, 0x03};
  struct tm_state st = {.cpl = 0};
  /* va 0x8ff000: PD[4] of the harness map -> our PT, PTE 255; its cache slot
   * differs from the code's and the PT's so nothing evicts it */
  st.gpr[3] = 0x8ff000;
  st.gpr[2] = 0x420000 + 255 * 8;
  st.gpr[6] = 0x501000 | P | W;
  struct tm *g = tm_new(code, sizeof code, &st);
  uint64_t pde = 0x420000 | P | W, pte = 0x500000 | P | W, a = 0x1111, b = 0x2222;
  memcpy(g->ram + TM_PD + 4 * 8, &pde, 8);
  memcpy(g->ram + 0x420000 + 255 * 8, &pte, 8);
  memcpy(g->ram + 0x500000, &a, 8);
  memcpy(g->ram + 0x501000, &b, 8);
  struct tm_result r;
  tm_run(g, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_uint_eq(r.gpr[0], 0x1111);
  ck_assert_uint_eq(r.gpr[1], 0x1111); /* stale until INVLPG */
  ck_assert_uint_eq(r.gpr[8], 0x2222);
  uint64_t now;
  memcpy(&now, g->ram + 0x420000 + 255 * 8, 8);
  ck_assert_uint_eq(now & (A | D), A | D); /* read then write through the new PTE */
  tm_free(g);
}
END_TEST

/* translate() prefetches the data through a front slot whose tag went stale
 * (speed: that slot most often held the same page), a guess only: a slot
 * left holding another page, with all its lines marked in L1, changes
 * neither what the accesses read nor any count (TLB, walks, data caches). */
START_TEST(test_stale_front_slot_is_only_a_guess) {
  /* mov rax,[rbx]; add [rbx],rsi; mov rcx,[rbx]; mov [rbx+0x40],rsi; mov rdx,[rbx+0x40] */
  static const uint8_t code[] = {0x48, 0x8b, 0x03, 0x48, 0x01, 0x33, 0x48, 0x8b, 0x0b,
                                 0x48, 0x89, 0x73, 0x40, 0x48, 0x8b, 0x53, 0x40};
  struct tm_state st = {.cpl = 0};
  st.gpr[3] = TM_DATA + 0x80;
  st.gpr[6] = 0x55;
  struct tm_result r[2];
  struct tlb_stats ts[2];
  struct cache_stats cs[2];
  struct model_counters cn[2];
  for (int k = 0; k < 2; k++) {
    struct tm *g = tm_new(code, sizeof code, &st);
    struct model_cache_config cfg;
    char err[128];
    model_cache__default_config(&cfg);
    ck_assert_int_eq(model_cache__configure(&g->c->cache, &cfg, err, sizeof err), 0);
    uint64_t v = 0x1000, other = 0x7777;
    memcpy(g->ram + TM_DATA + 0x80, &v, 8);
    memcpy(g->ram + 0x500080, &other, 8);
    if (k == 0) { /* the data page's slot, stale, on another page */
      struct model_tlb_entry *e = &g->c->tlb[(TM_DATA >> 12) & (MODEL_TLB_SIZE - 1)];
      e->tag = 0;
      e->host = g->ram + 0x500000;
      e->gpa = 0x500000;
      e->lines = ~0ull;
      e->perm = ~0u;
      e->hint = 0x12345; /* an EPT frame hint where there is no EPT */
    }
    tm_run(g, &r[k]);
    ts[k] = g->c->tlbm.st;
    cs[k] = g->c->cache.st;
    cn[k] = g->c->cnt;
    model_cache__free(&g->c->cache);
    tm_free(g);
  }
  ck_assert_uint_eq(r[0].gpr[0], 0x1000);
  ck_assert_uint_eq(r[0].gpr[1], 0x1055);
  ck_assert_uint_eq(r[0].gpr[2], 0x55);
  for (int i = 0; i < 16; i++)
    ck_assert_uint_eq(r[0].gpr[i], r[1].gpr[i]);
  ck_assert_int_eq(r[0].vector, r[1].vector);
  ck_assert_mem_eq(r[0].data, r[1].data, TM_DATA_LEN);
  ck_assert_mem_eq(&ts[0], &ts[1], sizeof ts[0]);
  ck_assert_mem_eq(&cs[0], &cs[1], sizeof cs[0]);
  ck_assert_mem_eq(&cn[0], &cn[1], sizeof cn[0]);
  uint64_t missed = 0; /* the first load missed L1 (the slot's lines were not taken) */
  for (int l = CL_L2; l < CL_COUNT; l++)
    for (int k = 0; k < CK_COUNT; k++)
      missed += cs[0].refs[CS_DATA][l][k];
  ck_assert_uint_gt(missed, 0);
}
END_TEST

/* Under EPT the walk reads the guest's tables through the EPT walk front,
 * whose tables it tests once per walk, and the translation's final step
 * consults it inline: after the VMM switches EPTP (no INVEPT), the front
 * holds the old tables' frames and must not be used by either. */
START_TEST(test_ept_walk_front_follows_eptp) {
  static uint64_t ept[8 * 512]; /* tables A: pages 0-3, tables B: pages 4-7 */
  memset(ept, 0, sizeof ept);
  for (unsigned b = 0; b < 8; b += 4) {
    ept[b * 512] = ((b + 1ull) << 12) | 7;           /* PML4[0] */
    ept[(b + 1) * 512] = ((b + 2ull) << 12) | 7;     /* PDPT[0] */
    ept[(b + 2) * 512 + 2] = ((b + 3ull) << 12) | 7; /* PD[2]: 4 MiB.. */
    for (uint64_t f = 0x400; f <= 0x403; f++)        /* the guest's tables */
      ept[(b + 3) * 512 + (f & 511)] = (f << 12) | 7;
  }
  ept[7 * 512 + 3] = (0x603ull << 12) | 7; /* B: the PT's frame is another one */
  put(0x603000 + 1 * 8, 0x510000 | P | W | U);
  struct model_cpu *c = t->c;
  c->vmcs = (struct model_vmcs){.active = true,
                                .proc_based = CPU_BASED_ACTIVATE_SECONDARY,
                                .secondary = SECONDARY_EXEC_ENABLE_EPT,
                                .ept_mem = ept,
                                .ept_pages = 8};
  uint64_t gpa = 0;
  for (int i = 0; i < 2; i++) { /* the second walk through the front */
    ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
    ck_assert_uint_eq(gpa, 0x500123);
  }
  c->vmcs.eptp = 4ull << 12;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
  ck_assert_uint_eq(gpa, 0x510123);
  c->vmcs.eptp = 0;
  ck_assert_int_eq(walk(VA4K, 0, &gpa), 0);
  ck_assert_uint_eq(gpa, 0x500123);
  /* the translation's last step, the page's frame (a counted reference):
   * the same guest page, another host frame under B */
  ept[7 * 512 + 3] = (0x403ull << 12) | 7;
  ept[3 * 512 + 0x100] = (0x500ull << 12) | 7;
  ept[7 * 512 + 0x100] = (0x530ull << 12) | 7;
  for (int i = 0; i < 2; i++) {
    model_mmu__flush_va(c, VA4K);
    ck_assert_uint_eq(model_mmu__translate(c, VA4K, 0)->gpa, 0x500000);
  }
  model_mmu__flush_va(c, VA4K);
  c->vmcs.eptp = 4ull << 12;
  ck_assert_uint_eq(model_mmu__translate(c, VA4K, 0)->gpa, 0x530000);
  c->vmcs = (struct model_vmcs){0};
}
END_TEST

/* The random walk tests' draws. An entry for the frame at `frame` from the
 * draw r, with its features one in o.* times: outside RAM, not present
 * (all but one in absent are present), a large page, NX, each of two
 * reserved bits. */
struct pte_odds {
  unsigned outside, absent, large, nx, reserved;
};

static uint64_t random_entry(uint64_t r, uint64_t frame, const struct pte_odds *o) {
  uint64_t e = frame;
  if (r % o->outside == 0) e = 0x7f000000ull; /* outside RAM */
  if (r % o->absent) e |= P;
  e |= (r >> 8) & (W | U | A | D | 0x100 /* G */);
  if ((r >> 16) % o->large == 0) e |= PS;
  if ((r >> 20) % o->nx == 0) e |= NX;
  if ((r >> 24) % o->reserved == 0) e |= 1ull << 45; /* reserved above MAXPHYADDR */
  if ((r >> 28) % o->reserved == 0) e |= 1ull << 13; /* reserved in a large frame */
  return e;
}

/* CR0.WP, EFER.NXE and CR4.PGE from bits 8, 9 and 10 of r */
static void random_wp_nxe_pge(struct model_cpu *c, uint64_t r) {
  c->cr0 = (r >> 8) & 1 ? c->cr0 | (1ull << 16) : c->cr0 & ~(1ull << 16);
  c->efer = (r >> 9) & 1 ? c->efer | (1ull << 11) : c->efer & ~(1ull << 11);
  c->cr4 = (r >> 10) & 1 ? c->cr4 | (1ull << 7) : c->cr4 & ~(1ull << 7);
}

/* an access (never write and execute together) from bits 11-13 of r */
static unsigned random_acc(uint64_t r) {
  unsigned acc = (unsigned)(r >> 11) % 8;
  if ((acc & ACC_X) && (acc & ACC_W)) acc &= ~ACC_W;
  return acc;
}

/* an address from bits 16-35 of r: entries 0..1 of PML4 and PDPT, 0..3 of
 * PD and PT, any offset */
static uint64_t random_va(uint64_t r) {
  return ((r >> 16) & 1) << 39 | ((r >> 18) & 1) << 30 | ((r >> 20) & 3) << 21 |
         ((r >> 22) & 3) << 12 | ((r >> 24) & 0xfff);
}

/* The VMM's walk (model_vmx__walk_guest_path(), a specialised copy of this
 * walk for the shadow #PF handler) against model_mmu__walk() on random
 * tables: the same result, error code, gpa and perm, the same A/D writes,
 * the same counters, and a path that is what the tables hold afterwards. */
START_TEST(test_vmm_walk_matches_cpu_walk) {
  enum { NT = 16, RBASE = 0x400000, RLEN = NT << 12 };
  static uint8_t before[RLEN], after_cpu[RLEN];
  uint64_t rng = 0x2545f4914f6cdd1dull;
#define RND() (rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng)
  struct model_cpu *c = t->c;
  unsigned oks = 0, faults = 0, large = 0;
  const struct pte_odds odds = {.outside = 32, .absent = 8, .large = 4, .nx = 4, .reserved = 16};
  for (int trial = 0; trial < 20000; trial++) {
    /* new tables every 64 walks (entries 0..3 of every frame), between
     * them one entry changed now and then (what the VMM's memo of upper
     * entries must notice) */
    for (unsigned f = 0; f < NT; f++)
      for (unsigned i = 0; i < 4; i++)
        if (trial % 64 == 0 || (f == 0 && i == 0 && RND() % 4 == 0)) {
          unsigned ff = trial % 64 ? (unsigned)(RND() % NT) : f, ii = trial % 64 ? RND() % 4 : i;
          uint64_t r = RND(), frame = RBASE + (RND() % NT) * 4096;
          uint64_t e = random_entry(r, frame, &odds);
          put(RBASE + ff * 4096 + ii * 8, e);
        }
    uint64_t r = RND();
    c->cr3 = RBASE + ((trial / 64 + r % 2) % NT) * 4096; /* two roots at a time */
    random_wp_nxe_pge(c, r);
    unsigned acc = random_acc(r);
    uint64_t va = random_va(r);
    memcpy(before, t->ram + RBASE, RLEN);
    uint64_t walks = c->cnt.walks, refs = c->cnt.walk_refs;
    uint64_t gpa1 = 0, gpa2 = 0;
    uint32_t perm1 = 0, perm2 = 0;
    int err1 = model_mmu__walk(c, va, acc, &gpa1, &perm1, true);
    uint64_t dwalks = c->cnt.walks - walks, drefs = c->cnt.walk_refs - refs;
    uint8_t level1 = c->walk_level;
    memcpy(after_cpu, t->ram + RBASE, RLEN);
    memcpy(t->ram + RBASE, before, RLEN);
    walks = c->cnt.walks, refs = c->cnt.walk_refs;
    const struct vmx_guest_path *pp;
    int err2 = model_vmx__walk_guest_path(c, va, acc, &gpa2, &perm2, &pp);
    ck_assert_int_eq(err2, err1);
    ck_assert_uint_eq(c->cnt.walks - walks, dwalks);
    ck_assert_uint_eq(c->cnt.walk_refs - refs, drefs);
    ck_assert_uint_eq(c->walk_level, level1);
    ck_assert(memcmp(t->ram + RBASE, after_cpu, RLEN) == 0);
    if (err1) {
      faults++;
      continue;
    }
    oks++;
    struct vmx_guest_path path = *pp; /* (the memo's: the next walk may rewrite it) */
    ck_assert_uint_eq(gpa2, gpa1);
    ck_assert_uint_eq(perm2, perm1);
    ck_assert_int_eq(path.leaf_level, c->walk_level);
    large += path.leaf_level > 1;
    /* what a second pass over the tables reads: the leaf exactly; an upper
     * entry but for the A/D bits a later step may have set in it (tables
     * that alias: the same entry on two levels) */
    uint64_t table = c->cr3 & 0x000ffffffffff000ull, above = 3;
    for (int l = 4; l >= path.leaf_level; l--) {
      uint64_t e = get(table + ((va >> (3 + 9 * l)) & 511) * 8);
      uint64_t mask = l == path.leaf_level ? ~0ull : ~(A | D);
      ck_assert_uint_eq(path.e[l] & mask, e & mask);
      /* the table it was read from and what the entries above allow */
      ck_assert_uint_eq(path.tab[l], table);
      ck_assert_uint_eq(path.above[l], above);
      above &= (e >> 2 & 1) | (e & 2) | 4;
      if ((c->efer >> 11) & 1) above |= e >> 63 << 2;
      table = e & 0x000ffffffffff000ull;
    }
    /* again, without perm (the shadow #PF handler's call) and with it,
     * over what the walk left (its A/D bits set: the memo of the upper
     * entries and of the leaf now holds) */
    for (int again = 0; again < 2; again++) {
      walks = c->cnt.walks, refs = c->cnt.walk_refs;
      const struct vmx_guest_path *pp2;
      uint64_t gpa3 = 0;
      uint32_t perm3 = 0;
      ck_assert_int_eq(model_vmx__walk_guest_path(c, va, acc, &gpa3, again ? &perm3 : NULL, &pp2),
                       0);
      ck_assert_uint_eq(gpa3, gpa1);
      if (again) ck_assert_uint_eq(perm3, perm1);
      ck_assert_uint_eq(c->cnt.walks - walks, dwalks);
      ck_assert_uint_eq(c->cnt.walk_refs - refs, drefs);
      ck_assert_uint_eq(c->walk_level, level1);
      ck_assert(memcmp(t->ram + RBASE, after_cpu, RLEN) == 0);
      ck_assert_int_eq(pp2->leaf_level, path.leaf_level);
      for (int l = 4; l >= path.leaf_level; l--) {
        uint64_t mask = l == path.leaf_level ? ~0ull : ~(A | D); /* aliases, as above */
        ck_assert_uint_eq(pp2->e[l] & mask, path.e[l] & mask);
        ck_assert_uint_eq(pp2->tab[l], path.tab[l]);
        ck_assert_uint_eq(pp2->above[l], path.above[l]);
      }
    }
  }
#undef RND
  /* the mix reaches every outcome */
  ck_assert_uint_gt(oks, 500);
  ck_assert_uint_gt(faults, 500);
  ck_assert_uint_gt(large, 20);
}
END_TEST

/* The EPT leaf of guest frame gpa in refvmm's EPT tables, NULL when the
 * VMM has not mapped it yet. */
static uint64_t *ept_leaf(struct vmm_ept *e, uint64_t gpa) {
  uint64_t table = 0;
  for (int level = 4; level >= 2; level--) {
    uint64_t x = e->mem[table * 512 + ((gpa >> (12 + 9 * (level - 1))) & 511)];
    if (!(x & (EPT_R | EPT_W))) return NULL;
    table = (x & EPT_ADDR_MASK) >> 12;
  }
  uint64_t *leaf = &e->mem[table * 512 + ((gpa >> 12) & 511)];
  return *leaf & EPT_R ? leaf : NULL;
}

/* The guest walk's memo of upper entries (struct tlb_walk_memo, used for
 * the levels a walk does not count) against the plain walk: two machines
 * with the same RAM, one walking with its memo, the other with the memo
 * emptied before every walk (every level read and checked, as before the
 * memo); natively, then under EPT (refvmm's lazily filled EPT on each, so
 * the same EPT violations), where now and then a guest table's frame is
 * mapped to another host frame, followed by an INVEPT. Random tables with
 * single entries changed between walks, two roots, EFER.NXE, CR0.WP,
 * CR4.PGE, the access, A/D updates on or off and walk_start (the first
 * counted level) at random. After every walk: the same result, gpa, perm,
 * level, A/D writes, and CPU, TLB, data-cache and exit counts. Without the
 * memo's re-read of its entries, or its test of CR3, EFER.NXE or the EPT
 * front's generation, the two differ. */
START_TEST(test_walk_memo_matches_plain_walk) {
  enum { NT = 16, RBASE = 0x400000, RLEN = NT << 12, N = 24000 };
  static const uint8_t nop[] = {0x90};
  struct tm_state st0 = {.cpl = 0};
  struct tm *g[2] = {t, tm_new(nop, sizeof nop, &st0)};
  struct vmm_ept ept[2];
  for (int k = 0; k < 2; k++) {
    struct model_cache_config cfg;
    char err[128];
    model_cache__default_config(&cfg);
    ck_assert_int_eq(model_cache__configure(&g[k]->c->cache, &cfg, err, sizeof err), 0);
    g[k]->c->cr3 = RBASE;
  }
  memcpy(g[1]->ram + RBASE, g[0]->ram + RBASE, RLEN); /* (the fixture's tables are there) */
  uint64_t rng = 0x9e3779b97f4a7c15ull;
#define RND() (rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng)
  unsigned oks = 0, faults = 0, kept = 0, remaps = 0;
  const struct pte_odds odds = {.outside = 128, .absent = 32, .large = 8, .nx = 8, .reserved = 64};
  for (int trial = 0; trial < N; trial++) {
    if (trial == N / 2) /* the second half under EPT */
      for (int k = 0; k < 2; k++)
        ck_assert_int_eq(vmm_ept__init(&ept[k], g[k]->c, TM_RAM, true), 0);
    /* new tables every 256 walks (entries 0..3 of every frame), between
     * them one entry changed now and then */
    for (unsigned f = 0; f < NT; f++)
      for (unsigned i = 0; i < 4; i++)
        if (trial % 256 == 0 || (f == 0 && i == 0 && RND() % 8 == 0)) {
          unsigned ff = trial % 256 ? (unsigned)(RND() % NT) : f, ii = trial % 256 ? RND() % 4 : i;
          uint64_t r = RND(), frame = RBASE + (RND() % NT) * 4096;
          uint64_t e = random_entry(r, frame, &odds);
          for (int k = 0; k < 2; k++)
            memcpy(g[k]->ram + RBASE + ff * 4096 + ii * 8, &e, 8);
        }
    uint64_t r = RND();
    if (trial >= N / 2 && r % 64 == 0) { /* a table frame elsewhere, then INVEPT */
      uint64_t gf = RBASE + (RND() % NT) * 4096, hf = RBASE + (RND() % NT) * 4096;
      uint64_t *l0 = ept_leaf(&ept[0], gf), *l1 = ept_leaf(&ept[1], gf);
      ck_assert((l0 == NULL) == (l1 == NULL));
      if (l0) {
        *l0 = *l1 = hf | (*l0 & 0xfff);
        for (int k = 0; k < 2; k++)
          model_tlb__flush_ept(&g[k]->c->tlbm);
        remaps++;
      }
    }
    r = RND();
    uint64_t cr3 = RBASE + ((trial / 256 + r % 2) % NT) * 4096; /* two roots at a time */
    unsigned acc = random_acc(r);
    uint64_t va = random_va(r);
    bool set_ad = (r >> 40) % 16 != 0;
    for (int k = 0; k < 2; k++) {
      struct model_cpu *c = g[k]->c;
      c->cr3 = cr3;
      random_wp_nxe_pge(c, r);
      c->walk_start = (uint8_t)((r >> 32) % 5);
    }
    const struct tlb_walk_memo *m = &g[0]->c->tlbm.walk_memo[(va >> 21) % WALK_MEMO];
    kept += m->key == (va >> 21) + 1 && m->n && m->cr3 == cr3 && g[0]->c->walk_start < 4;
    memset(g[1]->c->tlbm.walk_memo, 0, sizeof g[1]->c->tlbm.walk_memo); /* the plain walk */
    uint64_t gpa[2] = {0, 0};
    uint32_t perm[2] = {0, 0};
    int err[2];
    for (int k = 0; k < 2; k++)
      err[k] = model_mmu__walk(g[k]->c, va, acc, &gpa[k], &perm[k], set_ad);
    ck_assert_int_eq(err[0], err[1]);
    ck_assert_uint_eq(g[0]->c->walk_level, g[1]->c->walk_level);
    ck_assert(memcmp(g[0]->ram + RBASE, g[1]->ram + RBASE, RLEN) == 0);
    ck_assert_mem_eq(&g[0]->c->cnt, &g[1]->c->cnt, sizeof g[0]->c->cnt);
    ck_assert_mem_eq(&g[0]->c->tlbm.st, &g[1]->c->tlbm.st, sizeof g[0]->c->tlbm.st);
    ck_assert_mem_eq(&g[0]->c->cache.st, &g[1]->c->cache.st, sizeof g[0]->c->cache.st);
    ck_assert_mem_eq(g[0]->c->vmcs.exits, g[1]->c->vmcs.exits, sizeof g[0]->c->vmcs.exits);
    if (err[0]) {
      faults++;
      continue;
    }
    oks++;
    ck_assert_uint_eq(gpa[0], gpa[1]);
    ck_assert_uint_eq(perm[0], perm[1]);
  }
#undef RND
  /* the mix reaches every outcome, and the memo was there to be used */
  ck_assert_uint_gt(oks, 2000);
  ck_assert_uint_gt(faults, 2000);
  ck_assert_uint_gt(kept, 1000);
  ck_assert_uint_gt(remaps, 50);
  ck_assert_uint_gt(g[0]->c->vmcs.ept_violations, 10);
  for (int k = 0; k < 2; k++) {
    g[k]->c->vmcs = (struct model_vmcs){0};
    vmm_ept__free(&ept[k]);
    model_cache__free(&g[k]->c->cache);
  }
  tm_free(g[1]);
}
END_TEST

/* model_mmu__flush_vmx_inline() (a VM exit's or entry's flush, the case that
 * only counts inline) against model_mmu__flush_vmx(): the same mix of data
 * translations (reads and writes of four pages), fetches (TLBs but no
 * front), VPID switches, single and repeated flushes on two fresh CPUs,
 * one flushing
 * through each; after every step the same TLB counts, front hits, walks,
 * flushes and decode-cache flushes. Without the inline case's test of the front (its log) or of
 * the TLB group's emptiness, a flush would leave translations behind. */
static void flush_mix(bool inl, uint64_t (*rec)[6], unsigned n) {
  setup();
  for (unsigned i = 0; i < 8; i++)
    put(T_PT + i * 8, (0x500000 + i * 4096ull) | P | W | U);
  struct model_cpu *c = t->c;
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  for (unsigned k = 0; k < n; k++) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    unsigned op = rng % 16;
    /* first the one way a front holds entries while the flushed group is
     * empty: VPID 1 fills, VPID 0 is flushed, VPID 1 refills its front
     * from its TLB entry (no fill), VPID 0 is flushed again, VPID 1 reads */
    if (k < 5) {
      model_vmx__set_vpid(c, k % 2 ? 0 : 1);
      op = k % 2 ? 11 : 0;
      rng = rng & ~(3ull << 8 | 1ull << 16); /* va0, a read */
    }
    uint64_t va = 0x00007f8040200000ull + ((rng >> 8) % 4) * 4096;
    if (op < 6) /* data: the front and the TLBs */
      model_mmu__translate(c, va, (rng >> 16) & 1 ? ACC_W : 0);
    else if (op < 11) /* fetches: the TLBs only */
      model_mmu__fetch_page(c, va, ACC_X);
    else if (op == 15) /* another VPID: its group may be empty while the front is not */
      model_vmx__set_vpid(c, c->tlbm.vpid ^ 1);
    for (unsigned f = 0; op >= 11 && op < 15 && f < op % 3 + 1; f++) /* one to three in a row */
      inl ? model_mmu__flush_vmx_inline(c) : model_mmu__flush_vmx(c);
    const struct tlb_stats *st = &c->tlbm.st;
    uint64_t r[6] = {st->lookups[TLBL_L1D], st->hits[TLBL_L1I],   st->front_hits, st->walks,
                     st->flushes,           c->cnt.icache_flushes};
    memcpy(rec[k], r, sizeof r);
  }
  teardown();
}

START_TEST(test_vmx_flush_inline_matches) {
  enum { N = 1000 };
  static uint64_t plain[N][6], inl[N][6];
  teardown(); /* the fixture's CPU: each run gets a fresh one */
  flush_mix(false, plain, N);
  flush_mix(true, inl, N);
  setup();
  for (unsigned k = 0; k < N; k++)
    for (unsigned i = 0; i < 6; i++)
      ck_assert_uint_eq(inl[k][i], plain[k][i]);
  ck_assert_uint_gt(plain[N - 1][2], 20); /* front hits between the flushes */
  ck_assert_uint_gt(plain[N - 1][1], 20); /* and L1 ITLB hits */
}
END_TEST

Suite *suite_model_mmu(void) {
  Suite *s = suite_create("model_mmu");
  TCase *tc = tcase_create("walk");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_4k_read_sets_accessed_only);
  tcase_add_test(tc, test_4k_write_sets_dirty);
  tcase_add_test(tc, test_2m_page);
  tcase_add_test(tc, test_1g_page);
  tcase_add_test(tc, test_1g_page_misaligned_is_reserved);
  tcase_add_test(tc, test_not_present_error_codes);
  tcase_add_test(tc, test_user_supervisor);
  tcase_add_test(tc, test_read_only_and_wp);
  tcase_add_test(tc, test_nx);
  tcase_add_test(tc, test_reserved_bits);
  tcase_add_test(tc, test_table_outside_ram_is_not_present);
  tcase_add_test(tc, test_vmm_walk_matches_cpu_walk);
  tcase_add_test(tc, test_vmx_flush_inline_matches);
  tcase_add_test(tc, test_ept_walk_front_follows_eptp);
  tcase_add_test(tc, test_walk_memo_matches_plain_walk);
  suite_add_tcase(s, tc);
  TCase *tg = tcase_create("guest");
  tcase_add_test(tg, test_invlpg_from_guest);
  tcase_add_test(tg, test_stale_front_slot_is_only_a_guess);
  suite_add_tcase(s, tg);
  return s;
}
