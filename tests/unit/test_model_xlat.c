/* test_model_xlat.c - translation property test: random guest page tables
 * (4 KiB and 2 MiB pages) over a random EPT (a permutation of host frames,
 * a quarter of it left for the EPT-violation handler to fill); every
 * translation the TLB model returns must equal the composition of a
 * reference guest walk and a reference EPT walk, also after random guest
 * PTE writes followed by INVLPG and random CR3 loads, with VPID and without
 * (exits flushing), and in native mode (no EPT). */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/model/vmm/vmm_shadow.h"
#include "test_model_harness.h"

#define NFRAMES   1024u  /* guest-physical frames 0..1023 (4 MiB) */
#define HBASE     0x400u /* host frames 0x400..0x7ff (RAM 4..8 MiB) */
#define TABLES    64u    /* guest frames 0..63 hold guest page tables */
#define EPT_PAGES 8u
#define P         0x1ull
#define RW        0x2ull
#define US        0x4ull
#define PS        0x80ull
#define ADDR      0x000ffffffffff000ull

static struct tm *t;
static uint32_t perm[NFRAMES]; /* gpa frame -> host frame */
static uint64_t *ept;          /* EPT_PAGES x 512 */
static bool use_ept, use_shadow;
static struct vmm_shadow shadow;
static uint64_t rng = 88172645463325252ull;
static unsigned next_table;
static uint64_t roots[2];

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
/* native: guest-physical is host-physical, frames HBASE.. ; ept: frames 0.. */
static uint64_t gbase(void) {
  return use_ept ? 0 : (uint64_t)HBASE << 12;
}
static uint64_t hpa_of(uint64_t gpa) {
  return use_ept ? ((uint64_t)perm[gpa >> 12] << 12) | (gpa & 0xfff) : gpa;
}
static uint64_t gget(uint64_t gpa) { /* guest-physical read (reference) */
  uint64_t v;
  memcpy(&v, t->ram + hpa_of(gpa), 8);
  return v;
}
static bool shadow_live; /* the shadow MMU is set up: guest table stores are tracked */
/* A guest store into its page table. Under shadow paging the table is
 * write-protected, so on the CPU the store is a pt-write exit whose handler
 * zaps the shadow entries made from it (INVLPG then keeps synced entries, as
 * KVM's does); the test stores directly and tells the VMM the same. */
static void gput(uint64_t gpa, uint64_t v) {
  memcpy(t->ram + hpa_of(gpa), &v, 8);
  if (shadow_live) vmm_shadow__guest_written(&shadow, t->c, gpa, 8);
}

static void ept_map(uint64_t gpa) {
  /* EPT page 0 PML4 -> 1 PDPT -> 2 PD -> 3, 4 PT (gpa 0..4 MiB) */
  uint64_t f = gpa >> 12;
  ept[3 * 512 + f] = ((uint64_t)perm[f] << 12) | 7;
}
static int violation(void *vmm, struct model_cpu *c) {
  (void)vmm;
  if (c->vmcs.guest_physical >= (uint64_t)NFRAMES << 12) return -1;
  ept_map(c->vmcs.guest_physical);
  return 0;
}

/* guest-physical frame of a new zeroed guest table */
static uint64_t new_table(void) {
  ck_assert_uint_lt(next_table, TABLES);
  uint64_t gpa = gbase() + ((uint64_t)next_table++ << 12);
  memset(t->ram + hpa_of(gpa), 0, 4096);
  return gpa;
}

/* map va in root to a random data frame (or a 2 MiB page) */
static void map_random(uint64_t root, uint64_t va) {
  uint64_t table = root;
  for (int level = 4; level >= 2; level--) {
    uint64_t ea = table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
    uint64_t e = gget(ea);
    if (level == 2 && !(e & P) && (rnd() & 7) == 0) { /* a 2 MiB page at gpa 2 MiB */
      gput(ea, (gbase() + 0x200000) | P | RW | US | PS);
      return;
    }
    if (e & PS) return;
    if (!(e & P)) {
      if (next_table >= TABLES) return;
      e = new_table() | P | RW | US;
      gput(ea, e);
    }
    table = e & ADDR;
  }
  uint64_t frame = TABLES + rnd() % (NFRAMES - TABLES);
  gput(table + ((va >> 12) & 511) * 8, (gbase() + (frame << 12)) | P | RW | US);
}

/* reference: gpa of va under root, or ~0 when not mapped */
static uint64_t ref_walk(uint64_t root, uint64_t va) {
  uint64_t table = root;
  for (int level = 4; level >= 1; level--) {
    unsigned shift = 12 + 9 * (level - 1);
    uint64_t e = gget(table + ((va >> shift) & 511) * 8);
    if (!(e & P)) return ~0ull;
    if (level == 1 || (level == 2 && (e & PS)))
      return (e & ADDR & ~((1ull << shift) - 1)) | (va & ((1ull << shift) - 1));
    table = e & ADDR;
  }
  return ~0ull;
}

static uint64_t random_va(void) {
  /* 2 PML4 slots x 2 PDPT x 4 PD x 64 pages: dense enough to share tables */
  return ((rnd() & 1) << 39) | ((rnd() & 1) << 30) | ((rnd() & 3) << 21) | ((rnd() & 63) << 12) |
         (rnd() & 0xff8);
}

/* model translation (read, supervisor): host address or ~0 on #PF */
static uint64_t model_xlat(uint64_t va) {
  struct model_cpu *c = t->c;
  if (setjmp(c->jb)) {
    ck_assert_int_eq(c->fault_vector, X86_PF);
    return ~0ull;
  }
  const struct model_tlb_entry *e = model_mmu__translate(c, va, 0);
  return e->gpa | (va & 0xfff);
}

static void check_all(uint64_t root, int n) {
  for (int i = 0; i < n; i++) {
    uint64_t va = random_va();
    uint64_t g = ref_walk(root, va);
    uint64_t want = g == ~0ull ? ~0ull : hpa_of(g);
    if (use_shadow) { /* every present shadow entry is the composition too */
      uint64_t h;
      uint32_t pm;
      unsigned end;
      if (model_spt__walk(t->c, va, 0, &h, &pm, &end) == 0)
        ck_assert_msg(h == want, "va 0x%llx: shadow entry 0x%llx, reference 0x%llx",
                      (unsigned long long)va, (unsigned long long)h, (unsigned long long)want);
    }
    uint64_t got = model_xlat(va);
    ck_assert_msg(got == want, "va 0x%llx: model 0x%llx, reference 0x%llx (gpa 0x%llx)",
                  (unsigned long long)va, (unsigned long long)got, (unsigned long long)want,
                  (unsigned long long)g);
  }
}

/* The guest's INVLPG and MOV to CR3, through the exits when they exit. */
static void guest_invlpg(struct model_cpu *c, uint64_t va) {
  if (use_shadow) {
    model_vmx__exit(c, EXIT_REASON_INVLPG, va);
    c->vmcs.invlpg_handler(c->vmcs.vmm, c, va);
    model_vmx__entry(c);
  } else {
    model_mmu__flush_va(c, va);
  }
}
static void guest_cr3(struct model_cpu *c, uint64_t cr3) {
  if (use_shadow) {
    model_vmx__exit(c, EXIT_REASON_CR_ACCESS, 3);
    c->vmcs.cr3_handler(c->vmcs.vmm, c, cr3);
    model_vmx__entry(c);
  } else {
    c->cr3 = cr3;
    model_mmu__flush_cr3(c);
  }
}

static void run_property(bool ept_on, bool vpid) {
  static const uint8_t nop[] = {0x90};
  struct tm_state st = {.cpl = 0};
  t = tm_new(nop, sizeof nop, &st);
  use_ept = ept_on;
  next_table = 0;
  for (unsigned i = 0; i < NFRAMES; i++)
    perm[i] = HBASE + i;
  for (unsigned i = NFRAMES - 1; i > 0; i--) { /* Fisher-Yates */
    unsigned j = (unsigned)(rnd() % (i + 1));
    uint32_t x = perm[i];
    perm[i] = perm[j];
    perm[j] = x;
  }
  ept = calloc(EPT_PAGES * 512, 8);
  ept[0] = (1ull << 12) | 7;
  ept[1 * 512] = (2ull << 12) | 7;
  ept[2 * 512 + 0] = (3ull << 12) | 7;
  ept[2 * 512 + 1] = (4ull << 12) | 7;
  for (unsigned f = 0; f < NFRAMES; f++)
    if (rnd() % 4) ept_map((uint64_t)f << 12); /* the rest: violations */
  struct model_cpu *c = t->c;
  if (ept_on) {
    c->vmcs = (struct model_vmcs){.active = true,
                                  .proc_based = CPU_BASED_ACTIVATE_SECONDARY,
                                  .secondary = SECONDARY_EXEC_ENABLE_EPT |
                                               (vpid ? SECONDARY_EXEC_ENABLE_VPID : 0),
                                  .vpid = vpid ? 1 : 0,
                                  .ept_mem = ept,
                                  .ept_pages = EPT_PAGES,
                                  .handler = violation};
    c->tlbm.vpid = vpid ? 1 : 0;
  }
  roots[0] = new_table();
  roots[1] = new_table();
  for (int i = 0; i < 300; i++)
    map_random(roots[i & 1], random_va());
  int cur = 0;
  c->cr3 = roots[0]; /* CR3 holds a guest-physical address */
  model_mmu__flush_cr3(c);
  if (use_shadow) {
    ck_assert_int_eq(vmm_shadow__init(&shadow, c, t->ram, TM_RAM, vpid), 0);
    vmm_shadow__boot(&shadow, c);
    shadow_live = true;
  }
  check_all(roots[cur], 400);
  for (int round = 0; round < 1500; round++) {
    unsigned op = (unsigned)(rnd() % 4);
    if (op == 0) { /* a guest PTE write + INVLPG */
      uint64_t va = random_va();
      if (rnd() & 1) {
        map_random(roots[cur], va);
      } else { /* unmap the leaf if there is one */
        uint64_t table = roots[cur];
        for (int level = 4; level >= 1; level--) {
          uint64_t ea = table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
          uint64_t e = gget(ea);
          if (!(e & P)) break;
          if (level == 1 || (e & PS)) {
            gput(ea, 0);
            break;
          }
          table = e & ADDR;
        }
      }
      guest_invlpg(c, va);
    } else if (op == 1) { /* CR3 load */
      cur ^= 1;
      guest_cr3(c, roots[cur]);
    } else if (op == 2 && (ept_on || use_shadow)) { /* a VM exit and entry */
      model_vmx__exit(c, EXIT_REASON_HLT, 0);
      model_vmx__entry(c);
    }
    check_all(roots[cur], 40);
  }
  if (ept_on) {
    ck_assert_uint_gt(c->vmcs.ept_violations, 0);
    ck_assert_uint_gt(c->tlbm.st.ept_refs_by_level[1], 0);
    ck_assert_uint_le(c->tlbm.st.walk_refs, 24 * c->tlbm.st.walks);
    /* the EPT paging-structure caches skip levels: fewer upper references */
    ck_assert_uint_gt(c->tlbm.st.ept_pwc_hits[2], 0);
    ck_assert_uint_lt(c->tlbm.st.ept_refs_by_level[4], c->tlbm.st.ept_refs_by_level[1]);
  }
  if (use_shadow) {
    ck_assert_uint_gt(shadow.hidden_faults, 0);
    ck_assert_uint_gt(shadow.true_faults, 0);
    ck_assert_uint_gt(shadow.roots_reused, 0);
    ck_assert_uint_gt(shadow.zaps, 0);
    shadow_live = false;
    vmm_shadow__free(&shadow);
    use_shadow = false;
  }
  ck_assert_uint_gt(c->tlbm.st.walks, 0);
  ck_assert_uint_gt(model_mmu__l1d_hits(c), 0);
  free(ept);
  tm_free(t);
  t = NULL;
}

START_TEST(test_property_ept_vpid) {
  run_property(true, true);
}
END_TEST
START_TEST(test_property_ept_flush) {
  run_property(true, false);
}
END_TEST
START_TEST(test_property_shadow_vpid) {
  use_shadow = true;
  run_property(false, true);
}
END_TEST
START_TEST(test_property_shadow_flush) {
  use_shadow = true;
  run_property(false, false);
}
END_TEST
START_TEST(test_property_native) {
  run_property(false, false);
}
END_TEST

/* A TLB flush keeps decoded instructions whose page still translates to
 * the same frame (speed), but a remap after the flush must be seen: the
 * same RIP then runs the other frame's code. The CPU is not reset between
 * the runs (a reset drops every decoded instruction anyway). Three
 * instructions: the first fetch after the flush walks and the second
 * probes the ITLB (model_mmu__fetch_page), the third is served by the L1
 * ITLB's last hit in the run loop (model_dispatch.c, fetch_miss()), which
 * must compare the page too. */
static void rerun(struct tm *m, struct tm_result *r) {
  m->c->rip = TM_CODE;
  m->c->gpr[0] = 0;
  m->c->gpr[1] = 0;
  m->c->gpr[2] = 0;
  m->c->gpr[4] = TM_STACK;
  tm_run(m, r);
}

START_TEST(test_decoded_code_follows_a_remap_after_flush) {
  static const uint8_t code[] = {0xb8, 0x01, 0x00, 0x00, 0x00,  /* mov eax, 1 */
                                 0xb9, 0x01, 0x00, 0x00, 0x00,  /* mov ecx, 1 */
                                 0xba, 0x01, 0x00, 0x00, 0x00}; /* mov edx, 1 */
  struct tm_state st = {.cpl = 0};
  struct tm *m = tm_new(code, sizeof code, &st);
  struct tm_result r;
  tm_run(m, &r);
  ck_assert_uint_eq(r.gpr[0], 1);
  ck_assert_uint_eq(r.gpr[1], 1);
  ck_assert_uint_eq(r.gpr[2], 1);
  uint64_t fetches = m->c->cnt.fetches;
  model_mmu__flush(m->c); /* same mapping: fetched (ITLB) again, decode kept */
  rerun(m, &r);
  ck_assert_uint_eq(r.gpr[0], 1);
  ck_assert_uint_eq(r.gpr[1], 1);
  ck_assert_uint_eq(r.gpr[2], 1);
  ck_assert_uint_gt(m->c->cnt.fetches, fetches);
  /* map the first 2 MiB to a copy at 4 MiB whose code says mov eax, 2;
   * mov ecx, 3; mov edx, 4 */
  memcpy(m->ram + 0x400000, m->ram, 0x200000);
  m->ram[0x400000 + TM_CODE + 1] = 0x02;
  m->ram[0x400000 + TM_CODE + 6] = 0x03;
  m->ram[0x400000 + TM_CODE + 11] = 0x04;
  uint64_t pde = 0x400000 | 0x87;
  memcpy(m->ram + TM_PD, &pde, 8);
  rerun(m, &r); /* no flush yet: the TLB still maps the old frame */
  ck_assert_uint_eq(r.gpr[0], 1);
  ck_assert_uint_eq(r.gpr[1], 1);
  ck_assert_uint_eq(r.gpr[2], 1);
  model_mmu__flush(m->c);
  rerun(m, &r);
  ck_assert_uint_eq(r.gpr[0], 2);
  ck_assert_uint_eq(r.gpr[1], 3);
  ck_assert_uint_eq(r.gpr[2], 4);
  tm_free(m);
}
END_TEST

Suite *suite_model_xlat(void) {
  Suite *s = suite_create("model_xlat");
  TCase *tc = tcase_create("property");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_property_ept_vpid);
  tcase_add_test(tc, test_property_ept_flush);
  tcase_add_test(tc, test_property_native);
  tcase_add_test(tc, test_property_shadow_vpid);
  tcase_add_test(tc, test_property_shadow_flush);
  tcase_add_test(tc, test_decoded_code_follows_a_remap_after_flush);
  suite_add_tcase(s, tc);
  return s;
}
