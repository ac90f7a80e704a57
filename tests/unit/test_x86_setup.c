/* test_x86_setup.c - walk the identity map the VMM builds the way the CPU
 * does, and check the boot GDT's descriptor bits and the boot state. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "refvmm/x86_setup.h"

static struct guest_mem gm;
static struct boot_state bs;

static void setup(void) {
  ck_assert_int_eq(guest_mem__init(&gm, VTB_MEM_MIN), 0);
  memset(gm.host, 0xee, gm.size);
  ck_assert_int_eq(x86__setup_long_mode(&gm, 0x200000, &bs), 0);
}
static void teardown(void) {
  guest_mem__destroy(&gm);
}

static uint64_t rd64(gpa_t gpa) {
  uint64_t v;
  ck_assert_int_eq(guest_mem__read(&gm, gpa, &v, 8), 0);
  return v;
}

/* A 4-level walk honouring PS at the PD level. Returns the physical
 * address, or ~0 when a level is not present; *leaf gets the final entry. */
static uint64_t walk(uint64_t va, uint64_t *leaf) {
  uint64_t table = bs.cr3 & X86_PTE_ADDR_MASK;
  for (int level = 4; level >= 1; level--) {
    unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
    uint64_t e = rd64(table + 8 * idx);
    if (!(e & X86_PTE_P)) return ~0ull;
    if (level == 2 && (e & X86_PTE_PS)) {
      *leaf = e;
      return (e & X86_PTE_ADDR_MASK & ~0x1fffffull) | (va & 0x1fffff);
    }
    ck_assert_msg(!(e & X86_PTE_PS) || level == 1, "PS at level %d", level);
    /* intermediate levels: present, writable, user, accessed */
    ck_assert_uint_eq(e & 0xfff, X86_PTE_P | X86_PTE_W | X86_PTE_U | X86_PTE_A);
    table = e & X86_PTE_ADDR_MASK;
  }
  *leaf = 0;
  return ~0ull; /* no 4 KiB pages in this map */
}

START_TEST(boot_state_fields) {
  ck_assert_uint_eq(bs.entry, 0x200000);
  ck_assert_uint_eq(bs.stack_top, VTB_BOOT_STACK_TOP);
  ck_assert_uint_eq(bs.boot_info, VTB_BOOTINFO_GPA);
  ck_assert_uint_eq(bs.cr3, VTB_PGTABLE_GPA);
  ck_assert_uint_eq(bs.gdt_base, VTB_GDT_GPA);
  ck_assert_uint_eq(bs.gdt_limit, 5 * 8 - 1);
  ck_assert_uint_eq(bs.stack_top % 16, 0);
  ck_assert_uint_lt(bs.stack_top, VTB_RESERVED_END); /* stack lives in reserved memory */
  ck_assert_uint_ge(bs.stack_top - 0x1000, VTB_PGTABLE_END);
}
END_TEST

START_TEST(identity_translations) {
  const uint64_t vas[] = {0,          0x1234,     0x1fffff,
                          0x200000,   0x2345678,  gm.size - 1,
                          0x40000000, 0xbfffffff, VTB_MMIO_GPA + 0x10,
                          0xffffffff};
  for (unsigned i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
    uint64_t leaf;
    ck_assert_uint_eq(walk(vas[i], &leaf), vas[i]);
    ck_assert_uint_eq(leaf & 0xfff,
                      X86_PTE_P | X86_PTE_W | X86_PTE_U | X86_PTE_A | X86_PTE_D | X86_PTE_PS);
    ck_assert_uint_eq(leaf >> 52, 0); /* no NX, no reserved high bits */
  }
}
END_TEST

START_TEST(nothing_mapped_above_4g) {
  uint64_t leaf;
  ck_assert_uint_eq(walk(4ull << 30, &leaf), ~0ull);
  ck_assert_uint_eq(walk(512ull << 30, &leaf), ~0ull);          /* next PML4 slot */
  ck_assert_uint_eq(walk(0xffff800000000000ull, &leaf), ~0ull); /* kernel half */
}
END_TEST

START_TEST(every_2m_page_mapped_once) {
  /* all 2048 leaves, in order, each to its own frame */
  for (uint64_t va = 0; va < X86_IDMAP_BYTES; va += 0x200000) {
    uint64_t leaf;
    ck_assert_uint_eq(walk(va, &leaf), va);
  }
}
END_TEST

START_TEST(tables_inside_their_area) {
  /* PML4 entries beyond the first are empty; tables sit in [PGTABLE, END) */
  for (int i = 1; i < 512; i++)
    ck_assert_uint_eq(rd64(bs.cr3 + 8 * i), 0);
  uint64_t pdpt = rd64(bs.cr3) & X86_PTE_ADDR_MASK;
  ck_assert_uint_ge(pdpt, VTB_PGTABLE_GPA);
  ck_assert_uint_lt(pdpt, VTB_PGTABLE_END);
  for (int i = 0; i < 4; i++) {
    uint64_t pd = rd64(pdpt + 8 * i) & X86_PTE_ADDR_MASK;
    ck_assert_uint_ge(pd, VTB_PGTABLE_GPA);
    ck_assert_uint_le(pd + 4096, VTB_PGTABLE_END);
  }
  for (int i = 4; i < 512; i++)
    ck_assert_uint_eq(rd64(pdpt + 8 * i), 0);
}
END_TEST

START_TEST(other_memory_untouched) {
  ck_assert_uint_eq(gm.host[0], 0xee);
  ck_assert_uint_eq(gm.host[VTB_GDT_GPA - 1], 0xee);
  ck_assert_uint_eq(gm.host[VTB_BOOTINFO_GPA], 0xee);
  ck_assert_uint_eq(gm.host[VTB_PGTABLE_GPA - 1], 0xee);
  ck_assert_uint_eq(gm.host[VTB_PGTABLE_END], 0xee);
  ck_assert_uint_eq(gm.host[VTB_RESERVED_END], 0xee);
}
END_TEST

START_TEST(gdt_descriptor_bits) {
  ck_assert_uint_eq(rd64(VTB_GDT_GPA), 0);
  uint64_t kc = rd64(VTB_GDT_GPA + VTB_SEL_KCODE);
  uint64_t kd = rd64(VTB_GDT_GPA + VTB_SEL_KDATA);
  uint64_t ud = rd64(VTB_GDT_GPA + (VTB_SEL_UDATA & ~3));
  uint64_t uc = rd64(VTB_GDT_GPA + (VTB_SEL_UCODE & ~3));
#define BIT(d, n) (((d) >> (n)) & 1)
#define DPL(d)    (((d) >> 45) & 3)
#define TYPE(d)   (((d) >> 40) & 0xf)
  /* code64: P, S, executable, L=1, D=0 */
  ck_assert_uint_eq(BIT(kc, 47), 1);
  ck_assert_uint_eq(BIT(kc, 44), 1);
  ck_assert_uint_eq(BIT(kc, 43), 1);
  ck_assert_uint_eq(BIT(kc, 53), 1);
  ck_assert_uint_eq(BIT(kc, 54), 0);
  ck_assert_uint_eq(DPL(kc), 0);
  ck_assert_uint_eq(BIT(uc, 53), 1);
  ck_assert_uint_eq(BIT(uc, 54), 0);
  ck_assert_uint_eq(BIT(uc, 43), 1);
  ck_assert_uint_eq(DPL(uc), 3);
  /* data: P, S, not executable, writable, L=0 */
  ck_assert_uint_eq(TYPE(kd) & 0xa, 0x2);
  ck_assert_uint_eq(BIT(kd, 47), 1);
  ck_assert_uint_eq(BIT(kd, 53), 0);
  ck_assert_uint_eq(DPL(kd), 0);
  ck_assert_uint_eq(TYPE(ud) & 0xa, 0x2);
  ck_assert_uint_eq(DPL(ud), 3);
  /* accessed pre-set: the CPU never writes the GDT */
  ck_assert_uint_eq(TYPE(kc) & 1, 1);
  ck_assert_uint_eq(TYPE(kd) & 1, 1);
  ck_assert_uint_eq(TYPE(ud) & 1, 1);
  ck_assert_uint_eq(TYPE(uc) & 1, 1);
  /* the limit covers exactly the five descriptors */
  ck_assert_uint_eq((bs.gdt_limit + 1) / 8, X86_BOOT_GDT_ENTRIES);
  ck_assert_uint_eq(rd64(VTB_GDT_GPA + 40), 0);
}
END_TEST

START_TEST(boot_segments_decode) {
  struct x86_segment s;
  ck_assert_int_eq(x86__boot_segment(VTB_SEL_KCODE, &s), 0);
  ck_assert_uint_eq(s.selector, VTB_SEL_KCODE);
  ck_assert_uint_eq(s.l, 1);
  ck_assert_uint_eq(s.db, 0);
  ck_assert_uint_eq(s.type, 0xb);
  ck_assert_uint_eq(s.present, 1);
  ck_assert_uint_eq(s.s, 1);
  ck_assert_uint_eq(s.g, 1);
  ck_assert_uint_eq(s.limit, 0xffffffff);
  ck_assert_uint_eq(s.base, 0);
  ck_assert_int_eq(x86__boot_segment(VTB_SEL_KDATA, &s), 0);
  ck_assert_uint_eq(s.type, 0x3);
  ck_assert_uint_eq(s.db, 1);
  ck_assert_uint_eq(s.dpl, 0);
  ck_assert_int_eq(x86__boot_segment(VTB_SEL_UDATA, &s), 0);
  ck_assert_uint_eq(s.dpl, 3);
  ck_assert_uint_eq(s.type, 0x3);
  ck_assert_int_eq(x86__boot_segment(VTB_SEL_UCODE, &s), 0);
  ck_assert_uint_eq(s.dpl, 3);
  ck_assert_uint_eq(s.l, 1);
  /* the null, a runtime-only and ill-formed selectors have no boot segment */
  ck_assert_int_eq(x86__boot_segment(0, &s), -1);
  ck_assert_int_eq(x86__boot_segment(VTB_SEL_TSS, &s), -1);
  ck_assert_int_eq(x86__boot_segment(0x18, &s), -1);     /* RPL0 on a DPL3 segment */
  ck_assert_int_eq(x86__boot_segment(0x08 | 4, &s), -1); /* LDT */
}
END_TEST

START_TEST(decode_byte_granular) {
  struct x86_segment s;
  /* base 0x12345678, limit 0x5abcd, G=0, P, DPL2, type 0x3 */
  uint64_t d = 0x1205d3345678abcdull;
  x86__decode_segment(d, 0x42, &s);
  ck_assert_uint_eq(s.base, 0x12345678);
  ck_assert_uint_eq(s.limit, 0x5abcd);
  ck_assert_uint_eq(s.g, 0);
  ck_assert_uint_eq(s.dpl, 2);
  ck_assert_uint_eq(s.present, 1);
  ck_assert_uint_eq(s.type, 3);
  ck_assert_uint_eq(s.selector, 0x42);
}
END_TEST

START_TEST(rejects_small_ram_and_entry_outside) {
  struct boot_state b2 = {.entry = 77};
  struct guest_mem small = {gm.host, VTB_MEM_MIN - 4096};
  ck_assert_int_eq(x86__setup_long_mode(&small, 0x200000, &b2), -EINVAL);
  ck_assert_int_eq(x86__setup_long_mode(&gm, gm.size, &b2), -EINVAL);
  ck_assert_uint_eq(b2.entry, 77);
  ck_assert_int_eq(x86__setup_long_mode(&gm, gm.size - 1, &b2), 0);
  ck_assert_uint_eq(b2.entry, gm.size - 1);
}
END_TEST

Suite *suite_x86_setup(void) {
  Suite *s = suite_create("x86_setup");
  TCase *tc = tcase_create("paging");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, boot_state_fields);
  tcase_add_test(tc, identity_translations);
  tcase_add_test(tc, nothing_mapped_above_4g);
  tcase_add_test(tc, every_2m_page_mapped_once);
  tcase_add_test(tc, tables_inside_their_area);
  tcase_add_test(tc, other_memory_untouched);
  tcase_add_test(tc, rejects_small_ram_and_entry_outside);
  suite_add_tcase(s, tc);
  tc = tcase_create("gdt");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, gdt_descriptor_bits);
  tcase_add_test(tc, boot_segments_decode);
  tcase_add_test(tc, decode_byte_granular);
  suite_add_tcase(s, tc);
  return s;
}
