/* run_exec.c - see run_exec.h. */
#include "run_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate.h"
#include "commands.h"
#include "msg.h"
#include "linux_guest.h"
#include "refvmm/exit_codes.h"
#include "results/result_doc.h"
#include "spawn.h"

/* Also while the host is reconfigured: kvm_host__with_config holds the
 * signal until it has restored the module. */
bool run_exec__stopped(void) {
  return spawn__caught() || kvm_host__interrupted();
}

static bool stop_cb(void) {
  return run_exec__stopped();
}

int run_exec__save(json_t *doc, const char *path, const char *status, const char *baseline,
                   bool aggregates) {
  json_t *session = json_object_get(doc, "session");
  json_object_set_new(session, "status", json_string(status));
  if (!aggregates) {
    json_object_set_new(doc, "aggregates", json_array());
  } else if (strcmp(status, "running")) {
    struct agg_set s;
    aggregate__group(doc, &s);
    json_object_set_new(doc, "aggregates", aggregate__compute(&s, baseline));
    aggregate__free(&s);
  }
  int rc = result_doc__write(doc, path);
  if (rc) msg__error("%s: cannot write: %s", path, strerror(-rc));
  return rc ? -1 : 0;
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
  int fd = open(path, O_RDONLY | O_CLOEXEC);
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

static bool mentions_not_built(const char *log) {
  char tail[600];
  log_tail(log, tail, sizeof(tail));
  for (char *p = tail; *p; p++)
    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  return strstr(tail, "not built") || strstr(tail, "not available") ||
         strstr(tail, "unknown backend");
}

/* refvmm's command line for one job into argv (argbuf, cmdline hold the
 * words). 0, or -1 with the reason in cmdline (a Linux guest's parameter
 * refused). */
static int job_argv(const struct run_session *s, const struct matrix_config *cfg, const char **argv,
                    char argbuf[][96], char *img, size_t imglen, const char *json_path,
                    char *cmdline, size_t cmdlen) {
  const struct matrix *m = &s->p->m;
  const struct matrix_workload *w = &m->workloads[cfg->workload];
  const struct matrix_mode *md = &m->modes[cfg->mode];
  snprintf(img, imglen, "%s/%s.elf", s->p->images, w->name);
  int a = 0, nb = 0;
  argv[a++] = s->p->refvmm;
  argv[a++] = "run";
  bool lx = linux_guest__named(w->name);
  if (!lx)
    argv[a++] = img;
  else if (linux_guest__argv(&s->p->lg, w->name, w->params, argv, &a, cmdline, cmdlen))
    return -1;
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
    if (nb >= 30 || lx) break; /* a Linux guest's are on its kernel command line */
    if (json_is_string(v))
      snprintf(argbuf[nb], 96, "%s=%s", k, json_string_value(v));
    else
      snprintf(argbuf[nb], 96, "%s=%lld", k, (long long)json_integer_value(v));
    argv[a++] = "--param";
    argv[a++] = argbuf[nb++];
  }
  if (s->o->kvm_exits && !strcmp(m->backends[cfg->backend], "kvm")) {
    argv[a++] = "--events";
    argv[a++] = "kvm:exits";
  }
  if (s->o->timeout > 0) {
    snprintf(argbuf[31], 96, "%d", s->o->timeout);
    argv[a++] = "--timeout";
    argv[a++] = argbuf[31];
  }
  argv[a++] = "--json";
  argv[a++] = json_path;
  argv[a++] = "--quiet";
  argv[a] = NULL;
  return 0;
}

#define REFVMM_DEFAULT_TIMEOUT_S 300 /* refvmm --help */
#define BACKSTOP_S               60  /* past refvmm's own limit: refvmm hangs */

/* Run one job; the run object (new; *ctx: refvmm's context, new, or NULL)
 * or NULL when a stop signal ended it. *code: refvmm's exit status (128 +
 * signal, -1 when it could not start). */
static json_t *run_job(const struct run_session *s, const struct matrix_config *cfg, unsigned rep,
                       int *code, json_t **ctx, const char *log_path) {
  const struct matrix *m = &s->p->m;
  const struct matrix_workload *w = &m->workloads[cfg->workload];
  const struct matrix_mode *md = &m->modes[cfg->mode];
  char img[4200], json_path[4200], argbuf[32][96], cmdline[2048];
  const char *argv[80];
  snprintf(json_path, sizeof(json_path), "%s/run.json", s->tmpdir);
  unlink(json_path);
  *ctx = NULL;
  if (job_argv(s, cfg, argv, argbuf, img, sizeof(img), json_path, cmdline, sizeof(cmdline))) {
    *code = VTB_EXIT_USAGE;
    json_t *run =
        json_pack("{s:s,s:O,s:s,s:s,s:s}", "workload", w->name, "params", w->params, "backend",
                  m->backends[cfg->backend], "status", "error", "status_detail", cmdline);
    json_object_set_new(run, "repetition", json_integer(rep));
    json_object_set_new(run, "config", json_string(cfg->key));
    return run;
  }
  struct spawn_opts so = {
      .argv = argv,
      .out_file = log_path,
      .err_to_out = true,
      .pin = s->o->cpu >= 0,
      .cpu = s->o->cpu,
      .timeout_s = (s->o->timeout > 0 ? s->o->timeout : REFVMM_DEFAULT_TIMEOUT_S) + BACKSTOP_S,
      .stop = stop_cb,
  };
  struct spawn_result r;
  char detail[600] = "";
  if (spawn__run(&so, &r)) {
    snprintf(detail, sizeof(detail), "cannot run %.400s: %s", s->p->refvmm, strerror(r.error));
    *code = -1;
  } else {
    if (run_exec__stopped()) return NULL;
    *code = r.status;
  }

  json_t *run = NULL;
  char err[512];
  json_t *doc = access(json_path, R_OK) ? NULL : result_doc__read(json_path, err, sizeof(err));
  if (doc && json_array_size(json_object_get(doc, "runs")))
    run = json_deep_copy(json_array_get(json_object_get(doc, "runs"), 0));
  /* Facts only refvmm knows (tsc_hz, pmu, ...) join the session context. */
  if (run && doc) *ctx = json_incref(json_object_get(doc, "context"));
  json_decref(doc);
  if (!run) {
    if (!detail[0] && r.how == SPAWN_TIMED_OUT)
      snprintf(detail, sizeof(detail),
               "refvmm did not stop at its own time limit: vtbench ended it (%s)",
               spawn__describe(&r, err, sizeof(err)));
    else if (!detail[0])
      log_tail(log_path, detail, sizeof(detail));
    int c = *code < 0 ? 127 : *code;
    run = json_pack("{s:s,s:O,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:i,s:s}", "workload", w->name, "params",
                    w->params, "backend", m->backends[cfg->backend], "modes", "paging", md->paging,
                    "tlb", md->tlb, "nmi", md->nmi, "irq", md->irq, "status",
                    r.how == SPAWN_TIMED_OUT ? "timeout"
                    : r.how == SPAWN_KILLED  ? "killed"
                                             : status_word(*code),
                    "exit_code", c > 255 ? 255 : c, "status_detail",
                    detail[0] ? detail : "no output");
  }
  if (!json_object_get(run, "exit_code") && *code >= 0 && *code <= 255)
    json_object_set_new(run, "exit_code", json_integer(*code));
  json_object_set_new(run, "repetition", json_integer(rep));
  json_object_set_new(run, "config", json_string(cfg->key));
  return run;
}

/* ---- the jobs of one group ----------------------------------------------- */
static json_t *plan_json(const struct kvm_host_plan *p) {
  json_t *params = json_object();
  for (int i = 0; i < p->n; i++)
    json_object_set_new(params, p->set[i].name, json_string(p->set[i].value));
  return json_pack("{s:s,s:o}", "module", p->module, "params", params);
}

/* Merge refvmm's context facts the session context lacks. */
static void take_context(json_t *doc, json_t *rctx) {
  json_t *ctx = json_object_get(doc, "context");
  const char *k;
  json_t *v;
  json_object_foreach(rctx, k, v) if (!json_object_get(ctx, k)) json_object_set(ctx, k, v);
}

/* The jobs of one group, in the matrix's interleaved order. */
static int run_group(struct run_session *S, size_t group) {
  const struct run_plan *P = S->p;
  int rc = VTB_EXIT_OK;
  char log[4200];
  snprintf(log, sizeof(log), "%s/run.log", S->tmpdir);
  for (size_t i = 0; i < P->njobs && rc == VTB_EXIT_OK && !run_exec__stopped(); i++) {
    const struct matrix_job *jb = &P->jobs[i];
    const struct matrix_config *cfg = &P->cfgs[jb->config];
    if (P->cfg_group[jb->config] != group) continue;
    if (S->backend_off[cfg->backend] || S->cfg_off[jb->config]) continue;
    if (!run_todo__needed(&S->todo, jb, P->cfgs)) {
      S->skipped += !jb->warmup;
      continue;
    }
    run_progress__show(&S->progress, cfg->key, jb->warmup, jb->rep);
    int code = 0;
    json_t *rctx;
    json_t *run = run_job(S, cfg, jb->rep, &code, &rctx, log);
    if (!run) break; /* stopped: drop this run */
    S->progress.done++;
    if (rctx) take_context(S->doc, rctx);
    json_decref(rctx);
    const char *status = json_string_value(json_object_get(run, "status"));
    if ((code == EXIT_UNSUPPORTED || code == EXIT_HOST || code == EXIT_USAGE) &&
        mentions_not_built(log)) {
      char tail[600];
      log_tail(log, tail, sizeof(tail));
      msg__note("refvmm cannot run the %s backend here (%s): skipping it",
                P->m.backends[cfg->backend], tail);
      S->backend_off[cfg->backend] = true;
      S->progress.todo -=
          1 + run_todo__remaining(&S->todo, P->jobs, P->njobs, i, P->cfgs, cfg->backend, SIZE_MAX);
      S->progress.done--;
      json_decref(run);
      continue;
    }
    if (code == EXIT_UNSUPPORTED) {
      const char *d = json_string_value(json_object_get(run, "status_detail"));
      msg__note("%s: unsupported here (%s): skipping its other runs", cfg->key,
                d ? d : "refvmm exit 5");
      S->cfg_off[jb->config] = true;
      S->progress.todo -=
          run_todo__remaining(&S->todo, P->jobs, P->njobs, i, P->cfgs, SIZE_MAX, jb->config);
    }
    if (jb->warmup && code != EXIT_UNSUPPORTED) {
      json_decref(run);
      continue;
    }
    if (!status || strcmp(status, "ok")) S->failed++;
    if (group) /* what the host's module was reloaded with for this run */
      json_object_set_new(run, "host_reconfig", plan_json(&P->plans[group - 1]));
    result_doc__add_run(S->doc, run);
    run_todo__record(&S->todo, jb, P->cfgs);
    json_object_set_new(json_object_get(S->doc, "session"), "jobs_done",
                        json_integer((json_int_t)json_array_size(json_object_get(S->doc, "runs"))));
    /* every run kept at once; the aggregates (bootstrap intervals over all
     * runs) only when the session ends */
    if (run_exec__save(S->doc, S->o->out, "incomplete", S->o->baseline, false)) rc = VTB_EXIT_IO;
  }
  return rc;
}

struct group_arg {
  struct run_session *s;
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
static int run_reconfigured(struct run_session *S, size_t g) {
  const struct run_plan *P = S->p;
  const struct kvm_host_plan *hp = &P->plans[g - 1];
  char plan[256], msg[1024] = "";
  matrix__plan_str(hp, plan, sizeof(plan));
  size_t ncfg = 0;
  for (size_t i = 0; i < P->njobs; i++)
    ncfg += !P->jobs[i].warmup && P->jobs[i].rep == 0 && P->cfg_group[P->jobs[i].config] == g;
  msg__info("reloading %s for %zu configuration%s", plan, ncfg, ncfg == 1 ? "" : "s");
  struct group_arg ga = {S, g};
  int rc = kvm_host__with_config(&P->host.env, hp, run_group_cb, &ga, msg, sizeof(msg));
  char spbuf[512];
  const char *sp =
      P->host.env.state_path ? P->host.env.state_path : kvm_host__default_state_path(spbuf, 512);
  bool restored = access(sp, F_OK) != 0;
  json_t *session = json_object_get(S->doc, "session");
  json_t *log = json_object_get(session, "host_reconfig");
  if (!json_is_array(log)) {
    log = json_array();
    json_object_set_new(session, "host_reconfig", log);
  }
  json_array_append_new(log, json_pack("{s:o,s:I,s:s,s:s}", "plan", plan_json(hp), "configurations",
                                       (json_int_t)ncfg, "result",
                                       !restored ? "restore_failed"
                                       : rc < 0  ? "not_reconfigured"
                                                 : "restored",
                                       "message", msg));
  msg__info("%s: %s", plan, msg);
  if (!restored) {
    msg__error("the host's KVM module was NOT restored: run `vtbench host restore` (state in %s); "
               "stopping",
               sp);
    return VTB_EXIT_FAILED;
  }
  if (rc < 0) { /* not reconfigured: none of the group ran; the others may */
    for (size_t i = 0; i < P->njobs; i++) {
      const struct matrix_job *jb = &P->jobs[i];
      if (P->cfg_group[jb->config] != g || S->cfg_off[jb->config]) continue;
      S->progress.todo -= run_todo__needed(&S->todo, jb, P->cfgs);
    }
    return VTB_EXIT_OK;
  }
  return rc;
}

int run_exec__all(struct run_session *S) {
  int rc = run_group(S, 0);
  for (size_t g = 1; g <= S->p->nplans && rc == VTB_EXIT_OK && !run_exec__stopped(); g++)
    rc = run_reconfigured(S, g);
  return rc;
}
