/* test_calibrate.c - `vtbench calibrate`: the profile it writes loads with the
 * model's own loader (cost_profile__load), carries measured_on, marks every
 * figure measured (positive, source "measured: <host> <command>") or
 * default (value and source of the base profile, source prefixed "default
 * profile: "), the stdout table agrees with the file, --base is honoured, and
 * a host without KVM is refused with exit 3 and no file; and the mapping from
 * measurements to figures (calibrate__derive) on hand-made measurements for
 * an emulated and a native ring 0, and the least-squares fit of figures to
 * the model's counts. The KVM tests skip with a printed reason
 * where /dev/kvm is missing. Binary: $VTBENCH, else
 * bin/vtbench (tests run from the repository root). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/model/cost/cost_model.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"
#include "vtbench/calibrate.h"

static const char *tmp_profile(char *buf, size_t len) {
  snprintf(buf, len, "/tmp/test_calibrate_%ld.json", (long)getpid());
  unlink(buf);
  return buf;
}

/* The figure at a dotted path of a profile document. */
static json_t *figure(json_t *doc, const char *path) {
  char buf[128], *save = NULL;
  snprintf(buf, sizeof buf, "%s", path);
  json_t *j = doc;
  for (char *t = strtok_r(buf, ".", &save); t && j; t = strtok_r(NULL, ".", &save))
    j = json_object_get(j, t);
  return j;
}

/* The line of the stdout table for figure `path`, or NULL. */
static const char *table_line(const char *out, const char *path, char *line, size_t len) {
  char needle[160];
  snprintf(needle, sizeof needle, "\n  %s ", path);
  const char *p = strstr(out, needle);
  if (!p) return NULL;
  p += 1;
  size_t n = strcspn(p, "\n");
  snprintf(line, len, "%.*s", (int)(n < len ? n : len - 1), p);
  return line;
}

/* Every figure of `out_path` against the base profile and the table. */
static int check_profile(const char *out_path, const struct cost_profile *base, const char *table) {
  struct cost_profile p;
  char err[1024];
  ck_assert_msg(cost_profile__load(out_path, &p, err, sizeof err) == 0,
                "calibrate's profile does not load: %s", err);
  ck_assert_msg(p.measured, "measured_on is not set");
  json_error_t je;
  json_t *doc = json_load_file(out_path, 0, &je);
  ck_assert_ptr_nonnull(doc);
  json_t *mo = json_object_get(doc, "measured_on");
  const char *host = json_string_value(json_object_get(mo, "host"));
  const char *cmd = json_string_value(json_object_get(mo, "command"));
  ck_assert_ptr_nonnull(host);
  ck_assert_ptr_nonnull(cmd);
  ck_assert_ptr_nonnull(strstr(cmd, "vtbench calibrate"));
  ck_assert_ptr_nonnull(json_string_value(json_object_get(mo, "kvm")));
  ck_assert_ptr_nonnull(json_string_value(json_object_get(mo, "date")));
  ck_assert(json_number_value(json_object_get(doc, "tsc_ghz")) > 0);
  char prefix[600];
  snprintf(prefix, sizeof prefix, "measured: %s %s", host, cmd);
  int measured = 0;
  for (int i = 0; i < CF_COUNT; i++) {
    const char *path = cost_fig__path((enum cost_fig)i);
    json_t *f = figure(doc, path);
    const char *src = json_string_value(json_object_get(f, "source"));
    ck_assert_msg(src, "%s has no source", path);
    char line[1024];
    ck_assert_msg(table_line(table, path, line, sizeof line), "%s missing from the table:\n%s",
                  path, table);
    if (!strncmp(src, "measured: ", 10)) {
      measured++;
      ck_assert_msg(!strncmp(src, prefix, strlen(prefix)), "%s: source '%s' lacks '%s'", path, src,
                    prefix);
      /* a fit may find 0 (a register MOV eliminated at rename waits for nothing) */
      ck_assert_msg(p.cycles[i] >= 0, "%s measured as %g cycles", path, p.cycles[i]);
      ck_assert_msg(strstr(line, " measured "), "%s: table says '%s'", path, line);
    } else {
      char want[600];
      snprintf(want, sizeof want, "default profile: %s", base->source[i]);
      ck_assert_msg(!strncmp(src, want, 399), "%s: source '%s', want '%s'", path, src, want);
      ck_assert_msg(p.cycles[i] == base->cycles[i], "%s: %g cycles, base has %g", path, p.cycles[i],
                    base->cycles[i]);
      ck_assert_msg(strstr(line, " default "), "%s: table says '%s'", path, line);
    }
  }
  json_decref(doc);
  return measured;
}

START_TEST(quick_profile_loads_and_marks_every_figure) {
  if (itest__kvm_missing()) return;
  char out_path[128];
  tmp_profile(out_path, sizeof out_path);
  struct refvmm_result r;
  ck_assert_int_eq(
      run_vtbench(&r, NULL,
                  (const char *const[]){"calibrate", "--quick", "--reps", "1", "--only",
                                        "exits,insn", "--out", out_path, NULL}),
      0);
  ck_assert_msg(r.exit_code == 0, "vtbench calibrate exit %d\nstdout: %s\nstderr: %s", r.exit_code,
                r.out, r.err);
  int measured = check_profile(out_path, cost_profile__default(), r.out);
  /* The figures every KVM host gives (docs/COST_MODEL.md). */
  static const char *const always[] = {"exit.VMCALL",   "exit.CPUID", "exit.IO_INSTRUCTION",
                                       "vmm.user_exit", "insn.alu",   "insn.dep.alu"};
  struct cost_profile p;
  char err[512];
  ck_assert_int_eq(cost_profile__load(out_path, &p, err, sizeof err), 0);
  for (size_t k = 0; k < sizeof always / sizeof always[0]; k++)
    for (int i = 0; i < CF_COUNT; i++)
      if (!strcmp(cost_fig__path((enum cost_fig)i), always[k]))
        ck_assert_msg(!strncmp(p.source[i], "measured: ", 10), "%s not measured: %s", always[k],
                      p.source[i]);
  ck_assert_int_lt(measured, CF_COUNT);
  char want[64];
  snprintf(want, sizeof want, "%d of %d figures measured", measured, (int)CF_COUNT);
  ck_assert_msg(strstr(r.out, want), "table lacks '%s':\n%s", want, r.out);
  printf("test_calibrate: %d of %d figures measured on this host\n", measured, (int)CF_COUNT);
  refvmm_result__free(&r);
  unlink(out_path);
}
END_TEST

/* --base: default figures come from that file, with its sources. */
START_TEST(base_profile_supplies_the_defaults) {
  if (itest__kvm_missing()) return;
  const char *src = "refvmm/model/profiles/intel-skylake.json";
  json_error_t je;
  json_t *doc = json_load_file(src, 0, &je);
  ck_assert_msg(doc, "%s: %s", src, je.text);
  json_t *iret = figure(doc, "event.iret");
  json_object_set_new(iret, "cycles", json_real(77.5));
  json_object_set_new(iret, "source", json_string("test base: event.iret"));
  json_object_set_new(doc, "name", json_string("test-base"));
  char base_path[128], out_path[128];
  snprintf(base_path, sizeof base_path, "/tmp/test_calibrate_base_%ld.json", (long)getpid());
  ck_assert_int_eq(json_dump_file(doc, base_path, JSON_INDENT(2)), 0);
  json_decref(doc);
  struct cost_profile base;
  char err[512];
  ck_assert_msg(cost_profile__load(base_path, &base, err, sizeof err) == 0, "%s", err);
  tmp_profile(out_path, sizeof out_path);
  struct refvmm_result r;
  ck_assert_int_eq(
      run_vtbench(&r, NULL,
                  (const char *const[]){"calibrate", "--quick", "--reps", "1", "--only", "exits",
                                        "--base", base_path, "--out", out_path, NULL}),
      0);
  ck_assert_msg(r.exit_code == 0, "exit %d\nstderr: %s", r.exit_code, r.err);
  check_profile(out_path, &base, r.out);
  struct cost_profile p;
  ck_assert_int_eq(cost_profile__load(out_path, &p, err, sizeof err), 0);
  ck_assert(p.cycles[CF_EVENT_IRET] == 77.5);
  ck_assert_str_eq(p.source[CF_EVENT_IRET], "default profile: test base: event.iret");
  ck_assert_ptr_nonnull(strstr(p.description, "test-base"));
  refvmm_result__free(&r);
  unlink(out_path);
  unlink(base_path);
}
END_TEST

/* Refusals that need no KVM: no device (exit 3, no file), a --base that
 * does not load (exit 2, the file named), bad --reps (exit 2). */
START_TEST(refuses_without_kvm_and_bad_options) {
  char out_path[128];
  tmp_profile(out_path, sizeof out_path);
  struct refvmm_result r;
  ck_assert_int_eq(
      run_vtbench(&r, (const char *const[]){"VTBENCH_KVM_DEVICE=/nonexistent/kvm", NULL},
                  (const char *const[]){"calibrate", "--quick", "--out", out_path, NULL}),
      0);
  ck_assert_msg(r.exit_code == 3, "exit %d, want 3; stderr: %s", r.exit_code, r.err);
  ck_assert_msg(strstr(r.err, "/nonexistent/kvm: cannot open"), "stderr: %s", r.err);
  ck_assert_int_ne(access(out_path, F_OK), 0);
  refvmm_result__free(&r);

  const char *bad = "/tmp/test_calibrate_bad_base.json";
  FILE *f = fopen(bad, "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"name\": \"x\", \"bogus\": 1}\n", f);
  fclose(f);
  ck_assert_int_eq(
      run_vtbench(&r, NULL,
                  (const char *const[]){"calibrate", "--base", bad, "--out", out_path, NULL}),
      0);
  ck_assert_msg(r.exit_code == 2, "exit %d, want 2; stderr: %s", r.exit_code, r.err);
  ck_assert_msg(strstr(r.err, bad), "stderr does not name %s: %s", bad, r.err);
  ck_assert_int_ne(access(out_path, F_OK), 0);
  refvmm_result__free(&r);
  unlink(bad);

  ck_assert_int_eq(run_vtbench(&r, NULL, (const char *const[]){"calibrate", "--reps", "0", NULL}),
                   0);
  ck_assert_msg(r.exit_code == 2, "exit %d, want 2; stderr: %s", r.exit_code, r.err);
  ck_assert_ptr_nonnull(strstr(r.err, "--reps"));
  refvmm_result__free(&r);
}
END_TEST

/* ---- the mapping, on hand-made measurements (no KVM needed) ------------- */

static void meas(struct calib_result *r, enum calib_meas_id id, double ns, double emul) {
  struct calib_meas *m = &r->m[id];
  m->label = "synthetic";
  m->what = "synthetic";
  snprintf(m->args, sizeof m->args, "synthetic %d", (int)id);
  m->ok = true;
  m->nrep = 3;
  m->ns[0] = m->ns[1] = m->ns[2] = m->median = m->lo = m->hi = ns;
  m->emul_median = emul;
}

static const struct calib_figure *fig(const struct calib_figure *f, int n, enum cost_fig id) {
  for (int i = 0; i < n; i++)
    if (f[i].fig == id) return &f[i];
  return NULL;
}

static void synthetic_host(struct calib_result *r) {
  memset(r, 0, sizeof(*r));
  snprintf(r->host.host, sizeof r->host.host, "testhost");
  snprintf(r->host.kvm, sizeof r->host.kvm, "kvm_test");
  snprintf(r->host.cpu, sizeof r->host.cpu, "test cpu");
  snprintf(r->host.date, sizeof r->host.date, "2026-01-01T00:00:00Z");
  r->host.tsc_hz = 2e9;
  for (int i = 0; i < CM_COUNT; i++)
    r->m[i].label = "synthetic";
}

static double cyc(const struct calib_figure *f, int n, enum cost_fig id) {
  const struct calib_figure *x = fig(f, n, id);
  ck_assert_msg(x != NULL, "%s not derived", cost_fig__path(id));
  return x->cycles;
}

/* kvm_pvm-like: ring 0 emulated (6 insns per OUT at 700 ns), CPUID cheaper
 * than the refused hypercall; figures in cycles of the 2 GHz TSC. */
START_TEST(derive_emulated_ring0) {
  struct calib_result r;
  synthetic_host(&r);
  meas(&r, CM_VMCALL3, 4000, 0);
  meas(&r, CM_CPUID3, 3900, 0);
  meas(&r, CM_PIO0, 11000, 6);
  meas(&r, CM_EMUL0, 700, 0);
  meas(&r, CM_CHASE_L1, 1.0, 0);
  struct calib_figure f[CF_COUNT];
  int n = calibrate__derive(&r, cost_profile__default(), f, CF_COUNT);
  ck_assert_int_eq(n, 17); /* 14 exit reasons, vmm.user_exit, insn.cpl0, mem.l1.dependent */
  ck_assert_double_eq(cyc(f, n, CF_EXIT_VMCALL), 8000);
  ck_assert_double_eq(cyc(f, n, CF_EXIT_IO_INSTRUCTION), 8000);
  ck_assert_double_eq(cyc(f, n, CF_EXIT_HLT), 8000);
  ck_assert_double_eq(cyc(f, n, CF_EXIT_CPUID), 7800);
  ck_assert_ptr_null(fig(f, n, CF_VMM_CPUID));
  ck_assert_double_eq_tol(cyc(f, n, CF_VMM_USER_EXIT), 2 * (11000 - 6 * 700), 1e-9);
  ck_assert_double_eq(cyc(f, n, CF_INSN_CPL0), 1400);
  ck_assert_double_eq(cyc(f, n, CF_MEM_L1_DEP), 2.0);
  ck_assert_ptr_null(fig(f, n, CF_MEM_DATA_REF)); /* no ubench: not fitted */

  /* The document: loads, the rest from the base. */
  json_t *doc = calibrate__profile_json(cost_profile__default(), &r, f, n, "vtbench calibrate x");
  char *text = json_dumps(doc, 0);
  struct cost_profile p;
  char err[512];
  ck_assert_msg(cost_profile__parse(text, strlen(text), "synthetic", &p, err, sizeof err) == 0,
                "%s", err);
  ck_assert_double_eq_tol(p.cycles[CF_VMM_USER_EXIT], 13600, 0.01);
  ck_assert_double_eq_tol(p.cycles[CF_EXIT_CPUID], 7800, 0.01);
  ck_assert_double_eq_tol(p.tsc_ghz, 2.0, 1e-9);
  ck_assert_double_eq(p.cycles[CF_VMM_CPUID], cost_profile__default()->cycles[CF_VMM_CPUID]);
  ck_assert_str_eq(p.measured_on, "testhost, kvm_test, 2026-01-01T00:00:00Z, vtbench calibrate x");
  ck_assert_int_eq(
      strncmp(p.source[CF_EXIT_VMCALL], "measured: testhost vtbench calibrate x: ", 40), 0);
  free(text);
  json_decref(doc);
}
END_TEST

/* A host running ring 0 natively: CPUID splits into round trip + handling,
 * the user-space trip is pio minus the round trip, a ring-0 instruction
 * costs no extra (KVM emulated none: not applicable). */
START_TEST(derive_native_ring0) {
  struct calib_result r;
  synthetic_host(&r);
  meas(&r, CM_VMCALL3, 600, 0);
  meas(&r, CM_CPUID3, 700, 0);
  meas(&r, CM_PIO0, 3000, 0.01);
  r.m[CM_EMUL0].na = true;
  snprintf(r.m[CM_EMUL0].args, sizeof r.m[CM_EMUL0].args, "callret cpl=0");
  struct calib_figure f[CF_COUNT];
  int n = calibrate__derive(&r, cost_profile__default(), f, CF_COUNT);
  ck_assert_int_eq(n, 17); /* 14 exit reasons, vmm.cpuid, vmm.user_exit, insn.cpl0 */
  ck_assert_double_eq(cyc(f, n, CF_EXIT_CPUID), 1200);
  ck_assert_double_eq_tol(cyc(f, n, CF_VMM_CPUID), 200, 1e-9);
  ck_assert_double_eq(cyc(f, n, CF_VMM_USER_EXIT), 4800);
  ck_assert_double_eq(cyc(f, n, CF_INSN_CPL0), 0);
  ck_assert_ptr_null(fig(f, n, CF_MEM_L1_DEP));
}
END_TEST

/* The cache figures are fitted to what the model counted per iteration
 * (non-negative least squares): exact data give the figures back. */
START_TEST(derive_fits_the_model_counts) {
  struct calib_result r;
  synthetic_host(&r);
  const double l2 = 10, llc = 60, dram = 200; /* cycles */
  meas(&r, CM_CHASE_L2, l2 / 2, 0);           /* ns at 2 GHz */
  r.m[CM_CHASE_L2].feat[CF_MEM_L2_DEP] = 1;
  meas(&r, CM_CHASE_LLC, (0.9 * llc + 0.1 * l2) / 2, 0);
  r.m[CM_CHASE_LLC].feat[CF_MEM_LLC_DEP] = 0.9;
  r.m[CM_CHASE_LLC].feat[CF_MEM_L2_DEP] = 0.1;
  meas(&r, CM_CHASE_DRAM, (0.7 * dram + 0.3 * llc) / 2, 0);
  r.m[CM_CHASE_DRAM].feat[CF_MEM_DRAM_DEP] = 0.7;
  r.m[CM_CHASE_DRAM].feat[CF_MEM_LLC_DEP] = 0.3;
  for (int i = CM_CHASE_L2; i <= CM_CHASE_DRAM; i++)
    r.m[i].modeled = true;
  struct calib_figure f[CF_COUNT];
  int n = calibrate__derive(&r, cost_profile__default(), f, CF_COUNT);
  ck_assert_double_eq_tol(cyc(f, n, CF_MEM_L2_DEP), l2, 1e-6);
  ck_assert_double_eq_tol(cyc(f, n, CF_MEM_LLC_DEP), llc, 1e-6);
  ck_assert_double_eq_tol(cyc(f, n, CF_MEM_DRAM_DEP), dram, 1e-6);
  ck_assert_ptr_nonnull(strstr(fig(f, n, CF_MEM_LLC_DEP)->how, "least squares over 3 runs"));
  /* a measurement the model did not run cannot be fitted */
  r.m[CM_CHASE_DRAM].modeled = false;
  n = calibrate__derive(&r, cost_profile__default(), f, CF_COUNT);
  ck_assert_ptr_null(fig(f, n, CF_MEM_DRAM_DEP));
}
END_TEST

/* What does not make sense is left out, not written as zero or negative:
 * a user-space trip below the loop's emulation, a failed measurement. */
START_TEST(derive_drops_what_does_not_hold) {
  struct calib_result r;
  synthetic_host(&r);
  meas(&r, CM_VMCALL3, 4000, 0);
  meas(&r, CM_PIO0, 3000, 6);
  meas(&r, CM_EMUL0, 700, 0);
  meas(&r, CM_CPUID3, 5000, 0);
  r.m[CM_CPUID3].ok = false;
  struct calib_figure f[CF_COUNT];
  int n = calibrate__derive(&r, cost_profile__default(), f, CF_COUNT);
  ck_assert_ptr_null(fig(f, n, CF_VMM_USER_EXIT));
  ck_assert_ptr_null(fig(f, n, CF_EXIT_CPUID));
  ck_assert_int_eq(n, 14); /* 13 exit reasons (not CPUID), insn.cpl0 */
  for (int i = 0; i < n; i++)
    ck_assert(f[i].cycles > 0);
}
END_TEST

Suite *suite_calibrate(void) {
  Suite *s = suite_create("calibrate");
  TCase *tc = tcase_create("calibrate");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, refuses_without_kvm_and_bad_options);
  tcase_add_test(tc, quick_profile_loads_and_marks_every_figure);
  tcase_add_test(tc, base_profile_supplies_the_defaults);
  suite_add_tcase(s, tc);
  TCase *td = tcase_create("derive");
  tcase_add_test(td, derive_emulated_ring0);
  tcase_add_test(td, derive_native_ring0);
  tcase_add_test(td, derive_fits_the_model_counts);
  tcase_add_test(td, derive_drops_what_does_not_hold);
  suite_add_tcase(s, td);
  return s;
}
