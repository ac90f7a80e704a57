/* validate_time.c - `vtbench validate --time` (validate_time.h): each
 * workload on KVM (repetitions interleaved across the workloads, the
 * median taken) and once on the model with the given profile, modeled
 * against measured time per iteration, PASS/FAIL against the tolerance;
 * DIR/time.json and DIR/time.md keep the table and the commands. */
#include "validate_time.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checklist.h"
#include "commands.h"
#include "json_util.h"
#include "paths.h"
#include "refvmm/kvm/kvm_host.h"
#include "refvmm/model/cost/cost_model.h"
#include "refvmm_child.h"
#include "spawn.h"
#include "stats.h"

#define REPS_MAX 50

/* The workloads of docs/COST_MODEL.md's table: ring-3 work KVM runs
 * natively (and the event delivery of system calls and faults), then the
 * shadow-paging workloads on a host that pages with shadow tables. */
const struct vtime_workload vtime_workloads[] = {
    {"compute", {"n=20000000"}, {"n=2000000"}, false, VTIME_TOL_NATIVE, NULL},
    {"callret", {"n=20000000"}, {"n=2000000"}, false, VTIME_TOL_NATIVE, NULL},
    {"gups",
     {"n=2000000", "ws=67108864"},
     {"n=200000", "ws=67108864"},
     false,
     VTIME_TOL_NATIVE,
     NULL},
    {"ptrchase",
     {"n=2000000", "ws=67108864"},
     {"n=200000", "ws=67108864"},
     false,
     VTIME_TOL_NATIVE,
     NULL},
    {"memstream",
     {"passes=3", "ws=67108864"},
     {"passes=1", "ws=67108864"},
     false,
     VTIME_TOL_NATIVE,
     NULL},
    {"syscall", {"n=20000"}, {"n=2000"}, false, VTIME_TOL_NATIVE, NULL},
    {"divzero", {"n=20000"}, {"n=2000"}, false, VTIME_TOL_NATIVE, NULL},
    {"pgfault", {"n=2000"}, {"n=300"}, true, VTIME_TOL_SHADOW, NULL},
    {"ptemod", {"n=20000"}, {"n=2000"}, true, VTIME_TOL_SHADOW, NULL},
    {"cr3switch", {"n=20000"}, {"n=2000"}, true, VTIME_TOL_SHADOW, NULL},
    {"forkwait", {"n=1000"}, {"n=100"}, true, VTIME_TOL_SHADOW, NULL},
};
const size_t vtime_workloads_len = sizeof(vtime_workloads) / sizeof(vtime_workloads[0]);

const struct vtime_workload *vtime__workload(const char *name) {
  for (size_t i = 0; i < vtime_workloads_len; i++)
    if (!strcmp(vtime_workloads[i].name, name)) return &vtime_workloads[i];
  return NULL;
}

bool vtime__pass(double model_ns, double kvm_ns, double tolerance) {
  if (!(model_ns > 0) || !(kvm_ns > 0) || !isfinite(model_ns) || !isfinite(kvm_ns)) return false;
  double r = model_ns / kvm_ns;
  return r >= 1 - tolerance && r <= 1 + tolerance;
}

/* ns with three significant digits or more: 3.40, 175, 62538 */
static void fmt_ns(char *buf, size_t len, double ns) {
  if (!isfinite(ns))
    snprintf(buf, len, "n/a");
  else if (ns < 10)
    snprintf(buf, len, "%.2f", ns);
  else if (ns < 100)
    snprintf(buf, len, "%.1f", ns);
  else
    snprintf(buf, len, "%.0f", ns);
}

void vtime__line(char *buf, size_t len, const char *name, double model_ns, double kvm_ns,
                 double tolerance) {
  char m[32], k[32];
  fmt_ns(m, sizeof m, model_ns);
  fmt_ns(k, sizeof k, kvm_ns);
  double r = model_ns / kvm_ns;
  snprintf(buf, len, "%s ns/iter model %s kvm %s (%.2fx, tolerance \u00b1%.0f%%)", name, m, k,
           isfinite(r) ? r : 0.0, tolerance * 100);
}

/* ---- runs ------------------------------------------------------------------------ */

struct vrun {
  const struct vtime_workload *w;
  const char *const *params;
  double kvm[REPS_MAX];
  unsigned nkvm;
  double kvm_median, model_ns;
  json_t *kvm_sum, *model_sum; /* the guests' checksums */
  bool ok;
  char err[600];
  char kvm_cmd[600], model_cmd[600];
};

struct vctx {
  const struct vtime_opts *o;
  char refvmm[4096], images[4096];
  const char *paging, *tlb;
  const char *shadow_policy; /* the model's, as the host's shadow MMU (vtbench validate's) */
};

/* The command as a user types it in the source tree (argv[2] the image):
 * every word plain, the result file as F. */
static void show(char *buf, size_t len, const char *name, const char *const *argv) {
  size_t off = (size_t)snprintf(buf, len, "bin/refvmm run workloads/build/%s.elf", name);
  for (int i = 3; argv[i] && off < len; i++) {
    bool json = !strcmp(argv[i - 1], "--json");
    off += (size_t)snprintf(buf + off, len - off, " %s", json ? "F" : argv[i]);
  }
}

/* One refvmm run of r's workload; the time per iteration in *ns, or -1
 * with r->err set. */
static int run_one(const struct vctx *x, struct vrun *r, bool model, unsigned rep, double *ns) {
  char img[4200], json_path[4300], log_path[4300], tmo[32];
  snprintf(img, sizeof img, "%s/%s.elf", x->images, r->w->name);
  snprintf(json_path, sizeof json_path, "%s/runs/%s.%s.r%u.json", x->o->out, r->w->name,
           model ? "model" : "kvm", rep);
  snprintf(log_path, sizeof log_path, "%s/runs/%s.%s.r%u.log", x->o->out, r->w->name,
           model ? "model" : "kvm", rep);
  snprintf(tmo, sizeof tmo, "%d", x->o->timeout);
  const char *argv[40];
  int a = 0;
  argv[a++] = x->refvmm;
  argv[a++] = "run";
  argv[a++] = img;
  for (int i = 0; i < VTIME_PARAMS_MAX && r->params[i]; i++) {
    argv[a++] = "--param";
    argv[a++] = r->params[i];
  }
  if (r->w->mem) {
    argv[a++] = "--mem";
    argv[a++] = r->w->mem;
  }
  if (model) {
    argv[a++] = "--backend";
    argv[a++] = "model";
    argv[a++] = "--paging";
    argv[a++] = x->paging;
    argv[a++] = "--tlb";
    argv[a++] = x->tlb;
    if (x->shadow_policy) {
      argv[a++] = "--shadow-policy";
      argv[a++] = x->shadow_policy;
    }
    if (x->o->profile) {
      argv[a++] = "--profile";
      argv[a++] = x->o->profile;
    }
    argv[a++] = "--model-baseline";
    argv[a++] = "none";
  } else { /* on-CPU time of the vCPU thread: wall time grows with the host's load */
    argv[a++] = "--events";
    argv[a++] = "perf::task-clock";
  }
  argv[a++] = "--timeout";
  argv[a++] = tmo;
  argv[a++] = "--quiet";
  argv[a++] = "--json";
  argv[a++] = json_path;
  argv[a] = NULL;
  show(model ? r->model_cmd : r->kvm_cmd, sizeof r->kvm_cmd, r->w->name, argv);
  unlink(json_path);
  char what[300];
  snprintf(what, sizeof what, "%s on %s", r->w->name, model ? "the model" : "KVM");
  int code = refvmm_child__run(argv, log_path, x->o->timeout + 60.0, r->err, sizeof r->err);
  json_t *doc = code < 0
                    ? NULL
                    : refvmm_child__result(what, code, json_path, log_path, r->err, sizeof r->err);
  if (!doc) return -1;
  const json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
  double iters = 0, t = NAN;
  json_util__number(refvmm_child__path(run, "guest.iterations"), &iters);
  if (model) {
    json_util__number(refvmm_child__path(run, "model.modeled_ns"), &t);
    const char *scope = json_string_value(refvmm_child__path(run, "model.modeled_cycles_scope"));
    if (!scope || strcmp(scope, "timed_region")) t = NAN;
  } else {
    const json_t *tc = refvmm_child__path(run, "pmu.perf::task-clock");
    if (!json_is_true(json_object_get(tc, "supported")) ||
        !json_util__number(json_object_get(tc, "scaled"), &t))
      json_util__number(refvmm_child__path(run, "timed.wall_ns"), &t);
  }
  json_t **sum = model ? &r->model_sum : &r->kvm_sum;
  if (!*sum) *sum = json_deep_copy(refvmm_child__path(run, "guest.checksum"));
  json_decref(doc);
  if (!(iters > 0) || !(t > 0)) {
    snprintf(r->err, sizeof r->err, "%.200s: no timed region or no iterations in %.300s", what,
             json_path);
    return -1;
  }
  *ns = t / iters;
  return 0;
}

/* ---- output ----------------------------------------------------------------------- */

static int mkdir_p(const char *dir) {
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* The profile the model used, and whether it was measured on this host. */
struct vprofile {
  struct cost_profile p;
  bool here;
  char host[256];
};

static json_t *to_json(const struct vctx *x, const struct vrun *rs, size_t n,
                       const struct vprofile *vp, int passed, int failed, const char *argline) {
  json_t *wls = json_array();
  for (size_t i = 0; i < n; i++) {
    const struct vrun *r = &rs[i];
    json_t *params = json_array(), *reps = json_array();
    for (int k = 0; k < VTIME_PARAMS_MAX && r->params[k]; k++)
      json_array_append_new(params, json_string(r->params[k]));
    for (unsigned k = 0; k < r->nkvm; k++)
      json_array_append_new(reps, json_real(r->kvm[k]));
    bool have = r->ok;
    json_array_append_new(
        wls, json_pack(
                 "{s:s,s:o,s:o,s:o,s:o,s:o,s:f,s:s,s:o,s:[ss]}", "name", r->w->name, "params",
                 params, "kvm_ns_per_iter", have ? json_real(r->kvm_median) : json_null(),
                 "kvm_reps", reps, "model_ns_per_iter", have ? json_real(r->model_ns) : json_null(),
                 "ratio", have ? json_real(r->model_ns / r->kvm_median) : json_null(), "tolerance",
                 r->w->tolerance, "verdict",
                 have && vtime__pass(r->model_ns, r->kvm_median, r->w->tolerance) ? "PASS" : "FAIL",
                 "error", r->ok ? json_null() : json_string(r->err), "commands", r->kvm_cmd,
                 r->model_cmd));
  }
  json_t *prof = json_pack("{s:s,s:s,s:s,s:o,s:b}", "name", vp->p.name, "path", vp->p.path,
                           "host_flavour", vp->p.host_flavour, "measured_on",
                           vp->p.measured ? json_string(vp->p.measured_on) : json_null(),
                           "calibrated_on_this_host", vp->here);
  return json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:b,s:o,s:s,s:o,s:i,s:i}", "schema",
                   "vtbench-validation-time", "version", 1, "host", vp->host, "paging", x->paging,
                   "model_tlb", x->tlb, "command", argline, "reps", (int)x->o->reps, "quick",
                   x->o->quick, "profile", prof, "method",
                   "time per iteration of the guest's timed region: KVM, the vCPU thread's task "
                   "clock, median over the repetitions; the model, modeled_ns of one run in the "
                   "host's paging and TLB modes",
                   "workloads", wls, "passed", passed, "failed", failed);
}

static void write_md(FILE *f, const struct vctx *x, const struct vrun *rs, size_t n,
                     const struct vprofile *vp, int passed, int failed, const char *argline) {
  fprintf(f, "## Modeled vs measured time (%s, model paging %s, tlb %s)\n\n", vp->host, x->paging,
          x->tlb);
  fprintf(f,
          "Profile %s (%s), host flavour %s, %s. KVM: the vCPU thread's task clock over the "
          "timed region, median of %u runs; model: modeled ns of one run.\n\n",
          vp->p.name, vp->p.path, vp->p.host_flavour,
          vp->here         ? "calibrated on this host"
          : vp->p.measured ? "calibrated on another host"
                           : "not calibrated on any host",
          x->o->reps);
  fprintf(f, "| workload | parameters | KVM ns/iter | model ns/iter | model/KVM | tolerance | "
             "verdict |\n|---|---|---:|---:|---:|---:|---|\n");
  for (size_t i = 0; i < n; i++) {
    const struct vrun *r = &rs[i];
    char params[200] = "";
    for (int k = 0; k < VTIME_PARAMS_MAX && r->params[k]; k++)
      snprintf(params + strlen(params), sizeof params - strlen(params), "%s%s", k ? " " : "",
               r->params[k]);
    if (!r->ok) {
      fprintf(f, "| %s | %s | | | | \u00b1%.0f%% | FAIL (%s) |\n", r->w->name, params,
              r->w->tolerance * 100, r->err);
      continue;
    }
    char k[32], m[32];
    fmt_ns(k, sizeof k, r->kvm_median);
    fmt_ns(m, sizeof m, r->model_ns);
    fprintf(f, "| %s | %s | %s | %s | %.2f | \u00b1%.0f%% | %s |\n", r->w->name, params, k, m,
            r->model_ns / r->kvm_median, r->w->tolerance * 100,
            vtime__pass(r->model_ns, r->kvm_median, r->w->tolerance) ? "PASS" : "FAIL");
  }
  fprintf(f, "\n%d passed, %d failed. Command: `%s`\n\n```\n", passed, failed, argline);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s\n%s\n", rs[i].kvm_cmd, rs[i].model_cmd);
  fprintf(f, "```\n");
}

static int write_outputs(const char *dir, json_t *doc, const struct vctx *x, const struct vrun *rs,
                         size_t n, const struct vprofile *vp, int passed, int failed,
                         const char *argline) {
  char path[4300];
  struct atomic_file af;
  snprintf(path, sizeof path, "%s/time.md", dir);
  FILE *f = atomic_file__open(&af, path);
  if (!f) goto fail;
  write_md(f, x, rs, n, vp, passed, failed, argline);
  if (atomic_file__commit(&af)) goto fail;
  snprintf(path, sizeof path, "%s/time.json", dir);
  f = atomic_file__open(&af, path);
  if (!f) goto fail;
  if (json_dumpf(doc, f, JSON_INDENT(2)) || fputc('\n', f) == EOF) {
    atomic_file__abort(&af);
    goto fail;
  }
  if (atomic_file__commit(&af)) goto fail;
  return 0;
fail:
  fprintf(stderr, "vtbench validate: cannot write %s: %s\n", path, strerror(errno));
  return -1;
}

static bool selected(const char *only, const char *name) {
  if (!only) return true;
  size_t n = strlen(name);
  for (const char *p = only; p && *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return true;
    p = c ? c + 1 : NULL;
  }
  return false;
}

int validate_time__run(const struct vtime_opts *o, int argc, char **argv) {
  struct vctx x = {.o = o};
  static struct vprofile vp;
  char err[1024];
  if (o->profile) {
    if (cost_profile__load(o->profile, &vp.p, err, sizeof err)) {
      fprintf(stderr, "vtbench validate: --profile: %s\n", err);
      return VTB_EXIT_USAGE;
    }
  } else {
    vp.p = *cost_profile__default();
  }
  static struct kvm_host_info h;
  kvm_host__detect(NULL, &h);
  if (!h.dev_openable) {
    fprintf(stderr,
            "vtbench validate: /dev/kvm cannot be opened (%s): there is no KVM to validate "
            "against on this host\n",
            h.dev_present ? strerror(h.dev_errno) : "no such device");
    return VTB_EXIT_NOTHING;
  }
  enum paging_mode pm;
  enum tlb_mode tm;
  if (kvm_host__paging_mode(&h, &pm) || kvm_host__tlb_mode(&h, &tm)) {
    fprintf(stderr,
            "vtbench validate: the paging mode of this host's KVM (%s) is unknown (vtbench host "
            "show): nothing to pair the model with\n",
            kvm_flavour__name(h.flavour));
    return VTB_EXIT_NOTHING;
  }
  x.paging = pm == PAGING_EPT ? "ept" : "shadow";
  x.tlb = tm == TLB_VPID ? "vpid" : "flush";
  /* a KVM that emulates ring 0 tracks every ring-0 write to a guest table
   * (sync); one that runs it natively lets last-level tables go out of sync */
  x.shadow_policy = pm == PAGING_EPT ? NULL : h.flavour == KVM_FLAVOUR_PVM ? "sync" : "unsync";
  if (paths__refvmm(x.refvmm, sizeof x.refvmm) || paths__workloads_dir(x.images, sizeof x.images)) {
    fprintf(stderr, "vtbench validate: bin/refvmm or workloads/build not found next to vtbench: "
                    "run make\n");
    return VTB_EXIT_NOTHING;
  }
  char runs_dir[4200];
  snprintf(runs_dir, sizeof runs_dir, "%s/runs", o->out);
  if (mkdir_p(runs_dir)) {
    fprintf(stderr, "vtbench validate: cannot create %s: %s\n", runs_dir, strerror(errno));
    return VTB_EXIT_IO;
  }
  struct utsname u;
  uname(&u);
  snprintf(vp.host, sizeof vp.host, "%s, %s, Linux %s", u.nodename, kvm_flavour__name(h.flavour),
           u.release);
  vp.here = vp.p.measured && !strcmp(vp.p.measured_host, u.nodename);
  char argline[1024] = "vtbench";
  for (int i = 0; i < argc; i++)
    snprintf(argline + strlen(argline), sizeof argline - strlen(argline), " %s", argv[i]);

  struct vrun rs[sizeof(vtime_workloads) / sizeof(vtime_workloads[0])];
  size_t n = 0;
  memset(rs, 0, sizeof rs);
  for (size_t i = 0; i < vtime_workloads_len; i++) {
    const struct vtime_workload *w = &vtime_workloads[i];
    if (!selected(o->only, w->name)) continue;
    if (w->shadow_only && pm != PAGING_SHADOW) {
      fprintf(stderr, "vtbench validate: %s left out: the host's KVM pages with %s\n", w->name,
              x.paging);
      continue;
    }
    rs[n].w = w;
    rs[n].params = o->quick ? w->quick : w->params;
    rs[n].ok = true;
    n++;
  }
  fprintf(stderr, "vtbench validate --time: profile %s (%s, host flavour %s, %s)\n", vp.p.name,
          vp.p.path, vp.p.host_flavour,
          vp.here         ? "calibrated on this host"
          : vp.p.measured ? "calibrated on another host: run vtbench calibrate here"
                          : "not calibrated: run vtbench calibrate and pass --profile");
  /* KVM: repetitions interleaved across the workloads, so a slow phase of
   * the host hits each a little; then each once on the model */
  spawn__catch_signals(); /* Ctrl-C ends the refvmm run and then the command */
  for (unsigned rep = 0; rep < o->reps && !spawn__caught(); rep++)
    for (size_t i = 0; i < n && !spawn__caught(); i++) {
      struct vrun *r = &rs[i];
      double ns;
      if (!r->ok) continue;
      if (run_one(&x, r, false, rep, &ns))
        r->ok = false;
      else
        r->kvm[r->nkvm++] = ns;
    }
  for (size_t i = 0; i < n && !spawn__caught(); i++) {
    struct vrun *r = &rs[i];
    if (r->ok && run_one(&x, r, true, 0, &r->model_ns)) r->ok = false;
  }
  spawn__restore_signals();
  if (spawn__caught()) {
    for (size_t i = 0; i < n; i++) {
      json_decref(rs[i].kvm_sum);
      json_decref(rs[i].model_sum);
    }
    fprintf(stderr, "vtbench validate: interrupted: nothing written\n");
    return VTB_EXIT_INTERRUPTED;
  }
  struct checklist cl;
  checklist__init(&cl, stdout);
  for (size_t i = 0; i < n; i++) {
    struct vrun *r = &rs[i];
    if (r->ok && !json_equal(r->kvm_sum, r->model_sum)) {
      snprintf(r->err, sizeof r->err, "the guest checksums of KVM and the model differ");
      r->ok = false;
    }
    if (r->ok) r->kvm_median = stats__median(r->kvm, r->nkvm);
    char line[300];
    if (r->ok) {
      vtime__line(line, sizeof line, r->w->name, r->model_ns, r->kvm_median, r->w->tolerance);
      checklist__check(&cl, vtime__pass(r->model_ns, r->kvm_median, r->w->tolerance), "%s", line);
    } else {
      checklist__add(&cl, CHECK_FAIL, "%s ns/iter: %s", r->w->name, r->err);
    }
    fflush(stdout);
  }
  checklist__summary(&cl);
  fflush(stdout);
  int passed = (int)cl.n[CHECK_PASS], failed = (int)cl.n[CHECK_FAIL];
  json_t *doc = to_json(&x, rs, n, &vp, passed, failed, argline);
  int wrc = write_outputs(o->out, doc, &x, rs, n, &vp, passed, failed, argline);
  json_decref(doc);
  for (size_t i = 0; i < n; i++) {
    json_decref(rs[i].kvm_sum);
    json_decref(rs[i].model_sum);
  }
  if (wrc) return VTB_EXIT_IO;
  fprintf(stderr, "vtbench validate: wrote %s/time.md and .json\n", o->out);
  return failed ? VTB_EXIT_FAILED : VTB_EXIT_OK;
}
