/* test_model_paging.c - the model backend's VT-x paging modes:
 * every workload gives the same checksum in native and in each finished
 * paging x tlb combination (ept x flush|vpid; shadow is refused until it
 * exists); exit and flush exactness (tlb flush: one flush per VM entry and
 * one per VM exit, vpid: none; ept: no CR-access, INVLPG or #PF exits); and
 * the expected directions (gups: more walk references per walk in ept than
 * in native; cr3switch: more misses with flush than with vpid). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/model/model_backend.h"
#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"
#include "refvmm/model/vmm/vmm_shadow.h"
#include "refvmm/session.h"
#include "test_model_image.h"

struct prun {
  enum run_status status;
  char detail[2400];
  uint64_t checksum, instructions;
  struct tlb_stats st;
  struct model_vmcs vmcs;
  struct vmm_shadow sh; /* counters only (pointers cleared) */
  uint64_t cr3_loads;
  char rkey[16][48];
  uint64_t rval[16];
  int nrep;
};

static uint64_t report(const struct prun *r, const char *key) {
  for (int i = 0; i < r->nrep; i++)
    if (strcmp(r->rkey[i], key) == 0) return r->rval[i];
  ck_abort_msg("the guest did not report %s", key);
  return 0;
}

static json_t *last_json; /* the model section of the last prun() when asked */
static bool want_json;

/* -1: skipped (image or backend missing); 0 ran (status in out); 1 prepare failed (detail) */
static int prun(const char *name, const char *const *params, enum pmode pm, struct prun *out) {
  char image[256];
  struct vm_config cfg;
  memset(out, 0, sizeof *out);
  if (!tm_image_config(&cfg, image, sizeof image, name, params, pm)) return -1;
  struct session_opts opts = {.no_probes = true};
  struct session *s = session__new(&cfg, &opts);
  if (session__prepare(s)) {
    snprintf(out->detail, sizeof out->detail, "%s | %s", s->err, s->vm.status_detail);
    session__free(s);
    return 1;
  }
  out->status = session__run(s);
  snprintf(out->detail, sizeof out->detail, "%s", s->vm.status_detail);
  for (int i = 0; i < s->vm.nreports; i++) {
    if (strcmp(s->vm.reports[i].key, "checksum") == 0) out->checksum = s->vm.reports[i].value;
    if (out->nrep < 16) {
      snprintf(out->rkey[out->nrep], sizeof out->rkey[0], "%s", s->vm.reports[i].key);
      out->rval[out->nrep++] = s->vm.reports[i].value;
    }
  }
  const struct model_cpu *c = model_backend__cpu(&s->vm);
  out->cr3_loads = c->cnt.cr3_loads;
  const struct vmm_shadow *sh = model_backend__shadow(&s->vm);
  if (sh) {
    out->sh = *sh;
    out->sh.mem = NULL, out->sh.src = NULL, out->sh.owner = NULL, out->sh.free_stack = NULL;
    out->sh.is_pt = NULL, out->sh.wleaves = NULL;
  }
  out->instructions = c->cnt.instructions;
  out->st = c->tlbm.st;
  out->vmcs = c->vmcs;
  if (want_json) last_json = model_backend__to_json(&s->vm);
  session__free(s);
  return 0;
}

static uint64_t total_exits(const struct model_vmcs *v) {
  uint64_t n = 0;
  for (int r = 0; r < EXIT_REASON_MAX; r++)
    n += v->exits[r];
  return n;
}

static const struct {
  const char *name;
  const char *params[3];
} wls[] = {
    {"compute", {"n=100000"}},
    {"cpuid", {"n=1000"}},
    {"pio", {"n=1000"}},
    {"mmio", {"n=1000"}},
    {"cr3switch", {"n=300"}},
    {"forkwait", {"n=10"}},
    {"pgfault", {"n=300"}},
    {"ptemod", {"n=300"}},
    {"gups", {"n=100000", "ws=4194304"}},
    {"memstream", {"passes=1", "ws=1048576"}},
    {"callret", {"n=100000"}},
    {"syscall", {"n=300"}},
    {"divzero", {"n=100"}},
    {"cr8wr", {"n=1000"}},
    {"vmcall", {"n=1000"}},
};
#define NWL ((int)(sizeof wls / sizeof wls[0]))

START_TEST(test_checksums_equal_in_every_finished_mode) {
  struct prun native;
  int rc = prun(wls[_i].name, wls[_i].params, PM_NATIVE, &native);
  if (rc < 0) {
    printf("test_model_paging: %s: skipped: image or model backend missing\n", wls[_i].name);
    return;
  }
  ck_assert_msg(rc == 0 && native.status == RUN_OK, "%s native: %s", wls[_i].name, native.detail);
  ck_assert_uint_ne(native.checksum, 0);
  for (enum pmode pm = PM_EPT_FLUSH; pm <= PM_SHADOW_VPID; pm++) {
    bool ept = pm == PM_EPT_FLUSH || pm == PM_EPT_VPID;
    bool flush = pm == PM_EPT_FLUSH || pm == PM_SHADOW_FLUSH;
    struct prun r;
    rc = prun(wls[_i].name, wls[_i].params, pm, &r);
    ck_assert_msg(rc == 0 && r.status == RUN_OK, "%s %s: %s", wls[_i].name, pm_name[pm], r.detail);
    ck_assert_msg(r.checksum == native.checksum, "%s %s: checksum 0x%llx, native 0x%llx",
                  wls[_i].name, pm_name[pm], (unsigned long long)r.checksum,
                  (unsigned long long)native.checksum);
    ck_assert_uint_eq(r.instructions, native.instructions);
    /* exactness of the VMX transitions */
    const struct model_vmcs *v = &r.vmcs;
    ck_assert(v->active);
    if (flush) {
      ck_assert_uint_eq(v->flush_on_entry, v->entries);
      ck_assert_uint_eq(v->flush_on_exit, total_exits(v));
    } else {
      ck_assert_uint_eq(v->flush_on_entry, 0);
      ck_assert_uint_eq(v->flush_on_exit, 0);
    }
    ck_assert_uint_ge(v->entries, total_exits(v)); /* every exit is re-entered but the last */
    ck_assert_uint_le(v->entries, total_exits(v) + 1);
    if (ept) { /* ept: the guest owns CR3, INVLPG and #PF */
      ck_assert_uint_eq(v->exits[EXIT_REASON_CR_ACCESS], 0);
      ck_assert_uint_eq(v->exits[EXIT_REASON_INVLPG], 0);
      ck_assert_uint_eq(v->exits[EXIT_REASON_EXCEPTION_NMI], 0);
      ck_assert_uint_eq(v->exits[EXIT_REASON_EPT_VIOLATION], v->ept_violations);
      ck_assert_uint_gt(v->ept_violations, 0);
      /* a 2-D walk makes at most 24 references */
      ck_assert_uint_le(r.st.walk_refs, 24 * r.st.walks);
    } else { /* shadow: one CR-access exit per guest CR3 load, #PF exits split */
      ck_assert_uint_eq(v->exits[EXIT_REASON_CR_ACCESS], r.cr3_loads);
      ck_assert_uint_eq(v->exits[EXIT_REASON_EPT_VIOLATION], 0);
      /* MMIO accesses also exit as #PF (a not-present shadow entry, as KVM's MMIO sptes) */
      uint64_t pf = r.sh.hidden_faults + r.sh.true_faults + r.sh.pt_write_exits;
      if (strcmp(wls[_i].name, "mmio"))
        ck_assert_uint_eq(v->exits[EXIT_REASON_EXCEPTION_NMI], pf);
      else
        ck_assert_uint_ge(v->exits[EXIT_REASON_EXCEPTION_NMI], pf + 1000);
      ck_assert_uint_eq(v->exits[EXIT_REASON_INVLPG], r.sh.invlpg_exits);
      ck_assert_uint_gt(r.sh.hidden_faults, 0);
      ck_assert_uint_le(r.st.walk_refs, 4 * r.st.walks);
    }
  }
}
END_TEST

/* prun() of a later image of a test that already ran its first one: a
 * missing image or a failed set-up fails the test instead of skipping it */
static void prun_ok(const char *name, const char *const *params, enum pmode pm, struct prun *out) {
  int rc = prun(name, params, pm, out);
  ck_assert_msg(rc == 0, "%s: %s", name,
                rc < 0 ? "image or backend missing (make images)" : out->detail);
}

START_TEST(test_shadow_exactness) {
  static const char *const pc[] = {"n=300", NULL};
  struct prun sh, ep;
  if (prun("cr3switch", pc, PM_SHADOW_VPID, &sh) < 0) return;
  prun_ok("cr3switch", pc, PM_EPT_VPID, &ep);
  /* once per guest CR3 load in shadow (the workload's loads and the runtime's) */
  ck_assert_uint_ge(sh.vmcs.exits[EXIT_REASON_CR_ACCESS], report(&sh, "cr3switch.loads"));
  ck_assert_uint_le(sh.vmcs.exits[EXIT_REASON_CR_ACCESS], report(&sh, "cr3switch.loads") + 4);
  ck_assert_uint_eq(ep.vmcs.exits[EXIT_REASON_CR_ACCESS], 0);
  ck_assert_uint_gt(sh.sh.roots_reused, report(&sh, "cr3switch.loads") / 2);
  /* ptemod: one trapped write per update of the shadowed PTE (the first
   * update comes before the table is shadowed), one INVLPG exit each */
  prun_ok("ptemod", pc, PM_SHADOW_FLUSH, &sh);
  prun_ok("ptemod", pc, PM_EPT_FLUSH, &ep);
  ck_assert_uint_ge(sh.sh.pt_write_exits, 299);
  ck_assert_uint_le(sh.sh.pt_write_exits, 301);
  ck_assert_uint_ge(sh.vmcs.exits[EXIT_REASON_INVLPG], 300);
  ck_assert_uint_eq(ep.vmcs.exits[EXIT_REASON_INVLPG], 0);
  ck_assert_uint_gt(total_exits(&sh.vmcs), 5 * total_exits(&ep.vmcs));
  /* pgfault: the true faults are the guest's own */
  prun_ok("pgfault", pc, PM_SHADOW_VPID, &sh);
  ck_assert_uint_eq(sh.sh.true_faults, report(&sh, "pgfault.faults"));
  ck_assert_uint_gt(sh.sh.hidden_faults, 0);
  /* forkwait: far more exits in shadow */
  static const char *const pf[] = {"n=10", NULL};
  prun_ok("forkwait", pf, PM_SHADOW_VPID, &sh);
  prun_ok("forkwait", pf, PM_EPT_VPID, &ep);
  ck_assert_uint_gt(total_exits(&sh.vmcs), 5 * total_exits(&ep.vmcs));
}
END_TEST

START_TEST(test_exit_reasons_exact) {
  /* cpuid n: at least n CPUID exits (the runtime adds a few), vmcall n:
   * at least n VMCALL exits; the same count with and without VPID */
  static const char *const pc[] = {"n=500", NULL};
  struct prun f, v;
  if (prun("cpuid", pc, PM_EPT_FLUSH, &f) < 0) return;
  prun_ok("cpuid", pc, PM_EPT_VPID, &v);
  ck_assert_uint_ge(f.vmcs.exits[EXIT_REASON_CPUID], 500);
  ck_assert_uint_lt(f.vmcs.exits[EXIT_REASON_CPUID], 520);
  ck_assert_uint_eq(f.vmcs.exits[EXIT_REASON_CPUID], v.vmcs.exits[EXIT_REASON_CPUID]);
  struct prun m;
  prun_ok("mmio", pc, PM_EPT_VPID, &m);
  ck_assert_uint_ge(m.vmcs.exits[EXIT_REASON_EPT_MISCONFIG], 500);
  prun_ok("pio", pc, PM_EPT_VPID, &m);
  ck_assert_uint_ge(m.vmcs.exits[EXIT_REASON_IO_INSTRUCTION], 500);
}
END_TEST

/* A translation that ends in an EPT misconfiguration (or in the shadow
 * MMU's entry for MMIO, which stands for KVM's faulting MMIO spte) is
 * never cached (SDM vol. 3C, "Creating and Using Cached Translation
 * Information"): each of mmio's n writes exits and is one EPT
 * misconfiguration with VPID as without it, and each walks again. */
START_TEST(test_mmio_translation_not_cached) {
  static const char *const p0[] = {"n=500", NULL}, *const p3[] = {"n=500", "cpl=3", NULL};
  static const enum pmode modes[] = {PM_EPT_FLUSH, PM_EPT_VPID, PM_SHADOW_FLUSH, PM_SHADOW_VPID};
  struct prun r;
  if (prun("mmio", p0, PM_EPT_FLUSH, &r) < 0) return;
  for (int cpl3 = 0; cpl3 < 2; cpl3++)
    for (unsigned k = 0; k < sizeof modes / sizeof modes[0]; k++) {
      prun_ok("mmio", cpl3 ? p3 : p0, modes[k], &r);
      const char *m = pm_name[modes[k]];
      if (modes[k] == PM_EPT_FLUSH || modes[k] == PM_EPT_VPID) {
        ck_assert_msg(r.vmcs.ept_misconfigs == 500, "%s cpl%d: ept.misconfigs %llu, want 500", m,
                      cpl3 * 3, (unsigned long long)r.vmcs.ept_misconfigs);
        ck_assert_uint_eq(r.vmcs.exits[EXIT_REASON_EPT_MISCONFIG], 500);
      } else {
        ck_assert_uint_eq(r.vmcs.ept_misconfigs, 0);
      }
      ck_assert_msg(r.st.walks >= 500, "%s cpl%d: %llu walks for 500 MMIO writes", m, cpl3 * 3,
                    (unsigned long long)r.st.walks);
    }
}
END_TEST

START_TEST(test_gups_more_refs_per_walk_in_ept) {
  static const char *const p[] = {"n=100000", "ws=16777216", NULL};
  struct prun n, e, sh;
  if (prun("gups", p, PM_NATIVE, &n) < 0) return;
  prun_ok("gups", p, PM_EPT_VPID, &e);
  prun_ok("gups", p, PM_SHADOW_VPID, &sh);
  double rs = (double)sh.st.walk_refs / (double)sh.st.walks;
  ck_assert_msg((double)e.st.walk_refs / (double)e.st.walks > 2 * rs, "shadow %.2f", rs);
  double rn = (double)n.st.walk_refs / (double)n.st.walks;
  double re = (double)e.st.walk_refs / (double)e.st.walks;
  ck_assert_msg(re > 2 * rn, "refs per walk: ept %.2f native %.2f", re, rn);
  ck_assert_uint_gt(e.st.ept_refs_by_level[1], 0);
  ck_assert_uint_eq(n.st.ept_refs_by_level[1], 0);
  /* EPT paging-structure caches: the 16 MiB working set and the guest's
   * tables lie under a few EPT PDEs, so most EPT walks read the EPT PT only
   * and a walk stays far below the 24 references of a cold 2-D walk */
  ck_assert_uint_gt(e.st.ept_pwc_hits[2], e.st.walks);
  ck_assert_uint_lt(e.st.ept_refs_by_level[3], e.st.ept_refs_by_level[1] / 100);
  ck_assert_msg(re < 6, "ept refs per walk %.2f", re);
  ck_assert_uint_eq(n.st.ept_pwc_hits[2], 0);
}
END_TEST

START_TEST(test_cr3switch_misses_more_with_flush) {
  static const char *const p[] = {"n=300", NULL};
  struct prun f, v;
  if (prun("cr3switch", p, PM_EPT_FLUSH, &f) < 0) return;
  prun_ok("cr3switch", p, PM_EPT_VPID, &v);
  ck_assert_uint_gt(f.st.misses[TLBL_L2], v.st.misses[TLBL_L2]);
  ck_assert_uint_gt(f.vmcs.flush_on_exit, 0);
}
END_TEST

static json_int_t jget(const char *path) {
  json_t *v = last_json;
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
    v = json_object_get(v, tok);
  ck_assert_msg(v && json_is_integer(v), "model JSON has no integer at %s", path);
  return json_integer_value(v);
}

START_TEST(test_json_model_section) {
  static const char *const p[] = {"n=20000", "ws=4194304", NULL};
  struct prun r;
  want_json = true;
  if (prun("gups", p, PM_EPT_FLUSH, &r) < 0) return;
  ck_assert_ptr_nonnull(last_json);
  ck_assert_str_eq(json_string_value(json_object_get(last_json, "paging")), "ept");
  ck_assert_int_eq(jget("instructions"), (json_int_t)r.instructions);
  for (int lv = 0; lv < 3; lv++) {
    static const char *const n[] = {"l1d", "l1i", "l2"};
    char a[64], b[64], c[64];
    snprintf(a, sizeof a, "tlb.%s.lookups", n[lv]);
    snprintf(b, sizeof b, "tlb.%s.hits", n[lv]);
    snprintf(c, sizeof c, "tlb.%s.misses", n[lv]);
    ck_assert_int_eq(jget(a), jget(b) + jget(c));
  }
  ck_assert_int_eq(jget("walks.count"), jget("tlb.l2.misses"));
  ck_assert_int_eq(jget("walks.refs"),
                   jget("walks.by_level.guest.pml4") + jget("walks.by_level.guest.pdpt") +
                       jget("walks.by_level.guest.pd") + jget("walks.by_level.guest.pt") +
                       jget("walks.by_level.ept.pml4") + jget("walks.by_level.ept.pdpt") +
                       jget("walks.by_level.ept.pd") + jget("walks.by_level.ept.pt"));
  ck_assert_int_eq(jget("ept.violations"), jget("exits.EPT_VIOLATION"));
  ck_assert_int_eq(jget("flushes.on_exit"), (json_int_t)total_exits(&r.vmcs));
  ck_assert(json_is_null(json_object_get(last_json, "shadow")));
  json_decref(last_json);
  last_json = NULL;
  want_json = false;
}
END_TEST

Suite *suite_model_paging(void) {
  Suite *s = suite_create("model_paging");
  TCase *tc = tcase_create("modes");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_checksums_equal_in_every_finished_mode, 0, NWL);
  tcase_add_test(tc, test_shadow_exactness);
  tcase_add_test(tc, test_exit_reasons_exact);
  tcase_add_test(tc, test_mmio_translation_not_cached);
  tcase_add_test(tc, test_gups_more_refs_per_walk_in_ept);
  tcase_add_test(tc, test_cr3switch_misses_more_with_flush);
  tcase_add_test(tc, test_json_model_section);
  suite_add_tcase(s, tc);
  return s;
}
