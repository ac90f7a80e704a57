/* test_model_cost.c - the model's cycle cost model: cost
 * arithmetic against hand-computed totals, strict profile validation
 * (unknown keys, missing figures, wrong types name the key path), RDTSC
 * reading modeled cycles, linearity in the profile, the native-baseline
 * overhead and its breakdown, and the expected directions on real
 * workload images: forkwait and ptemod cost more in shadow than in ept,
 * gups costs more in ept than native, tlb flush costs more than vpid on
 * cr3switch. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/model/cost/cost_model.h"
#include "refvmm/model/model_backend.h"
#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"
#include "refvmm/session.h"
#include "tests/lib/run_refvmm.h"
/* The snippet harness names its machine `struct tm`, which <time.h> (through
 * session.h) also defines: rename it in this file. */
#define tm tm_model_harness
#include "test_model_harness.h"
#include "test_model_image.h"

#define DEFAULT_PROFILE "refvmm/model/profiles/intel-skylake.json"

/* ---- hand-built profiles ------------------------------------------------------------ */

/* A profile object with every figure at `cycles` (source "test"). */
static json_t *profile_obj(double cycles) {
  json_t *root = json_pack("{s:s,s:f,s:n,s:s}", "name", "test", "tsc_ghz", 2.0, "measured_on",
                           "host_flavour", "kvm_intel");
  json_t *caches = json_object();
  static const char *const lv[3] = {"l1", "l2", "llc"};
  static const int kib[3] = {32, 256, 8192}, ways[3] = {8, 4, 16};
  for (int l = 0; l < 3; l++)
    json_object_set_new(
        caches, lv[l],
        json_pack("{s:i,s:i,s:s}", "size_kib", kib[l], "ways", ways[l], "source", "test"));
  json_object_set_new(root, "caches", caches);
  for (int f = 0; f < CF_COUNT; f++) {
    char path[128];
    snprintf(path, sizeof path, "%s", cost_fig__path(f));
    json_t *node = root;
    char *save = NULL;
    char *tok = strtok_r(path, ".", &save);
    while (tok) {
      char *next = strtok_r(NULL, ".", &save);
      if (!next) {
        json_object_set_new(node, tok, json_pack("{s:f,s:s}", "cycles", cycles, "source", "test"));
      } else {
        json_t *child = json_object_get(node, tok);
        if (!child) {
          child = json_object();
          json_object_set_new(node, tok, child);
        }
        node = child;
      }
      tok = next;
    }
  }
  return root;
}

/* The figure object at a dotted path ("insn.alu"). */
static json_t *at(json_t *root, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *node = root;
  char *save = NULL;
  for (char *tok = strtok_r(buf, ".", &save); tok && node; tok = strtok_r(NULL, ".", &save))
    node = json_object_get(node, tok);
  ck_assert_msg(node != NULL, "no %s in the test profile", path);
  return node;
}

static void set_cycles(json_t *root, const char *path, double v) {
  json_object_set_new(at(root, path), "cycles", json_real(v));
}

/* Parse root (consumed); 0 or -1 with err. */
static int parse_obj(json_t *root, struct cost_profile *p, char *err, size_t len) {
  char *text = json_dumps(root, 0);
  json_decref(root);
  ck_assert_ptr_nonnull(text);
  int rc = cost_profile__parse(text, strlen(text), "test.json", p, err, len);
  free(text);
  return rc;
}

static struct cost_profile *profile_new(json_t *root) {
  struct cost_profile *p = calloc(1, sizeof *p);
  char err[512] = "";
  ck_assert_msg(parse_obj(root, p, err, sizeof err) == 0, "%s", err);
  return p;
}

/* ---- arithmetic ------------------------------------------------------------------------- */

START_TEST(test_total_against_hand_computed) {
  json_t *root = profile_obj(1);
  set_cycles(root, "insn.alu", 1);
  set_cycles(root, "insn.muldiv", 4);
  set_cycles(root, "insn.rep_iteration", 0.5);
  set_cycles(root, "mem.data_ref", 1);
  set_cycles(root, "mem.llc.dependent", 24);
  set_cycles(root, "mem.l1.independent", 4);
  set_cycles(root, "exit.CPUID", 1100);
  set_cycles(root, "exit.default", 900);
  set_cycles(root, "vmm.shadow_fill", 2500);
  struct cost_profile *p = profile_new(root);
  struct cost_counts k;
  memset(&k, 0, sizeof k);
  k.n[CF_INSN_ALU] = 1000;
  k.n[CF_INSN_MULDIV] = 10;
  k.n[CF_INSN_REP_ITERATION] = 7; /* 3.5 cycles */
  k.n[CF_MEM_DATA_REF] = 300;
  k.n[CF_MEM_LLC_DEP] = 5;
  k.n[CF_MEM_L1_INDEP] = 20;
  k.n[CF_EXIT_CPUID] = 3;
  k.n[CF_EXIT_DEFAULT] = 2;
  k.n[CF_VMM_SHADOW_FILL] = 4;
  /* 1000 + 40 + 3.5 + 300 + 120 + 80 + 3300 + 1800 + 10000 = 16643.5 */
  ck_assert_uint_eq(cost__total_fp(p, &k), 16643u * 1024u + 512u);
  ck_assert_uint_eq(cost__cycles(p, &k), 16643);
  ck_assert_uint_eq(cost__sum_fp(p, &k, CF_EXIT_DEFAULT, CF_EXIT_EXTERNAL_INTERRUPT) >> 10, 5100);
  /* one more REP iteration: 16644 exactly */
  k.n[CF_INSN_REP_ITERATION]++;
  ck_assert_uint_eq(cost__cycles(p, &k), 16644);
  free(p);
}
END_TEST

START_TEST(test_breakdown_against_hand_computed) {
  json_t *root = profile_obj(1);
  set_cycles(root, "mem.l2.dependent", 10);
  set_cycles(root, "mem.tlb_l2_hit", 5);
  set_cycles(root, "exit.EXCEPTION_NMI", 1000);
  set_cycles(root, "vmm.pt_write_emulate", 3000);
  set_cycles(root, "event.delivery", 100);
  struct cost_profile *p = profile_new(root);
  struct cost_counts nat, vm;
  memset(&nat, 0, sizeof nat);
  nat.n[CF_INSN_ALU] = 1000;
  const int l2 = CF_MEM_L2_DEP - COST_WALK_FIRST;
  nat.n[CF_MEM_L2_DEP] = 100; /* 100 walks of 1 reference served by L2: 1000 cycles */
  nat.wk[0][l2] = 100;
  nat.walks = 100;
  nat.n[CF_MEM_TLB_L2_HIT] = 10;
  nat.n[CF_EVENT_DELIVERY] = 1;
  vm = nat;
  vm.n[CF_INSN_ALU] = 1010;     /* other +10 */
  vm.walks = 150;               /* 50 more walks ... */
  vm.n[CF_MEM_L2_DEP] = 750;    /* walk references of both kinds, all in L2: */
  vm.wk[0][l2] = 150;           /* guest refs 1500 */
  vm.wk[1][l2] = 600;           /* ... each with 4 EPT refs: 6000 */
  vm.n[CF_MEM_TLB_L2_HIT] = 20; /* +50 */
  vm.n[CF_EXIT_EXCEPTION_NMI] = 2;
  vm.n[CF_VMM_PT_WRITE_EMULATE] = 2; /* exits 8000 */
  vm.n[CF_EVENT_DELIVERY] = 3;       /* events +200 */
  struct cost_breakdown b;
  cost__breakdown(p, &vm, &nat, &b);
  /* mode walk refs 7500 over 150 walks = 50 per walk; 50 extra walks = 2500 refills + 50 L2 hits */
  ck_assert_int_eq(b.exits, 8000 * 1024);
  ck_assert_int_eq(b.refills, 2550 * 1024);
  ck_assert_int_eq(b.walks, (7500 - 1000 - 2500) * 1024);
  ck_assert_int_eq(b.events, 200 * 1024);
  ck_assert_int_eq(b.other, 10 * 1024);
  ck_assert_int_eq(b.overhead, b.exits + b.walks + b.refills + b.events + b.other);
  ck_assert_int_eq((int64_t)cost__total_fp(p, &vm) - (int64_t)cost__total_fp(p, &nat), b.overhead);
  cost__breakdown(p, &nat, &nat, &b);
  ck_assert(b.overhead == 0 && b.exits == 0 && b.walks == 0 && b.refills == 0 && b.other == 0);
  free(p);
}
END_TEST

/* RDTSC reads modeled cycles: between two RDTSCs a hand-set profile gives an
 * exact difference. */
START_TEST(test_rdtsc_reads_modeled_cycles) {
  static const uint8_t code[] = {
      0x0f, 0x31,                   /* rdtsc */
      0x48, 0xc1, 0xe2, 0x20,       /* shl rdx, 32 */
      0x48, 0x09, 0xd0,             /* or rax, rdx */
      0x48, 0x89, 0xc3,             /* mov rbx, rax */
      0x90, 0x90, 0x90, 0x90, 0x90, /* 5 x nop */
      0x0f, 0x31,                   /* rdtsc */
      0x48, 0xc1, 0xe2, 0x20,       /* shl rdx, 32 */
      0x48, 0x09, 0xd0,             /* or rax, rdx */
      0x48, 0x29, 0xd8,             /* sub rax, rbx */
  };
  json_t *root = profile_obj(1);
  set_cycles(root, "insn.system", 7);                   /* RDTSC */
  for (int f = CF_INSN_DEP_ALU; f <= CF_INSN_CPL0; f++) /* no stalls, no ring-0 extra */
    set_cycles(root, cost_fig__path(f), 0);
  struct cost_profile *p = profile_new(root);
  struct tm_state st;
  memset(&st, 0, sizeof st);
  st.rflags = 2;
  struct tm *t = tm_new(code, sizeof code, &st);
  model_cost__set_profile(t->cost, p);
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, X86_UD);
  /* rdtsc 7 + shl, or, mov 3 + 5 nops = 15 cycles, no data references */
  ck_assert_uint_eq(r.gpr[0], 15);
  ck_assert_uint_ge(model_cost__now(t->cost), t->c->cnt.instructions);
  tm_free(t);
  free(p);
  /* a dependent ALU instruction waits insn.dep.alu more: OR reads SHL's
   * RDX, MOV reads OR's RAX (RDTSC's outputs and the NOPs add no wait) */
  root = profile_obj(1);
  set_cycles(root, "insn.system", 7);
  for (int f = CF_INSN_DEP_ALU; f <= CF_INSN_CPL0; f++)
    set_cycles(root, cost_fig__path(f), 0);
  set_cycles(root, "insn.dep.alu", 2);
  p = profile_new(root);
  t = tm_new(code, sizeof code, &st);
  model_cost__set_profile(t->cost, p);
  tm_run(t, &r);
  ck_assert_uint_eq(r.gpr[0], 15 + 2 * 2);
  tm_free(t);
  free(p);
}
END_TEST

/* ---- profile validation -------------------------------------------------------------- */

static json_t *default_obj(void) {
  json_error_t je;
  json_t *root = json_load_file(DEFAULT_PROFILE, 0, &je);
  ck_assert_msg(root != NULL, "%s: %s", DEFAULT_PROFILE, je.text);
  return root;
}

static void expect_error(json_t *root, const char *needle) {
  struct cost_profile *p = calloc(1, sizeof *p);
  char err[512] = "";
  ck_assert_int_eq(parse_obj(root, p, err, sizeof err), -1);
  ck_assert_msg(strstr(err, needle) != NULL, "error '%s' does not name '%s'", err, needle);
  ck_assert_msg(strstr(err, "test.json") != NULL, "error '%s' does not name the file", err);
  free(p);
}

START_TEST(test_default_profile_valid_and_sourced) {
  const struct cost_profile *d = cost_profile__default();
  ck_assert_str_eq(d->name, "intel-skylake-default");
  ck_assert_msg(strstr(d->path, "intel-skylake.json"), "path %s", d->path);
  struct cost_profile *f = calloc(1, sizeof *f);
  char err[512];
  ck_assert_msg(cost_profile__load(DEFAULT_PROFILE, f, err, sizeof err) == 0, "%s", err);
  for (int i = 0; i < CF_COUNT; i++) {
    ck_assert_msg(d->fp[i] == f->fp[i], "built-in and source tree differ at %s", cost_fig__path(i));
    ck_assert_msg(strlen(d->source[i]) > 10, "%s has no real source", cost_fig__path(i));
    if (i <= CF_INSN_OTHER) ck_assert_uint_ge(d->fp[i], COST_INSN_MIN * (1u << COST_FP_SHIFT));
  }
  free(f);
}
END_TEST

START_TEST(test_unknown_key_named) {
  json_t *r = default_obj();
  json_object_set_new(json_object_get(json_object_get(r, "mem"), "l2"), "prefetch",
                      json_pack("{s:i,s:s}", "cycles", 4, "source", "x"));
  expect_error(r, "mem.l2.prefetch");
  r = default_obj();
  json_object_set_new(json_object_get(r, "caches"), "l4",
                      json_pack("{s:i,s:i,s:s}", "size_kib", 4, "ways", 4, "source", "x"));
  expect_error(r, "caches.l4");
  r = default_obj();
  json_object_set_new(r, "colour", json_string("blue"));
  expect_error(r, "'colour'");
  r = default_obj();
  json_object_set_new(at(r, "exit.CPUID"), "latency", json_integer(3));
  expect_error(r, "exit.CPUID.latency");
  r = default_obj();
  json_object_set_new(r, "measured_on", json_pack("{s:s}", "hostname", "x"));
  expect_error(r, "measured_on.hostname");
}
END_TEST

START_TEST(test_missing_figure_named) {
  json_t *r = default_obj();
  json_object_del(json_object_get(r, "exit"), "CPUID");
  expect_error(r, "exit.CPUID");
  r = default_obj();
  json_object_del(at(r, "mem.dram"), "dependent");
  expect_error(r, "mem.dram.dependent");
  r = default_obj();
  json_object_del(r, "host_flavour");
  expect_error(r, "host_flavour");
  r = default_obj();
  json_object_del(json_object_get(r, "caches"), "l2");
  expect_error(r, "caches.l2");
  r = default_obj();
  json_object_del(at(r, "vmm.root_build"), "source");
  expect_error(r, "vmm.root_build.source");
  r = default_obj();
  json_object_del(r, "event");
  expect_error(r, "event.delivery");
  r = default_obj();
  json_object_del(r, "tsc_ghz");
  expect_error(r, "tsc_ghz");
}
END_TEST

START_TEST(test_wrong_type_named) {
  json_t *r = default_obj();
  json_object_set_new(at(r, "insn.alu"), "cycles", json_string("one"));
  expect_error(r, "insn.alu.cycles");
  r = default_obj();
  json_object_set_new(json_object_get(r, "tlb"), "flush", json_integer(100));
  expect_error(r, "tlb.flush");
  r = default_obj();
  json_object_set_new(r, "mem", json_array());
  expect_error(r, "'mem'");
  r = default_obj();
  json_object_set_new(at(r, "insn.branch"), "cycles", json_real(0.01)); /* below the least */
  expect_error(r, "insn.branch.cycles");
  r = default_obj();
  json_object_set_new(at(r, "exit.HLT"), "cycles", json_integer(-3));
  expect_error(r, "exit.HLT.cycles");
  r = default_obj();
  json_object_set_new(at(r, "exit.HLT"), "source", json_string(""));
  expect_error(r, "exit.HLT.source");
  r = default_obj();
  json_object_set_new(r, "host_flavour", json_string("xen"));
  expect_error(r, "host_flavour");
  r = default_obj();
  json_object_set_new(at(r, "caches.l1"), "ways", json_integer(7)); /* 32 KiB / 64 B not / 7 */
  expect_error(r, "caches.l1");
  r = default_obj();
  json_object_set_new(json_object_get(r, "mem"), "walk_ref", json_object()); /* an old profile */
  expect_error(r, "mem.walk_ref");
}
END_TEST

START_TEST(test_load_errors_name_the_file) {
  struct cost_profile *p = calloc(1, sizeof *p);
  char err[512];
  ck_assert_int_eq(cost_profile__load("/nonexistent/prof.json", p, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "/nonexistent/prof.json"), "%s", err);
  char path[] = "/tmp/vtb_cost_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "{\"name\": ", 9), 9);
  close(fd);
  ck_assert_int_eq(cost_profile__load(path, p, err, sizeof err), -1);
  ck_assert_msg(strstr(err, path) && strstr(err, "invalid JSON"), "%s", err);
  unlink(path);
  free(p);
}
END_TEST

/* ---- real workloads --------------------------------------------------------------------- */

struct crun {
  uint64_t cycles, whole, instructions;
  bool timed;
  json_t *model; /* with_json */
};

/* Run an image in-process; false (skip) when the image or backend is missing. */
static bool crun(const char *name, const char *const *params, enum pmode pm, bool baseline,
                 const char *profile, bool with_json, struct crun *out) {
  char image[256];
  struct vm_config cfg;
  memset(out, 0, sizeof *out);
  if (!tm_image_config(&cfg, image, sizeof image, name, params, pm)) return false;
  struct session_opts opts = {
      .no_probes = true, .model_baseline = baseline, .profile_path = profile};
  struct session *s = session__new(&cfg, &opts);
  ck_assert_msg(session__prepare(s) == 0, "%s: %s", name, s->err);
  ck_assert_msg(session__run(s) == RUN_OK, "%s: %s", name, s->vm.status_detail);
  const struct model_cpu *c = model_backend__cpu(&s->vm);
  const struct model_cost *mc = model_backend__cost(&s->vm);
  struct cost_counts k;
  out->timed = model_cost__scope_counts(mc, &k);
  out->cycles = cost__cycles(model_cost__profile(mc), &k);
  out->whole = model_cost__now(mc);
  out->instructions = c->cnt.instructions;
  if (with_json) out->model = model_backend__to_json(&s->vm);
  session__free(s);
  return true;
}

static const char *const forkwait_p[] = {"n=10", NULL};
static const char *const ptemod_p[] = {"n=300", NULL};
static const char *const cr3switch_p[] = {"n=300", NULL};
static const char *const gups_p[] = {"n=50000", "ws=33554432", NULL};

START_TEST(test_shadow_costs_more_than_ept) {
  static const struct {
    const char *name;
    const char *const *params;
  } w[] = {{"forkwait", forkwait_p}, {"ptemod", ptemod_p}};
  for (unsigned i = 0; i < 2; i++)
    for (int tlb = 0; tlb < 2; tlb++) {
      struct crun sh, ept;
      if (!crun(w[i].name, w[i].params, tlb ? PM_SHADOW_VPID : PM_SHADOW_FLUSH, false, NULL, false,
                &sh)) {
        printf("test_model_cost: skipped (%s image or model backend missing)\n", w[i].name);
        return;
      }
      crun(w[i].name, w[i].params, tlb ? PM_EPT_VPID : PM_EPT_FLUSH, false, NULL, false, &ept);
      ck_assert(sh.timed && ept.timed);
      ck_assert_msg(sh.cycles > ept.cycles, "%s tlb %s: shadow %llu <= ept %llu cycles", w[i].name,
                    tlb ? "vpid" : "flush", (unsigned long long)sh.cycles,
                    (unsigned long long)ept.cycles);
    }
}
END_TEST

START_TEST(test_gups_ept_costs_more_than_native) {
  struct crun nat, ept;
  if (!crun("gups", gups_p, PM_NATIVE, false, NULL, false, &nat)) {
    printf("test_model_cost: skipped (gups image or model backend missing)\n");
    return;
  }
  crun("gups", gups_p, PM_EPT_VPID, false, NULL, false, &ept);
  ck_assert(nat.timed && ept.timed);
  ck_assert_msg(ept.cycles > nat.cycles, "gups: ept %llu <= native %llu cycles",
                (unsigned long long)ept.cycles, (unsigned long long)nat.cycles);
  /* every instruction advances the clock by at least the least class cost */
  ck_assert_uint_ge(nat.whole, (uint64_t)(nat.instructions * COST_INSN_MIN));
  ck_assert_uint_ge(ept.whole, (uint64_t)(ept.instructions * COST_INSN_MIN));
}
END_TEST

START_TEST(test_cr3switch_flush_costs_more_than_vpid) {
  for (int sh = 0; sh < 2; sh++) {
    struct crun fl, vp;
    if (!crun("cr3switch", cr3switch_p, sh ? PM_SHADOW_FLUSH : PM_EPT_FLUSH, false, NULL, false,
              &fl)) {
      printf("test_model_cost: skipped (cr3switch image or model backend missing)\n");
      return;
    }
    crun("cr3switch", cr3switch_p, sh ? PM_SHADOW_VPID : PM_EPT_VPID, false, NULL, false, &vp);
    ck_assert_msg(fl.cycles > vp.cycles, "cr3switch %s: flush %llu <= vpid %llu cycles",
                  sh ? "shadow" : "ept", (unsigned long long)fl.cycles,
                  (unsigned long long)vp.cycles);
  }
}
END_TEST

static int64_t jint(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  ck_assert_msg(json_is_integer(v), "%s is not an integer", k);
  return json_integer_value(v);
}

/* The native baseline: overhead = modeled - native cycles, the causes add up,
 * and the native run alone gives the same native figure. */
START_TEST(test_baseline_overhead_and_breakdown) {
  struct crun sh, nat;
  if (!crun("ptemod", ptemod_p, PM_SHADOW_VPID, true, NULL, true, &sh)) {
    printf("test_model_cost: skipped (ptemod image or model backend missing)\n");
    return;
  }
  crun("ptemod", ptemod_p, PM_NATIVE, false, NULL, false, &nat);
  json_t *m = sh.model;
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "baseline"), "run")),
                   "native");
  json_t *ov = json_object_get(m, "overhead_vs_native");
  ck_assert_msg(json_is_object(ov), "overhead_vs_native is not an object");
  ck_assert_int_eq(jint(ov, "native_cycles"), (int64_t)nat.cycles);
  ck_assert_int_eq(jint(m, "modeled_cycles"), (int64_t)sh.cycles);
  ck_assert_int_eq(jint(ov, "cycles"), (int64_t)sh.cycles - (int64_t)nat.cycles);
  json_t *b = json_object_get(m, "breakdown");
  int64_t exits = jint(json_object_get(b, "exits"), "cycles");
  int64_t sum =
      exits + jint(b, "walks") + jint(b, "refills") + jint(b, "events") + jint(b, "other");
  ck_assert_int_eq(sum, jint(ov, "cycles"));
  ck_assert_msg(exits > 0 &&
                    json_object_get(json_object_get(json_object_get(b, "exits"), "vmm_by_kind"),
                                    "pt_write_emulate"),
                "ptemod in shadow: no pt-write emulation cost");
  json_t *groups = json_object_get(m, "cycles_by_group");
  int64_t gsum = 0;
  const char *k;
  json_t *v;
  json_object_foreach(groups, k, v) gsum += json_integer_value(v);
  ck_assert_int_eq(gsum, (int64_t)sh.cycles);
  json_decref(m);
}
END_TEST

/* Modeled cycles are linear in the profile: every figure doubled doubles the
 * total (within rounding), via --profile FILE. */
START_TEST(test_profile_file_scales_cycles) {
  json_t *r = default_obj();
  for (int f = 0; f < CF_COUNT; f++) {
    json_t *fig = at(r, cost_fig__path(f));
    json_object_set_new(fig, "cycles",
                        json_real(2 * json_number_value(json_object_get(fig, "cycles"))));
  }
  json_object_set_new(r, "name", json_string("doubled"));
  char path[] = "/tmp/vtb_cost_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(json_dump_file(r, path, 0), 0);
  json_decref(r);
  struct crun one, two;
  if (!crun("cr3switch", cr3switch_p, PM_SHADOW_FLUSH, false, NULL, false, &one)) {
    unlink(path);
    printf("test_model_cost: skipped (cr3switch image or model backend missing)\n");
    return;
  }
  crun("cr3switch", cr3switch_p, PM_SHADOW_FLUSH, false, path, true, &two);
  unlink(path);
  ck_assert_str_eq(
      json_string_value(json_object_get(json_object_get(two.model, "profile"), "name")), "doubled");
  json_decref(two.model);
  /* each figure is kept to 1/1024 cycle: doubling a fractional one (0.4 ->
   * 410/1024, 0.8 -> 819/1024) moves the total by up to a few parts in 10^5 */
  ck_assert_msg(fabs((double)two.cycles - 2.0 * (double)one.cycles) <= 1e-4 * (double)two.cycles,
                "doubled profile: %llu vs 2 x %llu", (unsigned long long)two.cycles,
                (unsigned long long)one.cycles);
}
END_TEST

/* ---- refvmm's command line ------------------------------------------------------------- */

static bool have_refvmm(void) {
  const char *b = getenv("REFVMM");
  return access(b && *b ? b : "bin/refvmm", X_OK) == 0 &&
         access("workloads/build/cr3switch.elf", R_OK) == 0;
}

/* The default --model-baseline run: the JSON (schema-checked by run_refvmm)
 * carries the overhead, its causes adding up, and the built-in profile. */
START_TEST(test_cli_baseline_and_profile) {
  if (!have_refvmm()) {
    printf("test_model_cost: skipped (bin/refvmm or images not built)\n");
    return;
  }
  struct refvmm_result r;
  static const char *const a[] = {"run",       "workloads/build/cr3switch.elf",
                                  "--backend", "model",
                                  "--paging",  "shadow",
                                  "--tlb",     "flush",
                                  "--param",   "n=300",
                                  "--quiet",   NULL};
  ck_assert_int_eq(run_refvmm(&r, true, a), 0);
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  ck_assert_str_eq(refvmm_result__str(&r, "model.baseline.run"), "native");
  int64_t cyc = refvmm_result__int(&r, "model.modeled_cycles");
  int64_t nat = refvmm_result__int(&r, "model.overhead_vs_native.native_cycles");
  ck_assert_int_gt(nat, 0);
  ck_assert_int_gt(cyc, nat);
  ck_assert_int_eq(refvmm_result__int(&r, "model.overhead_vs_native.cycles"), cyc - nat);
  ck_assert_int_gt(refvmm_result__int(&r, "model.breakdown.exits.by_reason.CR_ACCESS.count"), 0);
  ck_assert_msg(strstr(refvmm_result__str(&r, "model.profile.path"), "built-in"), "profile path");
  refvmm_result__free(&r);

  static const char *const b[] = {"run",       "workloads/build/cr3switch.elf",
                                  "--backend", "model",
                                  "--paging",  "ept",
                                  "--param",   "n=300",
                                  "--quiet",   "--model-baseline",
                                  "none",      NULL};
  ck_assert_int_eq(run_refvmm(&r, true, b), 0);
  ck_assert_int_eq(r.exit_code, 0);
  ck_assert(json_is_null(refvmm_result__get(&r, "model.overhead_vs_native")));
  ck_assert_str_eq(refvmm_result__str(&r, "model.baseline.run"), "none");
  ck_assert_msg(strstr(refvmm_result__str(&r, "model.baseline.reason"), "--model-baseline none"),
                "reason");
  refvmm_result__free(&r);
}
END_TEST

/* --profile: refused on kvm; a missing or invalid file is a usage error
 * naming the file. */
START_TEST(test_cli_profile_errors) {
  if (!have_refvmm()) {
    printf("test_model_cost: skipped (bin/refvmm or images not built)\n");
    return;
  }
  struct refvmm_result r;
  static const char *const a[] = {
      "run", "workloads/build/cr3switch.elf", "--backend", "kvm", "--profile", DEFAULT_PROFILE,
      NULL};
  ck_assert_int_eq(run_refvmm(&r, false, a), 0);
  ck_assert_int_eq(r.exit_code, 2);
  ck_assert_msg(strstr(r.err, "--backend model only"), "stderr: %s", r.err);
  refvmm_result__free(&r);
  static const char *const b[] = {
      "run",       "workloads/build/cr3switch.elf", "--backend", "model",
      "--profile", "/nonexistent/p.json",           NULL};
  ck_assert_int_eq(run_refvmm(&r, false, b), 0);
  ck_assert_int_eq(r.exit_code, 2);
  ck_assert_msg(strstr(r.err, "/nonexistent/p.json"), "stderr: %s", r.err);
  refvmm_result__free(&r);
}
END_TEST

Suite *suite_model_cost(void) {
  Suite *s = suite_create("model_cost");
  TCase *a = tcase_create("arithmetic");
  tcase_add_test(a, test_total_against_hand_computed);
  tcase_add_test(a, test_breakdown_against_hand_computed);
  tcase_add_test(a, test_rdtsc_reads_modeled_cycles);
  suite_add_tcase(s, a);
  TCase *p = tcase_create("profiles");
  tcase_add_test(p, test_default_profile_valid_and_sourced);
  tcase_add_test(p, test_unknown_key_named);
  tcase_add_test(p, test_missing_figure_named);
  tcase_add_test(p, test_wrong_type_named);
  tcase_add_test(p, test_load_errors_name_the_file);
  suite_add_tcase(s, p);
  TCase *w = tcase_create("workloads");
  tcase_set_timeout(w, 120);
  tcase_add_test(w, test_shadow_costs_more_than_ept);
  tcase_add_test(w, test_gups_ept_costs_more_than_native);
  tcase_add_test(w, test_cr3switch_flush_costs_more_than_vpid);
  tcase_add_test(w, test_baseline_overhead_and_breakdown);
  tcase_add_test(w, test_profile_file_scales_cycles);
  suite_add_tcase(s, w);
  TCase *cli = tcase_create("cli");
  tcase_set_timeout(cli, 120);
  tcase_add_test(cli, test_cli_baseline_and_profile);
  tcase_add_test(cli, test_cli_profile_errors);
  suite_add_tcase(s, cli);
  return s;
}
