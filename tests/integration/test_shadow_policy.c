/* test_shadow_policy.c - the model's shadow MMU against KVM's on guest TLB
 * invalidations (docs/MODEL.md, "Shadow paging"; docs/VALIDATION.md):
 *
 * - INVLPG of a mapping the guest did not change refills nothing: the
 *   invlpg workload invalidates 46 pages of a 4 KiB and of a 2 MiB mapping
 *   each round and reads them again; with either policy the model takes no
 *   hidden fault in the timed region (its first touches are before it), as
 *   KVM counts no pf_fixed there (checked against KVM's statistics on a
 *   shadow-paging host, with the model counter validate pairs);
 * - the unsync policy: writes to last-level guest tables take no exit
 *   (pgfault, ptemod), INVLPG and CR3 loads bring the shadow entries back
 *   in line (ptemod reads through every PTE change, cr3switch and forkwait
 *   switch roots: their checksums must equal the sync policy's);
 * - the flood policy: forkwait's stores to freed child tables stop trapping
 *   (last-level pages flood as upper-level ones), the checksum unchanged;
 * - --shadow-policy is refused outside the model's paging shadow. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "refvmm/exit_codes.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"

#define N     50
#define PAGES 46

/* refvmm on `backend` with paging shadow (the model with `policy`, given
 * only when it is not the default, and tlb flush), params a NULL-terminated
 * list of "k=v". */
static void run(struct refvmm_result *r, const char *backend, const char *policy, const char *wl,
                const char *const *params) {
  static char img[128];
  snprintf(img, sizeof img, "workloads/build/%s.elf", wl);
  itest__require_image(img);
  const char *args[32] = {"run",    img,       "--backend", backend, "--paging",
                          "shadow", "--quiet", "--timeout", "120",   "--no-pmu"};
  int a = 10;
  if (!strcmp(backend, "model")) {
    args[a++] = "--tlb";
    args[a++] = "flush";
    if (strcmp(policy, "sync")) { /* the default */
      args[a++] = "--shadow-policy";
      args[a++] = policy;
    }
  }
  for (; params && *params && a < 30; params++) {
    args[a++] = "--param";
    args[a++] = *params;
  }
  args[a] = NULL;
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  itest__assert_ok_run(r);
}

static uint64_t sh(const struct refvmm_result *r, const char *name) {
  char path[128];
  snprintf(path, sizeof path, "model.timed.shadow.%s", name);
  return itest__u64_at(r, path);
}

static uint64_t ref_invlpg(uint64_t n, uint64_t pages) {
  uint64_t s = 0;
  for (uint64_t j = 0; j < pages; j++)
    s += itest__mix64(0x696e766c7067ull ^ j);
  return n * s;
}

START_TEST(invlpg_of_unchanged_mappings_refills_nothing) {
  static const char *const pg[] = {"page=4k", "page=2m"};
  static const char *const pol[] = {"sync", "unsync"};
  for (int p = 0; p < 2; p++) {
    const char *params[] = {"n=50", "pages=46", pg[p], NULL};
    uint64_t model_fills = 0;
    for (int q = 0; q < 2; q++) {
      struct refvmm_result m;
      run(&m, "model", pol[q], "invlpg", params);
      itest__assert_checksum(&m, ref_invlpg(N, PAGES), N);
      ck_assert_uint_eq(sh(&m, "invlpg_exits"), N * PAGES);
      model_fills = sh(&m, "by_cpl.cpl3.hidden_faults");
      ck_assert_msg(model_fills == 0 && sh(&m, "zaps") == 0,
                    "%s %s: %llu user-mode fills, %llu zaps after INVLPGs of unchanged PTEs "
                    "(KVM: none)",
                    pg[p], pol[q], (unsigned long long)model_fills,
                    (unsigned long long)sh(&m, "zaps"));
      ck_assert_uint_eq(sh(&m, "vmm_flushes.total"), 0);
      refvmm_result__free(&m);
    }
    if (itest__kvm_missing()) continue;
    struct refvmm_result k;
    run(&k, "kvm", NULL, "invlpg", params);
    itest__assert_checksum(&k, ref_invlpg(N, PAGES), N);
    const char *paging = refvmm_result__str(&k, "modes.paging");
    if (paging && !strcmp(paging, "shadow")) {
      uint64_t fixed = itest__u64_at(&k, "kvm_stats.vcpu.pf_fixed.value");
      printf("%s: invlpg %s: KVM pf_fixed %llu, invlpg %llu; model fills %llu\n", __FILE__, pg[p],
             (unsigned long long)fixed,
             (unsigned long long)itest__u64_at(&k, "kvm_stats.vcpu.invlpg.value"),
             (unsigned long long)model_fills);
      ck_assert_uint_eq(fixed, model_fills);
      ck_assert_uint_eq(itest__u64_at(&k, "kvm_stats.vcpu.invlpg.value"), N * PAGES);
    }
    refvmm_result__free(&k);
  }
}
END_TEST

/* The same workload under both policies: equal checksums; the unsync
 * policy's counters as its rules give them. */
struct both {
  struct refvmm_result s, u;
};
static void run_both(struct both *b, const char *wl, const char *const *params) {
  run(&b->s, "model", "sync", wl, params);
  run(&b->u, "model", "unsync", wl, params);
  ck_assert_msg(!strcmp(refvmm_result__str(&b->s, "model.shadow_policy"), "sync") &&
                    !strcmp(refvmm_result__str(&b->u, "model.shadow_policy"), "unsync"),
                "model.shadow_policy");
  ck_assert_msg(itest__u64_at(&b->s, "guest.iterations") ==
                        itest__u64_at(&b->u, "guest.iterations") &&
                    json_equal(json_object_get(json_object_get(b->s.run, "guest"), "checksum"),
                               json_object_get(json_object_get(b->u.run, "guest"), "checksum")),
                "%s: the policies' checksums differ", wl);
}
static void free_both(struct both *b) {
  refvmm_result__free(&b->s);
  refvmm_result__free(&b->u);
}

START_TEST(unsync_policy_keeps_the_guest_right) {
  struct both b;
  /* pgfault: the guest kernel writes each new PTE into a last-level table:
   * one exit each in sync, none once the table is unsync */
  static const char *const pf[] = {"n=300", NULL};
  run_both(&b, "pgfault", pf);
  ck_assert_uint_ge(sh(&b.s, "pt_write_exits"), 299);
  ck_assert_uint_eq(sh(&b.u, "pt_write_exits"), 0);
  ck_assert_uint_ge(sh(&b.u, "unsynced"), 1);
  free_both(&b);
  /* ptemod: each PTE change is picked up by the INVLPG that follows it
   * (from the second update on: the first write unsyncs the table) */
  static const char *const pm[] = {"n=300", "frames=5", NULL};
  run_both(&b, "ptemod", pm);
  ck_assert_uint_eq(sh(&b.u, "pt_write_exits"), 0);
  ck_assert_uint_ge(sh(&b.u, "invlpg_resyncs"), 299);
  ck_assert_uint_le(sh(&b.u, "invlpg_resyncs"), 300);
  /* the same fills, plus the write fault that unsynced the table */
  ck_assert_uint_eq(sh(&b.u, "hidden_faults"), sh(&b.s, "hidden_faults") + 1);
  free_both(&b);
  /* cr3switch and forkwait: roots switched with unsync pages in them */
  static const char *const cs[] = {"n=300", "k=3", "w=8", NULL};
  run_both(&b, "cr3switch", cs);
  free_both(&b);
  static const char *const fw[] = {"n=20", NULL};
  run_both(&b, "forkwait", fw);
  ck_assert_uint_lt(sh(&b.u, "pt_write_exits"), sh(&b.s, "pt_write_exits"));
  ck_assert_uint_gt(sh(&b.u, "unsynced"), 0);
  /* flood: forkwait's child tables, written as data once the child is
   * gone, flood at the third write where sync keeps trapping every store
   * (docs/MODEL.md); the guest's result is the same */
  struct refvmm_result f;
  run(&f, "model", "flood", "forkwait", fw);
  ck_assert_str_eq(refvmm_result__str(&f, "model.shadow_policy"), "flood");
  ck_assert(json_equal(json_object_get(json_object_get(f.run, "guest"), "checksum"),
                       json_object_get(json_object_get(b.s.run, "guest"), "checksum")));
  ck_assert_uint_lt(sh(&f, "pt_write_exits") * 2, sh(&b.s, "pt_write_exits"));
  ck_assert_uint_gt(sh(&f, "flooded"), sh(&b.s, "flooded"));
  ck_assert_uint_eq(sh(&f, "unsynced"), 0);
  refvmm_result__free(&f);
  free_both(&b);
}
END_TEST

START_TEST(shadow_policy_is_refused_elsewhere) {
  const char *ept[] = {"run", IMG("compute"),    "--backend", "model", "--paging",
                       "ept", "--shadow-policy", "unsync",    NULL};
  itest__check_refused(ept, EXIT_UNSUPPORTED, "applies to --paging shadow only");
  const char *kvm[] = {"run", IMG("compute"), "--backend", "kvm", "--shadow-policy", "sync", NULL};
  itest__check_refused(kvm, EXIT_USAGE, "applies to --backend model only");
  const char *bad[] = {"run", IMG("compute"), "--backend", "model", "--shadow-policy", "lazy",
                       NULL};
  itest__check_refused(bad, EXIT_USAGE, "expected sync, unsync or flood");
}
END_TEST

Suite *suite_shadow_policy(void) {
  Suite *s = suite_create("shadow_policy");
  TCase *tc = tcase_create("shadow_policy");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, invlpg_of_unchanged_mappings_refills_nothing);
  tcase_add_test(tc, unsync_policy_keeps_the_guest_right);
  tcase_add_test(tc, shadow_policy_is_refused_elsewhere);
  suite_add_tcase(s, tc);
  return s;
}
