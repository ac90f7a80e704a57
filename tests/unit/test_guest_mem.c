/* test_guest_mem.c - guest RAM mapping and the checked-GPA helper at its
 * boundaries. */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "refvmm/vm.h"

static struct guest_mem gm;

static void setup(void) {
  ck_assert_int_eq(guest_mem__init(&gm, VTB_MEM_MIN), 0);
}
static void teardown(void) {
  guest_mem__destroy(&gm);
}

START_TEST(init_sets_size_and_zeroed_ram) {
  ck_assert_ptr_nonnull(gm.host);
  ck_assert_uint_eq(gm.size, VTB_MEM_MIN);
  ck_assert_uint_eq(gm.host[0], 0);
  ck_assert_uint_eq(gm.host[gm.size - 1], 0);
  gm.host[gm.size - 1] = 0x77; /* whole range writable */
  ck_assert_uint_eq(gm.host[gm.size - 1], 0x77);
}
END_TEST

START_TEST(init_rejects_bad_sizes) {
  struct guest_mem g = {(uint8_t *)1, 123};
  ck_assert_int_eq(guest_mem__init(&g, VTB_MEM_MIN - 4096), -EINVAL);
  ck_assert_ptr_null(g.host);
  ck_assert_uint_eq(g.size, 0);
  ck_assert_int_eq(guest_mem__init(&g, VTB_MEM_MAX + 4096), -EINVAL);
  ck_assert_int_eq(guest_mem__init(&g, VTB_MEM_MIN + 1), -EINVAL); /* not page aligned */
  ck_assert_int_eq(guest_mem__init(&g, 0), -EINVAL);
  ck_assert_int_eq(guest_mem__init(&g, UINT64_MAX), -EINVAL);
}
END_TEST

START_TEST(init_accepts_max) {
  /* MAP_NORESERVE: 3 GiB of untouched RAM costs nothing */
  struct guest_mem g;
  ck_assert_int_eq(guest_mem__init(&g, VTB_MEM_MAX), 0);
  ck_assert_uint_eq(g.size, VTB_MEM_MAX);
  g.host[VTB_MEM_MAX - 1] = 1;
  guest_mem__destroy(&g);
  ck_assert_ptr_null(g.host);
  ck_assert_uint_eq(g.size, 0);
  guest_mem__destroy(&g); /* idempotent */
}
END_TEST

START_TEST(ptr_inside) {
  ck_assert_ptr_eq(guest_mem__ptr(&gm, 0, 1), gm.host);
  ck_assert_ptr_eq(guest_mem__ptr(&gm, 0, gm.size), gm.host);
  ck_assert_ptr_eq(guest_mem__ptr(&gm, 0x1234, 16), gm.host + 0x1234);
  ck_assert_ptr_eq(guest_mem__ptr(&gm, gm.size - 1, 1), gm.host + gm.size - 1);
  ck_assert_ptr_eq(guest_mem__ptr(&gm, 0, 0), gm.host);
}
END_TEST

START_TEST(ptr_len_zero_at_end) {
  ck_assert_ptr_eq(guest_mem__ptr(&gm, gm.size, 0), gm.host + gm.size);
  ck_assert_ptr_null(guest_mem__ptr(&gm, gm.size + 1, 0));
}
END_TEST

START_TEST(ptr_past_end) {
  ck_assert_ptr_null(guest_mem__ptr(&gm, gm.size, 1));
  ck_assert_ptr_null(guest_mem__ptr(&gm, gm.size - 1, 2));
  ck_assert_ptr_null(guest_mem__ptr(&gm, 0, gm.size + 1));
  ck_assert_ptr_null(guest_mem__ptr(&gm, 1, gm.size));
  ck_assert_ptr_null(guest_mem__ptr(&gm, VTB_MMIO_GPA, 1)); /* MMIO window: no RAM */
}
END_TEST

START_TEST(ptr_wrap_around) {
  ck_assert_ptr_null(guest_mem__ptr(&gm, UINT64_MAX - 1, 4));
  ck_assert_ptr_null(guest_mem__ptr(&gm, UINT64_MAX, 1));
  ck_assert_ptr_null(guest_mem__ptr(&gm, UINT64_MAX, 0));
  ck_assert_ptr_null(guest_mem__ptr(&gm, 16, UINT64_MAX));
  ck_assert_ptr_null(guest_mem__ptr(&gm, 16, UINT64_MAX - 15)); /* 16 + len == 0 mod 2^64 */
  ck_assert_ptr_null(guest_mem__ptr(&gm, 0, 1ull << 63));
  ck_assert_ptr_null(guest_mem__ptr(&gm, 1ull << 63, 1ull << 63));
  ck_assert_ptr_null(guest_mem__ptr(&gm, gm.size - 8, UINT64_MAX - gm.size + 9));
}
END_TEST

START_TEST(ptr_no_memory) {
  struct guest_mem empty = {NULL, 0};
  ck_assert_ptr_null(guest_mem__ptr(&empty, 0, 0));
  ck_assert_ptr_null(guest_mem__ptr(NULL, 0, 0));
}
END_TEST

Suite *suite_guest_mem(void) {
  Suite *s = suite_create("guest_mem");
  TCase *tc = tcase_create("init");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, init_sets_size_and_zeroed_ram);
  tcase_add_test(tc, init_rejects_bad_sizes);
  tcase_add_test(tc, init_accepts_max);
  suite_add_tcase(s, tc);
  tc = tcase_create("ptr");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, ptr_inside);
  tcase_add_test(tc, ptr_len_zero_at_end);
  tcase_add_test(tc, ptr_past_end);
  tcase_add_test(tc, ptr_wrap_around);
  tcase_add_test(tc, ptr_no_memory);
  suite_add_tcase(s, tc);
  return s;
}
