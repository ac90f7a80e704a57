/* cmd_run.c - `vtbench run`: run a matrix through bin/refvmm, one process
 * per run, into one result document.
 *
 * The document is rewritten atomically after every run, so a kill loses at
 * most the run in progress. Until the matrix is done it carries
 * session.status "incomplete"; --resume reads session.matrix back and skips
 * every (configuration, repetition) already present. Ctrl-C (SIGINT) and
 * SIGTERM end cleanly: the interrupted run is dropped, the file kept.
 *
 * --allow-host-reconfig (issue 8): kvm cells whose paging/tlb the host's
 * KVM module does not give run in groups, one per set of module parameters
 * they need: reload the module with them, run the group's jobs (still
 * interleaved), restore, always (kvm_host__with_config, also on SIGINT).
 * Cells the host runs as it is and the model's run first. Where no reload
 * can help (paravirtual flavour, no root, VMs running) it says why and
 * runs nothing. docs/KVM_MODES.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aggregate.h"
#include "cli_num.h"
#include "commands.h"
#include "json_util.h"
#include "matrix.h"
#include "paths.h"
#include "refvmm/exit_codes.h"
#include "refvmm/kvm/kvm_host.h"
#include "results/context.h"
#include "results/result_doc.h"

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
  interrupted = sig;
}
/* Also while the host is reconfigured: kvm_host__with_config holds the
 * signal until it has restored the module. */
static bool stop_requested(void) {
  return interrupted || kvm_host__interrupted();
}

struct run_opts {
  const char *matrix_file, *out, *backends, *workloads, *modes, *shard, *baseline;
  bool quick, resume, dry_run, allow_host_reconfig;
  int reps, warmup, cpu, timeout;
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench run [--matrix FILE | --quick] [--backends kvm,model] [--workloads LIST]\n"
          "                   [--modes LIST] [--reps N] [--warmup N] [--cpu N] [--shard I/N]\n"
          "                   [--timeout SEC] [--baseline MODE] [-o FILE] [--resume] [--dry-run]\n"
          "                   [--allow-host-reconfig]\n"
          "  Runs the cross product of the matrix (default: the standard matrix; --quick: a\n"
          "  small one, about a minute) interleaved, with warm-up runs, into one result\n"
          "  document (default results/out/session.json). Modes are paging/tlb/nmi/irq,\n"
          "  e.g. shadow/flush/poll/poll or native. --shard I/N runs slice I of N (1-based);\n"
          "  join shards with vtbench merge. --resume continues the document given with -o.\n"
          "  --allow-host-reconfig: kvm modes the host's KVM module does not run now are run\n"
          "  by reloading it with the parameters they need (kvm_intel ept/vpid, kvm_amd npt;\n"
          "  root, no other VM), restoring it after each group, also on Ctrl-C\n"
          "  (docs/KVM_MODES.md).\n");
}

/* ---- which modes can each backend run on this host ------------------------ */
struct host {
  bool kvm_ok, model_ok;
  char kvm_paging[8];         /* "shadow", "ept" or "" (unknown: let refvmm decide) */
  char kvm_tlb[8];            /* "flush", "vpid" or "" */
  struct kvm_host_info *info; /* NULL when the sysfs root cannot be read */
  struct kvm_host_env env;    /* sysfs root: $VTBENCH_HOST_SYSFS (tests) or /sys */
  bool reconfig;              /* --allow-host-reconfig and something to reconfigure */
};

static void host__detect(struct host *h) {
  memset(h, 0, sizeof(*h));
  h->kvm_ok = !access("/dev/kvm", R_OK | W_OK);
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
  if (h->info->flavour == KVM_FLAVOUR_INTEL) /* kvm_amd: refvmm itself refuses tlb flush */
    snprintf(h->kvm_tlb, sizeof(h->kvm_tlb), "%s", kvm_host__tlb_name(h->info));
}

static bool supported(const char *backend, const struct matrix_mode *m, void *ctx) {
  const struct host *h = ctx;
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
static int host__plan_reconfig(struct host *h, const struct matrix *m) {
  bool kvm = false;
  for (size_t b = 0; b < m->nbackends; b++)
    kvm |= !strcmp(m->backends[b], "kvm");
  if (!kvm || !h->kvm_ok) return 0; /* nothing for the host module to do */
  if (!h->info) {
    fprintf(stderr, "vtbench run: --allow-host-reconfig: cannot read the host's KVM "
                    "configuration; nothing was changed\n");
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
    fprintf(stderr, "vtbench run: note: --allow-host-reconfig: every kvm mode of the matrix runs "
                    "on this host as it is: nothing to reconfigure\n");
    return 0;
  }
  if (!reachable) {
    fprintf(stderr,
            "vtbench run: --allow-host-reconfig: no reload of this host's KVM module gives "
            "mode %s: %s; nothing was changed (run without --allow-host-reconfig to run only "
            "the modes this host has)\n",
            first_bad, why);
    return -1;
  }
  char cant[512], spbuf[512];
  const char *sp = kvm_host__default_state_path(spbuf, sizeof(spbuf));
  if (access(sp, F_OK) == 0) { /* restoring would undo that earlier set as well */
    fprintf(stderr,
            "vtbench run: --allow-host-reconfig: an earlier `vtbench host set` is pending "
            "restore (%s): run `vtbench host restore` first; nothing was changed\n",
            sp);
    return -1;
  }
  if (kvm_host__can_reload(h->info, &h->env, cant, sizeof(cant))) {
    fprintf(stderr,
            "vtbench run: --allow-host-reconfig: the matrix needs the KVM module reloaded, "
            "but %s; nothing was changed\n",
            cant);
    return -1;
  }
  if (impossible)
    fprintf(stderr, "vtbench run: note: mode %s%s: %s: skipping it on kvm\n", first_bad,
            impossible > 1 ? " and others" : "", why);
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
      fprintf(stderr, "vtbench run: %s\n", err);
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
      json_array_append(a, keep ? keep : json_string(list[i]));
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
  matrix__free(m);
  int rc = matrix__from_json(m, j, "command line", err, sizeof(err));
  if (rc) fprintf(stderr, "vtbench run: %s\n", err);
  json_decref(j);
  return rc;
}

/* ---- one run ------------------------------------------------------------- */
static const char *status_word(int code) {
  switch (code) {
  case EXIT_USAGE:
    return "usage_error";
  case EXIT_IMAGE:
    return "image_rejected";
  case EXIT_HOST:
    return "host_error";
  case EXIT_UNSUPPORTED:
    return "unsupported";
  case EXIT_GUEST_FAILED:
    return "guest_failed";
  case EXIT_GUEST_EXCEPTION:
    return "guest_exception";
  case EXIT_TRIPLE_FAULT:
    return "triple_fault";
  case EXIT_TIMEOUT:
    return "timeout";
  case EXIT_INTERNAL_ERROR:
    return "internal_error";
  case EXIT_FAILED_ENTRY:
    return "failed_entry";
  case EXIT_BAD_HYPERCALL:
    return "bad_hypercall";
  case EXIT_OUTPUT:
    return "output_error";
  default:
    return "error";
  }
}

/* Last line(s) of the log, for status_detail. */
static void log_tail(const char *path, char *buf, size_t len) {
  buf[0] = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  off_t end = lseek(fd, 0, SEEK_END);
  off_t start = end > (off_t)len - 1 ? end - (off_t)len + 1 : 0;
  ssize_t n = pread(fd, buf, len - 1, start);
  close(fd);
  if (n < 0) n = 0;
  buf[n] = 0;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = 0;
  char *last = strrchr(buf, '\n'); /* keep the last two lines */
  if (last && last != buf) {
    char *prev = last - 1;
    while (prev > buf && *prev != '\n')
      prev--;
    if (*prev == '\n') memmove(buf, prev + 1, strlen(prev + 1) + 1);
  }
}

struct job_ctx {
  const struct run_opts *o;
  const struct matrix *m;
  const char *refvmm, *images, *tmpdir;
};

/* Run one configuration; returns the run object (new) or NULL when
 * interrupted. *code gets refvmm's exit status (or 128+signal). */
static json_t *run_one(const struct job_ctx *jc, const struct matrix_config *cfg, unsigned rep,
                       int *code, char *log_path, size_t log_len) {
  const struct matrix *m = jc->m;
  const struct matrix_workload *w = &m->workloads[cfg->workload];
  const struct matrix_mode *md = &m->modes[cfg->mode];
  char img[4200], json_path[4200], argbuf[32][96];
  snprintf(img, sizeof(img), "%s/%s.elf", jc->images, w->name);
  snprintf(json_path, sizeof(json_path), "%s/run.json", jc->tmpdir);
  snprintf(log_path, log_len, "%s/run.log", jc->tmpdir);
  unlink(json_path);
  const char *argv[80];
  int a = 0, nb = 0;
  argv[a++] = jc->refvmm;
  argv[a++] = "run";
  argv[a++] = img;
  argv[a++] = "--backend";
  argv[a++] = m->backends[cfg->backend];
  argv[a++] = "--paging";
  argv[a++] = md->paging;
  argv[a++] = "--tlb";
  argv[a++] = md->tlb;
  argv[a++] = "--nmi";
  argv[a++] = md->nmi;
  argv[a++] = "--irq";
  argv[a++] = md->irq;
  const char *k;
  json_t *v;
  json_object_foreach(w->params, k, v) {
    if (nb >= 30) break;
    if (json_is_string(v))
      snprintf(argbuf[nb], 96, "%s=%s", k, json_string_value(v));
    else
      snprintf(argbuf[nb], 96, "%s=%lld", k, (long long)json_integer_value(v));
    argv[a++] = "--param";
    argv[a++] = argbuf[nb++];
  }
  if (jc->o->timeout > 0) {
    snprintf(argbuf[31], 96, "%d", jc->o->timeout);
    argv[a++] = "--timeout";
    argv[a++] = argbuf[31];
  }
  argv[a++] = "--json";
  argv[a++] = json_path;
  argv[a++] = "--quiet";
  argv[a] = NULL;

  pid_t pid = fork();
  if (pid < 0) {
    *code = -errno;
    return json_pack("{s:s,s:s}", "status", "error", "status_detail", "fork failed");
  }
  if (!pid) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
    if (jc->o->cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(jc->o->cpu, &set);
      if (sched_setaffinity(0, sizeof(set), &set))
        fprintf(stderr, "vtbench: cannot pin to CPU %d: %s\n", jc->o->cpu, strerror(errno));
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(jc->refvmm, (char **)argv);
    fprintf(stderr, "vtbench: cannot run %s: %s\n", jc->refvmm, strerror(errno));
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) break;
    if (stop_requested()) kill(pid, SIGINT); /* not a TTY Ctrl-C: pass it on */
  }
  if (stop_requested()) return NULL;
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

  json_t *run = NULL;
  char err[512];
  json_t *doc = access(json_path, R_OK) ? NULL : result_doc__read(json_path, err, sizeof(err));
  if (doc && json_array_size(json_object_get(doc, "runs")))
    run = json_deep_copy(json_array_get(json_object_get(doc, "runs"), 0));
  /* Context facts only refvmm knows (tsc_hz, pmu) are returned through a
   * "context" key the caller strips. */
  if (run && doc) json_object_set(run, "__context", json_object_get(doc, "context"));
  json_decref(doc);
  if (!run) {
    char tail[600];
    log_tail(log_path, tail, sizeof(tail));
    run = json_pack("{s:s,s:O,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:i,s:s}", "workload", w->name, "params",
                    w->params, "backend", m->backends[cfg->backend], "modes", "paging", md->paging,
                    "tlb", md->tlb, "nmi", md->nmi, "irq", md->irq, "status",
                    WIFSIGNALED(st) ? "killed" : status_word(*code), "exit_code",
                    *code > 255 ? 255 : *code, "status_detail", tail[0] ? tail : "no output");
  }
  if (!json_object_get(run, "exit_code") && *code >= 0 && *code <= 255)
    json_object_set_new(run, "exit_code", json_integer(*code));
  json_object_set_new(run, "repetition", json_integer(rep));
  json_object_set_new(run, "config", json_string(cfg->key));
  return run;
}

/* ---- the session ------------------------------------------------------------- */
static void fmt_secs(double s, char *buf, size_t len) {
  long t = (long)(s + 0.5) % (100L * 3600); /* bounded: a progress line, not a clock */
  if (t >= 3600)
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int save(json_t *doc, const char *path, const char *status, const char *baseline) {
  json_t *session = json_object_get(doc, "session");
  json_object_set_new(session, "status", json_string(status));
  if (strcmp(status, "running")) {
    struct agg_set s;
    aggregate__group(doc, &s);
    json_object_set_new(doc, "aggregates", aggregate__compute(&s, baseline));
    aggregate__free(&s);
  }
  int rc = result_doc__write(doc, path);
  if (rc) fprintf(stderr, "vtbench run: %s: cannot write: %s\n", path, strerror(-rc));
  return rc;
}

static bool run_done(const json_t *doc, const char *key, unsigned rep) {
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(doc, "runs"), i, r) {
    const char *k = json_string_value(json_object_get(r, "config"));
    if (k && !strcmp(k, key) && json_integer_value(json_object_get(r, "repetition")) == rep)
      return true;
  }
  return false;
}

/* Jobs after i still to run of one backend (or one configuration). */
static size_t remaining(const struct matrix_job *jobs, size_t njobs, size_t i,
                        const struct matrix_config *cfgs, const json_t *doc, size_t backend,
                        size_t config) {
  size_t n = 0;
  for (size_t k = i + 1; k < njobs; k++) {
    const struct matrix_config *c = &cfgs[jobs[k].config];
    if ((backend != SIZE_MAX && c->backend != backend) ||
        (config != SIZE_MAX && jobs[k].config != config))
      continue;
    n += jobs[k].warmup || !run_done(doc, c->key, jobs[k].rep);
  }
  return n;
}

static bool mentions_not_built(const char *log) {
  char tail[600];
  log_tail(log, tail, sizeof(tail));
  for (char *p = tail; *p; p++)
    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  return strstr(tail, "not built") || strstr(tail, "not available") ||
         strstr(tail, "unknown backend");
}

/* ---- running the jobs, one host configuration at a time ------------------ */
struct sess {
  const struct run_opts *o;
  const struct matrix *m;
  const struct job_ctx *jc;
  json_t *doc;
  const struct matrix_job *jobs;
  size_t njobs;
  const struct matrix_config *cfgs;
  size_t *cfg_group;           /* 0: the host as it is; k: plans[k - 1] */
  struct kvm_host_plan *plans; /* module settings of groups 1.. */
  size_t nplans;
  bool *backend_off, *cfg_off, tty;
  size_t *pending;
  size_t done, failed, skipped, todo;
  double t0;
};

static json_t *plan_json(const struct kvm_host_plan *p) {
  json_t *params = json_object();
  for (int i = 0; i < p->n; i++)
    json_object_set_new(params, p->set[i].name, json_string(p->set[i].value));
  return json_pack("{s:s,s:o}", "module", p->module, "params", params);
}

/* The jobs of one group, in the matrix's interleaved order. */
static int run_group(struct sess *S, size_t group) {
  int rc = VTB_EXIT_OK;
  for (size_t i = 0; i < S->njobs && rc == VTB_EXIT_OK && !stop_requested(); i++) {
    const struct matrix_job *jb = &S->jobs[i];
    const struct matrix_config *cfg = &S->cfgs[jb->config];
    if (S->cfg_group[jb->config] != group) continue;
    if (S->backend_off[cfg->backend] || S->cfg_off[jb->config]) continue;
    if (jb->warmup && !S->pending[jb->config]) continue;
    if (!jb->warmup && run_done(S->doc, cfg->key, jb->rep)) {
      S->skipped++;
      continue;
    }
    if (S->tty) {
      char el[32], left[32];
      double t = now_s() - S->t0;
      fmt_secs(t, el, sizeof(el));
      fmt_secs(S->done ? t / (double)S->done * (double)(S->todo - S->done) : 0, left, sizeof(left));
      /* One line, cut to the terminal's width so \r can overwrite it. */
      char line[512];
      struct winsize ws;
      size_t cols = !ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col > 20 ? ws.ws_col : 80;
      snprintf(line, sizeof(line), "[%zu/%zu] %s elapsed, ~%s left | %s %s #%u", S->done + 1,
               S->todo, el, S->done ? left : "?", cfg->key, jb->warmup ? "warm-up" : "rep",
               jb->rep);
      if (strlen(line) >= cols) line[cols - 1] = 0;
      fprintf(stderr, "\r\033[K%s", line);
    }
    int code = 0;
    char log[4200];
    json_t *run = run_one(S->jc, cfg, jb->rep, &code, log, sizeof(log));
    if (!run) break; /* interrupted: drop this run */
    S->done++;
    json_t *rctx = json_object_get(run, "__context");
    if (rctx) {
      /* Facts only refvmm knows (tsc_hz, pmu, ...) join the session context. */
      json_t *ctx = json_object_get(S->doc, "context");
      const char *k;
      json_t *v;
      json_object_foreach(rctx, k, v) if (!json_object_get(ctx, k)) json_object_set(ctx, k, v);
      json_object_del(run, "__context");
    }
    const char *status = json_string_value(json_object_get(run, "status"));
    if ((code == EXIT_UNSUPPORTED || code == EXIT_HOST || code == EXIT_USAGE) &&
        mentions_not_built(log)) {
      char tail[600];
      log_tail(log, tail, sizeof(tail));
      fprintf(stderr,
              "%svtbench run: note: refvmm cannot run the %s backend here (%s): skipping it\n",
              S->tty ? "\n" : "", S->m->backends[cfg->backend], tail);
      S->backend_off[cfg->backend] = true;
      S->todo -= 1 + remaining(S->jobs, S->njobs, i, S->cfgs, S->doc, cfg->backend, SIZE_MAX);
      S->done--;
      json_decref(run);
      continue;
    }
    if (code == EXIT_UNSUPPORTED) {
      fprintf(stderr, "%svtbench run: note: %s: unsupported here (%s): skipping its other runs\n",
              S->tty ? "\n" : "", cfg->key,
              json_string_value(json_object_get(run, "status_detail"))
                  ? json_string_value(json_object_get(run, "status_detail"))
                  : "refvmm exit 5");
      S->cfg_off[jb->config] = true;
      S->todo -= remaining(S->jobs, S->njobs, i, S->cfgs, S->doc, SIZE_MAX, jb->config);
    }
    if (jb->warmup && code != EXIT_UNSUPPORTED) {
      json_decref(run);
      continue;
    }
    if (!status || strcmp(status, "ok")) S->failed++;
    if (group) /* what the host's module was reloaded with for this run */
      json_object_set_new(run, "host_reconfig", plan_json(&S->plans[group - 1]));
    result_doc__add_run(S->doc, run);
    json_object_set_new(json_object_get(S->doc, "session"), "jobs_done",
                        json_integer((json_int_t)json_array_size(json_object_get(S->doc, "runs"))));
    if (save(S->doc, S->o->out, "incomplete", S->o->baseline)) rc = VTB_EXIT_IO;
  }

  return rc;
}

struct group_arg {
  struct sess *s;
  size_t group;
};
static int run_group_cb(void *arg) {
  struct group_arg *g = arg;
  return run_group(g->s, g->group);
}

/* Group g (>= 1) inside kvm_host__with_config: reload, run, restore. A
 * reload that fails skips the group's configurations with a note; a
 * restore that fails stops the session (the state file stays for
 * `vtbench host restore`). */
static int run_reconfigured(struct sess *S, struct host *host, size_t g) {
  const struct kvm_host_plan *p = &S->plans[g - 1];
  char plan[256], msg[1024] = "";
  matrix__plan_str(p, plan, sizeof(plan));
  size_t ncfg = 0;
  for (size_t i = 0; i < S->njobs; i++)
    ncfg += !S->jobs[i].warmup && S->jobs[i].rep == 0 && S->cfg_group[S->jobs[i].config] == g;
  fprintf(stderr, "%svtbench run: reloading %s for %zu configuration%s\n", S->tty ? "\r\033[K" : "",
          plan, ncfg, ncfg == 1 ? "" : "s");
  struct group_arg ga = {S, g};
  int rc = kvm_host__with_config(&host->env, p, run_group_cb, &ga, msg, sizeof(msg));
  char spbuf[512];
  const char *sp =
      host->env.state_path ? host->env.state_path : kvm_host__default_state_path(spbuf, 512);
  bool restored = access(sp, F_OK) != 0;
  json_t *log = json_object_get(json_object_get(S->doc, "session"), "host_reconfig");
  if (!json_is_array(log)) {
    log = json_array();
    json_object_set_new(json_object_get(S->doc, "session"), "host_reconfig", log);
  }
  json_array_append_new(log, json_pack("{s:o,s:I,s:s,s:s}", "plan", plan_json(p), "configurations",
                                       (json_int_t)ncfg, "result",
                                       !restored ? "restore_failed"
                                       : rc < 0  ? "not_reconfigured"
                                                 : "restored",
                                       "message", msg));
  fprintf(stderr, "%svtbench run: %s: %s\n", S->tty ? "\r\033[K" : "", plan, msg);
  if (!restored) {
    fprintf(stderr,
            "vtbench run: the host's KVM module was NOT restored: run `vtbench host restore` "
            "(state in %s); stopping\n",
            sp);
    return VTB_EXIT_FAILED;
  }
  if (rc < 0) { /* not reconfigured: none of the group ran; the others may */
    for (size_t i = 0; i < S->njobs; i++) {
      const struct matrix_job *jb = &S->jobs[i];
      if (S->cfg_group[jb->config] != g || S->cfg_off[jb->config]) continue;
      S->todo -= jb->warmup || !run_done(S->doc, S->cfgs[jb->config].key, jb->rep);
    }
    return VTB_EXIT_OK;
  }
  return rc;
}

int cmd_run(int argc, char **argv) {
  static const struct option opts[] = {{"matrix", required_argument, NULL, 'm'},
                                       {"quick", no_argument, NULL, 'q'},
                                       {"backends", required_argument, NULL, 'B'},
                                       {"workloads", required_argument, NULL, 'W'},
                                       {"modes", required_argument, NULL, 'M'},
                                       {"reps", required_argument, NULL, 'r'},
                                       {"warmup", required_argument, NULL, 'w'},
                                       {"cpu", required_argument, NULL, 'c'},
                                       {"shard", required_argument, NULL, 's'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"resume", no_argument, NULL, 'R'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"baseline", required_argument, NULL, 'b'},
                                       {"dry-run", no_argument, NULL, 'n'},
                                       {"allow-host-reconfig", no_argument, NULL, 'H'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  struct run_opts o = {.out = "results/out/session.json", .reps = -1, .warmup = -1, .cpu = -1};
  int c;
  long v;
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:qB:W:M:r:w:c:s:o:Rt:b:nh", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      o.matrix_file = optarg;
      break;
    case 'q':
      o.quick = true;
      break;
    case 'B':
      o.backends = optarg;
      break;
    case 'W':
      o.workloads = optarg;
      break;
    case 'M':
      o.modes = optarg;
      break;
    case 'r':
      if (cli__count("reps", optarg, 1, MATRIX_REPS_MAX, &v)) return VTB_EXIT_USAGE;
      o.reps = (int)v;
      break;
    case 'w':
      if (cli__count("warmup", optarg, 0, MATRIX_WARMUP_MAX, &v)) return VTB_EXIT_USAGE;
      o.warmup = (int)v;
      break;
    case 'c':
      if (cli__count("cpu", optarg, 0, CPU_SETSIZE - 1, &v)) return VTB_EXIT_USAGE;
      o.cpu = (int)v;
      break;
    case 's':
      o.shard = optarg;
      break;
    case 'o':
      o.out = optarg;
      break;
    case 'R':
      o.resume = true;
      break;
    case 't': /* refvmm's own bound (refvmm --help) */
      if (cli__count("timeout", optarg, 0, 10000000, &v)) return VTB_EXIT_USAGE;
      o.timeout = (int)v;
      break;
    case 'b':
      o.baseline = optarg;
      break;
    case 'n':
      o.dry_run = true;
      break;
    case 'H':
      o.allow_host_reconfig = true;
      break;
    case 'h':
      usage(stdout);
      return VTB_EXIT_OK;
    default:
      usage(stderr);
      return VTB_EXIT_USAGE;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "vtbench run: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return VTB_EXIT_USAGE;
  }

  struct matrix m;
  unsigned shard_i = 1, shard_n = 1;
  json_t *doc = NULL;
  char err[512];
  if (o.resume) {
    if (!(doc = json_util__load_doc(o.out))) return VTB_EXIT_IO;
    json_t *session = json_object_get(doc, "session");
    if (!json_object_get(session, "matrix")) {
      fprintf(stderr,
              "vtbench run: %s: no session.matrix: not written by vtbench run, cannot resume\n",
              o.out);
      json_decref(doc);
      return VTB_EXIT_USAGE;
    }
    if (matrix__from_json(&m, json_object_get(session, "matrix"), o.out, err, sizeof(err))) {
      fprintf(stderr, "vtbench run: %s\n", err);
      json_decref(doc);
      return VTB_EXIT_USAGE;
    }
    const char *sh = json_string_value(json_object_get(session, "shard"));
    if (sh) matrix__parse_shard(sh, &shard_i, &shard_n);
    if (!o.baseline) o.baseline = json_string_value(json_object_get(session, "baseline"));
    if (o.cpu < 0 && json_is_integer(json_object_get(session, "cpu")))
      o.cpu = (int)json_integer_value(json_object_get(session, "cpu"));
  } else {
    if (build_matrix(&o, &m)) return VTB_EXIT_USAGE;
    if (o.shard && matrix__parse_shard(o.shard, &shard_i, &shard_n)) {
      fprintf(stderr, "vtbench run: --shard %s: expected I/N with 1 <= I <= N (e.g. 2/4)\n",
              o.shard);
      matrix__free(&m);
      return VTB_EXIT_USAGE;
    }
  }
  char baseline_buf[64];
  if (o.baseline) {
    struct matrix_mode bm;
    if (matrix__parse_mode(o.baseline, &bm, err, sizeof(err))) {
      fprintf(stderr, "vtbench run: --baseline: %s\n", err);
      matrix__free(&m);
      json_decref(doc);
      return VTB_EXIT_USAGE;
    }
    matrix__mode_str(&bm, baseline_buf, sizeof(baseline_buf));
    o.baseline = baseline_buf;
  }

  /* Where things are; what this host can run. */
  char refvmm[4096], images[4096], tmpdir[] = "/tmp/vtbench.XXXXXX";
  struct host host;
  host__detect(&host);
  int have_refvmm = !paths__refvmm(refvmm, sizeof(refvmm));
  int have_images = !paths__workloads_dir(images, sizeof(images));
  if (!o.dry_run && (!have_refvmm || !have_images)) {
    fprintf(stderr, "vtbench run: %s not found (build it with make%s)\n",
            !have_refvmm ? refvmm : images,
            !have_refvmm ? ", or set VTBENCH_REFVMM" : ", or set VTBENCH_WORKLOADS");
    matrix__free(&m);
    json_decref(doc);
    return VTB_EXIT_NOTHING;
  }
  if (!host.kvm_ok)
    for (size_t b = 0; b < m.nbackends; b++)
      if (!strcmp(m.backends[b], "kvm"))
        fprintf(stderr,
                "vtbench run: note: /dev/kvm is not usable here (%s): skipping the kvm "
                "backend\n",
                strerror(errno ? errno : ENOENT));
  if (o.allow_host_reconfig && host__plan_reconfig(&host, &m)) {
    matrix__free(&m);
    json_decref(doc);
    return VTB_EXIT_NOTHING;
  }

  struct matrix_config *cfgs;
  size_t ncfg = matrix__configs(&m, supported, &host, &cfgs);
  /* Workloads whose image is not built are skipped with a note. */
  size_t keep = 0;
  for (size_t i = 0; i < ncfg; i++) {
    char img[4200];
    snprintf(img, sizeof(img), "%s/%s.elf", images, m.workloads[cfgs[i].workload].name);
    if (!o.dry_run && access(img, R_OK)) {
      bool first = true;
      for (size_t k = 0; k < i; k++)
        if (cfgs[k].workload == cfgs[i].workload) first = false;
      if (first)
        fprintf(stderr, "vtbench run: note: %s not built: skipping workload %s\n", img,
                m.workloads[cfgs[i].workload].name);
      continue;
    }
    cfgs[keep++] = cfgs[i];
  }
  ncfg = keep;
  /* Host groups: kvm configurations that need the module reloaded, one
   * group per distinct set of parameters. */
  size_t *cfg_group = calloc(ncfg + 1, sizeof(*cfg_group)), nplans = 0;
  struct kvm_host_plan *plans = host.reconfig ? calloc(ncfg + 1, sizeof(*plans)) : NULL;
  for (size_t i = 0; plans && i < ncfg; i++) {
    struct kvm_host_plan p;
    char why[512];
    if (strcmp(m.backends[cfgs[i].backend], "kvm") ||
        matrix__host_plan(host.info, &m.modes[cfgs[i].mode], &p, why, sizeof(why)) || !p.n)
      continue;
    size_t g = 0;
    while (g < nplans && !matrix__plan_eq(&plans[g], &p))
      g++;
    if (g == nplans) plans[nplans++] = p;
    cfg_group[i] = g + 1;
  }
  struct matrix_job *jobs;
  size_t njobs = matrix__jobs(&m, ncfg, shard_i, shard_n, MATRIX_SEED, &jobs);
  if (o.dry_run) {
    for (size_t g = 0; g <= nplans; g++) {
      if (g) {
        char plan[256];
        matrix__plan_str(&plans[g - 1], plan, sizeof(plan));
        printf("# with the host's KVM module reloaded: %s (restored afterwards)\n", plan);
      }
      for (size_t i = 0; i < njobs; i++)
        if (cfg_group[jobs[i].config] == g)
          printf("%s%s #%u\n", jobs[i].warmup ? "warmup " : "", cfgs[jobs[i].config].key,
                 jobs[i].rep);
    }
    printf("%zu configurations, %zu jobs (shard %u/%u)\n", ncfg, njobs, shard_i, shard_n);
    free(cfg_group);
    free(plans);
    free(jobs);
    free(cfgs);
    matrix__free(&m);
    json_decref(doc);
    return VTB_EXIT_OK;
  }
  if (!njobs) {
    fprintf(stderr, "vtbench run: nothing can run on this host: no backend supports any mode of "
                    "the matrix (kvm needs /dev/kvm; model needs refvmm built with it)\n");
    free(cfg_group);
    free(plans);
    free(jobs);
    free(cfgs);
    matrix__free(&m);
    json_decref(doc);
    return VTB_EXIT_NOTHING;
  }

  /* Also on --resume: a full disk must be reported before any run, not after. */
  if (result_doc__check_writable(o.out, err, sizeof(err))) {
    fprintf(stderr, "vtbench run: %s\n", err);
    free(cfg_group);
    free(plans);
    free(jobs);
    free(cfgs);
    matrix__free(&m);
    json_decref(doc);
    return VTB_EXIT_IO;
  }
  if (!doc) {
    /* The command line as the user typed it: "vtbench run ..." (argv here
     * starts at "run"). */
    char **full = calloc((size_t)argc + 2, sizeof(*full));
    if (full) {
      full[0] = "vtbench";
      memcpy(full + 1, argv, (size_t)argc * sizeof(*full));
    }
    doc = result_doc__new(context__collect(full ? argc + 1 : argc, full ? full : argv));
    free(full);
    char shard[32];
    snprintf(shard, sizeof(shard), "%u/%u", shard_i, shard_n);
    json_object_set_new(doc, "session",
                        json_pack("{s:s,s:s,s:o,s:s,s:I,s:s?}", "tool", "vtbench", "status",
                                  "running", "matrix", matrix__to_json(&m), "shard", shard, "seed",
                                  (json_int_t)MATRIX_SEED, "baseline", o.baseline));
    if (o.cpu >= 0)
      json_object_set_new(json_object_get(doc, "session"), "cpu", json_integer(o.cpu));
  }
  json_object_set_new(json_object_get(doc, "session"), "jobs_total",
                      json_integer((json_int_t)njobs));
  if (!mkdtemp(tmpdir)) {
    fprintf(stderr, "vtbench run: cannot create a temporary directory: %s\n", strerror(errno));
    return VTB_EXIT_IO;
  }

  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  struct job_ctx jc = {&o, &m, refvmm, images, tmpdir};
  bool tty = isatty(2);
  bool *backend_off = calloc(m.nbackends, sizeof(bool)), *cfg_off = calloc(ncfg + 1, sizeof(bool));
  size_t todo = 0;
  for (size_t i = 0; i < njobs; i++)
    todo += jobs[i].warmup || !run_done(doc, cfgs[jobs[i].config].key, jobs[i].rep);
  /* A configuration whose repetitions are all done (resume) needs no warm-up. */
  size_t *pending = calloc(ncfg + 1, sizeof(*pending));
  for (size_t i = 0; i < njobs; i++)
    pending[jobs[i].config] +=
        !jobs[i].warmup && !run_done(doc, cfgs[jobs[i].config].key, jobs[i].rep);
  for (size_t i = 0; i < njobs; i++)
    todo -= jobs[i].warmup && !pending[jobs[i].config];
  double t0 = now_s();
  int rc = save(doc, o.out, "incomplete", o.baseline) ? VTB_EXIT_IO : VTB_EXIT_OK;
  struct sess S = {.o = &o,
                   .m = &m,
                   .jc = &jc,
                   .doc = doc,
                   .jobs = jobs,
                   .njobs = njobs,
                   .cfgs = cfgs,
                   .cfg_group = cfg_group,
                   .plans = plans,
                   .nplans = nplans,
                   .backend_off = backend_off,
                   .cfg_off = cfg_off,
                   .tty = tty,
                   .pending = pending,
                   .todo = todo,
                   .t0 = t0};
  if (rc == VTB_EXIT_OK) rc = run_group(&S, 0);
  for (size_t g = 1; g <= nplans && rc == VTB_EXIT_OK && !stop_requested(); g++)
    rc = run_reconfigured(&S, &host, g);
  size_t failed = S.failed, skipped = S.skipped;
  if (tty) fprintf(stderr, "\r\033[K");
  bool finished = !interrupted && rc == VTB_EXIT_OK;
  bool all_off = true;
  for (size_t b = 0; b < m.nbackends; b++)
    all_off &= backend_off[b];
  if (save(doc, o.out, finished ? "complete" : "incomplete", o.baseline)) rc = VTB_EXIT_IO;
  char el[32];
  fmt_secs(now_s() - t0, el, sizeof(el));
  size_t nruns = json_array_size(json_object_get(doc, "runs"));
  if (interrupted) {
    fprintf(stderr,
            "vtbench run: interrupted after %zu runs (%s): %s kept, marked incomplete; "
            "continue with: vtbench run --resume -o %s\n",
            nruns, el, o.out, o.out);
    rc = VTB_EXIT_INTERRUPTED;
  } else {
    printf("vtbench run: %zu runs in %s (%zu failed%s) -> %s\n", nruns, el, failed,
           skipped ? ", earlier runs kept" : "", o.out);
    if (rc == VTB_EXIT_OK && failed) rc = VTB_EXIT_FAILED;
    if (!nruns && all_off) {
      fprintf(stderr, "vtbench run: nothing could run: refvmm supports none of the backends "
                      "asked for on this host\n");
      rc = VTB_EXIT_NOTHING;
    }
  }
  char p[4200];
  snprintf(p, sizeof(p), "%s/run.json", tmpdir);
  unlink(p);
  snprintf(p, sizeof(p), "%s/run.log", tmpdir);
  unlink(p);
  rmdir(tmpdir);
  free(backend_off);
  free(cfg_off);
  free(pending);
  free(cfg_group);
  free(plans);
  free(jobs);
  free(cfgs);
  matrix__free(&m);
  json_decref(doc);
  return rc;
}
