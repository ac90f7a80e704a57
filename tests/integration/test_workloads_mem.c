/* test_workloads_mem.c - the paging and memory workloads (pgfault, ptemod,
 * cr3switch, forkwait, gups, memstream, ptrchase) on /dev/kvm with small parameters:
 * status ok, the checksum this file computes itself from the formulas in
 * docs/ABI.md ("Memory workloads"), guest-reported facts that follow from
 * the parameters, and bad parameters refused with a message naming the
 * parameter. Skips with a printed reason where /dev/kvm is missing; a
 * missing image is a failure (images are built by `make`). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/exit_codes.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"

/* ---- host references (docs/ABI.md, written out again here) -------------- */

static uint64_t ref_pgfault(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++)
    s += itest__mix64(0x70676661756c74ull + i);
  return s;
}

static uint64_t ref_ptemod(uint64_t n, uint64_t frames) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++)
    s += itest__mix64(0x7074656d6f64ull ^ (i % frames));
  return s;
}

static uint64_t ref_cr3switch(uint64_t n, uint64_t k, uint64_t w) {
  uint64_t q = n / k, r = n % k;
  return w * (k * (q * (q - 1) / 2) + r * q);
}

static uint64_t ref_forkwait(uint64_t n, uint64_t pages) {
  return pages * (n * (n + 1) / 2);
}

static uint64_t ref_gups(uint64_t n, uint64_t ws, uint64_t seed) {
  uint64_t words = ws / 8, x = seed, s = 0;
  uint64_t *t = malloc(ws);
  ck_assert_ptr_nonnull(t);
  for (uint64_t i = 0; i < words; i++)
    t[i] = i;
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t[x & (words - 1)] ^= x;
  }
  for (uint64_t i = 0; i < words; i++)
    s += itest__mix64(t[i] + i);
  free(t);
  return s;
}

static uint64_t ref_memstream(uint64_t ws, uint64_t passes) {
  uint64_t w = ws / 8, p = passes;
  return (p + 1) * (w * (w - 1) / 2) + w * (p * (p + 1) / 2);
}

/* ptrchase: Sattolo's permutation of ws/64 lines from the seed, then n
 * loads from line 0; the sum of the line indices visited. */
static uint64_t ref_ptrchase(uint64_t n, uint64_t ws, uint64_t seed) {
  uint64_t lines = ws / 64, x = seed, s = 0, p = 0;
  uint64_t *a = malloc(lines * sizeof(*a));
  ck_assert_ptr_nonnull(a);
  for (uint64_t i = 0; i < lines; i++)
    a[i] = i;
  for (uint64_t i = lines - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t j = x % i, t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  for (uint64_t k = 0; k < n; k++)
    s += p = a[p];
  free(a);
  return s;
}

/* ---- running ------------------------------------------------------------- */

/* refvmm run NAME with "k=v k=v" params; the result in *r. */
static void run_wl(struct refvmm_result *r, const char *name, const char *params) {
  static char img[128], buf[512];
  const char *args[40] = {"run"};
  int n = 1;
  snprintf(img, sizeof img, "workloads/build/%s.elf", name);
  itest__require_image(img);
  args[n++] = img;
  snprintf(buf, sizeof buf, "%s", params);
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < 32;
       tok = strtok_r(NULL, " ", &save)) {
    args[n++] = "--param";
    args[n++] = tok;
  }
  args[n++] = "--quiet";
  args[n++] = "--timeout";
  args[n++] = "60";
  args[n] = NULL;
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
}

/* Status ok, checksum and iterations as given, no user-space exit in the
 * timed region (faults, CR3 loads and INVLPG are all handled by KVM). */
static void assert_ok(const struct refvmm_result *r, const char *what, uint64_t checksum,
                      uint64_t iterations) {
  ck_assert_msg(r->exit_code == EXIT_OK, "%s: refvmm exit %d, stderr: %s; console: %s", what,
                r->exit_code, r->err, refvmm_result__str(r, "console"));
  itest__assert_ok_run(r);
  itest__assert_checksum(r, checksum, iterations);
  ck_assert_int_eq(refvmm_result__int(r, "timed.wall_ns") > 0, 1);
  ck_assert_int_eq(refvmm_result__int(r, "exits.total"), 0);
}

static int shadow_stat(const struct refvmm_result *r, const char *name, int64_t *v) {
  const char *paging = refvmm_result__str(r, "modes.paging");
  char path[128];
  snprintf(path, sizeof path, "kvm_stats.vcpu.%s.value", name);
  *v = refvmm_result__int(r, path);
  return paging && !strcmp(paging, "shadow") && *v >= 0;
}

START_TEST(pgfault_takes_n_true_faults) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "pgfault", "n=300");
  assert_ok(&r, "pgfault n=300", ref_pgfault(300), 300);
  ck_assert_uint_eq(itest__guest_report(&r, "pgfault.faults"), 300);
  int64_t v;
  if (shadow_stat(&r, "pf_guest", &v)) /* shadow: KVM reflects exactly the true faults */
    ck_assert_int_eq(v, 300);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(ptemod_reads_through_each_update) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "ptemod", "n=500 frames=5");
  assert_ok(&r, "ptemod n=500 frames=5", ref_ptemod(500, 5), 500);
  int64_t v;
  if (shadow_stat(&r, "invlpg", &v)) ck_assert_int_eq(v, 500); /* one INVLPG per update */
  refvmm_result__free(&r);
  run_wl(&r, "ptemod", "n=200 frames=2 cpl=0");
  assert_ok(&r, "ptemod cpl=0", ref_ptemod(200, 2), 200);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.cpl"), 0);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(cr3switch_counts_visits_per_space) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "cr3switch", "n=101 k=3 w=5");
  assert_ok(&r, "cr3switch n=101 k=3 w=5", ref_cr3switch(101, 3, 5), 101);
  ck_assert_uint_eq(itest__guest_report(&r, "cr3switch.loads"), 101);
  refvmm_result__free(&r);
  run_wl(&r, "cr3switch", "n=40 k=2 w=3 cpl=0");
  assert_ok(&r, "cr3switch cpl=0", ref_cr3switch(40, 2, 3), 40);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(forkwait_children_share_the_parents_frames) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "forkwait", "n=20 pages=70");
  assert_ok(&r, "forkwait n=20 pages=70", ref_forkwait(20, 70), 20);
  ck_assert_uint_eq(itest__guest_report(&r, "forkwait.pages"), 70);
  refvmm_result__free(&r);
  /* 20 page tables per child: more than an address space tracks, so
   * destroy takes the scanning path. */
  run_wl(&r, "forkwait", "n=3 pages=10000");
  assert_ok(&r, "forkwait n=3 pages=10000", ref_forkwait(3, 10000), 3);
  refvmm_result__free(&r);
  run_wl(&r, "forkwait", "n=10 pages=600 cpl=0");
  assert_ok(&r, "forkwait cpl=0", ref_forkwait(10, 600), 10);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(gups_matches_host_replay) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "gups", "n=100000 ws=1m seed=5");
  assert_ok(&r, "gups 4k", ref_gups(100000, 1 << 20, 5), 100000);
  ck_assert_uint_eq(itest__guest_report(&r, "gups.page"), 4096);
  refvmm_result__free(&r);
  run_wl(&r, "gups", "n=50000 ws=4m page=2m");
  assert_ok(&r, "gups 2m", ref_gups(50000, 4 << 20, 1), 50000);
  ck_assert_uint_eq(itest__guest_report(&r, "gups.page"), 2 << 20);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(memstream_matches_closed_form) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "memstream", "ws=1m passes=3");
  assert_ok(&r, "memstream 4k", ref_memstream(1 << 20, 3), 3);
  ck_assert_uint_eq(itest__guest_report(&r, "memstream.bytes"), 6 << 20);
  refvmm_result__free(&r);
  run_wl(&r, "memstream", "ws=4m passes=2 page=2m");
  assert_ok(&r, "memstream 2m", ref_memstream(4 << 20, 2), 2);
  refvmm_result__free(&r);
}
END_TEST

/* The chase visits every line once per cycle: with n a multiple of the
 * line count the sum is (n / lines) * lines(lines-1)/2, which checks the
 * single cycle independently of the permutation. */
START_TEST(ptrchase_matches_host_replay) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  run_wl(&r, "ptrchase", "n=100000 ws=96k seed=3"); /* 4 KiB pages, 1536 lines */
  assert_ok(&r, "ptrchase 4k", ref_ptrchase(100000, 96 << 10, 3), 100000);
  ck_assert_uint_eq(itest__guest_report(&r, "ptrchase.lines"), 1536);
  refvmm_result__free(&r);
  run_wl(&r, "ptrchase", "n=8192 ws=256k page=2m"); /* mapped as one 2 MiB page */
  assert_ok(&r, "ptrchase 2m", 2 * (4096ull * 4095 / 2), 8192);
  ck_assert_uint_eq(ref_ptrchase(8192, 256 << 10, 1), 2 * (4096ull * 4095 / 2));
  ck_assert_uint_eq(itest__guest_report(&r, "ptrchase.page"), 2 << 20);
  refvmm_result__free(&r);
  run_wl(&r, "ptrchase", "ws=200");
  ck_assert_int_eq(r.exit_code, EXIT_GUEST_FAILED);
  const char *console = refvmm_result__str(&r, "console");
  ck_assert_msg(console && strstr(console, "parameter 'ws'=200 is not a multiple of the line size"),
                "console: %s", console ? console : "(none)");
  refvmm_result__free(&r);
}
END_TEST

/* Bad parameters: the ones the image's parameter table refuses (an
 * unknown key, a value out of range: needle "refvmm: ...") end refvmm with
 * a usage error before the guest starts; the ones only the guest can judge
 * (sizes against memory, powers of two, page sizes) make it exit with
 * status 2 and a message naming the parameter (the default --mem is
 * 256 MiB). */
static const struct {
  const char *name, *params, *needle;
} bad_params[] = {
    {"pgfault", "n=10 bogus=1", "refvmm: --param bogus=1: pgfault.elf has no parameter 'bogus'"},
    {"pgfault", "n=0", "refvmm: --param n=0: n is 0, outside its range"},
    {"pgfault", "n=100000", "parameter 'n'=100000 needs"},
    {"pgfault", "cpl=0", "parameter 'cpl'"},
    {"ptemod", "frames=1", "refvmm: --param frames=1: frames is 1, outside its range"},
    {"cr3switch", "k=65", "refvmm: --param k=65: k is 65, outside its range"},
    {"cr3switch", "w=0", "refvmm: --param w=0: w is 0, outside its range"},
    {"forkwait", "pages=200000", "parameter 'pages'=200000 needs"},
    {"gups", "ws=3m", "parameter 'ws'=3145728 is not a power of two"},
    {"gups", "ws=1g", "parameter 'ws'=1073741824 needs"},
    {"gups", "page=8k", "parameter 'page'=8192 must be 4k"},
    {"gups", "seed=0", "refvmm: --param seed=0: seed is 0, outside its range"},
    {"memstream", "ws=5000", "parameter 'ws'=5000 is not a multiple"},
    {"memstream", "ws=3m page=2m", "parameter 'ws'=3145728 is not a multiple"},
    {"memstream", "passes=0", "refvmm: --param passes=0: passes is 0, outside its range"},
};

START_TEST(bad_parameter_named) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  if (!strncmp(bad_params[_i].needle, "refvmm: ", 8)) {
    static char img[128], buf[256];
    const char *args[16] = {"run"};
    int n = 1;
    snprintf(img, sizeof img, "workloads/build/%s.elf", bad_params[_i].name);
    args[n++] = img;
    snprintf(buf, sizeof buf, "%s", bad_params[_i].params);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < 12;
         tok = strtok_r(NULL, " ", &save))
      args[n++] = "--param", args[n++] = tok;
    args[n] = NULL;
    ck_assert_int_eq(run_refvmm(&r, false, args), 0);
    ck_assert_msg(r.exit_code == EXIT_USAGE, "%s %s: exit %d, want %d", bad_params[_i].name,
                  bad_params[_i].params, r.exit_code, EXIT_USAGE);
    ck_assert_msg(strstr(r.err, bad_params[_i].needle), "%s %s: stderr lacks '%s': %s",
                  bad_params[_i].name, bad_params[_i].params, bad_params[_i].needle, r.err);
    refvmm_result__free(&r);
    return;
  }
  run_wl(&r, bad_params[_i].name, bad_params[_i].params);
  const char *console = refvmm_result__str(&r, "console");
  ck_assert_msg(r.exit_code == EXIT_GUEST_FAILED, "%s %s: exit %d, want %d", bad_params[_i].name,
                bad_params[_i].params, r.exit_code, EXIT_GUEST_FAILED);
  ck_assert_int_eq(refvmm_result__int(&r, "guest.exit_status"), 2);
  ck_assert_msg(console && strstr(console, bad_params[_i].needle), "%s %s: console lacks '%s': %s",
                bad_params[_i].name, bad_params[_i].params, bad_params[_i].needle,
                console ? console : "(none)");
  refvmm_result__free(&r);
}
END_TEST

Suite *suite_workloads_mem(void) {
  Suite *s = suite_create("workloads_mem");
  TCase *tc = tcase_create("checksums");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, pgfault_takes_n_true_faults);
  tcase_add_test(tc, ptemod_reads_through_each_update);
  tcase_add_test(tc, cr3switch_counts_visits_per_space);
  tcase_add_test(tc, forkwait_children_share_the_parents_frames);
  tcase_add_test(tc, gups_matches_host_replay);
  tcase_add_test(tc, memstream_matches_closed_form);
  tcase_add_test(tc, ptrchase_matches_host_replay);
  suite_add_tcase(s, tc);
  TCase *tb = tcase_create("bad_params");
  tcase_set_timeout(tb, 30);
  tcase_add_loop_test(tb, bad_parameter_named, 0, sizeof bad_params / sizeof bad_params[0]);
  suite_add_tcase(s, tb);
  return s;
}
