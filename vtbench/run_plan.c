/* run_plan.c - see run_plan.h. */
#include "run_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "msg.h"
#include "paths.h"
#include "refvmm/elf_loader.h"
#include "refvmm/image_params.h"

/* ---- which modes can each backend run on this host ------------------------ */
static void host_detect(struct run_host *h) {
  memset(h, 0, sizeof(*h));
  h->kvm_ok = !access("/dev/kvm", R_OK | W_OK);
  h->kvm_errno = h->kvm_ok ? 0 : errno;
  h->model_ok = true; /* until refvmm says it is not built */
  const char *root = getenv("VTBENCH_HOST_SYSFS");
  h->env.sysroot = root && *root ? root : NULL;
  static struct kvm_host_info info; /* large; one per process */
  h->info = &info;
  if (kvm_host__detect(h->env.sysroot, h->info)) {
    h->info = NULL;
    return;
  }
  const char *pg = kvm_host__paging_name(h->info);
  if (pg) snprintf(h->kvm_paging, sizeof(h->kvm_paging), "%s", pg); /* PVM: always shadow */
  /* kvm_amd: refvmm itself refuses tlb flush; kvm_pvm always flushes */
  if (h->info->flavour == KVM_FLAVOUR_INTEL || h->info->flavour == KVM_FLAVOUR_PVM)
    snprintf(h->kvm_tlb, sizeof(h->kvm_tlb), "%s", kvm_host__tlb_name(h->info));
}

static bool supported(const char *backend, const struct matrix_mode *m, void *ctx) {
  const struct run_host *h = ctx;
  if (!strcmp(backend, "model")) return h->model_ok;
  if (!h->kvm_ok || !strcmp(m->paging, "native")) return false;
  if (h->reconfig) { /* any mode a reload of the module can give */
    struct kvm_host_plan p;
    char why[512];
    return matrix__host_plan(h->info, m, &p, why, sizeof(why)) == 0;
  }
  if (h->kvm_paging[0] && strcmp(m->paging, h->kvm_paging)) return false;
  if (h->kvm_tlb[0] && strcmp(m->tlb, h->kvm_tlb)) return false;
  return true;
}

/* --allow-host-reconfig: 0 when the matrix's kvm modes either run on the
 * host as it is or can be had by reloading its module (h->reconfig then
 * says whether any needs it); -1 with the reason printed when a reload is
 * needed and impossible here (nothing is changed). */
static int plan_reconfig(struct run_host *h, const struct matrix *m) {
  bool kvm = false;
  for (size_t b = 0; b < m->nbackends; b++)
    kvm |= !strcmp(m->backends[b], "kvm");
  if (!kvm || !h->kvm_ok) return 0; /* nothing for the host module to do */
  if (!h->info) {
    msg__error("--allow-host-reconfig: cannot read the host's KVM configuration; nothing was "
               "changed");
    return -1;
  }
  size_t reachable = 0, impossible = 0;
  char why[512] = "", first_bad[64] = "", mode[64];
  for (size_t i = 0; i < m->nmodes; i++) {
    struct kvm_host_plan p;
    char w[512];
    if (!strcmp(m->modes[i].paging, "native")) continue; /* the model's */
    matrix__mode_str(&m->modes[i], mode, sizeof(mode));
    if (matrix__host_plan(h->info, &m->modes[i], &p, w, sizeof(w))) {
      if (!impossible++) snprintf(why, sizeof(why), "%s", w), snprintf(first_bad, 64, "%s", mode);
      continue;
    }
    reachable += p.n > 0;
  }
  if (!reachable && !impossible) {
    msg__note("--allow-host-reconfig: every kvm mode of the matrix runs on this host as it is: "
              "nothing to reconfigure");
    return 0;
  }
  if (!reachable) {
    msg__error("--allow-host-reconfig: no reload of this host's KVM module gives mode %s: %s; "
               "nothing was changed (run without --allow-host-reconfig to run only the modes "
               "this host has)",
               first_bad, why);
    return -1;
  }
  char cant[512], spbuf[512];
  const char *sp = kvm_host__default_state_path(spbuf, sizeof(spbuf));
  if (access(sp, F_OK) == 0) { /* restoring would undo that earlier set as well */
    msg__error("--allow-host-reconfig: an earlier `vtbench host set` is pending restore (%s): "
               "run `vtbench host restore` first; nothing was changed",
               sp);
    return -1;
  }
  if (kvm_host__can_reload(h->info, &h->env, cant, sizeof(cant))) {
    msg__error("--allow-host-reconfig: the matrix needs the KVM module reloaded, but %s; "
               "nothing was changed",
               cant);
    return -1;
  }
  if (impossible)
    msg__note("mode %s%s: %s: skipping it on kvm", first_bad, impossible > 1 ? " and others" : "",
              why);
  h->reconfig = true;
  return 0;
}

/* ---- options into a matrix ------------------------------------------------ */
static int split_list(const char *s, char out[][64], int max) {
  char buf[1024], *save = NULL;
  int n = 0;
  snprintf(buf, sizeof(buf), "%s", s);
  for (char *t = strtok_r(buf, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
    snprintf(out[n++], 64, "%s", t);
  return n;
}

static int build_matrix(const struct run_opts *o, struct matrix *m) {
  char err[512];
  if (o->matrix_file) {
    if (matrix__load(m, o->matrix_file, err, sizeof(err))) {
      msg__error("%s", err);
      return -1;
    }
  } else if (o->quick) {
    matrix__quick(m);
  } else {
    matrix__standard(m);
  }
  /* Command-line overrides go through the same validation as a file. */
  json_t *j = matrix__to_json(m);
  char list[32][64];
  if (o->backends) {
    json_t *a = json_array();
    for (int i = 0, n = split_list(o->backends, list, 32); i < n; i++)
      json_array_append_new(a, json_string(list[i]));
    json_object_set_new(j, "backends", a);
  }
  if (o->workloads) {
    json_t *a = json_array(), *old = json_object_get(j, "workloads");
    for (int i = 0, n = split_list(o->workloads, list, 32); i < n; i++) {
      json_t *keep = NULL;
      size_t k;
      json_t *w;
      json_array_foreach(old, k, w) /* keep the matrix's params for a listed name */
          if (!strcmp(json_string_value(json_object_get(w, "name")), list[i])) keep = w;
      json_array_append_new(a, keep ? json_incref(keep) : json_string(list[i]));
    }
    json_object_set_new(j, "workloads", a);
  }
  if (o->modes) {
    json_t *a = json_array();
    for (int i = 0, n = split_list(o->modes, list, 32); i < n; i++)
      json_array_append_new(a, json_string(list[i]));
    json_object_set_new(j, "modes", a);
  }
  if (o->reps >= 0) json_object_set_new(j, "reps", json_integer(o->reps));
  if (o->warmup >= 0) json_object_set_new(j, "warmup", json_integer(o->warmup));
  if (o->model_reps >= 0) json_object_set_new(j, "model_reps", json_integer(o->model_reps));
  matrix__free(m);
  int rc = matrix__from_json(m, j, "command line", err, sizeof(err));
  if (rc) msg__error("%s", err);
  json_decref(j);
  return rc;
}

/* The matrix, shard and defaults of a resumed document. */
static int from_resumed(struct run_plan *p, struct run_opts *o, const json_t *doc) {
  char err[512];
  const json_t *session = json_object_get(doc, "session");
  if (!json_object_get(session, "matrix")) {
    msg__error("%s: no session.matrix: not written by vtbench run, cannot resume", o->out);
    return -1;
  }
  if (matrix__from_json(&p->m, json_object_get(session, "matrix"), o->out, err, sizeof(err))) {
    msg__error("%s", err);
    return -1;
  }
  p->have_matrix = true;
  const char *sh = json_string_value(json_object_get(session, "shard"));
  if (sh) matrix__parse_shard(sh, &p->shard_i, &p->shard_n);
  if (!o->baseline) o->baseline = json_string_value(json_object_get(session, "baseline"));
  if (o->cpu < 0 && json_is_integer(json_object_get(session, "cpu")))
    o->cpu = (int)json_integer_value(json_object_get(session, "cpu"));
  return 0;
}

/* The Linux guest's workloads: refused, naming what is missing, until
 * refvmm boots Linux and the kernel and initramfs are here (in a dry run
 * only said). -1 when they cannot run. */
static int check_linux(struct run_plan *p, bool dry_run) {
  if (!linux_guest__in_matrix(&p->m)) return 0;
  linux_guest__find(&p->lg, p->refvmm, p->images);
  if (p->lg.ready) return 0;
  char names[1024] = "";
  size_t off = 0;
  for (size_t i = 0; i < p->m.nworkloads && off < sizeof(names); i++)
    if (linux_guest__named(p->m.workloads[i].name))
      off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", off ? ", " : "",
                              p->m.workloads[i].name);
  msg__error("the Linux guest's workloads (%s) cannot run here yet: missing %s", names,
             p->lg.missing);
  return dry_run ? 0 : -1;
}

/* Configurations whose workload image is not built are left out with a
 * note (in a dry run they stay: it runs nothing). */
static void drop_unbuilt(struct run_plan *p, bool dry_run) {
  size_t keep = 0;
  for (size_t i = 0; i < p->ncfg; i++) {
    char img[4200];
    const char *name = p->m.workloads[p->cfgs[i].workload].name;
    snprintf(img, sizeof(img), "%s/%s.elf", p->images, name);
    bool lx = linux_guest__named(name); /* no image: check_linux() */
    if (!dry_run && !lx && access(img, R_OK)) {
      bool first = true;
      for (size_t k = 0; k < i; k++)
        if (p->cfgs[k].workload == p->cfgs[i].workload) first = false;
      if (first) msg__note("%s not built: skipping workload %s", img, name);
      continue;
    }
    p->cfgs[keep++] = p->cfgs[i];
  }
  p->ncfg = keep;
}

/* Each freestanding workload's parameters against its image's parameter
 * table (the one refvmm checks --param against): a size out of range is
 * refused here, naming the workload, before any run. 0, or -1 after the
 * message. An image not built or without a table is left to refvmm. */
static int check_image_params(const struct run_plan *p) {
  struct guest_mem gm;
  if (guest_mem__init(&gm, VTB_MEM_MIN)) return 0;
  int rc = 0;
  for (size_t i = 0; i < p->m.nworkloads && !rc; i++) {
    const struct matrix_workload *w = &p->m.workloads[i];
    char img[4200], err[512], kv[32][96];
    const char *params[32];
    if (linux_guest__named(w->name)) continue;
    snprintf(img, sizeof(img), "%s/%s.elf", p->images, w->name);
    static struct elf_image im;
    if (access(img, R_OK) || elf__load_file(img, &gm, &im, err, sizeof(err))) continue;
    int n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(w->params, k, v) {
      if (n == 32) break;
      if (json_is_string(v))
        snprintf(kv[n], sizeof(kv[n]), "%s=%s", k, json_string_value(v));
      else
        snprintf(kv[n], sizeof(kv[n]), "%s=%lld", k, (long long)json_integer_value(v));
      params[n] = kv[n];
      n++;
    }
    if (image_params__check(&im.params, img, params, n, err, sizeof(err))) {
      msg__error("workload %s: %s (vtbench workloads %s lists the ranges)", w->name, err, w->name);
      rc = -1;
    }
  }
  guest_mem__destroy(&gm);
  return rc;
}

/* Host groups: kvm configurations that need the module reloaded, one group
 * per distinct set of parameters. */
static int group_by_host(struct run_plan *p) {
  p->cfg_group = calloc(p->ncfg + 1, sizeof(*p->cfg_group));
  if (!p->cfg_group) return -1;
  if (!p->host.reconfig) return 0;
  p->plans = calloc(p->ncfg + 1, sizeof(*p->plans));
  if (!p->plans) return -1;
  for (size_t i = 0; i < p->ncfg; i++) {
    struct kvm_host_plan hp;
    char why[512];
    if (strcmp(p->m.backends[p->cfgs[i].backend], "kvm") ||
        matrix__host_plan(p->host.info, &p->m.modes[p->cfgs[i].mode], &hp, why, sizeof(why)) ||
        !hp.n)
      continue;
    size_t g = 0;
    while (g < p->nplans && !matrix__plan_eq(&p->plans[g], &hp))
      g++;
    if (g == p->nplans) p->plans[p->nplans++] = hp;
    p->cfg_group[i] = g + 1;
  }
  return 0;
}

int run_plan__build(struct run_plan *p, struct run_opts *o, const json_t *resumed) {
  memset(p, 0, sizeof(*p));
  p->shard_i = p->shard_n = 1;
  int rc = VTB_EXIT_USAGE;
  if (resumed) {
    if (from_resumed(p, o, resumed)) goto fail;
  } else {
    if (build_matrix(o, &p->m)) goto fail;
    p->have_matrix = true;
    if (o->shard && matrix__parse_shard(o->shard, &p->shard_i, &p->shard_n)) {
      msg__error("--shard %s: expected I/N with 1 <= I <= N (e.g. 2/4)", o->shard);
      goto fail;
    }
  }
  if (o->baseline) {
    struct matrix_mode bm;
    char err[512];
    if (matrix__parse_mode(o->baseline, &bm, err, sizeof(err))) {
      msg__error("--baseline: %s", err);
      goto fail;
    }
    matrix__mode_str(&bm, p->baseline, sizeof(p->baseline));
    o->baseline = p->baseline;
  }

  /* Where things are; what this host can run. */
  rc = VTB_EXIT_NOTHING;
  host_detect(&p->host);
  bool have_refvmm = !paths__refvmm(p->refvmm, sizeof(p->refvmm));
  bool have_images = !paths__workloads_dir(p->images, sizeof(p->images));
  if (!o->dry_run && (!have_refvmm || !have_images)) {
    msg__error("%s not found (build it with make%s)", !have_refvmm ? p->refvmm : p->images,
               !have_refvmm ? ", or set VTBENCH_REFVMM" : ", or set VTBENCH_WORKLOADS");
    goto fail;
  }
  if (!p->host.kvm_ok)
    for (size_t b = 0; b < p->m.nbackends; b++)
      if (!strcmp(p->m.backends[b], "kvm"))
        msg__note("/dev/kvm is not usable here (%s): skipping the kvm backend",
                  strerror(p->host.kvm_errno));
  if (o->allow_host_reconfig && plan_reconfig(&p->host, &p->m)) goto fail;
  if (check_linux(p, o->dry_run)) goto fail;
  if (have_images && check_image_params(p)) {
    rc = VTB_EXIT_USAGE;
    goto fail;
  }

  rc = VTB_EXIT_FAILED;
  p->ncfg = matrix__configs(&p->m, supported, &p->host, &p->cfgs);
  drop_unbuilt(p, o->dry_run);
  /* the shard's configurations, cut from the whole cross product: the same
   * on every host whatever each one leaves out (vtbench campaign) */
  p->ncfg = matrix__shard_configs(p->cfgs, p->ncfg, p->shard_i, p->shard_n);
  if (group_by_host(p)) {
    msg__error("out of memory");
    goto fail;
  }
  p->njobs = matrix__jobs(&p->m, p->ncfg, 1, 1, MATRIX_SEED, &p->jobs);
  p->njobs = matrix__trim_model(&p->m, p->cfgs, p->jobs, p->njobs);
  if (!p->njobs && !o->dry_run) {
    msg__error("nothing can run on this host: no backend supports any mode of the matrix (kvm "
               "needs /dev/kvm; model needs refvmm built with it)");
    rc = VTB_EXIT_NOTHING;
    goto fail;
  }
  return VTB_EXIT_OK;
fail:
  run_plan__free(p);
  return rc;
}

void run_plan__free(struct run_plan *p) {
  free(p->cfg_group);
  free(p->plans);
  free(p->jobs);
  free(p->cfgs);
  if (p->have_matrix) matrix__free(&p->m);
  memset(p, 0, sizeof(*p));
}

void run_plan__print(const struct run_plan *p) {
  for (size_t i = 0; i < p->m.nworkloads; i++) {
    char line[2048];
    const struct matrix_workload *w = &p->m.workloads[i];
    if (!linux_guest__named(w->name)) continue;
    if (linux_guest__cmdline(w->name, w->params, line, sizeof(line)))
      printf("# %s: %s\n", w->name, line);
    else
      printf("# %s: refvmm run --kernel %s --initrd %s --cmdline \"%s\"\n", w->name, p->lg.kernel,
             p->lg.initrd, line);
  }
  for (size_t g = 0; g <= p->nplans; g++) {
    if (g) {
      char plan[256];
      matrix__plan_str(&p->plans[g - 1], plan, sizeof(plan));
      printf("# with the host's KVM module reloaded: %s (restored afterwards)\n", plan);
    }
    for (size_t i = 0; i < p->njobs; i++)
      if (p->cfg_group[p->jobs[i].config] == g)
        printf("%s%s #%u\n", p->jobs[i].warmup ? "warmup " : "", p->cfgs[p->jobs[i].config].key,
               p->jobs[i].rep);
  }
  printf("%zu configurations, %zu jobs (shard %u/%u)\n", p->ncfg, p->njobs, p->shard_i, p->shard_n);
}
