/* test_ident.c - refvmm answers the identification port on every backend
 * it runs here: a hand-assembled guest reads VTB_PORT_IDENT with a 32-bit
 * IN and a 16-bit IN, reports both values and exits; the reports must be
 * VTB_IDENT_MAGIC and its low half. This is how the Linux guest's init
 * tells refvmm from a VMM that does not answer (docs/LINUX.md). It also
 * reports the boot info's flags: VTB_BOOT_F_MODEL on the model backend
 * only (how a guest tells it runs on the model, docs/ABI.md). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/elf_builder.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"
#include "workloads/rt/vtb_abi.h"

/* Report structs at EB_DATA_GPA ("ident.32"), +0x40 ("ident.16") and +0xa0
 * ("ident.flags"), the exit struct at +0x80. */
static void write_ident_guest(const char *path) {
  uint8_t text[] = {
      0x8b, 0x47, 0x0c,                               /* mov eax, [rdi+12] (boot info flags) */
      0x89, 0x04, 0x25, 0xc0, 0x10, 0x20, 0x00,       /* mov [0x2010c0], eax */
      0x66, 0xba, 0x24, 0x05,                         /* mov dx, 0x524 (VTB_PORT_IDENT) */
      0xed,                                           /* in eax, dx */
      0x89, 0x04, 0x25, 0x20, 0x10, 0x20, 0x00,       /* mov [0x201020], eax (report value) */
      0x66, 0xed,                                     /* in ax, dx */
      0x66, 0x89, 0x04, 0x25, 0x60, 0x10, 0x20, 0x00, /* mov [0x201060], ax */
      0x66, 0xba, 0x03, 0x05,                         /* mov dx, 0x503 (report) */
      0xb8, 0x00, 0x10, 0x20, 0x00,                   /* mov eax, 0x201000 */
      0xef,                                           /* out dx, eax */
      0xb8, 0x40, 0x10, 0x20, 0x00,                   /* mov eax, 0x201040 */
      0xef,                                           /* out dx, eax */
      0xb8, 0xa0, 0x10, 0x20, 0x00,                   /* mov eax, 0x2010a0 */
      0xef,                                           /* out dx, eax */
      0x66, 0xba, 0x01, 0x05,                         /* mov dx, 0x501 (exit) */
      0xb8, 0x80, 0x10, 0x20, 0x00,                   /* mov eax, 0x201080 */
      0xef,                                           /* out dx, eax */
      0xf4, 0xeb, 0xfd,                               /* hlt; jmp hlt */
  };
  uint8_t data[0x100];
  memset(data, 0, sizeof data);
  struct vtb_hc_report r32 = {"ident.32", 0}, r16 = {"ident.16", 0}, fl = {"ident.flags", 0};
  struct vtb_hc_exit ex = {0};
  memcpy(data + 0x00, &r32, sizeof r32);
  memcpy(data + 0x40, &r16, sizeof r16);
  memcpy(data + 0x80, &ex, sizeof ex);
  memcpy(data + 0xa0, &fl, sizeof fl);
  struct elf_builder b;
  eb__init(&b, EB_TEXT_GPA);
  eb__add_load(&b, EB_TEXT_GPA, PF_R | PF_X, text, sizeof text, sizeof text);
  eb__add_load(&b, EB_DATA_GPA, PF_R | PF_W, data, sizeof data, 0x1000);
  ck_assert_msg(eb__write(&b, path) == 0, "cannot write %s", path);
  eb__free(&b);
}

static void check_backend(const char *backend) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/vtb_ident_%d.elf", (int)getpid());
  write_ident_guest(path);
  struct refvmm_result r;
  const char *args[] = {"run", path, "--backend", backend, "--quiet", "--timeout", "60", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  unlink(path);
  itest__assert_ok_run(&r);
  ck_assert_uint_eq(itest__guest_report(&r, "ident.32"), VTB_IDENT_MAGIC);
  ck_assert_uint_eq(itest__guest_report(&r, "ident.16"), VTB_IDENT_MAGIC & 0xffff);
  uint64_t flags = itest__guest_report(&r, "ident.flags");
  ck_assert_msg((flags & VTB_BOOT_F_SYSCALL_TRAP) != 0, "boot flags 0x%llx",
                (unsigned long long)flags);
  ck_assert_msg(((flags & VTB_BOOT_F_MODEL) != 0) == (strcmp(backend, "model") == 0),
                "%s: boot flags 0x%llx, VTB_BOOT_F_MODEL must be set on the model only", backend,
                (unsigned long long)flags);
  refvmm_result__free(&r);
}

START_TEST(ident_port_answers_the_magic_on_the_model) {
  check_backend("model");
}
END_TEST

START_TEST(ident_port_answers_the_magic_on_kvm) {
  if (itest__kvm_missing()) return;
  check_backend("kvm");
}
END_TEST

Suite *suite_ident(void) {
  Suite *s = suite_create("ident");
  TCase *tc = tcase_create("ident");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, ident_port_answers_the_magic_on_the_model);
  tcase_add_test(tc, ident_port_answers_the_magic_on_kvm);
  suite_add_tcase(s, tc);
  return s;
}
