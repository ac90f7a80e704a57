/* aggregate.c - runs grouped by configuration, metrics, aggregates[]. */
#include "aggregate.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "doc_stream.h"
#include "json_util.h"
#include "msg.h"
#include "stats.h"

static void mode_of(const json_t *run, char *buf, size_t len) {
  const json_t *m = json_object_get(run, "modes");
  const char *p = json_string_value(json_object_get(m, "paging"));
  const char *t = json_string_value(json_object_get(m, "tlb"));
  const char *n = json_string_value(json_object_get(m, "nmi"));
  const char *i = json_string_value(json_object_get(m, "irq"));
  snprintf(buf, len, "%s/%s/%s/%s", p ? p : "?", t ? t : "?", n ? n : "?", i ? i : "?");
}

/* Params as sorted compact JSON, numeric strings turned into numbers so
 * {"n": "1000"} and {"n": 1000} are the same configuration. */
static char *params_text(const json_t *params) {
  json_t *norm = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)params, k, v) {
    double d;
    if (json_is_string(v) && json_util__number(v, &d) && d == floor(d) && d >= 0 && d < 9e15)
      json_object_set_new(norm, k, json_integer((json_int_t)d));
    else
      json_object_set(norm, k, v);
  }
  char *s = json_dumps(norm, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(norm);
  return s;
}

void aggregate__run_key(const json_t *run, char *buf, size_t len) {
  const char *cfg = json_string_value(json_object_get(run, "config"));
  if (cfg) {
    snprintf(buf, len, "%s", cfg);
    return;
  }
  char mode[64];
  mode_of(run, mode, sizeof(mode));
  const json_t *params = json_object_get(run, "params");
  char *p = params ? params_text(params) : NULL;
  const char *b = json_string_value(json_object_get(run, "backend"));
  const char *w = json_string_value(json_object_get(run, "workload"));
  snprintf(buf, len, "%s %s %s %s", b ? b : "?", w ? w : "?", p ? p : "{}", mode);
  free(p);
}

static void flatten(json_t *out, const char *prefix, const json_t *v, int depth) {
  double d;
  if (depth > 4) return;
  if (json_is_object(v)) {
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c) {
      char name[192];
      snprintf(name, sizeof(name), "%s.%s", prefix, k);
      flatten(out, name, c, depth + 1);
    }
  } else if (!json_is_boolean(v) && json_util__number(v, &d)) {
    json_object_set_new(out, prefix, json_real(d));
  }
}

static double num_at(const json_t *v, const char *a, const char *b, const char *c) {
  double d;
  v = json_object_get(v, a);
  if (b) v = json_object_get(v, b);
  if (c) v = json_object_get(v, c);
  return json_util__number(v, &d) ? d : NAN;
}

/* Modeled time and the counters the model plots use, the timed region's
 * where the model gives them (model.timed), else the whole run's. */
static void model_metrics(json_t *m, const json_t *model, const json_t *guest) {
  double ns = num_at(model, "modeled_ns", NULL, NULL), iters;
  if (isnan(ns)) {
    double cyc = num_at(model, "modeled_cycles", NULL, NULL);
    double ghz = num_at(model, "profile", "tsc_ghz", NULL);
    if (!isnan(cyc) && ghz > 0) ns = cyc / ghz;
  }
  if (!isnan(ns)) {
    json_object_set_new(m, "modeled_ns", json_real(ns));
    if (json_util__number(json_object_get(guest, "iterations"), &iters) && iters > 0)
      json_object_set_new(m, "modeled_ns_per_iter", json_real(ns / iters));
  }
  const json_t *t = json_object_get(model, "timed");
  const json_t *src = json_is_object(t) ? t : model;
  double d = num_at(src, "walks", "refs", NULL);
  if (!isnan(d) && !json_object_get(m, "model.walk_refs"))
    json_object_set_new(m, "model.walk_refs", json_real(d));
  double l1d = num_at(src, "tlb", "l1d", "misses"), l1i = num_at(src, "tlb", "l1i", "misses");
  if (isnan(l1d)) l1d = num_at(src, "tlb", "misses", NULL); /* older documents: one figure */
  if (!isnan(l1d))
    json_object_set_new(m, "model.tlb_misses", json_real(l1d + (isnan(l1i) ? 0 : l1i)));
  const json_t *ex = json_object_get(src, "exits");
  if (json_is_object(ex)) {
    double sum = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ex, k, v) if (json_util__number(v, &d)) sum += d;
    json_object_set_new(m, "model.vmx_exits", json_real(sum));
  }
}

json_t *aggregate__run_metrics(const json_t *run) {
  json_t *m = json_object();
  double wall, iters, d;
  const json_t *timed = json_object_get(run, "timed");
  bool have_wall = json_util__number(json_object_get(timed, "wall_ns"), &wall);
  if (have_wall) json_object_set_new(m, "wall_ns", json_real(wall));
  const json_t *guest = json_object_get(run, "guest");
  if (json_util__number(json_object_get(guest, "iterations"), &iters) && iters > 0) {
    json_object_set_new(m, "iterations", json_real(iters));
    if (have_wall) json_object_set_new(m, "ns_per_iter", json_real(wall / iters));
  }
  /* every exit KVM saw (its binary stats), next to the ones refvmm saw */
  const json_t *kx =
      json_object_get(json_object_get(json_object_get(run, "kvm_stats"), "vcpu"), "exits");
  if (json_util__number(json_object_get(kx, "value"), &d))
    json_object_set_new(m, "kvm.exits", json_real(d));
  const json_t *exits = json_object_get(run, "exits");
  if (json_util__number(json_object_get(exits, "total"), &d))
    json_object_set_new(m, "exits.total", json_real(d));
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(exits, "by_reason"), k, v) {
    char name[160];
    if (json_util__number(json_object_get(v, "count"), &d)) {
      snprintf(name, sizeof(name), "exits.%s.count", k);
      json_object_set_new(m, name, json_real(d));
    }
    if (json_util__number(json_object_get(json_object_get(v, "latency_ns"), "p50"), &d)) {
      snprintf(name, sizeof(name), "exits.%s.p50_ns", k);
      json_object_set_new(m, name, json_real(d));
    }
  }
  json_object_foreach(json_object_get(run, "pmu"), k, v) {
    if (!json_is_true(json_object_get(v, "supported"))) continue;
    const json_t *val = json_object_get(v, "scaled");
    if (!val || json_is_null(val)) val = json_object_get(v, "value");
    char name[160];
    snprintf(name, sizeof(name), "pmu.%s", k);
    if (json_util__number(val, &d)) json_object_set_new(m, name, json_real(d));
  }
  const json_t *model = json_object_get(run, "model");
  if (model) flatten(m, "model", model, 0);
  if (json_is_object(model)) model_metrics(m, model, guest);
  const json_t *events = json_object_get(run, "events"); /* NMI/IRQ delivery */
  if (json_is_object(events)) flatten(m, "events", events, 0);
  return m;
}

static void make_label(struct agg_group *g) {
  char buf[96];
  size_t off = (size_t)snprintf(buf, sizeof(buf), "%s", g->workload);
  const char *k;
  json_t *v;
  json_object_foreach(g->params, k, v) {
    if (off >= sizeof(buf)) break;
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *t = json_is_string(v) ? json_string_value(v) : (s ? s : "?");
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s=%s", k, t);
    free(s);
  }
  snprintf(g->label, sizeof(g->label), "%s", buf);
}

int aggregate__init(struct agg_set *s) {
  memset(s, 0, sizeof(*s));
  s->index = json_object();
  s->classes = json_object();
  s->ids = run_ids__new();
  if (!s->index || !s->classes || !s->ids) {
    aggregate__free(s);
    return -1;
  }
  return 0;
}

/* The group of `key`, new when the set has none. NULL out of memory. */
static struct agg_group *group_of(struct agg_set *s, const char *key, const json_t *run) {
  json_t *at = json_object_get(s->index, key);
  if (at) return &s->g[json_integer_value(at)];
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct agg_group *g = realloc(s->g, cap * sizeof(*g));
    if (!g) return NULL;
    s->g = g;
    s->cap = cap;
  }
  struct agg_group *g = &s->g[s->n];
  memset(g, 0, sizeof(*g));
  snprintf(g->key, sizeof(g->key), "%s", key);
  const char *b = json_string_value(json_object_get(run, "backend"));
  const char *w = json_string_value(json_object_get(run, "workload"));
  snprintf(g->backend, sizeof(g->backend), "%s", b ? b : "?");
  snprintf(g->workload, sizeof(g->workload), "%s", w ? w : "?");
  mode_of(run, g->mode, sizeof(g->mode));
  g->params = json_object_get(run, "params");
  g->params = json_is_object(g->params) ? json_incref(g->params) : NULL;
  g->modes = json_incref(json_object_get(run, "modes"));
  g->metrics = json_object();
  g->runs = json_array();
  if (!g->metrics || !g->runs ||
      json_object_set_new(s->index, key, json_integer((json_int_t)s->n))) {
    json_decref(g->params);
    json_decref(g->modes);
    json_decref(g->metrics);
    json_decref(g->runs);
    return NULL;
  }
  make_label(g);
  /* its class: the groups aggregate__baseline compares it with */
  char *p = g->params ? json_dumps(g->params, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
  size_t len = strlen(g->backend) + strlen(g->workload) + (p ? strlen(p) : 4) + 3;
  g->wkey = malloc(len);
  if (g->wkey) snprintf(g->wkey, len, "%s\x1f%s\x1f%s", g->backend, g->workload, p ? p : "null");
  free(p);
  json_t *members = g->wkey ? json_object_get(s->classes, g->wkey) : NULL;
  if (g->wkey && !members) json_object_set_new(s->classes, g->wkey, members = json_array());
  if (!members || json_array_append_new(members, json_integer((json_int_t)s->n))) {
    free(g->wkey);
    json_decref(g->params);
    json_decref(g->modes);
    json_decref(g->metrics);
    json_decref(g->runs);
    return NULL;
  }
  s->n++;
  return g;
}

static int add_sample(struct agg_group *g, const char *metric, double v, unsigned rep) {
  json_t *at = json_object_get(g->metrics, metric);
  size_t i;
  if (at) {
    i = (size_t)json_integer_value(at);
  } else {
    if (g->nsamples == g->cap_samples) {
      size_t cap = g->cap_samples ? g->cap_samples * 2 : 16;
      struct agg_samples *m = realloc(g->samples, cap * sizeof(*m));
      if (!m) return -1;
      g->samples = m;
      g->cap_samples = cap;
    }
    i = g->nsamples;
    if (json_object_set_new(g->metrics, metric, json_integer((json_int_t)i))) return -1;
    memset(&g->samples[i], 0, sizeof(g->samples[i]));
    g->nsamples++;
  }
  struct agg_samples *m = &g->samples[i];
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 8;
    double *v2 = realloc(m->v, cap * sizeof(*v2));
    if (!v2) return -1;
    m->v = v2;
    unsigned *r2 = realloc(m->rep, cap * sizeof(*r2));
    if (!r2) return -1;
    m->rep = r2;
    m->cap = cap;
  }
  m->v[m->n] = v;
  m->rep[m->n++] = rep;
  return 0;
}

/* What the per-run views keep of an ok run (see struct agg_group). */
static void keep_view(struct agg_group *g, const json_t *run) {
  const json_t *events = json_object_get(run, "events");
  size_t kept = json_array_size(g->runs);
  if (kept && (!events || kept >= AGG_EVENT_RUNS_MAX)) return;
  json_t *view = json_object();
  if (events) json_object_set(view, "events", (json_t *)events);
  const json_t *model = json_object_get(run, "model");
  const json_t *bd = json_object_get(model, "breakdown"), *pr = json_object_get(model, "profile");
  if (!kept && (bd || pr)) { /* the profile: the report names it next to modeled figures */
    json_t *mv = json_object();
    if (bd) json_object_set(mv, "breakdown", (json_t *)bd);
    if (pr) json_object_set(mv, "profile", (json_t *)pr);
    json_object_set_new(view, "model", mv);
  }
  json_array_append_new(g->runs, view);
}

int aggregate__add_run(struct agg_set *s, const json_t *run, size_t index) {
  char key[256];
  long long rep_id;
  if (run_ids__of(run, key, sizeof(key), &rep_id)) {
    uint32_t first;
    int d = run_ids__add(s->ids, key, rep_id, (uint32_t)index, &first);
    if (d < 0) return msg__fail(s->error, sizeof(s->error), "out of memory");
    if (d)
      return msg__fail(s->error, sizeof(s->error),
                       "runs[%zu] is runs[%u] again (configuration %s, repetition %lld): a "
                       "document holds each run once (merged the same shard twice?)",
                       index, first, key, rep_id);
  } else {
    aggregate__run_key(run, key, sizeof(key));
  }
  struct agg_group *g = group_of(s, key, run);
  if (!g) return msg__fail(s->error, sizeof(s->error), "out of memory");
  s->nruns++;
  g->nruns++;
  const char *status = json_string_value(json_object_get(run, "status"));
  if (!status || strcmp(status, "ok")) return 0;
  s->nok++;
  g->nok++;
  keep_view(g, run);
  double rep = (double)(g->nok - 1);
  json_util__number(json_object_get(run, "repetition"), &rep);
  json_t *m = aggregate__run_metrics(run);
  const char *k;
  json_t *v;
  int rc = 0;
  json_object_foreach(m, k, v) if (add_sample(g, k, json_real_value(v), (unsigned)rep)) rc = -1;
  json_decref(m);
  return rc ? msg__fail(s->error, sizeof(s->error), "out of memory") : 0;
}

int aggregate__group(const json_t *doc, struct agg_set *out) {
  if (aggregate__init(out)) return -1;
  size_t i;
  json_t *run;
  json_array_foreach(json_object_get(doc, "runs"), i,
                     run) if (aggregate__add_run(out, run, i)) return -1;
  return 0;
}

struct streamed {
  struct agg_set *s;
  void (*observe)(const json_t *run, void *ctx);
  void *ctx;
};

static int add_streamed(json_t *run, size_t index, void *arg, char *err, size_t len) {
  struct streamed *st = arg;
  if (aggregate__add_run(st->s, run, index)) return msg__fail(err, len, "%s", st->s->error);
  if (st->observe) st->observe(run, st->ctx);
  return 0;
}

int aggregate__load_observed(const char *path, struct agg_set *s, json_t **envelope,
                             void (*observe)(const json_t *run, void *ctx), void *ctx, char *err,
                             size_t len) {
  *envelope = NULL;
  if (aggregate__init(s)) return msg__fail(err, len, "%s: out of memory", path);
  struct streamed st = {s, observe, ctx};
  *envelope = doc_stream__read(path, add_streamed, &st, NULL, err, len);
  if (*envelope) return 0;
  int rc = s->error[0] ? AGG_LOAD_DUPLICATE : AGG_LOAD_BAD;
  aggregate__free(s);
  return rc;
}

int aggregate__load(const char *path, struct agg_set *s, json_t **envelope, char *err, size_t len) {
  return aggregate__load_observed(path, s, envelope, NULL, NULL, err, len);
}

void aggregate__reindex(struct agg_set *s) {
  json_object_clear(s->index);
  json_object_clear(s->classes);
  for (size_t i = 0; i < s->n; i++) {
    json_object_set_new(s->index, s->g[i].key, json_integer((json_int_t)i));
    json_t *members = json_object_get(s->classes, s->g[i].wkey);
    if (!members) json_object_set_new(s->classes, s->g[i].wkey, members = json_array());
    json_array_append_new(members, json_integer((json_int_t)i));
  }
}

void aggregate__free(struct agg_set *s) {
  for (size_t i = 0; i < s->n; i++) {
    struct agg_group *g = &s->g[i];
    for (size_t k = 0; k < g->nsamples; k++) {
      free(g->samples[k].v);
      free(g->samples[k].rep);
    }
    free(g->samples);
    json_decref(g->params);
    json_decref(g->modes);
    json_decref(g->metrics);
    json_decref(g->runs);
    free(g->wkey);
  }
  free(s->g);
  json_decref(s->index);
  json_decref(s->classes);
  run_ids__free(s->ids);
  memset(s, 0, sizeof(*s));
}

static const struct agg_samples *samples_of(const struct agg_group *g, const char *metric) {
  json_t *at = json_object_get(g->metrics, metric);
  return at ? &g->samples[json_integer_value(at)] : NULL;
}

size_t agg_group__values(const struct agg_group *g, const char *metric, double **vals,
                         unsigned **reps) {
  const struct agg_samples *m = samples_of(g, metric);
  size_t n = m ? m->n : 0;
  *vals = NULL;
  if (reps) *reps = NULL;
  if (!n) return 0;
  *vals = malloc(n * sizeof(**vals));
  if (reps) *reps = malloc(n * sizeof(**reps));
  if (!*vals || (reps && !*reps)) {
    free(*vals);
    if (reps) free(*reps), *reps = NULL;
    *vals = NULL;
    return 0;
  }
  memcpy(*vals, m->v, n * sizeof(**vals));
  if (reps) memcpy(*reps, m->rep, n * sizeof(**reps));
  return n;
}

const char *agg_group__time_metric(const struct agg_group *g) {
  static const char *const order[] = {"modeled_ns_per_iter", "modeled_ns", "ns_per_iter"};
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
    if (json_object_get(g->metrics, order[i])) return order[i];
  return "wall_ns";
}

int aggregate__is_time_metric(const char *m) {
  return !strcmp(m, "wall_ns") || !strcmp(m, "ns_per_iter") || !strcmp(m, "modeled_ns") ||
         !strcmp(m, "modeled_ns_per_iter");
}

const char *aggregate__time_clock(const char *m) {
  return strncmp(m, "modeled_", 8) ? "wall" : "modeled";
}

const char *aggregate__time_per(const char *m) {
  return strstr(m, "per_iter") ? "iteration" : "run";
}

static bool same_workload(const struct agg_group *a, const struct agg_group *b) {
  if (strcmp(a->backend, b->backend) || strcmp(a->workload, b->workload)) return false;
  if (!a->params || !b->params) return a->params == b->params;
  return json_equal(a->params, b->params);
}

/* Order of modes from "everything off" up: native < shadow < ept, then
 * flush < vpid, poll < window for nmi and irq. */
static int mode_rank(const char *mode) {
  static const char *const words[4][3] = {{"native", "shadow", "ept"},
                                          {"flush", "vpid", NULL},
                                          {"poll", "window", NULL},
                                          {"poll", "window", NULL}};
  char buf[64], *save = NULL;
  snprintf(buf, sizeof(buf), "%s", mode);
  int rank = 0, axis = 0;
  for (char *t = strtok_r(buf, "/", &save); t && axis < 4; t = strtok_r(NULL, "/", &save), axis++) {
    int v = 3;
    for (int i = 0; i < 3; i++)
      if (words[axis][i] && !strcmp(words[axis][i], t)) v = i;
    rank = rank * 4 + v;
  }
  return rank;
}

const struct agg_group *aggregate__baseline(const struct agg_set *s, const struct agg_group *g,
                                            const char *baseline) {
  const struct agg_group *best = NULL;
  const json_t *members = json_object_get(s->classes, g->wkey); /* the candidates, in order */
  size_t k;
  json_t *at;
  json_array_foreach(members, k, at) {
    const struct agg_group *c = &s->g[json_integer_value(at)];
    if (!same_workload(c, g) || !c->nok) continue;
    if (baseline) {
      if (!strcmp(c->mode, baseline)) best = c;
    } else if (!best || mode_rank(c->mode) < mode_rank(best->mode)) {
      best = c; /* native on the model; the least-featured mode elsewhere */
    }
  }
  return best == g ? NULL : best;
}

int aggregate__ratio(const struct agg_set *s, const struct agg_group *g, const char *baseline,
                     double *ratio, double *lo, double *hi, const char **base_mode) {
  const struct agg_group *b = aggregate__baseline(s, g, baseline);
  const char *metric = agg_group__time_metric(g);
  double *v = NULL, *bv = NULL;
  size_t n;
  /* The model's overheads are against native: where no native group was
   * measured, refvmm's in-run native baseline (ept/shadow model runs)
   * comes before a less-featured virtualized mode. */
  if ((!b || strncmp(b->mode, "native/", 7)) && strncmp(g->mode, "native/", 7) &&
      (!baseline || !strncmp(baseline, "native", 6)) &&
      (n = agg_group__values(g, "model.overhead_vs_native.ratio", &v, NULL))) {
    int bad = stats__bootstrap_median_ci(v, n, STATS_BOOT_B, 0.95, STATS_SEED, lo, hi);
    *ratio = stats__median(v, n);
    free(v);
    if (!bad) {
      *base_mode = "native (refvmm's baseline run)";
      return 0;
    }
  }
  n = agg_group__values(g, metric, &v, NULL);
  size_t nb = b ? agg_group__values(b, metric, &bv, NULL) : 0;
  int rc = -1;
  if (n && nb && !stats__ratio_ci(v, n, bv, nb, STATS_BOOT_B, STATS_SEED, ratio, lo, hi)) {
    *base_mode = b->mode;
    rc = 0;
  }
  free(v);
  free(bv);
  return rc;
}

/* Counters the plots show per guest iteration (export.c: the model's page
 * walks and TLB misses, and the exits of the model-vs-KVM plot). */
static const char *const per_iter_metrics[] = {"model.walk_refs", "model.tlb_misses", "kvm.exits",
                                               "exits.total", "model.vmx_exits"};
#define PER_ITER_N (sizeof(per_iter_metrics) / sizeof(per_iter_metrics[0]))

/* The time metrics a ratio to the baseline is computed for. */
static const char *const time_metrics[] = {"modeled_ns_per_iter", "modeled_ns", "ns_per_iter",
                                           "wall_ns"};

/* The intervals to compute before anything asks: medians of single
 * samples, and ratios of a sample to a base. The draws depend only on the
 * sizes, so every job of one size (one pair of sizes) shares them, across
 * configurations: jobs are sorted by size and cut into tasks of at most
 * PREP_CHUNK members, which threads take one by one. */
#define PREP_CHUNK 128

struct prep_job {
  const double *x, *base; /* base NULL: a median */
  size_t nx, nb;
};

struct prep {
  struct prep_job *j;
  size_t n, cap;
  double **owned; /* derived samples (per iteration) freed at the end */
  size_t nowned, capowned;
};

static void prep_add(struct prep *p, const double *x, size_t nx, const double *base, size_t nb) {
  if (!nx || (base && !nb)) return;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 256;
    struct prep_job *j = realloc(p->j, cap * sizeof(*j));
    if (!j) return; /* not prepared: computed when asked */
    p->j = j;
    p->cap = cap;
  }
  p->j[p->n++] = (struct prep_job){x, base, nx, base ? nb : 0};
}

static double *prep_own(struct prep *p, size_t n) {
  if (p->nowned == p->capowned) {
    size_t cap = p->capowned ? p->capowned * 2 : 64;
    double **o = realloc(p->owned, cap * sizeof(*o));
    if (!o) return NULL;
    p->owned = o;
    p->capowned = cap;
  }
  double *x = malloc(n * sizeof(*x));
  if (x) p->owned[p->nowned++] = x;
  return x;
}

/* The time metric of two groups the savings compare (one switch apart). */
static bool one_switch_apart(const struct agg_group *a, const struct agg_group *b) {
  if (!same_workload(a, b) || a == b) return false;
  int differ = 0;
  const char *pa = a->mode, *pb = b->mode;
  for (int axis = 0; axis < 4; axis++) {
    size_t la = strcspn(pa, "/"), lb = strcspn(pb, "/");
    differ += la != lb || strncmp(pa, pb, la);
    pa += la + (pa[la] == '/');
    pb += lb + (pb[lb] == '/');
  }
  return differ == 1;
}

static void collect(struct prep *p, const struct agg_set *s, const struct agg_group *g,
                    const char *baseline) {
  for (size_t a = 0; a < g->nsamples; a++) /* every metric's median */
    prep_add(p, g->samples[a].v, g->samples[a].n, NULL, 0);
  const struct agg_samples *it = samples_of(g, "iterations");
  for (size_t d = 0; it && d < PER_ITER_N; d++) { /* the plots' per-iteration counters */
    const struct agg_samples *c = samples_of(g, per_iter_metrics[d]);
    double *v = c && c->n == it->n ? prep_own(p, c->n) : NULL;
    if (!v) continue;
    for (size_t k = 0; k < c->n; k++) /* as export.c's per_iter() divides */
      v[k] = it->v[k] > 0 ? c->v[k] / it->v[k] : NAN;
    prep_add(p, v, c->n, NULL, 0);
  }
  const struct agg_group *base = aggregate__baseline(s, g, baseline);
  for (size_t t = 0; base && t < sizeof(time_metrics) / sizeof(time_metrics[0]); t++) {
    const struct agg_samples *x = samples_of(g, time_metrics[t]),
                             *b = samples_of(base, time_metrics[t]);
    if (x && b) prep_add(p, x->v, x->n, b->v, b->n);
  }
  /* the savings' one-switch pairs, both ways (savings.c picks the direction) */
  const char *tm = agg_group__time_metric(g);
  const struct agg_samples *x = samples_of(g, tm);
  size_t k;
  json_t *at;
  json_array_foreach(x ? json_object_get(s->classes, g->wkey) : NULL, k, at) {
    const struct agg_group *o = &s->g[json_integer_value(at)];
    const struct agg_samples *b = samples_of(o, tm);
    if (b && one_switch_apart(g, o)) prep_add(p, x->v, x->n, b->v, b->n);
  }
}

static int cmp_job(const void *a, const void *b) {
  const struct prep_job *x = a, *y = b;
  if ((x->base != NULL) != (y->base != NULL)) return x->base ? 1 : -1;
  if (x->nx != y->nx) return x->nx < y->nx ? -1 : 1;
  return (x->nb > y->nb) - (x->nb < y->nb);
}

struct prep_tasks {
  const struct prep *p;
  size_t *start; /* task k: jobs [start[k], start[k + 1]) */
  size_t n;
  atomic_size_t next;
};

static void *prep_worker(void *arg) {
  struct prep_tasks *t = arg;
  const double **xs = malloc(PREP_CHUNK * sizeof(*xs)), **bs = malloc(PREP_CHUNK * sizeof(*bs));
  double *lo = malloc(PREP_CHUNK * sizeof(*lo)), *hi = malloc(PREP_CHUNK * sizeof(*hi));
  bool *ok = malloc(PREP_CHUNK * sizeof(*ok));
  for (size_t k; xs && bs && lo && hi && ok && (k = atomic_fetch_add(&t->next, 1)) < t->n;) {
    const struct prep_job *j = &t->p->j[t->start[k]];
    size_t m = t->start[k + 1] - t->start[k];
    for (size_t i = 0; i < m; i++)
      xs[i] = j[i].x, bs[i] = j[i].base;
    if (j->base)
      boot__ratio_cis(xs, bs, m, j->nx, j->nb, STATS_BOOT_B, STATS_SEED, ok, lo, hi);
    else
      boot__median_cis(xs, m, j->nx, STATS_BOOT_B, 0.95, STATS_SEED, lo, hi);
  }
  free(xs), free(bs), free(lo), free(hi), free(ok);
  return NULL;
}

/* Threads for the batches: the CPUs online (at most 8), or VTBENCH_THREADS. */
static size_t prep_threads(size_t tasks) {
  const char *e = getenv("VTBENCH_THREADS");
  long n = e && *e ? atol(e) : sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > 8) n = 8;
  return (size_t)n < tasks ? (size_t)n : (tasks ? tasks : 1);
}

void aggregate__prepare(const struct agg_set *s, const char *baseline) {
  struct prep p = {0};
  for (size_t i = 0; i < s->n; i++)
    collect(&p, s, &s->g[i], baseline);
  if (p.n) qsort(p.j, p.n, sizeof(*p.j), cmp_job); /* p.j is NULL when there is nothing */
  /* tasks: runs of equal sizes, cut into PREP_CHUNK members */
  struct prep_tasks t = {.p = &p, .start = malloc((p.n + 1) * sizeof(size_t))};
  if (t.start) {
    for (size_t i = 0; i < p.n; i++)
      if (!i || cmp_job(&p.j[i - 1], &p.j[i]) || i - t.start[t.n - 1] == PREP_CHUNK)
        t.start[t.n++] = i;
    t.start[t.n] = p.n;
    atomic_init(&t.next, 0);
    /* Each interval is computed on its own generator: any split over
     * threads gives the same results. */
    pthread_t th[8];
    size_t nt = prep_threads(t.n), started = 0;
    while (started + 1 < nt && !pthread_create(&th[started], NULL, prep_worker, &t))
      started++;
    prep_worker(&t);
    for (size_t i = 0; i < started; i++)
      pthread_join(th[i], NULL);
  }
  free(t.start);
  for (size_t i = 0; i < p.nowned; i++)
    free(p.owned[i]);
  free(p.owned);
  free(p.j);
}

static json_t *summary_json(const double *v, const unsigned *reps, size_t n) {
  struct stats_summary s;
  if (stats__summarize(v, n, &s)) return NULL;
  bool *flags = calloc(n, sizeof(*flags));
  stats__mad_outliers(v, n, flags);
  json_t *out_reps = json_array();
  for (size_t i = 0; i < n; i++)
    if (flags[i]) json_array_append_new(out_reps, json_integer(reps[i]));
  free(flags);
  return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:[f,f],s:o}", "n", (json_int_t)s.n, "median",
                   s.median, "mean", s.mean, "stddev", s.stddev, "cv", s.cv, "min", s.min, "max",
                   s.max, "ci95", s.ci_lo, s.ci_hi, "outlier_repetitions", out_reps);
}

json_t *aggregate__compute(const struct agg_set *s, const char *baseline) {
  aggregate__prepare(s, baseline);
  json_t *arr = json_array();
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    const struct agg_group *base = aggregate__baseline(s, g, baseline);
    const char *metric;
    json_t *samples;
    json_object_foreach(g->metrics, metric, samples) {
      double *v;
      unsigned *reps;
      size_t n = agg_group__values(g, metric, &v, &reps);
      json_t *e = summary_json(v, reps, n);
      if (e) {
        json_object_set_new(e, "config", json_string(g->key));
        json_object_set_new(e, "backend", json_string(g->backend));
        json_object_set_new(e, "workload", json_string(g->workload));
        json_object_set_new(e, "mode", json_string(g->mode));
        if (g->params) json_object_set(e, "params", g->params);
        json_object_set_new(e, "metric", json_string(metric));
        double *bv = NULL;
        size_t nb = base ? agg_group__values(base, metric, &bv, NULL) : 0;
        double r, lo, hi;
        const char *bm = NULL;
        if (!strcmp(metric, agg_group__time_metric(g))) { /* the overhead the report shows */
          if (aggregate__ratio(s, g, baseline, &r, &lo, &hi, &bm)) bm = NULL;
        } else if (nb && aggregate__is_time_metric(metric) &&
                   !stats__ratio_ci(v, n, bv, nb, STATS_BOOT_B, STATS_SEED, &r, &lo, &hi)) {
          bm = base->mode;
        }
        if (bm)
          json_object_set_new(
              e, "ratio_to_baseline",
              json_pack("{s:s,s:f,s:[f,f]}", "baseline", bm, "ratio", r, "ci95", lo, hi));
        free(bv);
        json_array_append_new(arr, e);
      }
      free(v);
      free(reps);
    }
  }
  return arr;
}
