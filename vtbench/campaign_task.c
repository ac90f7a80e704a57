/* campaign_task.c - one attempt at one shard (campaign__run_shard): what a
 * Slurm array task or a GNU parallel job runs.
 *
 * A complete document is a finished shard, also when some of its runs are
 * not ok (vtbench run's exit 1: their records are results): the task then
 * exits 0, so a scheduler counts it done.
 *
 * The attempt is recorded before vtbench run starts (host, pid, time, the
 * scheduler's job) and again when it ends (exit status, runs kept), in
 * DIR/SITE/tasks/shard-I.json, written atomically: an attempt killed with
 * SIGKILL stays recorded as started and never ended, which is how status
 * tells a killed task from a running one (together with the document's
 * lock). The document itself is vtbench run's: rewritten atomically after
 * every run, so a killed attempt loses at most the run in progress and the
 * next attempt resumes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign.h"
#include "commands.h"
#include "doc_stream.h"
#include "msg.h"
#include "spawn.h"

/* The scheduler's name for this task, from its environment. */
static void scheduler_of(char *buf, size_t len) {
  const char *aj = getenv("SLURM_ARRAY_JOB_ID"), *at = getenv("SLURM_ARRAY_TASK_ID");
  const char *j = getenv("SLURM_JOB_ID"), *seq = getenv("PARALLEL_SEQ");
  if (aj && at)
    snprintf(buf, len, "slurm job %s_%s", aj, at);
  else if (j)
    snprintf(buf, len, "slurm job %s", j);
  else if (seq)
    snprintf(buf, len, "parallel job %s", seq);
  else
    buf[0] = '\0';
}

/* The document's session.status, "" when there is none, NULL when it cannot
 * be read (err says why). */
static const char *doc_status(const char *doc, char *buf, size_t blen, char *err, size_t len) {
  struct stat st;
  buf[0] = '\0';
  if (stat(doc, &st) || st.st_size == 0) return buf;
  json_t *env = doc_stream__read(doc, NULL, NULL, NULL, err, len);
  if (!env) return NULL;
  const char *s = json_string_value(json_object_get(json_object_get(env, "session"), "status"));
  snprintf(buf, blen, "%s", s ? s : "unknown");
  json_decref(env);
  return buf;
}

static size_t doc_runs(const char *doc) {
  char err[256];
  size_t n = 0;
  json_t *env = doc_stream__read(doc, NULL, NULL, &n, err, sizeof(err));
  json_decref(env);
  return env ? n : 0;
}

int campaign__run_shard(const struct campaign *c, const char *site, unsigned i) {
  char err[1024], doc[PATH_MAX + 64], task[PATH_MAX + 64], log[PATH_MAX + 64], self[PATH_MAX];
  char host[256] = "", now[32], sched[128], shard[32], status[32];
  if (campaign__make_site(c, site, err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_IO;
  }
  if (campaign__self(self, sizeof(self))) {
    msg__error("cannot find this vtbench's executable (/proc/self/exe): %s", strerror(errno));
    return VTB_EXIT_IO;
  }
  campaign__shard_doc(c, site, i, doc, sizeof(doc));
  campaign__task_file(c, site, i, task, sizeof(task));
  snprintf(shard, sizeof(shard), "%u/%u", i, c->shards);
  gethostname(host, sizeof(host) - 1);
  scheduler_of(sched, sizeof(sched));

  json_t *rec = json_load_file(task, 0, NULL);
  if (!json_is_object(rec) || !json_is_array(json_object_get(rec, "attempts"))) {
    json_decref(rec);
    rec = json_pack("{s:s,s:s,s:[]}", "shard", shard, "site", site, "attempts");
  }
  json_t *attempts = json_object_get(rec, "attempts");
  size_t k = json_array_size(attempts) + 1;
  snprintf(log, sizeof(log), "%s/%s/logs/shard-%u.%zu.log", c->dir, site, i, k);

  /* resume what an earlier attempt left; a complete document is done */
  const char *st = doc_status(doc, status, sizeof(status), err, sizeof(err));
  if (!st) {
    msg__error("shard %s (site %s): %s; move it away to run the shard afresh", shard, site, err);
    json_decref(rec);
    return VTB_EXIT_IO;
  }
  bool resume = st[0] != '\0';
  if (!strcmp(st, "complete")) {
    printf("vtbench campaign: shard %s (site %s) is complete already: %s (%zu runs)\n", shard, site,
           doc, doc_runs(doc));
    json_decref(rec);
    return VTB_EXIT_OK;
  }

  campaign__now(now, sizeof(now));
  json_t *a = json_pack("{s:I,s:s,s:I,s:s,s:s,s:b,s:s}", "attempt", (json_int_t)k, "host", host,
                        "pid", (json_int_t)getpid(), "started", now, "scheduler", sched, "resumed",
                        resume, "log", log);
  json_array_append_new(attempts, a);
  if (campaign__write_json(rec, task, err, sizeof(err))) {
    msg__error("%s", err);
    json_decref(rec);
    return VTB_EXIT_IO;
  }

  /* vtbench run OPTIONS --shard I/N -o DOC [--resume] */
  size_t nm = json_array_size(c->matrix_args), nr = json_array_size(c->run_args);
  const char **argv = calloc(nm + nr + 10, sizeof(*argv));
  if (!argv) {
    json_decref(rec);
    return VTB_EXIT_FAILED;
  }
  size_t n = 0;
  argv[n++] = self;
  argv[n++] = "run";
  for (size_t x = 0; x < nr; x++)
    argv[n++] = json_string_value(json_array_get(c->run_args, x));
  if (resume) {
    argv[n++] = "--resume"; /* the matrix and the shard come from the document */
  } else {
    for (size_t x = 0; x < nm; x++)
      argv[n++] = json_string_value(json_array_get(c->matrix_args, x));
    argv[n++] = "--shard";
    argv[n++] = shard;
  }
  argv[n++] = "-o";
  argv[n++] = doc;
  printf("vtbench campaign: shard %s (site %s), attempt %zu on %s%s%s: %s; log %s\n", shard, site,
         k, host, sched[0] ? ", " : "", sched, resume ? "resuming its document" : "starting", log);
  fflush(stdout);

  struct spawn_opts o = {.argv = argv, .out_file = log, .err_to_out = true};
  struct spawn_result r;
  spawn__catch_signals(); /* scancel's SIGTERM: vtbench run saves and ends */
  spawn__run(&o, &r);
  spawn__restore_signals();
  char how[96];
  spawn__describe(&r, how, sizeof(how));
  int rc = r.how == SPAWN_NOT_STARTED ? VTB_EXIT_IO : r.status;
  spawn__result_free(&r);
  free(argv);

  campaign__now(now, sizeof(now));
  size_t runs = doc_runs(doc);
  json_object_set_new(a, "ended", json_string(now));
  json_object_set_new(a, "exit_status", json_integer(rc));
  json_object_set_new(a, "how", json_string(how));
  json_object_set_new(a, "runs", json_integer((json_int_t)runs));
  if (campaign__write_json(rec, task, err, sizeof(err))) msg__error("%s", err);
  json_decref(rec);

  if (!doc_status(doc, status, sizeof(status), err, sizeof(err))) status[0] = '\0';
  printf("vtbench campaign: shard %s (site %s) on %s: %s, %zu runs, document %s -> %s\n", shard,
         site, host, how, runs, status[0] ? status : "not written", doc);
  /* vtbench run's 1: the matrix ran, some runs are not ok (a mode the host
   * refuses, a guest that failed); their records are the shard's results,
   * and the shard is done: nothing to run again */
  if (rc == VTB_EXIT_FAILED && !strcmp(status, "complete")) {
    msg__note("shard %s (site %s): complete; some runs are not ok, their records are in %s", shard,
              site, doc);
    rc = VTB_EXIT_OK;
  }
  if (rc != VTB_EXIT_OK)
    msg__error("shard %s (site %s) ended with %s (log %s); run it again alone and it resumes: "
               "vtbench campaign slurm|parallel %s --site %s --only %u",
               shard, site, how, log, c->dir, site, i);
  return rc;
}
