/* test_image_params.c - refvmm's --param check against the image's table:
 * a mistyped key names the key and lists the declared ones, a value is
 * parsed as the guest parses it and kept inside the declared range, the
 * runtime's own keys are accepted, an image without a table is left to its
 * guest. The real images carry the tables their sources declare. */
#include <check.h>
#include <string.h>

#include "refvmm/elf_loader.h"
#include "refvmm/image_params.h"

static struct elf_params table(void) {
  struct elf_params ep = {.present = true, .n = 2};
  strcpy(ep.p[0].key, "n");
  ep.p[0].def = 100, ep.p[0].min = 1, ep.p[0].max = 1000;
  strcpy(ep.p[0].help, "iterations");
  strcpy(ep.p[1].key, "ws");
  ep.p[1].def = 4096, ep.p[1].min = 4096, ep.p[1].max = 1 << 30;
  return ep;
}

static int check(const struct elf_params *ep, const char *kv, char *err, size_t len) {
  const char *params[] = {"n=5", kv};
  return image_params__check(ep, "workloads/build/w.elf", params, 2, err, len);
}

START_TEST(accepts_declared_and_runtime_keys) {
  struct elf_params ep = table();
  char err[256] = "";
  ck_assert_int_eq(check(&ep, "ws=1m", err, sizeof err), 0);
  ck_assert_int_eq(check(&ep, "ws=0x1000", err, sizeof err), 0);
  ck_assert_int_eq(check(&ep, "cpl=3", err, sizeof err), 0);
  ck_assert_int_eq(check(&ep, "syscall=trap", err, sizeof err), 0);
}
END_TEST

START_TEST(unknown_key_lists_valid_ones) {
  struct elf_params ep = table();
  char err[256];
  ck_assert_int_eq(check(&ep, "nn=5", err, sizeof err), -1);
  ck_assert_str_eq(err, "--param nn=5: w.elf has no parameter 'nn'; its parameters: n ws (and "
                        "every workload's cpl, syscall)");
}
END_TEST

START_TEST(bad_values) {
  struct elf_params ep = table();
  char err[256];
  ck_assert_int_eq(check(&ep, "n=5x", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "'5x' is not a number"), "%s", err);
  ck_assert_int_eq(check(&ep, "n=1001", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "n is 1001, outside its range [1, 1000] (iterations)"), "%s", err);
  ck_assert_int_eq(check(&ep, "cpl=1", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "cpl is 0 or 3"), "%s", err);
  ck_assert_int_eq(check(&ep, "syscall=fast", err, sizeof err), -1);
  ck_assert_int_eq(check(&ep, "ws", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "expected KEY=VALUE"), "%s", err);
}
END_TEST

START_TEST(no_table_no_check) {
  struct elf_params ep = {0};
  char err[64];
  ck_assert_int_eq(check(&ep, "anything=1", err, sizeof err), 0);
}
END_TEST

START_TEST(all_default) {
  struct elf_params ep = table();
  const char *none[] = {"cpl=3", "syscall=trap"}, *one[] = {"cpl=3", "ws=8k"};
  ck_assert(image_params__all_default(&ep, none, 2));
  ck_assert(image_params__all_default(&ep, none, 0));
  ck_assert(!image_params__all_default(&ep, one, 2));
}
END_TEST

/* The built gups image carries the table gups.c declares. */
START_TEST(built_image_has_its_table) {
  struct guest_mem gm;
  ck_assert_int_eq(guest_mem__init(&gm, 64ull << 20), 0);
  struct elf_image img;
  char err[512];
  int r = elf__load_file("workloads/build/gups.elf", &gm, &img, err, sizeof err);
  guest_mem__destroy(&gm);
  ck_assert_msg(r == 0, "%s", err);
  ck_assert(img.params.present);
  ck_assert_int_eq(img.params.n, 4);
  ck_assert_str_eq(img.params.p[0].key, "n");
  ck_assert_str_eq(img.params.p[1].key, "ws");
  ck_assert_uint_eq(img.params.p[1].def, 64ull << 20);
  ck_assert_str_eq(img.params.p[3].key, "seed");
}
END_TEST

Suite *suite_image_params(void) {
  Suite *s = suite_create("image_params");
  TCase *tc = tcase_create("check");
  tcase_add_test(tc, accepts_declared_and_runtime_keys);
  tcase_add_test(tc, unknown_key_lists_valid_ones);
  tcase_add_test(tc, bad_values);
  tcase_add_test(tc, no_table_no_check);
  tcase_add_test(tc, all_default);
  tcase_add_test(tc, built_image_has_its_table);
  suite_add_tcase(s, tc);
  return s;
}
