/* validate.c - what `vtbench validate` compares and how (validate.h). */
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"

/* Sizes: large enough that every per-iteration effect shows hundreds of
 * times, small enough that the model (an interpreter) finishes each run in
 * well under a second. gups and memstream keep their working set fixed and
 * scale the work inside the region only. */
const struct validate_workload validate_workloads[] = {
    {"pgfault", "n", 2000, 500, {NULL}},
    {"ptemod", "n", 2000, 500, {NULL}},
    {"invlpg", "n", 200, 50, {"pages=46", NULL}},
    {"cr3switch", "n", 2000, 500, {NULL}},
    {"forkwait", "n", 100, 25, {NULL}},
    {"gups", "n", 200000, 50000, {"ws=4194304", NULL}},
    {"memstream", "passes", 2, 1, {"ws=4194304", NULL}},
    {"compute", "n", 200000, 50000, {NULL}},
    {"pio", "n", 2000, 500, {NULL}},
    {"cpuid", "n", 2000, 500, {NULL}},
    {"mmio", "n", 2000, 500, {NULL}},
    /* the Linux guest (docs/LINUX.md): each run boots the kernel, so they
     * run only when named (--only); the timed region excludes the boot */
    {"linux:null", "n", 20000, 5000, {NULL}},
    {"linux:fork", "n", 100, 25, {NULL}},
    {"linux:forkexec", "n", 50, 15, {NULL}},
    {"linux:pgfault", "n", 2000, 500, {NULL}},
    {"linux:mprotect", "n", 300, 100, {"pages=16", NULL}},
    {"linux:ctx", "n", 500, 100, {NULL}},
    {"linux:gups", "n", 200000, 50000, {"ws=4194304", NULL}},
};
const size_t validate_workloads_len = sizeof(validate_workloads) / sizeof(validate_workloads[0]);

const struct validate_workload *validate__workload(const char *name) {
  for (size_t i = 0; i < validate_workloads_len; i++)
    if (!strcmp(validate_workloads[i].name, name)) return &validate_workloads[i];
  return NULL;
}

#define T  "model.timed."
#define SH "model.timed.shadow."
#define U3 "model.timed.shadow.by_cpl.cpl3."
const struct validate_pair validate_pairs[] = {
    /* the same work on every shadow-paging host */
    {"pf_guest", "pf_guest", SH "true_faults", VALIDATE_HOST_SHADOW},
    {"invlpg", "invlpg", SH "invlpg_exits", VALIDATE_HOST_SHADOW},
    {"remote_tlb_flush_requests", "remote_tlb_flush_requests",
     SH "vmm_flushes.zap+" SH "vmm_flushes.protect_user+" SH "vmm_flushes.root_drop+" SH
        "vmm_flushes.invlpg",
     VALIDATE_HOST_EMU0},
    {"remote_tlb_flush_requests", "remote_tlb_flush_requests", SH "vmm_flushes.total",
     VALIDATE_HOST_NATIVE},
    {"mmu_cache_miss", "mmu_cache_miss", SH "pages_allocated", VALIDATE_HOST_SHADOW},
    {"mmu_shadow_zapped", "mmu_shadow_zapped", SH "pages_freed", VALIDATE_HOST_SHADOW},
    {"mmu_flooded", "mmu_flooded", SH "flooded", VALIDATE_HOST_SHADOW},
    {"user exits", "run:exits.total", "exits.total", VALIDATE_HOST_ANY},
    /* kvm_pvm leaves io_exits at 0; elsewhere it counts every OUT/IN exit,
     * the region's end mark included, as the model's IO_INSTRUCTION exits do */
    {"io_exits", "io_exits", "exits.by_reason.IO.count", VALIDATE_HOST_EMU0},
    {"io_exits", "io_exits", T "exits.IO_INSTRUCTION", VALIDATE_HOST_NATIVE | VALIDATE_HOST_TDP},
    {"mmio_exits", "mmio_exits", "exits.by_reason.MMIO.count", VALIDATE_HOST_ANY},
    /* ring 0 emulated (kvm_pvm): only user-mode accesses fault and fill,
     * ring-0 stores and instructions go through the emulator (a REP string
     * instruction more than once, ring-3 CPUID and MMIO too), a privilege
     * switch is an exit (a ring-3 CPUID too), flush requests coalesce until
     * the return to ring 3 */
    {"pf_fixed", "pf_fixed", U3 "hidden_faults", VALIDATE_HOST_EMU0},
    {"pf_taken", "pf_taken", U3 "hidden_faults+" U3 "true_faults+" U3 "pt_write_exits",
     VALIDATE_HOST_EMU0},
    {"pf_emulate", "pf_emulate", U3 "pt_write_exits", VALIDATE_HOST_EMU0},
    {"mmu_pte_write", "mmu_pte_write", T "cpl0.mem_writes", VALIDATE_HOST_EMU0},
    {"insn_emulation", "insn_emulation",
     T "cpl0.instructions+" T "cpl0.rep_emulations+" T "cpl3.cpuid+" T "cpl3.mmio",
     VALIDATE_HOST_EMU0},
    {"insn_emulation_fail", "insn_emulation_fail", T "cpl0.left", VALIDATE_HOST_EMU0},
    {"tlb_flush", "tlb_flush", SH "flush_batches", VALIDATE_HOST_EMU0},
    {"exits", "exits",
     U3 "hidden_faults+" U3 "pt_write_exits+" T "cpl0.entered+" T "cpl0.left+" T
        "cpl3.cpuid+exits.total",
     VALIDATE_HOST_EMU0, true},
    /* ring 0 native (VT-x/SVM without EPT/NPT): every #PF and CR3/INVLPG exits */
    {"pf_fixed", "pf_fixed", SH "hidden_faults", VALIDATE_HOST_NATIVE},
    {"pf_taken", "pf_taken", SH "hidden_faults+" SH "true_faults+" SH "pt_write_exits",
     VALIDATE_HOST_NATIVE},
    {"pf_emulate", "pf_emulate", SH "pt_write_exits", VALIDATE_HOST_NATIVE},
    {"mmu_pte_write", "mmu_pte_write", SH "pt_writes_emulated", VALIDATE_HOST_NATIVE},
    {"tlb_flush", "tlb_flush", SH "flush_exits", VALIDATE_HOST_NATIVE},
    {"exits", "exits", T "exits.*", VALIDATE_HOST_NATIVE, true},
    /* EPT/NPT: the guest owns its page tables; KVM's TDP MMU fills a
     * second-level entry per EPT violation / nested page fault */
    {"pf_fixed", "pf_fixed", T "ept.violations", VALIDATE_HOST_TDP},
    {"pf_taken", "pf_taken", T "ept.violations", VALIDATE_HOST_TDP},
    {"exits", "exits", T "exits.*", VALIDATE_HOST_TDP, true},
};
#undef T
#undef SH
#undef U3
_Static_assert(sizeof(validate_pairs) / sizeof(validate_pairs[0]) <= VALIDATE_PAIRS_MAX,
               "raise VALIDATE_PAIRS_MAX");
const size_t validate_pairs_len = sizeof(validate_pairs) / sizeof(validate_pairs[0]);

bool validate__pair_applies(const struct validate_pair *p, enum validate_kind kind) {
  return (p->host & (1 << kind)) != 0;
}

const char *validate__kind_name(enum validate_kind k) {
  return k == VALIDATE_KIND_EMU0 ? "emu0" : k == VALIDATE_KIND_NATIVE ? "native" : "tdp";
}

int validate__path_number(const json_t *obj, const char *path, double *out) {
  char key[128];
  const json_t *j = obj;
  const char *p = path;
  while (j && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof key) return -1;
    memcpy(key, p, n);
    key[n] = 0;
    j = json_object_get(j, key);
    p += n + (dot ? 1 : 0);
  }
  return j && json_util__number(j, out) ? 0 : -1;
}

/* A reason absent from exits.by_reason was never taken: 0, not missing. */
static int region_exit_count(const json_t *run, const char *path, double *out) {
  if (!validate__path_number(run, path, out)) return 0;
  if (strncmp(path, "exits.by_reason.", 16) || !json_object_get(run, "exits")) return -1;
  *out = 0;
  return 0;
}

int validate__kvm_value(const json_t *run, const char *what, double *out) {
  if (!strncmp(what, "run:", 4)) return region_exit_count(run, what + 4, out);
  const json_t *ks = json_object_get(run, "kvm_stats");
  static const char *const scopes[] = {"vcpu", "vm"};
  for (int i = 0; i < 2; i++) {
    const json_t *s = json_object_get(json_object_get(ks, scopes[i]), what);
    const char *type = json_string_value(json_object_get(s, "type"));
    if (s && type && !strcmp(type, "cumulative"))
      return json_util__number(json_object_get(s, "value"), out) ? 0 : -1;
  }
  return -1;
}

int validate__model_value(const json_t *run, const char *expr, double *out) {
  double sum = 0;
  const char *p = expr;
  while (*p) {
    const char *plus = strchr(p, '+');
    size_t n = plus ? (size_t)(plus - p) : strlen(p);
    char term[160];
    if (n >= sizeof term) return -1;
    memcpy(term, p, n);
    term[n] = 0;
    double v;
    if (n > 2 && !strcmp(term + n - 2, ".*")) { /* the sum of an object's numbers */
      term[n - 2] = 0;
      const json_t *ex = run;
      for (char *k = term, *dot; ex && k; k = dot) {
        dot = strchr(k, '.');
        if (dot) *dot++ = 0;
        ex = json_object_get(ex, k);
      }
      if (!json_is_object(ex)) return -1;
      const char *k;
      const json_t *c;
      v = 0;
      json_object_foreach((json_t *)ex, k, c) {
        double x;
        if (json_util__number(c, &x)) v += x;
      }
    } else if (region_exit_count(run, term, &v)) {
      return -1;
    }
    sum += v;
    p += n + (plus ? 1 : 0);
  }
  *out = sum;
  return 0;
}

enum validate_verdict validate__verdict_noise(double kvm, double model, double noise) {
  if (kvm == model) return VALIDATE_EXACT;
  double band = fmax(VALIDATE_TOL_ABS, VALIDATE_TOL_REL * fabs(kvm));
  double d = kvm - model;
  return d >= -band && d <= band + fmax(noise, 0) ? VALIDATE_AGREE : VALIDATE_DIFFER;
}

enum validate_verdict validate__verdict(double kvm, double model) {
  return validate__verdict_noise(kvm, model, 0);
}

const char *validate__verdict_name(enum validate_verdict v) {
  switch (v) {
  case VALIDATE_EXACT:
    return "exact";
  case VALIDATE_AGREE:
    return "agree";
  default:
    return "differ";
  }
}

double validate__ratio(double kvm, double model) {
  if (kvm == 0) return model == 0 ? 1.0 : INFINITY;
  return model / kvm + 0.0; /* no -0 when model is 0 and kvm negative (noise) */
}

const struct validate_known validate_known[] = {
    {"forkwait", "mmu_cache_miss", VALIDATE_HOST_EMU0,
     "the model shadows each root once more: a constant 6 more allocations"},
    {"forkwait", "tlb_flush", VALIDATE_HOST_EMU0,
     "flush requests that land on their own at an entry from ring 3 vary with host timing"},
    {"forkwait", "exits", VALIDATE_HOST_EMU0,
     "KVM's pf_spurious and about one unnamed exit per round (the emulator's periodic exit)"},
    {"pio", "io_exits", VALIDATE_HOST_EMU0, "kvm_pvm leaves io_exits at 0"},
    {"cpuid", "exits", VALIDATE_HOST_EMU0,
     "KVM's emulator leaves for the host about once per 1000 ring-0 instructions"},
};
const size_t validate_known_len = sizeof validate_known / sizeof validate_known[0];

const char *validate__known(const char *workload, const char *label, enum validate_kind kind) {
  for (size_t i = 0; i < validate_known_len; i++)
    if ((validate_known[i].host & (1u << kind)) && !strcmp(validate_known[i].workload, workload) &&
        !strcmp(validate_known[i].label, label))
      return validate_known[i].why;
  return NULL;
}

enum check_result validate__row_check(const char *workload, const char *label,
                                      enum validate_kind kind, double kvm, double model,
                                      double noise, char *text, size_t len) {
  enum validate_verdict v = validate__verdict_noise(kvm, model, noise);
  const char *why = validate__known(workload, label, kind);
  char host[64] = "";
  if (noise > 0) snprintf(host, sizeof host, "; KVM counted %.0f host exits", noise);
  int n = snprintf(text, len, "%s %s kvm %.0f model %.0f ", workload, label, kvm, model);
  if (n < 0 || (size_t)n >= len) n = 0;
  if (v != VALIDATE_DIFFER) {
    snprintf(text + n, len - (size_t)n, "(%s%s)", validate__verdict_name(v), host);
    return CHECK_PASS;
  }
  if (why) {
    snprintf(text + n, len - (size_t)n, "(known: %s)", why);
    return CHECK_XFAIL;
  }
  snprintf(text + n, len - (size_t)n, "(%.3fx, tolerance max(%.0f, %.0f%%)%s)",
           validate__ratio(kvm, model), VALIDATE_TOL_ABS, VALIDATE_TOL_REL * 100, host);
  return CHECK_FAIL;
}
