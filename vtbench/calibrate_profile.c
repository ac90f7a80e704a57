/* calibrate_profile.c - calibrate's cost profile (docs/COST_MODEL.md): the
 * document (the fitted figures of calibrate_fit.c with the measurements
 * they came from, the rest copied from the base profile with their sources
 * prefixed "default profile: ", this host's caches and KVM flavour), the
 * table on stdout, and the atomic write. */
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

/* ---- the document ------------------------------------------------------- */
static double round3(double v) { /* the loader keeps 1/1024 cycle */
  return round(v * 1000) / 1000;
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

/* The KVM the figures describe: this host's, when the loader knows it. */
static const char *flavour_of(const struct cost_profile *base, const struct calib_host *h) {
  static const char *const known[] = {"kvm_intel", "kvm_amd", "kvm_pvm"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!strcmp(h->kvm, known[i])) return known[i];
  return base->host_flavour;
}

json_t *calibrate__profile_json(const struct cost_profile *base, const struct calib_result *r,
                                const struct calib_figure *f, int nf, const char *command) {
  const struct calib_host *h = &r->host;
  double ghz = h->tsc_hz / 1e9;
  char name[96], desc[1024], extra[320] = "";
  snprintf(name, sizeof(name), "calibrated-%.60s-%.20s", h->host, h->kvm);
  size_t off = 0;
  for (int i = CM_CHASE_L1; i <= CM_CHASE_DRAM && off < sizeof(extra); i++)
    if (r->m[i].ok && r->m[i].median > 0)
      off += (size_t)snprintf(extra + off, sizeof(extra) - off, "%s%s %.1f ns (%lu KiB)",
                              off ? ", " : "", r->m[i].label + 9, r->m[i].median,
                              (unsigned long)(r->m[i].ws >> 10));
  const char *fl = flavour_of(base, h);
  snprintf(desc, sizeof(desc),
           "Calibrated by vtbench calibrate on %s (%s), %s: %d figures measured, the rest from "
           "the default profile %s. Host flavour %s: %s. Load latency by level: %s.",
           h->host, h->kvm, h->date, nf, base->name, fl,
           !strcmp(fl, "kvm_pvm")
               ? "the guest's ring 0 is emulated by the host (insn.cpl0 is its cost per "
                 "instruction), ring 3 runs natively"
               : "ring 0 and ring 3 run natively (VT-x/SVM)",
           extra[0] ? extra : "not measured");
  json_t *doc = json_object();
  json_object_set_new(doc, "name", json_string(name));
  json_object_set_new(doc, "description", json_string(desc));
  json_object_set_new(doc, "cpu", json_string(h->cpu[0] ? h->cpu : base->cpu));
  json_object_set_new(doc, "host_flavour", json_string(fl));
  json_object_set_new(doc, "tsc_ghz", json_real(ghz > 0 ? round(ghz * 1e6) / 1e6 : base->tsc_ghz));
  json_object_set_new(doc, "measured_on",
                      json_pack("{s:s,s:s,s:s,s:s}", "host", h->host[0] ? h->host : "unknown-host",
                                "kvm", h->kvm, "date", h->date, "command", command));
  static const char *const lv[3] = {"l1", "l2", "llc"};
  json_t *caches = json_object();
  for (int l = 0; l < 3; l++) {
    const struct cost_cache_level *c = h->cache[l].size_kib ? &h->cache[l] : &base->cache[l];
    char src[600];
    if (h->cache[l].size_kib)
      snprintf(src, sizeof(src), "measured: %s %s: %s", h->host, command, c->source);
    else
      snprintf(src, sizeof(src), "default profile: %s", c->source);
    clip(src, 400);
    json_object_set_new(caches, lv[l],
                        json_pack("{s:i,s:i,s:s}", "size_kib", (int)c->size_kib, "ways",
                                  (int)c->ways, "source", src));
  }
  json_object_set_new(doc, "caches", caches);
  for (int i = 0; i < CF_COUNT; i++) {
    const struct calib_figure *m = find_fig(f, nf, i);
    char src[1024];
    double cycles;
    if (m) {
      cycles = round3(m->cycles);
      snprintf(src, sizeof(src), "measured: %s %s: %.3f cycles at %.3f GHz TSC; %s", h->host,
               command, m->cycles, ghz, m->how);
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
      fprintf(out, "  %-24s %12.3f  %-8s  %s\n", fig_path[i], round3(m->cycles), "measured",
              m->how);
    else
      fprintf(out, "  %-24s %12.3f  %-8s  %s\n", fig_path[i], base->cycles[i], "default",
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
