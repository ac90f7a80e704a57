/* test_guest_mem.c - guest RAM mapping and the checked-GPA helper at its
 * boundaries. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The mapping's VmFlags line in /proc/self/smaps, or "" when not found. */
static void vmflags_of(const void *addr, char *out, size_t len) {
  out[0] = '\0';
  FILE *f = fopen("/proc/self/smaps", "r");
  ck_assert_ptr_nonnull(f);
  char line[512];
  bool in = false;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
      in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
      continue;
    }
    if (in && !strncmp(line, "VmFlags:", 8)) {
      snprintf(out, len, "%s", line + 8);
      break;
    }
  }
  fclose(f);
}

/* Whether a child's write to the RAM shows in the parent's view: shared
 * memory shows it, private memory does not. */
static bool child_write_shows(struct guest_mem *g) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    g->host[4096] = 0x5a;
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return g->host[4096] == 0x5a;
}

/* The model's RAM: private, zeroed, writable and advised for huge pages
 * (VmFlags "hg") where the kernel has THP; the default stays shared and
 * unadvised (KVM's counts depend on it, backend.h). */
START_TEST(private_huge_backing) {
  struct guest_mem h;
  ck_assert_int_eq(guest_mem__init_backing(&h, 8u << 20, true), 0);
  ck_assert_uint_eq(h.host[h.size - 1], 0);
  h.host[h.size - 1] = 0x77;
  ck_assert_uint_eq(h.host[h.size - 1], 0x77);
  ck_assert(!child_write_shows(&h));
  ck_assert(child_write_shows(&gm));
  char fl[512];
  bool thp = access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0;
  vmflags_of(h.host, fl, sizeof fl);
  ck_assert_msg(!thp || strstr(fl, " hg"), "private_huge RAM not advised: VmFlags%s", fl);
  vmflags_of(gm.host, fl, sizeof fl);
  ck_assert_msg(fl[0] && !strstr(fl, " hg"), "shared RAM advised: VmFlags%s", fl);
  guest_mem__destroy(&h);
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

/* The backend's guest_written hook as a recorder. */
static struct {
  int calls;
  struct vm *vm;
  gpa_t gpa;
  uint64_t len;
} seen;
static void record(struct vm *vm, gpa_t gpa, uint64_t len) {
  seen.calls++;
  seen.vm = vm;
  seen.gpa = gpa;
  seen.len = len;
}

/* Copies in and out at any alignment; every store tells the backend,
 * a refused one stores nothing and tells nothing. */
START_TEST(copies_and_the_written_hook) {
  static struct vm owner_vm;
  struct vm *owner = &owner_vm;
  gm.written = record;
  gm.written_vm = owner;
  memset(&seen, 0, sizeof seen);
  const uint64_t v = 0x1122334455667788ull;
  ck_assert_int_eq(guest_mem__write(&gm, 0x1003, &v, 8), 0); /* misaligned: fine, a copy */
  ck_assert_int_eq(seen.calls, 1);
  ck_assert_ptr_eq(seen.vm, owner);
  ck_assert_uint_eq(seen.gpa, 0x1003);
  ck_assert_uint_eq(seen.len, 8);
  uint64_t back = 0;
  ck_assert_int_eq(guest_mem__read(&gm, 0x1003, &back, 8), 0);
  ck_assert_uint_eq(back, v);
  ck_assert_int_eq(guest_mem__fill(&gm, 0x1004, 0xab, 2), 0);
  ck_assert_int_eq(seen.calls, 2);
  ck_assert_uint_eq(seen.gpa, 0x1004);
  ck_assert_uint_eq(seen.len, 2);
  ck_assert_int_eq(guest_mem__read(&gm, 0x1003, &back, 8), 0);
  ck_assert_uint_eq(back, 0x1122334455abab88ull);
  /* outside RAM: refused, nothing stored, the backend not told */
  ck_assert_int_eq(guest_mem__write(&gm, gm.size - 4, &v, 8), -EFAULT);
  ck_assert_int_eq(guest_mem__fill(&gm, UINT64_MAX, 0, 2), -EFAULT);
  ck_assert_int_eq(guest_mem__read(&gm, gm.size, &back, 1), -EFAULT);
  ck_assert_int_eq(seen.calls, 2);
  ck_assert_uint_eq(gm.host[gm.size - 4], 0);
  /* no hook bound (before the backend exists): stores still work */
  gm.written = NULL;
  ck_assert_int_eq(guest_mem__write(&gm, 0, &v, 8), 0);
  ck_assert_int_eq(seen.calls, 2);
}
END_TEST

Suite *suite_guest_mem(void) {
  Suite *s = suite_create("guest_mem");
  TCase *tc = tcase_create("init");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, init_sets_size_and_zeroed_ram);
  tcase_add_test(tc, private_huge_backing);
  tcase_add_test(tc, copies_and_the_written_hook);
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
