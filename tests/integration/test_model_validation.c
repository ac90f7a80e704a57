/* test_model_validation.c - the model's shadow-paging counts keep agreeing
 * with KVM's statistics where they agree today (docs/VALIDATION.md).
 *
 * `vtbench validate --quick` runs every workload of its table on this host's
 * KVM (shadow paging only) and on the model, and writes validation.json:
 * KVM's statistics and the model's `model.timed` counters over the same
 * timed region. The test checks them with its own arithmetic, not the
 * tool's verdicts: equal where the two MMUs (and, on a host that emulates
 * ring 0, the emulator and the model's CPL0 counts) do the same work,
 * within max(3, 1%) where the two MMUs differ by a few constant fills, and
 * for KVM's exits up to 5% more (host interrupts that land in the region). Every checked figure
 * must also lie in the range the workload implies per iteration (e.g. one true fault per page for
 * pgfault, at least one ring-0 store per iteration), so two sides that both
 * lost a counter cannot pass. Skips without /dev/kvm or on a host whose KVM
 * uses EPT/NPT. The table arithmetic (validate.c) is checked on hand-built
 * records everywhere. */
#include <check.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/kvm/kvm_host.h"
#include "tests/lib/itest.h"
#include "vtbench/spawn.h"
#include "vtbench/validate.h"

static const char *vtbench_bin(void) {
  const char *b = getenv("VTBENCH");
  return b && *b ? b : "bin/vtbench";
}

/* Run vtbench with args, output to a log file; the exit status. */
static int vtbench(const char *const *args, const char *log) {
  const char *argv[24] = {vtbench_bin()};
  for (int i = 0; args[i] && i < 22; i++)
    argv[i + 1] = args[i];
  struct spawn_opts o = {.argv = argv, .out_file = log, .err_to_out = true};
  struct spawn_result r;
  ck_assert_msg(!spawn__run(&o, &r), "%s: cannot start: %s", argv[0], strerror(r.error));
  return r.how == SPAWN_EXITED ? r.code : -1;
}

/* The last part of a log: Check refuses (exit 2) failure messages longer
 * than its message buffer, so keep them short. */
/* The whole file (up to 128 KiB). */
static char *slurp_all(const char *path) {
  static char buf[1 << 17];
  FILE *f = fopen(path, "r");
  if (!f) return strcpy(buf, "(no output)");
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static char *slurp(const char *path) {
  static char buf[8192];
  FILE *f = fopen(path, "r");
  if (!f) return strcpy(buf, "(no output)");
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return n > 1500 ? buf + n - 1500 : buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(path);
}

/* Remove a scratch directory tree (after a passing test; a failing one
 * leaves it for inspection). */
static void rm_tree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 (after printing why) when this host cannot take part. */
static int not_a_shadow_host(void) {
  if (itest__kvm_missing()) return 1;
  static struct kvm_host_info h;
  kvm_host__detect(NULL, &h);
  if (h.tdp != 0) {
    printf("SKIP %s: KVM here (%s) does not use shadow paging (ept/npt %d)\n", __FILE__,
           kvm_flavour__name(h.flavour), h.tdp);
    return 1;
  }
  return 0;
}

/* The host's own exits KVM counted in workload wl's timed region
 * (VALIDATE_NOISE_STATS, medians in kvm_only): not the guest's work. */
static double host_noise(const json_t *doc, const char *wl) {
  static const char *const stats[] = {VALIDATE_NOISE_STATS};
  size_t i;
  json_t *w;
  double sum = 0, v;
  json_array_foreach(json_object_get(doc, "workloads"), i, w) {
    if (strcmp(json_string_value(json_object_get(w, "name")), wl)) continue;
    for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++)
      if (!validate__path_number(json_object_get(w, "kvm_only"), stats[k], &v)) sum += v;
  }
  return sum;
}

static const json_t *pair_of(const json_t *doc, const char *wl, const char *stat, double *n) {
  size_t i, j;
  json_t *w, *p;
  json_array_foreach(json_object_get(doc, "workloads"), i, w) {
    if (strcmp(json_string_value(json_object_get(w, "name")), wl)) continue;
    ck_assert_int_eq(validate__path_number(w, "n", n), 0);
    ck_assert_msg(json_is_true(json_object_get(w, "ok")), "%s: a run failed", wl);
    ck_assert_msg(json_is_true(json_object_get(w, "checksums_equal")),
                  "%s: KVM and the model computed different checksums", wl);
    json_array_foreach(json_object_get(w, "pairs"), j, p) {
      if (!strcmp(json_string_value(json_object_get(p, "stat")), stat)) return p;
    }
  }
  ck_abort_msg("validation.json has no %s/%s", wl, stat);
  return NULL;
}

enum want { EQUAL, BAND };

/* What must keep holding on a shadow-paging host, with the range of KVM's
 * figure the workload implies: lo..hi per iteration (N = the size run),
 * give or take max(slack, 1%): the marks and setup add a few counts. */
struct expect {
  const char *wl, *stat;
  enum want want;
  double lo, hi, slack;
  bool emu0_only; /* a pair only a host that emulates ring 0 has (kvm_pvm) */
  const char *why;
};
static const struct expect expect[] = {
    {"pgfault", "pf_guest", EQUAL, 1, 1, 3, false, "one guest #PF per page, reflected by both"},
    {"pgfault", "pf_fixed", EQUAL, 2, 2, 3, true, "a read fill and a write (dirty) fill per page"},
    {"pgfault", "pf_taken", EQUAL, 3, 3, 3, true, "the user-mode #PF exits: 2 fills + 1 fault"},
    {"pgfault", "mmu_pte_write", EQUAL, 1, 100, 3, true, "every ring-0 store to RAM"},
    {"pgfault", "insn_emulation", EQUAL, 1, 1000, 3, true, "every ring-0 instruction"},
    {"pgfault", "insn_emulation_fail", EQUAL, 1, 1, 3, true, "one return to ring 3 per fault"},
    {"pgfault", "mmu_cache_miss", EQUAL, 0, 0.01, 8, false, "a new shadow page per 512 pages"},
    {"pgfault", "exits", BAND, 4, 4, 3, true, "2 fills, the fault, the return per page"},
    {"pgfault", "remote_tlb_flush_requests", EQUAL, 0, 0, 0, true,
     "no flush: only ring-0 accesses wrote the new page-table pages"},
    {"ptemod", "pf_fixed", BAND, 1, 1, 3, false, "the read after each PTE change refills one spte"},
    {"ptemod", "invlpg", EQUAL, 1, 1, 0, false, "one INVLPG per update"},
    {"ptemod", "remote_tlb_flush_requests", BAND, 1, 1, 3, false, "a flush after each zap"},
    {"ptemod", "tlb_flush", BAND, 1, 1, 3, false, "one flush per update serviced"},
    {"ptemod", "mmu_pte_write", EQUAL, 1, 100, 3, true, "every ring-0 store to RAM"},
    {"ptemod", "insn_emulation", EQUAL, 1, 1000, 3, true, "every ring-0 instruction"},
    {"ptemod", "insn_emulation_fail", EQUAL, 1, 1, 3, true, "one return to ring 3 per update"},
    {"ptemod", "exits", BAND, 3, 3, 3, true, "the fill, the trap and the return per update"},
    {"cr3switch", "tlb_flush", BAND, 1, 1, 3, false, "a guest TLB flush per CR3 load"},
    {"cr3switch", "pf_fixed", BAND, 0, 0, 100, false, "both MMUs keep a root per address space"},
    {"cr3switch", "remote_tlb_flush_requests", EQUAL, 0, 0, 0, true,
     "no flush: only ring-0 accesses wrote the new page-table pages"},
    {"cr3switch", "mmu_pte_write", EQUAL, 1, 100, 3, true, "every ring-0 store to RAM"},
    {"cr3switch", "insn_emulation", EQUAL, 1, 1000, 3, true, "every ring-0 instruction"},
    {"cr3switch", "insn_emulation_fail", EQUAL, 1, 1, 3, true, "one return to ring 3 per switch"},
    {"forkwait", "pf_fixed", BAND, 128, 128, 3, true, "a read and a write fill per child page"},
    {"forkwait", "mmu_pte_write", EQUAL, 64, 10000, 3, true, "every ring-0 store to RAM"},
    {"forkwait", "remote_tlb_flush_requests", EQUAL, 64, 80, 3, true,
     "a flush per zapped entry of the child's tables (64 data pages and their tables)"},
    {"forkwait", "mmu_flooded", EQUAL, 2, 4, 3, false,
     "the child's upper-level tables rewritten 3 times with no fill between"},
    {"forkwait", "insn_emulation_fail", EQUAL, 2, 2, 3, true, "two returns to ring 3 per round"},
    {"forkwait", "insn_emulation", EQUAL, 100, 10000, 3, true,
     "every ring-0 instruction, and one more per REP string instruction (five per round)"},
    {"invlpg", "invlpg", EQUAL, 46, 46, 0, false, "46 INVLPGs per round"},
    {"invlpg", "pf_fixed", EQUAL, 0, 0, 0, false,
     "an INVLPG of an unchanged PTE leaves its shadow entry: nothing to refill"},
    {"gups", "pf_fixed", EQUAL, 0, 0, 0, false,
     "the working set is filled before the timed region"},
    {"gups", "insn_emulation", EQUAL, 0, 0, 100, true, "ring 0 only at the marks"},
    {"pio", "user exits", EQUAL, 1, 1, 0, false, "one OUT exit to user space per iteration"},
    {"pio", "insn_emulation", EQUAL, 1, 100, 3, true, "the ring-0 loop around each OUT"},
    {"pio", "exits", BAND, 1, 1, 3, true, "one exit per OUT"},
    {"cpuid", "insn_emulation", EQUAL, 1, 100, 3, true, "the ring-0 loop around each CPUID"},
    {"mmio", "user exits", EQUAL, 1, 1, 0, false, "one MMIO exit to user space per iteration"},
    {"mmio", "mmio_exits", EQUAL, 1, 1, 0, false, "one MMIO write per iteration"},
    {"mmio", "mmu_pte_write", EQUAL, 0, 0, 8, true, "MMIO stores are not RAM writes"},
};

START_TEST(model_agrees_with_kvm_where_it_should) {
  if (not_a_shadow_host()) return;
  char dir[] = "/tmp/vtb-validate-XXXXXX", log[64], json[64];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(log, sizeof log, "%s/log", dir);
  snprintf(json, sizeof json, "%s/validation.json", dir);
  const char *args[] = {"validate", "--quick", "--reps", "3", "--out", dir, NULL};
  int rc = vtbench(args, log);
  /* one line per check and the summary; the exit status follows the checks
   * (the figures themselves are checked below with this test's own bands) */
  const char *out = slurp_all(log);
  ck_assert_msg(strstr(out, "\nPASS pio checksum: KVM and the model agree\n"), "%s", slurp(log));
  ck_assert_msg(strstr(out, " passed, "), "no summary line:\n%s", slurp(log));
  bool none_failed = strstr(out, " passed, 0 failed") != NULL;
  ck_assert_msg(rc == (none_failed ? 0 : 1), "vtbench validate exit %d:\n%s", rc, slurp(log));
  json_error_t je;
  json_t *doc = json_load_file(json, 0, &je);
  ck_assert_msg(doc, "%s: %s", json, je.text);
  ck_assert_int_eq(json_integer_value(json_object_get(doc, "version")), 3);
  ck_assert_str_eq(json_string_value(json_object_get(doc, "paging")), "shadow");
  bool emu0 = json_is_true(json_object_get(doc, "ring0_emulated"));
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    const struct expect *x = &expect[i];
    if (x->emu0_only && !emu0) continue;
    double n, k, m;
    const json_t *p = pair_of(doc, x->wl, x->stat, &n);
    ck_assert_msg(!validate__path_number(p, "kvm", &k) &&
                      !validate__path_number(p, "model_value", &m),
                  "%s/%s: no figures", x->wl, x->stat);
    /* exits: KVM's figure without the host's own exits it names; host
     * interrupts that land in the timed region add VM exits on KVM's side
     * only, more the longer the region runs (a loaded machine, a sanitizer
     * build): up to 5% more exits is noise, not disagreement. */
    if (!strcmp(x->stat, "exits")) k -= fmin(host_noise(doc, x->wl), fmax(k - m, 0));
    double noise = strcmp(x->stat, "exits") == 0 ? 0.05 : 0.01;
    double band = fmax(3.0, noise * fabs(k));
    double tol = fmax(x->slack, 0.01 * x->hi * n);
    double tol_up = fmax(x->slack, noise * x->hi * n);
    printf("%s: %s %s n=%.0f: KVM %.0f, model %.0f, expected %.0f..%.0f (%s)\n", __FILE__, x->wl,
           x->stat, n, k, m, x->lo * n, x->hi * n, x->why);
    ck_assert_msg(k >= x->lo * n - tol && k <= x->hi * n + tol_up,
                  "%s/%s: KVM %.0f, expected %.0f..%.0f (%s)", x->wl, x->stat, k, x->lo * n,
                  x->hi * n, x->why);
    if (x->want == EQUAL)
      ck_assert_msg(k == m, "%s/%s: KVM %.0f != model %.0f (%s)", x->wl, x->stat, k, m, x->why);
    else
      ck_assert_msg(m - k <= fmax(3.0, 0.01 * fabs(k)) && k - m <= band,
                    "%s/%s: KVM %.0f vs model %.0f, outside -%.0f..+%.0f (%s)", x->wl, x->stat, k,
                    m, fmax(3.0, 0.01 * fabs(k)), band, x->why);
  }
  json_decref(doc);
  rm_tree(dir);
}
END_TEST

/* The arithmetic on hand-built records: sums of model counters, the VM
 * exits summed over reasons, absent exit reasons as 0, only cumulative KVM
 * statistics, the band and the ratio. Runs everywhere. */
START_TEST(table_arithmetic) {
  json_error_t je;
  json_t *run = json_loads(
      "{\"exits\": {\"total\": 7, \"by_reason\": {\"IO\": {\"count\": 7}}},"
      " \"kvm_stats\": {\"vcpu\": {\"pf_fixed\": {\"type\": \"cumulative\", \"value\": 40},"
      "                              \"exits\": {\"type\": \"cumulative\", \"value\": \"0x10\"}},"
      "                   \"vm\": {\"pages_4k\": {\"type\": \"instant\", \"value\": 9},"
      "                            \"mmu_pte_write\": {\"type\": \"cumulative\", \"value\": 5}}},"
      " \"model\": {\"shadow\": {\"hidden_faults\": 3, \"true_faults\": 4, \"pt_write_exits\": 5},"
      "            \"exits\": {\"EXCEPTION_NMI\": 12, \"CPUID\": 2},"
      "            \"timed\": {\"exits\": {\"EXCEPTION_NMI\": 6, \"CR_ACCESS\": 1},"
      "                       \"cpl0\": {\"entered\": 10, \"left\": 9},"
      "                       \"shadow\": {\"by_cpl\": {\"cpl3\": {\"hidden_faults\": 2}}}}}}",
      0, &je);
  ck_assert_msg(run, "%s", je.text);
  double v;
  ck_assert_int_eq(validate__model_value(run,
                                         "model.shadow.hidden_faults+model.shadow.true_faults+"
                                         "model.shadow.pt_write_exits",
                                         &v),
                   0);
  ck_assert(v == 12);
  ck_assert_int_eq(validate__model_value(run, "model.exits.*", &v), 0);
  ck_assert(v == 14);
  ck_assert_int_eq(validate__model_value(run, "exits.by_reason.MMIO.count", &v), 0);
  ck_assert(v == 0); /* never taken, not missing */
  ck_assert_int_eq(validate__model_value(run, "exits.by_reason.IO.count+exits.total", &v), 0);
  ck_assert(v == 14);
  ck_assert_int_eq(validate__model_value(run, "model.shadow.zaps", &v), -1);
  ck_assert_int_eq(validate__model_value(run, "model.timed.exits.*", &v), 0);
  ck_assert(v == 7); /* the timed region's exits, not the whole run's */
  ck_assert_int_eq(validate__model_value(run,
                                         "model.timed.shadow.by_cpl.cpl3.hidden_faults+"
                                         "model.timed.cpl0.entered+model.timed.cpl0.left+"
                                         "exits.total",
                                         &v),
                   0);
  ck_assert(v == 2 + 10 + 9 + 7);
  ck_assert_int_eq(validate__model_value(run, "model.timed.nosuch.*", &v), -1);
  ck_assert_int_eq(validate__model_value(run, "model.timed.cpl0.instructions", &v), -1);
  ck_assert_int_eq(validate__kvm_value(run, "pf_fixed", &v), 0);
  ck_assert(v == 40);
  ck_assert_int_eq(validate__kvm_value(run, "exits", &v), 0);
  ck_assert(v == 16);
  ck_assert_int_eq(validate__kvm_value(run, "mmu_pte_write", &v), 0);
  ck_assert(v == 5);
  ck_assert_int_eq(validate__kvm_value(run, "pages_4k", &v), -1); /* instant: not a delta */
  ck_assert_int_eq(validate__kvm_value(run, "run:exits.by_reason.IO.count", &v), 0);
  ck_assert(v == 7);
  json_decref(run);

  ck_assert_int_eq(validate__verdict(2000, 2000), VALIDATE_EXACT);
  ck_assert_int_eq(validate__verdict(0, 3), VALIDATE_AGREE);
  ck_assert_int_eq(validate__verdict(0, 4), VALIDATE_DIFFER);
  ck_assert_int_eq(validate__verdict(4000, 4040), VALIDATE_AGREE);
  ck_assert_int_eq(validate__verdict(4000, 4041), VALIDATE_DIFFER);
  ck_assert_int_eq(validate__verdict(204, 200), VALIDATE_DIFFER);
  ck_assert(validate__ratio(0, 0) == 1.0);
  ck_assert(isinf(validate__ratio(0, 5)));
  ck_assert(validate__ratio(4000, 1000) == 0.25);
  /* Each host kind gets one counterpart per KVM statistic; the shadow MMU's
   * counters are never paired on an EPT/NPT host. */
  for (int kind = VALIDATE_KIND_EMU0; kind <= VALIDATE_KIND_TDP; kind++)
    for (size_t i = 0; i < validate_pairs_len; i++) {
      if (kind == VALIDATE_KIND_TDP && validate__pair_applies(&validate_pairs[i], kind))
        ck_assert_msg(!strstr(validate_pairs[i].model, "shadow."), "pair %s uses %s on EPT/NPT",
                      validate_pairs[i].label, validate_pairs[i].model);
      for (size_t j = i + 1; j < validate_pairs_len; j++)
        if (validate__pair_applies(&validate_pairs[i], kind) &&
            validate__pair_applies(&validate_pairs[j], kind))
          ck_assert_msg(strcmp(validate_pairs[i].label, validate_pairs[j].label),
                        "pair %s twice for %s", validate_pairs[i].label, validate__kind_name(kind));
    }
  ck_assert_str_eq(validate__kind_name(VALIDATE_KIND_TDP), "tdp");
  /* Every workload of the table exists: an image, or a workload of the Linux
   * guest's catalog (workloads/linux/wl/NAME.c) */
  for (size_t i = 0; i < validate_workloads_len; i++) {
    char img[128];
    const char *name = validate_workloads[i].name;
    if (!strncmp(name, "linux:", 6))
      snprintf(img, sizeof img, "workloads/linux/wl/%s.c", name + 6);
    else
      snprintf(img, sizeof img, "workloads/build/%s.elf", name);
    itest__require_image(img);
    ck_assert_ptr_eq(validate__workload(validate_workloads[i].name), &validate_workloads[i]);
  }
}
END_TEST

/* One model run (shadow, tlb flush) of a workload at n; the record. */
static void model_run(struct refvmm_result *r, const char *wl, unsigned n) {
  char img[128], param[32];
  snprintf(img, sizeof img, "workloads/build/%s.elf", wl);
  snprintf(param, sizeof param, "n=%u", n);
  itest__require_image(img);
  const char *args[] = {"run",   img,     "--backend", "model", "--paging", "shadow",
                        "--tlb", "flush", "--param",   param,   "--quiet",  NULL};
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  ck_assert_msg(r->exit_code == 0 && r->run, "%s n=%u: exit %d\n%s", wl, n, r->exit_code,
                r->err ? r->err : "");
}

static int64_t timed(const struct refvmm_result *r, const char *path) {
  char full[160];
  snprintf(full, sizeof full, "model.timed.%s", path);
  int64_t v = refvmm_result__int(r, full);
  ck_assert_msg(v >= 0, "no %s", full);
  return v;
}

/* The model's timed-region section (no KVM needed): the counts of the work
 * between the marks, what the workload does per iteration, and a part of
 * the whole run. pgfault: one true fault, two user-mode fills and one
 * return to ring 3 per page; ptemod: one INVLPG exit, one zap flush, one
 * flush batch per update. The ring-0 work grows by the same count per
 * iteration at every size (its constant is the region's edges). */
START_TEST(model_timed_region_counts_the_marked_work) {
  struct refvmm_result a, b;
  model_run(&a, "pgfault", 200);
  model_run(&b, "pgfault", 400);
  ck_assert_int_eq(timed(&a, "shadow.true_faults"), 200);
  ck_assert_int_eq(timed(&b, "shadow.true_faults"), 400);
  ck_assert_int_eq(timed(&a, "shadow.by_cpl.cpl3.hidden_faults"), 400);
  ck_assert_int_eq(timed(&b, "shadow.by_cpl.cpl3.hidden_faults"), 800);
  ck_assert_int_eq(timed(&b, "cpl0.left") - timed(&a, "cpl0.left"), 200);
  ck_assert_int_eq(timed(&b, "cpl0.entered") - timed(&a, "cpl0.entered"), 200);
  int64_t i1 = timed(&a, "cpl0.instructions"), i2 = timed(&b, "cpl0.instructions");
  int64_t w1 = timed(&a, "cpl0.mem_writes"), w2 = timed(&b, "cpl0.mem_writes");
  ck_assert_int_gt(i2 - i1, 0);
  ck_assert_int_eq((i2 - i1) % 200, 0); /* the same instructions per page */
  ck_assert_int_ge(i1 - (i2 - i1), 0);  /* plus a constant: the region's edges */
  ck_assert_int_lt(i1 - (i2 - i1), 200);
  ck_assert_int_gt(w2 - w1, 0);
  ck_assert_int_eq((w2 - w1) % 200, 0);
  ck_assert_int_le(timed(&b, "cpl0.instructions"), timed(&b, "instructions"));
  ck_assert_int_lt(timed(&b, "instructions"), refvmm_result__int(&b, "model.instructions"));
  ck_assert_int_le(timed(&b, "shadow.hidden_faults"),
                   refvmm_result__int(&b, "model.shadow.hidden_faults"));
  ck_assert_int_eq(timed(&b, "shadow.hidden_faults"),
                   timed(&b, "shadow.by_cpl.cpl0.hidden_faults") +
                       timed(&b, "shadow.by_cpl.cpl3.hidden_faults"));
  refvmm_result__free(&a);
  refvmm_result__free(&b);

  model_run(&a, "ptemod", 200);
  ck_assert_int_eq(timed(&a, "shadow.invlpg_exits"), 200);
  int64_t zap = timed(&a, "shadow.vmm_flushes.zap"), batches = timed(&a, "shadow.flush_batches");
  ck_assert_msg(zap >= 199 && zap <= 200, "ptemod zap flushes %lld", (long long)zap);
  ck_assert_msg(batches >= 199 && batches <= 200, "ptemod flush batches %lld", (long long)batches);
  ck_assert_int_ge(timed(&a, "shadow.flush_exits"), zap);
  refvmm_result__free(&a);

  /* forkwait: the child's upper-level tables flood (about 3 per round), and
   * every flooded page is freed */
  model_run(&a, "forkwait", 10);
  model_run(&b, "forkwait", 20);
  int64_t f = timed(&b, "shadow.flooded") - timed(&a, "shadow.flooded");
  ck_assert_msg(f >= 20 && f <= 40, "forkwait: %lld flooded pages in 10 rounds", (long long)f);
  ck_assert_int_ge(timed(&b, "shadow.pages_freed"), timed(&b, "shadow.flooded"));
  refvmm_result__free(&a);
  refvmm_result__free(&b);
}
END_TEST

/* The two halves on two hosts: --kvm-only writes KVM's runs and the host's
 * modes, --kvm-runs reads them and runs the model where it is (the kvm_amd
 * rig: KVM inside QEMU TCG, the model on the machine outside). */
START_TEST(kvm_side_then_model_side) {
  if (not_a_shadow_host()) return;
  char a[] = "/tmp/vtb-validate-XXXXXX", b[64], log[64], path[128];
  ck_assert_ptr_nonnull(mkdtemp(a));
  snprintf(b, sizeof b, "%s/model", a);
  snprintf(log, sizeof log, "%s/log", a);
  const char *kvm[] = {"validate", "--kvm-only", "--quick", "--reps", "1",
                       "--only",   "pio",        "--out",   a,        NULL};
  int rc = vtbench(kvm, log);
  ck_assert_msg(rc == 0, "--kvm-only exit %d:\n%s", rc, slurp(log));
  snprintf(path, sizeof path, "%s/validation.json", a);
  ck_assert_msg(access(path, F_OK), "--kvm-only wrote a comparison");
  snprintf(path, sizeof path, "%s/runs/pio.model.n500.r0.json", a);
  ck_assert_msg(access(path, F_OK), "--kvm-only ran the model");
  snprintf(path, sizeof path, "%s/host.json", a);
  json_error_t je;
  json_t *h = json_load_file(path, 0, &je);
  ck_assert_msg(h, "%s: %s", path, je.text);
  ck_assert_str_eq(json_string_value(json_object_get(h, "paging")), "shadow");
  ck_assert_int_eq(json_integer_value(json_object_get(h, "reps")), 1);
  json_decref(h);

  const char *model[] = {"validate", "--kvm-runs", a, "--only", "pio", "--out", b, NULL};
  rc = vtbench(model, log);
  ck_assert_msg(rc == 0, "--kvm-runs exit %d:\n%s", rc, slurp(log));
  snprintf(path, sizeof path, "%s/validation.json", b);
  json_t *doc = json_load_file(path, 0, &je);
  ck_assert_msg(doc, "%s: %s", path, je.text);
  double n, k, m;
  const json_t *p = pair_of(doc, "pio", "user exits", &n);
  ck_assert_int_eq(validate__path_number(p, "kvm", &k), 0);
  ck_assert_int_eq(validate__path_number(p, "model_value", &m), 0);
  ck_assert_msg(k == n && m == n, "pio n=%.0f: KVM %.0f, model %.0f user exits", n, k, m);
  json_decref(doc);

  /* a workload KVM's side did not run: named, with what to do */
  const char *missing[] = {"validate", "--kvm-runs", a, "--only", "cpuid", "--out", b, NULL};
  ck_assert_int_eq(vtbench(missing, log), 1);
  ck_assert_ptr_nonnull(strstr(slurp(log), "no KVM run record"));
  rm_tree(a);
}
END_TEST

START_TEST(bad_command_lines_are_refused) {
  char dir[] = "/tmp/vtb-validate-XXXXXX", log[64];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(log, sizeof log, "%s/log", dir);
  const char *unknown[] = {"validate", "--only", "pgfault,nosuch", "--out", dir, NULL};
  ck_assert_int_eq(vtbench(unknown, log), 2);
  ck_assert_ptr_nonnull(strstr(slurp(log), "unknown workload 'nosuch'"));
  const char *reps[] = {"validate", "--reps", "0", NULL};
  ck_assert_int_eq(vtbench(reps, log), 2);
  ck_assert_ptr_nonnull(strstr(slurp(log), "--reps '0'"));
  const char *both[] = {"validate", "--kvm-only", "--kvm-runs", dir, NULL};
  ck_assert_int_eq(vtbench(both, log), 2);
  ck_assert_ptr_nonnull(strstr(slurp(log), "exclude each other"));
  const char *reps2[] = {"validate", "--kvm-runs", dir, "--reps", "2", NULL};
  ck_assert_int_eq(vtbench(reps2, log), 2);
  ck_assert_ptr_nonnull(strstr(slurp(log), "are the KVM side's"));
  const char *nohost[] = {"validate", "--kvm-runs", dir, "--out", dir, NULL};
  ck_assert_int_eq(vtbench(nohost, log), 3);
  ck_assert_ptr_nonnull(strstr(slurp(log), "host.json"));
  rm_tree(dir);
}
END_TEST

/* validate --time on KVM: a line per workload with both times and the
 * verdict, the summary, time.md and time.json; exit 0 only when all passed
 * (the built-in profile is not this host's, so either verdict can occur). */
START_TEST(time_section_measures_and_judges) {
  if (itest__kvm_missing()) return;
  char dir[] = "/tmp/vtb-validate-XXXXXX", log[64], path[96];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(log, sizeof log, "%s/log", dir);
  const char *args[] = {"validate", "--time",          "--quick", "--reps", "1",
                        "--only",   "compute,syscall", "--out",   dir,      NULL};
  int rc = vtbench(args, log);
  const char *out = slurp(log);
  ck_assert_msg(rc == 0 || rc == 1, "vtbench validate --time exit %d:\n%s", rc, out);
  int passed = -1, failed = -1;
  const char *sum = strstr(out, " passed, ");
  ck_assert_msg(sum, "no summary:\n%s", out);
  while (sum > out && sum[-1] >= '0' && sum[-1] <= '9')
    sum--;
  ck_assert_int_eq(sscanf(sum, "%d passed, %d failed", &passed, &failed), 2);
  ck_assert_int_eq(passed + failed, 2);
  ck_assert_int_eq(rc, failed ? 1 : 0);
  static const char *const wl[] = {"compute", "syscall"};
  for (int i = 0; i < 2; i++) {
    char want[64];
    snprintf(want, sizeof want, " %s ns/iter model ", wl[i]);
    const char *l = strstr(out, want);
    ck_assert_msg(l && (!strncmp(l - 4, "PASS", 4) || !strncmp(l - 4, "FAIL", 4)),
                  "no verdict for %s:\n%s", wl[i], out);
    ck_assert_msg(strstr(l, " kvm ") && strstr(l, "tolerance"), "%s", l);
  }
  snprintf(path, sizeof path, "%s/time.json", dir);
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  ck_assert_msg(doc, "%s: %s", path, je.text);
  json_decref(doc);
  snprintf(path, sizeof path, "%s/time.md", dir);
  ck_assert_int_eq(access(path, R_OK), 0);
  const char *prof[] = {"validate", "--profile", "x.json", "--out", dir, NULL};
  ck_assert_int_eq(vtbench(prof, log), 2);
  ck_assert_ptr_nonnull(strstr(slurp(log), "--profile goes with --time"));
  const char *unk[] = {"validate", "--time", "--only", "nosuch", "--out", dir, NULL};
  ck_assert_int_eq(vtbench(unk, log), 2);
  rm_tree(dir);
}
END_TEST

Suite *suite_model_validation(void) {
  Suite *s = suite_create("model_validation");
  TCase *tt = tcase_create("table");
  tcase_add_test(tt, table_arithmetic);
  tcase_add_test(tt, bad_command_lines_are_refused);
  tcase_add_test(tt, model_timed_region_counts_the_marked_work);
  suite_add_tcase(s, tt);
  TCase *tc = tcase_create("kvm");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, model_agrees_with_kvm_where_it_should);
  tcase_add_test(tc, kvm_side_then_model_side);
  tcase_add_test(tc, time_section_measures_and_judges);
  suite_add_tcase(s, tc);
  return s;
}
