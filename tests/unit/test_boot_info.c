/* test_boot_info.c - the boot-info encoder: layout at VTB_BOOTINFO_GPA,
 * parameter validation and joining, length limits. */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "refvmm/boot_info.h"

static struct guest_mem gm;
static char err[256];

static void setup(void) {
  ck_assert_int_eq(guest_mem__init(&gm, VTB_MEM_MIN), 0);
  memset(gm.host + VTB_BOOTINFO_GPA, 0xcc, 4096);
  err[0] = '\0';
}
static void teardown(void) {
  guest_mem__destroy(&gm);
}

static const struct vtb_boot_info *bi(void) {
  return (const struct vtb_boot_info *)(gm.host + VTB_BOOTINFO_GPA);
}

static bool block_untouched(void) {
  for (int i = 0; i < 4096; i++)
    if (gm.host[VTB_BOOTINFO_GPA + i] != 0xcc) return false;
  return true;
}

START_TEST(layout_is_the_abi) {
  /* the guest reads these offsets; a change is an ABI change */
  ck_assert_uint_eq(offsetof(struct vtb_boot_info, magic), 0);
  ck_assert_uint_eq(offsetof(struct vtb_boot_info, ram_size), 16);
  ck_assert_uint_eq(offsetof(struct vtb_boot_info, params_len), 48);
  ck_assert_uint_eq(offsetof(struct vtb_boot_info, params), 56);
  ck_assert_uint_le(sizeof(struct vtb_boot_info), 4096); /* one page */
}
END_TEST

START_TEST(encodes_fields) {
  const char *p[] = {"n=1000", "cpl=3", "mode_x=a.b/c-d:1"};
  ck_assert_int_eq(boot_info__write(&gm, 0x300000, 2400000000ull, VTB_BOOT_F_SYSCALL_TRAP, p, 3,
                                    err, sizeof(err)),
                   0);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(bi()->magic, VTB_BOOT_MAGIC);
  ck_assert_mem_eq(gm.host + VTB_BOOTINFO_GPA, "$VTBBOOT", 8);
  ck_assert_uint_eq(bi()->version, VTB_ABI_VERSION);
  ck_assert_uint_eq(bi()->flags, VTB_BOOT_F_SYSCALL_TRAP);
  ck_assert_uint_eq(bi()->ram_size, VTB_MEM_MIN);
  ck_assert_uint_eq(bi()->free_start, 0x300000);
  ck_assert_uint_eq(bi()->free_end, VTB_MEM_MIN);
  ck_assert_uint_eq(bi()->tsc_hz, 2400000000ull);
  ck_assert_str_eq(bi()->params, "n=1000 cpl=3 mode_x=a.b/c-d:1");
  ck_assert_uint_eq(bi()->params_len, strlen("n=1000 cpl=3 mode_x=a.b/c-d:1"));
  ck_assert_uint_eq(bi()->reserved, 0);
  /* the rest of the params array is zeroed, not left over */
  ck_assert_uint_eq((unsigned char)bi()->params[VTB_PARAMS_MAX - 1], 0);
}
END_TEST

START_TEST(no_params) {
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, NULL, 0, err, sizeof(err)), 0);
  ck_assert_str_eq(bi()->params, "");
  ck_assert_uint_eq(bi()->params_len, 0);
  ck_assert_uint_eq(bi()->tsc_hz, 0);
}
END_TEST

START_TEST(value_may_contain_equals) {
  const char *p[] = {"k=a=b"};
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, 1, err, sizeof(err)), 0);
  ck_assert_str_eq(bi()->params, "k=a=b");
}
END_TEST

static void expect_bad_param(const char *param, const char *needle) {
  const char *p[] = {"ok=1", param};
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, 2, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "param 1"), "'%s'", err);
  ck_assert_msg(strstr(err, needle), "'%s' not in '%s'", needle, err);
  ck_assert(block_untouched());
}

START_TEST(rejects_malformed_params) {
  expect_bad_param("novalue", "no '='");
  expect_bad_param("=1", "empty key");
  expect_bad_param("k=", "empty value");
  expect_bad_param("Key=1", "key has character 0x4b at position 0");
  expect_bad_param("a-b=1", "key has character 0x2d at position 1");
  expect_bad_param("a b=1", "key has character 0x20");
  expect_bad_param("k=a b", "value has byte 0x20 at position 3");
  expect_bad_param("k=a\tb", "value has byte 0x09");
  expect_bad_param("k=a\nb", "value has byte 0x0a");
  expect_bad_param("k=\x7f", "value has byte 0x7f");
  expect_bad_param("k=\xc3\xa9", "value has byte 0xc3");
}
END_TEST

START_TEST(rejects_null_param_and_counts) {
  const char *p[] = {"a=1", NULL};
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, 2, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "param 1 is missing"));
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, -1, err, sizeof(err)), -1);
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, NULL, 1, err, sizeof(err)), -1);
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, VM_PARAMS_MAX + 1, err, sizeof(err)),
                   -1);
  ck_assert(block_untouched());
}
END_TEST

START_TEST(rejects_bad_free_start) {
  ck_assert_int_eq(boot_info__write(&gm, 0x200001, 0, 0, NULL, 0, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "free_start is 0x200001"));
  ck_assert_int_eq(boot_info__write(&gm, gm.size + 4096, 0, 0, NULL, 0, err, sizeof(err)), -1);
  ck_assert_int_eq(boot_info__write(&gm, gm.size, 0, 0, NULL, 0, err, sizeof(err)), 0);
}
END_TEST

/* 32 params whose joined text is exactly `total` bytes (without the NUL):
 * 31 params of 31 bytes (32 with their separator) after a first one of
 * total - 31*32 bytes. */
static int fill_params(char bufs[][64], const char **p, size_t total) {
  const int n = 32;
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    size_t len = i ? 31 : total - 31 * 32;
    ck_assert(len >= 5 && len < 64);
    snprintf(bufs[i], 64, "k%02d=", i);
    memset(bufs[i] + 4, 'x', len - 4);
    bufs[i][len] = '\0';
    p[i] = bufs[i];
    used += len + (i ? 1 : 0);
  }
  ck_assert_uint_eq(used, total);
  return n;
}

START_TEST(length_limit_exact) {
  static char bufs[VM_PARAMS_MAX][64];
  const char *p[VM_PARAMS_MAX];
  int n = fill_params(bufs, p, VTB_PARAMS_MAX - 1);
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, n, err, sizeof(err)), 0);
  ck_assert_uint_eq(bi()->params_len, VTB_PARAMS_MAX - 1);
  ck_assert_uint_eq(strlen(bi()->params), VTB_PARAMS_MAX - 1);
}
END_TEST

START_TEST(length_limit_plus_one) {
  static char bufs[VM_PARAMS_MAX][64];
  const char *p[VM_PARAMS_MAX];
  int n = fill_params(bufs, p, VTB_PARAMS_MAX);
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, n, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "too long"));
  ck_assert(block_untouched());
}
END_TEST

START_TEST(one_huge_param) {
  static char big[5000];
  memset(big, 'v', sizeof(big) - 1);
  memcpy(big, "k=", 2);
  const char *p[] = {big};
  ck_assert_int_eq(boot_info__write(&gm, 0x200000, 0, 0, p, 1, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "param 0"));
  ck_assert(block_untouched());
}
END_TEST

START_TEST(tiny_ram_rejected) {
  struct guest_mem small = {gm.host, VTB_BOOTINFO_GPA + 100};
  ck_assert_int_eq(boot_info__write(&small, 0, 0, 0, NULL, 0, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "does not fit"));
}
END_TEST

Suite *suite_boot_info(void) {
  Suite *s = suite_create("boot_info");
  TCase *tc = tcase_create("encode");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, layout_is_the_abi);
  tcase_add_test(tc, encodes_fields);
  tcase_add_test(tc, no_params);
  tcase_add_test(tc, value_may_contain_equals);
  suite_add_tcase(s, tc);
  tc = tcase_create("validate");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, rejects_malformed_params);
  tcase_add_test(tc, rejects_null_param_and_counts);
  tcase_add_test(tc, rejects_bad_free_start);
  tcase_add_test(tc, length_limit_exact);
  tcase_add_test(tc, length_limit_plus_one);
  tcase_add_test(tc, one_huge_param);
  tcase_add_test(tc, tiny_ram_rejected);
  suite_add_tcase(s, tc);
  return s;
}
