/* calibrate_profile.c - from calibrate measurements to a cost profile
 * (docs/COST_MODEL.md): which profile figure each measurement stands for,
 * the profile document (measured figures replaced, the rest copied from the
 * base profile with their sources prefixed "default profile: "), the table
 * on stdout, and the atomic write. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "calibrate.h"

/* Key paths from the header's table (no call into the cost model needed). */
static const char *const fig_path[CF_COUNT] = {
#define FIG_PATH(id, path) path,
    COST_FIGURES(FIG_PATH)
#undef FIG_PATH
};

static const struct calib_meas *ok_meas(const struct calib_result *r, enum calib_meas_id id) {
  const struct calib_meas *m = &r->m[id];
  return m->ok && m->nrep && m->median > 0 && isfinite(m->median) ? m : NULL;
}

static int add(struct calib_figure *out, int n, int max, enum cost_fig fig, double ns,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add(struct calib_figure *out, int n, int max, enum cost_fig fig, double ns,
               const char *fmt, ...) {
  if (n >= max || !(ns > 0) || !isfinite(ns)) return n;
  out[n].fig = fig;
  out[n].ns = ns;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out[n].how, sizeof(out[n].how), fmt, ap);
  va_end(ap);
  return n + 1;
}

/* The mapping (docs/COST_MODEL.md, "Calibrating on your host"):
 * - exit.VMCALL: vmcall cpl=3, the exit + entry round trip from native guest
 *   code with the least handling (KVM refuses it at once).
 * - exit.IO_INSTRUCTION: the same bare round trip; the model adds
 *   vmm.user_exit for the trip through refvmm. (Ring 3 cannot do OUT on
 *   kvm_pvm, and from ring 0 there is no world switch to see.)
 * - vmm.user_exit: pio cpl=0 minus the part that is not the user-space trip:
 *   on a host that emulates ring 0 (KVM's insn_emulation >= 1 per OUT) the
 *   emulation of the loop's instructions (count x callret cpl=0's cost per
 *   emulated instruction); on a host running ring 0 natively the bare round
 *   trip (vmcall cpl=3).
 * - exit.CPUID and vmm.cpuid: where cpuid cpl=3 costs more than the bare
 *   round trip, the round trip and the difference (KVM's CPUID handling);
 *   otherwise (kvm_pvm answers CPUID faster than the refused hypercall)
 *   exit.CPUID is cpuid cpl=3 whole and vmm.cpuid stays default.
 * - mem.walk_ref.* and mem.ept_walk_ref.*: a page-walk reference is a
 *   dependent load, so the pointer chase's latency per level under the
 *   default profile's own hit-level assumptions: pml4 and pdpt hit L1, pd
 *   hits L2, pt half L2 and half the last-level cache.
 * mem.data_ref stays default: it is the exposed cost of an L1 hit that
 * out-of-order execution mostly hides, not a load-to-use latency. mmio cpl=3
 * and the DRAM chase are reported, not mapped: no figure stands for them. */
int calibrate__derive(const struct calib_result *r, struct calib_figure *out, int max) {
  int n = 0;
  const struct calib_meas *hc = ok_meas(r, CM_VMCALL3), *cpuid = ok_meas(r, CM_CPUID3),
                          *pio = ok_meas(r, CM_PIO0), *emul = ok_meas(r, CM_EMUL0),
                          *l1 = ok_meas(r, CM_CHASE_L1), *l2 = ok_meas(r, CM_CHASE_L2),
                          *llc = ok_meas(r, CM_CHASE_LLC);
  if (hc) {
    n = add(out, n, max, CF_EXIT_VMCALL, hc->median,
            "%s: bare exit+entry round trip (refused in the host kernel), median of %d runs",
            hc->args, hc->nrep);
    n = add(out, n, max, CF_EXIT_IO_INSTRUCTION, hc->median,
            "%s: the bare round trip stands for an OUT's exit+entry (vmm.user_exit adds the "
            "user-space trip), median of %d runs",
            hc->args, hc->nrep);
  }
  if (cpuid && hc && cpuid->median > hc->median) {
    n = add(out, n, max, CF_EXIT_CPUID, hc->median,
            "%s: the bare round trip (%s costs more: the rest is vmm.cpuid), median of %d runs",
            hc->args, cpuid->args, hc->nrep);
    n = add(out, n, max, CF_VMM_CPUID, cpuid->median - hc->median,
            "%s (%.0f ns) minus the bare round trip %.0f ns (%s): KVM's CPUID handling",
            cpuid->args, cpuid->median, hc->median, hc->args);
  } else if (cpuid) {
    n = add(out, n, max, CF_EXIT_CPUID, cpuid->median,
            "%s: CPUID round trip with KVM's handling (not above the bare round trip, so not "
            "split: vmm.cpuid stays default), median of %d runs",
            cpuid->args, cpuid->nrep);
  }
  if (pio && pio->emul_median >= 1 && emul) {
    double loop = pio->emul_median * emul->median;
    n = add(out, n, max, CF_VMM_USER_EXIT, pio->median - loop,
            "%s (%.0f ns per OUT) minus %.2f emulated insns x %.0f ns (%s): the trip through "
            "refvmm",
            pio->args, pio->median, pio->emul_median, emul->median, emul->args);
  } else if (pio && pio->emul_median < 1 && hc) {
    n = add(out, n, max, CF_VMM_USER_EXIT, pio->median - hc->median,
            "%s (%.0f ns per OUT) minus the bare round trip %.0f ns (%s)", pio->args, pio->median,
            hc->median, hc->args);
  }
  static const enum cost_fig walk[2][4] = {
      {CF_MEM_WALK_PML4, CF_MEM_WALK_PDPT, CF_MEM_WALK_PD, CF_MEM_WALK_PT},
      {CF_MEM_EPT_PML4, CF_MEM_EPT_PDPT, CF_MEM_EPT_PD, CF_MEM_EPT_PT}};
  for (int e = 0; e < 2; e++) {
    for (int lvl = 0; l1 && lvl < 2; lvl++)
      n = add(out, n, max, walk[e][lvl], l1->median,
              "%s: dependent load in L1 (assumed hit level of this walk level, as the default), "
              "median of %d runs",
              l1->args, l1->nrep);
    if (l2)
      n = add(out, n, max, walk[e][2], l2->median,
              "%s: dependent load in L2 (assumed hit level, as the default), median of %d runs",
              l2->args, l2->nrep);
    if (l2 && llc)
      n = add(out, n, max, walk[e][3], (l2->median + llc->median) / 2,
              "mean of L2 %.1f ns and LLC %.1f ns dependent loads (assumed half each, as the "
              "default): %s; %s",
              l2->median, llc->median, l2->args, llc->args);
  }
  return n;
}

/* ---- the document ------------------------------------------------------- */
static double round2(double v) {
  return round(v * 100) / 100;
}

/* Set {"cycles","source"} at a dotted path, creating the objects on the way. */
static void set_path(json_t *root, const char *path, json_t *fig) {
  char buf[128], *save = NULL;
  snprintf(buf, sizeof(buf), "%s", path);
  json_t *o = root;
  char *t = strtok_r(buf, ".", &save);
  for (char *next; t && (next = strtok_r(NULL, ".", &save)); t = next) {
    json_t *c = json_object_get(o, t);
    if (!json_is_object(c)) {
      c = json_object();
      json_object_set_new(o, t, c);
    }
    o = c;
  }
  if (t) json_object_set_new(o, t, fig);
}

static const struct calib_figure *find_fig(const struct calib_figure *f, int nf, int fig) {
  for (int i = 0; i < nf; i++)
    if ((int)f[i].fig == fig) return &f[i];
  return NULL;
}

/* Sources are kept under 400 bytes (the loader's limit). */
static void clip(char *s, size_t max) {
  if (strlen(s) >= max) s[max - 1] = 0;
}

json_t *calibrate__profile_json(const struct cost_profile *base, const struct calib_result *r,
                                const struct calib_figure *f, int nf, const char *command) {
  const struct calib_host *h = &r->host;
  double ghz = h->tsc_hz / 1e9;
  char name[96], desc[512], extra[256] = "";
  snprintf(name, sizeof(name), "calibrated-%.60s-%.20s", h->host, h->kvm);
  size_t off = 0;
  for (int i = CM_CHASE_L1; i <= CM_CHASE_DRAM && off < sizeof(extra); i++)
    if (ok_meas(r, (enum calib_meas_id)i))
      off += (size_t)snprintf(extra + off, sizeof(extra) - off, "%s%s %.1f ns (%lu KiB)",
                              off ? ", " : "", r->m[i].label + 9, r->m[i].median,
                              (unsigned long)(r->m[i].ws >> 10));
  snprintf(desc, sizeof(desc),
           "Calibrated by vtbench calibrate on %s (%s), %s: %d figures measured, the rest from "
           "the default profile %s. Load latency by level: %s.",
           h->host, h->kvm, h->date, nf, base->name, extra[0] ? extra : "not measured");
  json_t *doc = json_object();
  json_object_set_new(doc, "name", json_string(name));
  json_object_set_new(doc, "description", json_string(desc));
  json_object_set_new(doc, "cpu", json_string(h->cpu));
  json_object_set_new(doc, "tsc_ghz", json_real(round(ghz * 1e6) / 1e6));
  json_object_set_new(doc, "measured_on",
                      json_pack("{s:s,s:s,s:s,s:s}", "host", h->host, "kvm", h->kvm, "date",
                                h->date, "command", command));
  for (int i = 0; i < CF_COUNT; i++) {
    const struct calib_figure *m = find_fig(f, nf, i);
    char src[1024];
    double cycles;
    if (m) {
      cycles = round2(m->ns * ghz);
      snprintf(src, sizeof(src), "measured: %s %s: %.1f ns x %.3f GHz TSC; %s", h->host, command,
               m->ns, ghz, m->how);
    } else {
      cycles = base->cycles[i];
      snprintf(src, sizeof(src), "default profile: %s", base->source[i]);
    }
    clip(src, 400);
    set_path(doc, fig_path[i], json_pack("{s:f,s:s}", "cycles", cycles, "source", src));
  }
  return doc;
}

/* ---- the table ------------------------------------------------------------ */
void calibrate__print(FILE *out, const struct cost_profile *base, const struct calib_result *r,
                      const struct calib_figure *f, int nf) {
  const struct calib_host *h = &r->host;
  double ghz = h->tsc_hz / 1e9;
  fprintf(out, "calibrate: host %s (%s), TSC %.3f GHz, %s\n\n", h->host, h->kvm, ghz, h->date);
  fprintf(out,
          "Measurements (ns per iteration of the timed region on the vCPU thread's task clock;\n"
          "median of the runs, range):\n");
  for (int i = 0; i < CM_COUNT; i++) {
    const struct calib_meas *m = &r->m[i];
    if (!m->ok) {
      fprintf(out, "  %-14s  %s: %s\n", m->label, m->na ? "not applicable" : "not measured",
              m->err);
      continue;
    }
    char size[32] = "";
    if (m->ws) snprintf(size, sizeof(size), " %lu KiB", (unsigned long)(m->ws >> 10));
    fprintf(out, "  %-14s %10.1f ns  (%.1f..%.1f, %d runs%s)%s  %s", m->label, m->median, m->lo,
            m->hi, m->nrep, m->task_clock == m->nrep ? "" : ", wall clock", size, m->what);
    if (m->emul_median >= 0.5 && i != CM_EMUL0)
      fprintf(out, "; %.1f emulated insns/iter", m->emul_median);
    if (isfinite(m->handling_median) && m->handling_median > 0)
      fprintf(out, "; refvmm handling p50 %.0f ns", m->handling_median);
    fputc('\n', out);
  }
  const struct calib_meas *mm = &r->m[CM_MMIO3], *hc = &r->m[CM_VMCALL3];
  if (mm->ok && hc->ok)
    fprintf(out,
            "  (cross-check: mmio cpl=3 - vmcall cpl=3 = %.0f ns: the user-space trip from ring "
            "3 plus KVM's MMIO emulation)\n",
            mm->median - hc->median);
  fprintf(out, "\nProfile figures (cycles at the %.3f GHz TSC; default: from %s):\n", ghz,
          base->name);
  fprintf(out, "  %-24s %12s  %-8s  %s\n", "figure", "cycles", "origin", "from");
  for (int i = 0; i < CF_COUNT; i++) {
    const struct calib_figure *m = find_fig(f, nf, i);
    if (m)
      fprintf(out, "  %-24s %12.2f  %-8s  %.1f ns: %s\n", fig_path[i], round2(m->ns * ghz),
              "measured", m->ns, m->how);
    else
      fprintf(out, "  %-24s %12.2f  %-8s  %s\n", fig_path[i], base->cycles[i], "default",
              base->name);
  }
  fprintf(out, "\n%d of %d figures measured on this host, %d from the default profile.\n", nf,
          (int)CF_COUNT, (int)CF_COUNT - nf);
}

/* ---- writing ------------------------------------------------------------- */
int calibrate__write(const json_t *doc, const char *path, char *err, size_t errlen) {
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, path);
  if (!f) {
    int e = errno;
    snprintf(err, errlen, "%s: cannot create a temporary next to it: %s", path, strerror(e));
    return -e;
  }
  if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) ||
      fputc('\n', f) == EOF) {
    int e = errno ? errno : EIO;
    atomic_file__abort(&af);
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
    return -e;
  }
  if (atomic_file__commit(&af)) {
    int e = errno;
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
    return -e;
  }
  return 0;
}
