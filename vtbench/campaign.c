/* campaign.c - the campaign directory and the state of its shards
 * (campaign.h). */
#include "campaign.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "doc_stream.h"
#include "msg.h"
#include "output_lock.h"

int campaign__load(struct campaign *c, const char *dir, char *err, size_t len) {
  memset(c, 0, sizeof(*c));
  char path[PATH_MAX + 32];
  if (!realpath(dir, c->dir))
    return msg__fail(err, len,
                     "%s: not a campaign directory (%s): create it with vtbench campaign "
                     "init %s --shards N ...",
                     dir, strerror(errno), dir);
  snprintf(path, sizeof(path), "%s/campaign.json", c->dir);
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) {
    if (access(path, F_OK))
      return msg__fail(err, len,
                       "%s: not a campaign directory (no campaign.json): create it with "
                       "vtbench campaign init %s --shards N ...",
                       dir, dir);
    return msg__fail(err, len, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
  }
  json_int_t n = json_integer_value(json_object_get(j, "shards"));
  json_t *margs = json_object_get(j, "matrix_options"), *rargs = json_object_get(j, "run_options");
  size_t k;
  json_t *a;
  bool ok = json_is_array(margs) && json_is_array(rargs) && n >= 1 && n <= CAMPAIGN_SHARDS_MAX;
  json_array_foreach(margs, k, a) ok &= json_is_string(a);
  json_array_foreach(rargs, k, a) ok &= json_is_string(a);
  const char *name = json_string_value(json_object_get(json_object_get(j, "campaign"), "name"));
  if (!ok || !name || strcmp(name, "vtbench-campaign")) {
    json_decref(j);
    return msg__fail(err, len,
                     "%s: not a vtbench campaign (expected campaign.name \"vtbench-campaign\", "
                     "shards 1..%d, matrix_options and run_options [strings])",
                     path, CAMPAIGN_SHARDS_MAX);
  }
  c->shards = (unsigned)n;
  c->matrix_args = json_incref(margs);
  c->run_args = json_incref(rargs);
  json_decref(j);
  return 0;
}

void campaign__free(struct campaign *c) {
  json_decref(c->matrix_args);
  json_decref(c->run_args);
  c->matrix_args = c->run_args = NULL;
}

int campaign__check_site(const char *site, char *err, size_t len) {
  size_t n = strlen(site);
  bool ok = n > 0 && n < CAMPAIGN_SITE_MAX && isalnum((unsigned char)site[0]) &&
            strspn(site, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
  if (!ok)
    return msg__fail(err, len,
                     "site \"%s\": expected a name of letters, digits, '.', '_' and '-' (at most "
                     "%d, starting with a letter or digit)",
                     site, CAMPAIGN_SITE_MAX - 1);
  if (!strcmp(site, "report"))
    return msg__fail(err, len, "site \"report\": the name of the campaign's report directory");
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *campaign__sites(const struct campaign *c) {
  json_t *out = json_array();
  DIR *d = opendir(c->dir);
  if (!d || !out) {
    if (d) closedir(d);
    return out;
  }
  char *names[256];
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d)) && n < 256;) {
    char p[PATH_MAX + 300], err[128];
    struct stat st;
    if (campaign__check_site(e->d_name, err, sizeof(err))) continue;
    snprintf(p, sizeof(p), "%s/%s/shards", c->dir, e->d_name);
    bool site = !stat(p, &st) && S_ISDIR(st.st_mode);
    snprintf(p, sizeof(p), "%s/%s/tasks", c->dir, e->d_name);
    site |= !stat(p, &st) && S_ISDIR(st.st_mode);
    if (site && (names[n] = strdup(e->d_name))) n++;
  }
  closedir(d);
  qsort(names, n, sizeof(*names), by_name);
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(out, json_string(names[i]));
    free(names[i]);
  }
  return out;
}

void campaign__shard_doc(const struct campaign *c, const char *site, unsigned i, char *buf,
                         size_t len) {
  snprintf(buf, len, "%s/%s/shards/shard-%u.json", c->dir, site, i);
}

void campaign__task_file(const struct campaign *c, const char *site, unsigned i, char *buf,
                         size_t len) {
  snprintf(buf, len, "%s/%s/tasks/shard-%u.json", c->dir, site, i);
}

void campaign__merged_doc(const struct campaign *c, const char *site, char *buf, size_t len) {
  snprintf(buf, len, "%s/%s/merged-%s.json", c->dir, site, site);
}

static int make_dir(const char *p, char *err, size_t len) {
  if (mkdir(p, 0755) && errno != EEXIST) return msg__fail(err, len, "%s: %s", p, strerror(errno));
  return 0;
}

int campaign__make_site(const struct campaign *c, const char *site, char *err, size_t len) {
  static const char *const sub[] = {"", "/shards", "/tasks", "/logs"};
  for (size_t k = 0; k < sizeof(sub) / sizeof(sub[0]); k++) {
    char p[PATH_MAX + 100];
    snprintf(p, sizeof(p), "%s/%s%s", c->dir, site, sub[k]);
    if (make_dir(p, err, len)) return -1;
  }
  return 0;
}

/* ---- shard lists ------------------------------------------------------------ */

static int parse_num(const char **p, unsigned n, unsigned *out) {
  if (!isdigit((unsigned char)**p)) return -1;
  unsigned long v = 0;
  while (isdigit((unsigned char)**p)) {
    v = v * 10 + (unsigned long)(*(*p)++ - '0');
    if (v > n) return -1;
  }
  *out = (unsigned)v;
  return v >= 1 ? 0 : -1;
}

int campaign__parse_list(const char *s, unsigned n, bool *sel, char *err, size_t len) {
  memset(sel, 0, (n + 1) * sizeof(*sel));
  const char *p = s;
  do {
    unsigned a, b;
    if (parse_num(&p, n, &a)) goto bad;
    b = a;
    if (*p == '-') {
      p++;
      if (parse_num(&p, n, &b) || b < a) goto bad;
    }
    for (unsigned k = a; k <= b; k++)
      sel[k] = true;
  } while (*p++ == ',');
  if (p[-1] == '\0') return 0;
bad:
  return msg__fail(err, len,
                   "shard list \"%s\": expected shard numbers 1..%u, ranges and commas (e.g. 2 or "
                   "1-3,5)",
                   s, n);
}

void campaign__list_str(const bool *sel, unsigned n, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (unsigned k = 1; k <= n && off < len; k++) {
    if (!sel[k]) continue;
    unsigned e = k;
    while (e < n && sel[e + 1])
      e++;
    if (e == k)
      off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? "," : "", k);
    else
      off += (size_t)snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", k, e);
    k = e;
  }
}

/* ---- shard state ------------------------------------------------------------- */

const char *campaign__state_name(enum shard_state st) {
  switch (st) {
  case SHARD_NOT_RUN:
    return "not run";
  case SHARD_RUNNING:
    return "running";
  case SHARD_COMPLETE:
    return "complete";
  case SHARD_PARTIAL:
    return "interrupted";
  case SHARD_FAILED:
    return "failed";
  }
  return "?";
}

static void copy_str(char *dst, size_t len, const json_t *v) {
  snprintf(dst, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

void campaign__classify(struct shard_info *s, const json_t *doc_env, bool locked,
                        const json_t *record) {
  const json_t *session = json_object_get(doc_env, "session");
  s->have_doc = doc_env != NULL;
  copy_str(s->doc_status, sizeof(s->doc_status), json_object_get(session, "status"));
  const json_t *jt = json_object_get(session, "jobs_total");
  s->jobs_total = json_is_integer(jt) ? (long long)json_integer_value(jt) : -1;
  const json_t *att = json_object_get(record, "attempts");
  s->attempts = (unsigned)json_array_size(att);
  s->exit_status = -1;
  s->ended = false;
  s->how[0] = s->host[0] = s->started[0] = s->log[0] = s->sched[0] = '\0';
  if (s->attempts) {
    const json_t *a = json_array_get(att, s->attempts - 1);
    const json_t *ex = json_object_get(a, "exit_status");
    s->ended = json_is_integer(ex);
    if (s->ended) s->exit_status = (int)json_integer_value(ex);
    copy_str(s->how, sizeof(s->how), json_object_get(a, "how"));
    copy_str(s->host, sizeof(s->host), json_object_get(a, "host"));
    copy_str(s->started, sizeof(s->started), json_object_get(a, "started"));
    copy_str(s->log, sizeof(s->log), json_object_get(a, "log"));
    copy_str(s->sched, sizeof(s->sched), json_object_get(a, "scheduler"));
  }
  if (locked)
    s->state = SHARD_RUNNING;
  else if (s->have_doc)
    s->state = strcmp(s->doc_status, "complete") ? SHARD_PARTIAL : SHARD_COMPLETE;
  else
    s->state = s->attempts ? SHARD_FAILED : SHARD_NOT_RUN;
}

struct count_ctx {
  size_t runs, bad;
};

static int count_run(json_t *run, size_t index, void *arg, char *err, size_t len) {
  (void)index, (void)err, (void)len;
  struct count_ctx *c = arg;
  const char *st = json_string_value(json_object_get(run, "status"));
  c->runs++;
  if (!st || strcmp(st, "ok")) c->bad++;
  return 0;
}

/* Whether another process holds the lock of `doc` (vtbench run writes it).
 * A live writer always has DOC.lock; without one nothing is taken here. */
static bool doc_locked(const char *doc) {
  char lp[PATH_MAX + 128], err[256];
  snprintf(lp, sizeof(lp), "%s.lock", doc);
  if (access(lp, F_OK)) return false;
  struct output_lock l = {.fd = -1};
  int r = output_lock__take(&l, doc, err, sizeof(err));
  if (r == 0) output_lock__release(&l);
  return r == 1;
}

int campaign__shard_info(const struct campaign *c, const char *site, unsigned i,
                         struct shard_info *s, char *err, size_t len) {
  char doc[PATH_MAX + 64], task[PATH_MAX + 64];
  memset(s, 0, sizeof(*s));
  s->i = i;
  s->n = c->shards;
  campaign__shard_doc(c, site, i, doc, sizeof(doc));
  campaign__task_file(c, site, i, task, sizeof(task));
  json_t *env = NULL, *rec = json_load_file(task, 0, NULL);
  struct stat st;
  struct count_ctx cc = {0};
  bool locked = doc_locked(doc);
  if (!stat(doc, &st) && st.st_size > 0) {
    env = doc_stream__read(doc, count_run, &cc, NULL, err, len);
    if (!env && !locked) {
      json_decref(rec);
      return -1;
    }
  }
  s->runs = cc.runs;
  s->runs_bad = cc.bad;
  campaign__classify(s, env, locked, rec);
  json_decref(env);
  json_decref(rec);
  return 0;
}

void campaign__describe(const struct shard_info *s, char *buf, size_t len) {
  char total[48] = "", att[PATH_MAX + 1024] = "";
  if (s->jobs_total >= 0) snprintf(total, sizeof(total), " of %lld", s->jobs_total);
  if (s->attempts) {
    size_t o = (size_t)snprintf(att, sizeof(att), "attempt %u on %s", s->attempts,
                                s->host[0] ? s->host : "an unknown host");
    if (s->state != SHARD_RUNNING && o < sizeof(att))
      o += (size_t)snprintf(att + o, sizeof(att) - o,
                            s->ended ? ": %s"
                                     : ": ended without a "
                                       "record (killed by SIGKILL, or its node went down)",
                            s->how);
    if (s->state == SHARD_RUNNING && s->started[0] && o < sizeof(att))
      o += (size_t)snprintf(att + o, sizeof(att) - o, " since %s", s->started);
    if (s->sched[0] && o < sizeof(att))
      o += (size_t)snprintf(att + o, sizeof(att) - o, ", %s", s->sched);
    if (s->log[0] && s->state != SHARD_COMPLETE && o < sizeof(att))
      snprintf(att + o, sizeof(att) - o, "; log %s", s->log);
  }
  char bad[48] = "";
  if (s->runs_bad) snprintf(bad, sizeof(bad), ", %zu not ok", s->runs_bad);
  switch (s->state) {
  case SHARD_NOT_RUN:
    snprintf(buf, len, "shard %u/%u: not run", s->i, s->n);
    break;
  case SHARD_RUNNING:
    snprintf(buf, len, "shard %u/%u: running, %zu%s runs so far (%s)", s->i, s->n, s->runs, total,
             att[0] ? att : "no task record: started by hand?");
    break;
  case SHARD_COMPLETE:
    snprintf(buf, len, "shard %u/%u: complete, %zu runs%s%s%s%s", s->i, s->n, s->runs, bad,
             att[0] ? " (" : "", att, att[0] ? ")" : "");
    break;
  case SHARD_PARTIAL:
    snprintf(buf, len, "shard %u/%u: interrupted after %zu%s runs%s (%s)", s->i, s->n, s->runs,
             total, bad, att[0] ? att : "no task record");
    break;
  case SHARD_FAILED:
    snprintf(buf, len, "shard %u/%u: failed, no document written (%s)", s->i, s->n, att);
    break;
  }
}

/* ---- hosts ---------------------------------------------------------------------- */

static const char *str_at(const json_t *j, const char *a, const char *b, const char *c) {
  const json_t *v = json_object_get(j, a);
  if (b) v = json_object_get(v, b);
  if (c) v = json_object_get(v, c);
  return json_is_string(v) ? json_string_value(v) : "?";
}

void campaign__host_of(const json_t *ctx, char *buf, size_t len) {
  snprintf(buf, len, "%s: %s, kernel %s, %s %s/%s", str_at(ctx, "host", NULL, NULL),
           str_at(ctx, "cpu", "model_name", NULL), str_at(ctx, "kernel", "release", NULL),
           str_at(ctx, "kvm", "flavour", NULL), str_at(ctx, "kvm", "modes", "paging"),
           str_at(ctx, "kvm", "modes", "tlb"));
}

/* ---- small helpers ------------------------------------------------------------- */

void campaign__now(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int campaign__write_json(const json_t *j, const char *path, char *err, size_t len) {
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, path);
  if (!f) return msg__fail(err, len, "%s: cannot write: %s", path, strerror(errno));
  if (json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
    atomic_file__abort(&af);
    return msg__fail(err, len, "%s: cannot write: out of memory", path);
  }
  fputc('\n', f);
  if (atomic_file__commit(&af))
    return msg__fail(err, len, "%s: cannot write: %s", path, strerror(errno));
  return 0;
}

int campaign__self(char *buf, size_t len) {
  ssize_t n = readlink("/proc/self/exe", buf, len - 1);
  if (n <= 0 || (size_t)n >= len - 1) return -1;
  buf[n] = '\0';
  return 0;
}
