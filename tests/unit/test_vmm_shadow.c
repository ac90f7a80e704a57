/* test_vmm_shadow.c - the shadow MMU's index of shadow pages by guest frame
 * and its reverse map of writable leaves (refvmm/model/vmm/vmm_shadow.c): after
 * random fills, guest page-table writes (zaps, write flooding), CR3 loads
 * over more roots than the root cache holds (root drops), every live shadow
 * page of a guest frame is found through the index, in a scan's order, and
 * every writable shadow leaf is in its frame's reverse map. With the unsync
 * policy the same, plus INVLPGs, and after each of the guest's TLB
 * invalidations (a CR3 load: every entry of the root; INVLPG: its address)
 * the shadow tables translate as the guest's do. With the flood policy the
 * first mix again, and a last-level table written as data under sync and
 * flood. */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/model/cpu/model_insn.h"
#include "refvmm/model/vmm/vmm_shadow.h"
#include "test_model_harness.h"

#define P    0x1ull
#define RW   0x2ull
#define US   0x4ull
#define ADDR 0x000ffffffffff000ull

#define TBASE  0x400u /* guest table frames TBASE.. */
#define DBASE  0x500u /* data frames DBASE..TM_RAM */
#define NROOTS 12     /* more than SHADOW_ROOTS: the LRU root goes */
#define NPDPT  3
#define NPD    4
#define NPT    8
#define WIN    (1ull << 39) /* PML4 slot 1: a window onto the table frames */

static struct tm *t;
static struct vmm_shadow sh;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned ntables;
static uint64_t root[NROOTS], pdpt[NPDPT], pd[NPD], pt[NPT];

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static void gput(uint64_t gpa, uint64_t v) {
  memcpy(t->ram + gpa, &v, 8);
}
static uint64_t table_new(void) {
  return (uint64_t)(TBASE + ntables++) << 12;
}
static uint64_t pick(const uint64_t *a, unsigned n) {
  return a[rnd() % n];
}

/* the guest's tables: roots -> PDPTs -> PDs (entries 0..3) -> PTs (0..63),
 * shared between roots; slot 1 of every root maps every table frame */
static void build_tables(void) {
  for (int i = 0; i < NROOTS; i++)
    root[i] = table_new();
  for (int i = 0; i < NPDPT; i++)
    pdpt[i] = table_new();
  for (int i = 0; i < NPD; i++)
    pd[i] = table_new();
  for (int i = 0; i < NPT; i++)
    pt[i] = table_new();
  uint64_t wpdpt = table_new(), wpd = table_new(), wpt = table_new();
  for (int i = 0; i < NROOTS; i++) {
    gput(root[i], pick(pdpt, NPDPT) | P | RW | US);
    gput(root[i] + 8, wpdpt | P | RW | US);
  }
  for (int i = 0; i < NPDPT; i++)
    gput(pdpt[i], pick(pd, NPD) | P | RW | US);
  for (int i = 0; i < NPD; i++)
    for (int j = 0; j < 4; j++)
      gput(pd[i] + 8 * j, pick(pt, NPT) | P | RW | US);
  for (int i = 0; i < NPT; i++)
    for (int j = 0; j < 64; j++)
      gput(pt[i] + 8 * j, ((uint64_t)(DBASE + rnd() % 0x100) << 12) | P | RW | US);
  gput(wpdpt, wpd | P | RW | US);
  gput(wpd, wpt | P | RW | US);
  for (unsigned i = 0; i < ntables; i++)
    gput(wpt + 8 * i, ((uint64_t)(TBASE + i) << 12) | P | RW | US);
}

/* translate through the model CPU (fills, pt-write exits); 1 on a #PF */
static int guest_access(uint64_t va, unsigned acc, uint64_t *hpa) {
  struct model_cpu *c = t->c;
  if (setjmp(c->jb)) return 1;
  const struct model_tlb_entry *e = model_mmu__translate(c, va, acc);
  if (hpa) *hpa = e->gpa | (va & 0xfff);
  return 0;
}

/* a guest write to the entry at gpa (a table frame), through the window:
 * the shadow MMU traps it once the frame is a page table; the store is
 * done here, as the CPU completes the emulated access */
static void guest_write(uint64_t gpa, uint64_t v) {
  uint64_t hpa = 0;
  ck_assert_int_eq(guest_access(WIN + (gpa - ((uint64_t)TBASE << 12)), ACC_W, &hpa), 0);
  ck_assert_uint_eq(hpa, gpa); /* identity: guest-physical is host-physical here */
  gput(gpa, v);
}

static void guest_cr3(uint64_t cr3) {
  struct model_cpu *c = t->c;
  model_vmx__exit(c, EXIT_REASON_CR_ACCESS, 3);
  c->vmcs.cr3_handler(c->vmcs.vmm, c, cr3);
  model_vmx__entry(c);
}

static void guest_invlpg(uint64_t va) {
  struct model_cpu *c = t->c;
  model_vmx__exit(c, EXIT_REASON_INVLPG, 0);
  c->vmcs.invlpg_handler(c->vmcs.vmm, c, va);
  model_vmx__entry(c);
}

static uint64_t gget(uint64_t gpa) {
  uint64_t v;
  memcpy(&v, t->ram + gpa, 8);
  return v;
}

/* The shadow leaf of the current root for va agrees with the guest's
 * tables: none, or the guest's frame with no more access than the guest
 * gives (W only for a writable, dirty PTE). */
static void check_va(uint64_t va) {
  uint64_t spg = sh.roots[sh.cur].page, g = t->c->cr3 & ADDR, ge = 0;
  int glevel = 4;
  for (int level = 4; level >= 1; level--) {
    uint64_t se = sh.mem[spg * 512 + ((va >> (12 + 9 * (level - 1))) & 511)];
    if (!(se & P)) return;
    if (level > 1) {
      spg = (se & ADDR) >> 12;
      continue;
    }
    for (glevel = 4; glevel >= 1; glevel--) {
      ge = gget(g + ((va >> (12 + 9 * (glevel - 1))) & 511) * 8);
      ck_assert_msg(ge & P, "va 0x%llx: shadow leaf 0x%llx, guest entry at level %d absent",
                    (unsigned long long)va, (unsigned long long)se, glevel);
      g = ge & ADDR;
    }
    ck_assert_msg((se & ADDR) == (ge & ADDR), "va 0x%llx: shadow 0x%llx, guest PTE 0x%llx",
                  (unsigned long long)va, (unsigned long long)se, (unsigned long long)ge);
    if (se & RW) ck_assert((ge & RW) && (ge & (1ull << 6)));
  }
}

/* every va the test maps: data (slot 0) and the window (slot 1) */
static void check_root(void) {
  for (uint64_t a = 0; a < 4; a++)
    for (uint64_t b = 0; b < 64; b++)
      check_va((a << 21) | (b << 12));
  for (unsigned i = 0; i < ntables; i++)
    check_va(WIN + ((uint64_t)i << 12));
}

/* the index finds, ascending, exactly the live pages a scan finds */
static void check_frames(void) {
  static uint32_t got[4096];
  for (unsigned f = TBASE; f < TBASE + ntables; f++) {
    int n = vmm_shadow__pages_of(&sh, f, got, 4096), k = 0;
    for (uint32_t pg = 0; pg < sh.npages; pg++)
      if (sh.owner[pg] >= 0 && sh.src[pg] == (int64_t)f) {
        ck_assert_int_lt(k, n);
        ck_assert_msg(got[k] == pg, "frame 0x%x: index gives page %u, scan %u", f, got[k], pg);
        k++;
      }
    ck_assert_int_eq(k, n);
  }
}

static void setup(void) {
  static const uint8_t nop[] = {0x90};
  struct tm_state st = {.cpl = 0};
  t = tm_new(nop, sizeof nop, &st);
  ntables = 0;
  build_tables();
  t->c->cr3 = root[0];
  model_mmu__flush_cr3(t->c);
  ck_assert_int_eq(vmm_shadow__init(&sh, t->c, t->ram, TM_RAM, false), 0);
  vmm_shadow__boot(&sh, t->c);
}

static void setup_unsync(void) {
  setup();
  vmm_shadow__set_policy(&sh, SHADOW_POLICY_UNSYNC);
}

static void setup_flood(void) {
  setup();
  vmm_shadow__set_policy(&sh, SHADOW_POLICY_FLOOD);
}

static void teardown(void) {
  vmm_shadow__free(&sh);
  tm_free(t);
}

START_TEST(index_follows_every_change) {
  for (int round = 0; round < 4000; round++) {
    unsigned op = (unsigned)(rnd() % 8);
    if (op < 4) { /* guest accesses to data: hidden faults, fills */
      uint64_t va = ((rnd() & 3) << 21) | ((rnd() & 63) << 12);
      guest_access(va, (rnd() & 1) ? ACC_W : 0, NULL);
    } else if (op < 7) { /* a guest page-table write: zaps, flooding of upper levels */
      unsigned kind = (unsigned)(rnd() % 8);
      if (kind < 4)
        guest_write(pick(pt, NPT) + 8 * (rnd() & 63),
                    (rnd() & 3) ? ((uint64_t)(DBASE + rnd() % 0x100) << 12) | P | RW | US : 0);
      else if (kind < 6)
        guest_write(pick(pd, NPD) + 8 * (rnd() & 3), pick(pt, NPT) | P | RW | US);
      else if (kind < 7)
        guest_write(pick(pdpt, NPDPT), pick(pd, NPD) | P | RW | US);
      else
        guest_write(pick(root, NROOTS), pick(pdpt, NPDPT) | P | RW | US);
    } else { /* a CR3 load: root reuse, or a new root dropping the LRU one */
      guest_cr3(pick(root, NROOTS));
    }
    ck_assert_int_eq(vmm_shadow__check(&sh), 0);
    if (round % 64 == 0) check_frames();
  }
  check_frames();
  /* every path that changes the index ran */
  ck_assert_uint_gt(sh.hidden_faults, 100);
  ck_assert_uint_gt(sh.pt_write_exits, 100);
  ck_assert_uint_gt(sh.flooded, 0);
  ck_assert_uint_gt(sh.roots_built, SHADOW_ROOTS);
  ck_assert_uint_gt(sh.pages_freed, 0);
  ck_assert_uint_gt(sh.flush_protect, 0);
}
END_TEST

/* The same mix under the unsync policy, with INVLPGs: the index and the
 * reverse map hold, and the shadow tables agree with the guest's after
 * each invalidation. */
START_TEST(unsync_syncs_at_each_invalidation) {
  for (int round = 0; round < 4000; round++) {
    unsigned op = (unsigned)(rnd() % 10);
    uint64_t va = ((rnd() & 3) << 21) | ((rnd() & 63) << 12);
    if (op < 4) {
      guest_access(va, (rnd() & 1) ? ACC_W : 0, NULL);
    } else if (op < 7) {
      unsigned kind = (unsigned)(rnd() % 8);
      if (kind < 5) /* leaf tables, the ones that go out of sync */
        guest_write(pick(pt, NPT) + 8 * (rnd() & 63),
                    (rnd() & 3) ? ((uint64_t)(DBASE + rnd() % 0x100) << 12) | P | RW | US |
                                      ((rnd() & 1) ? 0x60ull : 0)
                                : 0);
      else if (kind < 7)
        guest_write(pick(pd, NPD) + 8 * (rnd() & 3), pick(pt, NPT) | P | RW | US);
      else
        guest_write(pick(pdpt, NPDPT), pick(pd, NPD) | P | RW | US);
    } else if (op < 9) {
      guest_invlpg(va);
      check_va(va);
    } else {
      guest_cr3(pick(root, NROOTS));
      check_root();
    }
    ck_assert_int_eq(vmm_shadow__check(&sh), 0);
  }
  check_frames();
  ck_assert_uint_gt(sh.unsynced, 10);
  ck_assert_uint_gt(sh.resynced, 10);
  ck_assert_uint_gt(sh.invlpg_resyncs, 10);
  ck_assert_uint_gt(sh.pt_write_exits, 10); /* upper-level tables stay write-protected */
}
END_TEST

/* the check finds a broken index (so the test above can fail) */
START_TEST(check_detects_a_lost_page) {
  for (int i = 0; i < 200; i++)
    guest_access(((rnd() & 3) << 21) | ((rnd() & 63) << 12), 0, NULL);
  ck_assert_int_eq(vmm_shadow__check(&sh), 0);
  uint32_t got[8];
  int n = vmm_shadow__pages_of(&sh, (int64_t)(pt[0] >> 12), got, 8);
  for (int i = 1; n == 0 && i < NPT; i++)
    n = vmm_shadow__pages_of(&sh, (int64_t)(pt[i] >> 12), got, 8);
  ck_assert_int_gt(n, 0);
  sh.hashed[got[0]] = 0; /* a live page the index no longer claims */
  ck_assert_int_ne(vmm_shadow__check(&sh), 0);
  sh.hashed[got[0]] = 1;
  ck_assert_int_eq(vmm_shadow__check(&sh), 0);
}
END_TEST

/* refvmm itself stores into a guest page table (guest_mem__write, the
 * model's guest_written hook): no write-protection exit happens, yet the
 * shadow entries made from the old entry must go, or the guest keeps the
 * old mapping even after flushing its whole TLB. Here a PD entry is pointed
 * at another page table: both VAs under it follow the new one. */
START_TEST(vmm_write_to_a_guest_table_is_seen) {
  const uint64_t va = 5ull << 12, va2 = 6ull << 12; /* PD entry 0 of root[0]'s path */
  uint64_t pde = gget(gget(root[0]) & ADDR) & ADDR;
  uint64_t old_pt = gget(pde) & ADDR, new_pt = pt[0] == old_pt ? pt[1] : pt[0];
  const uint64_t a = (uint64_t)(DBASE + 1) << 12, b = (uint64_t)(DBASE + 2) << 12;
  const uint64_t a2 = (uint64_t)(DBASE + 3) << 12, b2 = (uint64_t)(DBASE + 4) << 12;
  gput(old_pt + 8 * 5, a | P | RW | US);
  gput(old_pt + 8 * 6, a2 | P | RW | US);
  gput(new_pt + 8 * 5, b | P | RW | US);
  gput(new_pt + 8 * 6, b2 | P | RW | US);
  uint64_t hpa;
  ck_assert_int_eq(guest_access(va, 0, &hpa), 0);
  ck_assert_uint_eq(hpa, a);
  ck_assert_int_eq(guest_access(va2, 0, &hpa), 0);
  ck_assert_uint_eq(hpa, a2);
  ck_assert_uint_eq(sh.is_pt[pde >> 12], 1); /* the PD is shadowed, write-protected */

  /* a store the shadow MMU is not told of: stale even after a full flush */
  gput(pde, new_pt | P | RW | US);
  model_mmu__flush(t->c);
  ck_assert_int_eq(guest_access(va2, 0, &hpa), 0);
  ck_assert_uint_eq(hpa, a2);

  /* told (what guest_mem__write makes the model do): the new table */
  vmm_shadow__guest_written(&sh, t->c, pde, 8);
  ck_assert_int_eq(vmm_shadow__check(&sh), 0);
  model_mmu__flush(t->c); /* the guest's own invalidation of its TLB */
  ck_assert_int_eq(guest_access(va, 0, &hpa), 0);
  ck_assert_uint_eq(hpa, b);
  ck_assert_int_eq(guest_access(va2, 0, &hpa), 0);
  ck_assert_uint_eq(hpa, b2);
  ck_assert_uint_eq(sh.pt_write_exits, 0); /* no exit was counted for it */
  /* a store into a frame that holds no page table changes nothing */
  uint64_t zaps = sh.zaps;
  vmm_shadow__guest_written(&sh, t->c, a, 4096);
  ck_assert_uint_eq(sh.zaps, zaps);
}
END_TEST

/* A last-level guest table the guest writes as data (a Linux kernel frees a
 * page table and reuses the page): under sync its shadow page never floods
 * (KVM's exemption of last-level pages), so every store exits; under flood
 * the third store with no fill through the page zaps it, the frame is a
 * page table no more, and after one fill (write access back) stores run
 * without exits. A fill through the page in between is a use: no flood. */
static void write_a_leaf_table_as_data(enum vmm_shadow_policy p) {
  vmm_shadow__set_policy(&sh, p);
  uint64_t l1 = gget(gget(gget(root[0]) & ADDR) & ADDR) & ADDR; /* the PT of va 0 */
  ck_assert_int_eq(guest_access(0, 0, NULL), 0);                /* shadowed: a fill through it */
  ck_assert_uint_eq(sh.is_pt[l1 >> 12], 1);
  uint64_t pt_writes = sh.pt_write_exits, flooded = sh.flooded;
  guest_write(l1 + 8 * 100, 0); /* entries no va of the test maps through: no fill */
  guest_write(l1 + 8 * 101, 0);
  ck_assert_int_eq(guest_access(0, 0, NULL), 0); /* the model's TLB may hold it: */
  model_mmu__flush(t->c);                        /* make the access a fill */
  ck_assert_int_eq(guest_access(1ull << 12, 0, NULL), 0);
  guest_write(l1 + 8 * 102, 0);
  guest_write(l1 + 8 * 103, 0); /* 2 since the fill: no flood under either policy */
  ck_assert_uint_eq(sh.flooded, flooded);
  ck_assert_uint_eq(sh.pt_write_exits, pt_writes + 4);
  for (int i = 0; i < 8; i++)
    guest_write(l1 + 8 * (110 + i), 0);
  if (p == SHADOW_POLICY_FLOOD) { /* the third write zapped it; a fill gave write access back */
    ck_assert_uint_eq(sh.flooded, flooded + 1);
    ck_assert_uint_eq(sh.pt_write_exits, pt_writes + 5);
    ck_assert_uint_eq(sh.is_pt[l1 >> 12], 0);
  } else { /* every write exits, the page stays */
    ck_assert_uint_eq(sh.flooded, flooded);
    ck_assert_uint_eq(sh.pt_write_exits, pt_writes + 12);
    ck_assert_uint_eq(sh.is_pt[l1 >> 12], 1);
  }
  ck_assert_int_eq(vmm_shadow__check(&sh), 0);
}

START_TEST(sync_keeps_a_leaf_table_written_as_data) {
  write_a_leaf_table_as_data(SHADOW_POLICY_SYNC);
}
END_TEST

START_TEST(flood_zaps_a_leaf_table_written_as_data) {
  write_a_leaf_table_as_data(SHADOW_POLICY_FLOOD);
}
END_TEST

/* Policy unsync, KVM's retry_instruction(): a write to a write-protected
 * upper-level table by an instruction KVM's emulator does not flag as
 * page-table writing (REP STOSB: the kernel zeroing a freed table) zaps
 * every shadow page of the frame and retries instead of emulating; a MOV
 * is emulated (the entry zapped, the page kept). */
START_TEST(unsync_retries_a_non_pt_write) {
  struct model_insn stos = {.op = 0xaa, .rep = 0xf3, .len = 2};
  struct model_insn mov = {.op = 0x89, .modrm = 0x07, .len = 2};
  ck_assert_int_eq(guest_access(0, 0, NULL), 0); /* shadows root[0]'s path to va 0 */
  uint64_t pdpt0 = gget(root[0]) & ADDR, pd0 = gget(pdpt0) & ADDR;
  uint32_t got[8];
  ck_assert_int_eq(vmm_shadow__pages_of(&sh, (int64_t)(pd0 >> 12), got, 8), 1);
  uint64_t exits = sh.pt_write_exits, hidden = sh.hidden_faults;
  t->c->cur = &mov; /* emulated: the PD stays shadowed */
  t->c->rip = 0x1000;
  guest_write(pd0 + 8 * 200, 0);
  ck_assert_uint_eq(sh.pt_write_exits, exits + 1);
  ck_assert_uint_eq(sh.pt_write_retries, 0);
  ck_assert_int_eq(vmm_shadow__pages_of(&sh, (int64_t)(pd0 >> 12), got, 8), 1);
  uint64_t freed = sh.pages_freed;
  t->c->cur = &stos; /* unprotected: the PD's page zapped, the write retried after a fill */
  t->c->rip = 0x2000;
  guest_write(pd0 + 8 * 201, 0);
  t->c->cur = NULL;
  ck_assert_uint_eq(sh.pt_write_exits, exits + 2);
  ck_assert_uint_eq(sh.pt_write_retries, 1);
  ck_assert_uint_eq(sh.pages_freed, freed + 1);
  ck_assert_uint_eq(sh.flooded, 0);
  ck_assert_int_eq(vmm_shadow__pages_of(&sh, (int64_t)(pd0 >> 12), got, 8), 0);
  ck_assert_uint_eq(sh.is_pt[pd0 >> 12], 0);
  ck_assert_uint_ge(sh.hidden_faults, hidden + 1); /* the retried write's fill */
  ck_assert_int_eq(vmm_shadow__check(&sh), 0);
  model_mmu__flush(t->c);
  ck_assert_int_eq(guest_access(0, 0, NULL), 0); /* va 0 is shadowed again through a new PD page */
  ck_assert_int_eq(vmm_shadow__pages_of(&sh, (int64_t)(pd0 >> 12), got, 8), 1);
}
END_TEST

Suite *suite_vmm_shadow(void) {
  Suite *s = suite_create("vmm_shadow");
  TCase *tc = tcase_create("index");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, index_follows_every_change);
  tcase_add_test(tc, check_detects_a_lost_page);
  tcase_add_test(tc, vmm_write_to_a_guest_table_is_seen);
  suite_add_tcase(s, tc);
  TCase *tu = tcase_create("unsync");
  tcase_add_checked_fixture(tu, setup_unsync, teardown);
  tcase_set_timeout(tu, 60);
  tcase_add_test(tu, unsync_syncs_at_each_invalidation);
  tcase_add_test(tu, unsync_retries_a_non_pt_write);
  suite_add_tcase(s, tu);
  TCase *tf = tcase_create("flood");
  tcase_add_checked_fixture(tf, setup_flood, teardown);
  tcase_set_timeout(tf, 60);
  tcase_add_test(tf, index_follows_every_change);
  suite_add_tcase(s, tf);
  tcase_add_test(tc, sync_keeps_a_leaf_table_written_as_data);
  tcase_add_test(tc, flood_zaps_a_leaf_table_written_as_data);
  return s;
}
