/* report_kvm_exits.c - see report_kvm_exits.h. */
#include "report_kvm_exits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_doc.h"
#include "stats.h"

static bool ctx_emulated(const json_t *ctx, const char **note) {
  const json_t *cpu = json_object_get(ctx, "cpu");
  if (!json_is_true(json_object_get(cpu, "emulated"))) return false;
  *note = json_string_value(json_object_get(cpu, "emulated_note"));
  return true;
}

bool report_kvm_exits__emulated_note(json_t *d, const json_t *doc) {
  const char *note = NULL;
  bool emu = ctx_emulated(json_object_get(doc, "context"), &note);
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(json_object_get(doc, "session"), "merged_from"), i, e) emu |=
      ctx_emulated(json_object_get(e, "context"), &note);
  if (!emu) return false;
  char text[768];
  snprintf(text, sizeof text,
           "The host CPU of (some of) these runs is emulated by QEMU TCG: counts are exact, but "
           "every time, rate, latency and saving below is the emulator's and is not a hardware "
           "figure.%s%s",
           note ? " Context: " : "", note ? note : "");
  report_doc__note(d, text);
  return true;
}

/* One reason's counts on one side of a cell, one per run (a run without
 * the reason counts 0: the series is padded when the reason appears). */
struct series {
  char reason[64];
  double *v;
  size_t n, cap;
};

struct side {
  struct series *s;
  size_t ns, cap;
  size_t nruns;
};

/* One (workload, params, paging) cell: the runs' counts by SDM reason. */
struct cell {
  char key[512];
  char workload[64], params[320], paging[16];
  struct side side[2]; /* 0: model, 1: KVM */
};

struct kvm_exits_acc {
  struct cell *c;
  size_t n, cap;
  json_t *index; /* key -> cell */
};

struct kvm_exits_acc *report_kvm_exits__new(void) {
  struct kvm_exits_acc *a = calloc(1, sizeof(*a));
  if (a && !(a->index = json_object())) {
    free(a);
    a = NULL;
  }
  return a;
}

void report_kvm_exits__free(struct kvm_exits_acc *a) {
  if (!a) return;
  for (size_t c = 0; c < a->n; c++)
    for (int k = 0; k < 2; k++) {
      for (size_t i = 0; i < a->c[c].side[k].ns; i++)
        free(a->c[c].side[k].s[i].v);
      free(a->c[c].side[k].s);
    }
  free(a->c);
  json_decref(a->index);
  free(a);
}

static struct cell *cell_of(struct kvm_exits_acc *a, const char *key, const char *wl,
                            const char *params, const char *pg) {
  json_t *at = json_object_get(a->index, key);
  if (at) return &a->c[json_integer_value(at)];
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    struct cell *c = realloc(a->c, cap * sizeof(*c));
    if (!c) return NULL;
    a->c = c;
    a->cap = cap;
  }
  struct cell *c = &a->c[a->n];
  memset(c, 0, sizeof(*c));
  snprintf(c->key, sizeof c->key, "%s", key);
  snprintf(c->workload, sizeof c->workload, "%s", wl);
  snprintf(c->params, sizeof c->params, "%s", params);
  snprintf(c->paging, sizeof c->paging, "%s", pg);
  json_object_set_new(a->index, key, json_integer((json_int_t)a->n));
  a->n++;
  return c;
}

/* Append v as run `run` of the reason's series (zeros for the runs before
 * that lacked it). */
static void put(struct side *sd, const char *reason, double v, size_t run) {
  struct series *se = NULL;
  for (size_t i = 0; i < sd->ns && !se; i++)
    if (!strcmp(sd->s[i].reason, reason)) se = &sd->s[i];
  if (!se) {
    if (sd->ns == sd->cap) {
      size_t cap = sd->cap ? sd->cap * 2 : 8;
      struct series *s = realloc(sd->s, cap * sizeof(*s));
      if (!s) return;
      sd->s = s;
      sd->cap = cap;
    }
    se = &sd->s[sd->ns++];
    memset(se, 0, sizeof(*se));
    snprintf(se->reason, sizeof se->reason, "%s", reason);
  }
  while (se->n <= run) {
    if (se->n == se->cap) {
      size_t cap = se->cap ? se->cap * 2 : 8;
      double *x = realloc(se->v, cap * sizeof(*x));
      if (!x) return;
      se->v = x;
      se->cap = cap;
    }
    se->v[se->n++] = 0;
  }
  se->v[run] = v;
}

void report_kvm_exits__add(struct kvm_exits_acc *a, const json_t *r) {
  if (!a) return;
  const char *status = json_string_value(json_object_get(r, "status"));
  const char *backend = json_string_value(json_object_get(r, "backend"));
  const char *wl = json_string_value(json_object_get(r, "workload"));
  const char *pg = json_string_value(json_object_get(json_object_get(r, "modes"), "paging"));
  if (!status || strcmp(status, "ok") || !backend || !wl || !pg) return;
  const json_t *counts = NULL;
  bool model = !strcmp(backend, "model");
  if (model)
    counts = json_object_get(json_object_get(json_object_get(r, "model"), "timed"), "exits");
  else if (json_is_true(json_object_get(json_object_get(r, "kvm_exits"), "available")))
    counts = json_object_get(json_object_get(r, "kvm_exits"), "by_sdm_reason");
  if (!json_is_object(counts)) return;
  char *p = json_dumps(json_object_get(r, "params"), JSON_SORT_KEYS | JSON_COMPACT);
  char key[512];
  snprintf(key, sizeof key, "%s %s %s", wl, p ? p : "{}", pg);
  struct cell *c = cell_of(a, key, wl, p ? p : "{}", pg);
  free(p);
  if (!c) return;
  struct side *sd = &c->side[model ? 0 : 1];
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)counts, k, v) if (json_is_number(v))
      put(sd, k, json_number_value(v), sd->nruns);
  sd->nruns++;
}

/* Median of the counts, a reason absent from some runs counting 0 there. */
static double median_of(const struct series *se, size_t nruns) {
  if (!nruns) return NAN;
  double *x = calloc(nruns, sizeof *x);
  if (!x) return NAN;
  if (se->n) memcpy(x, se->v, (se->n < nruns ? se->n : nruns) * sizeof *x);
  double m = stats__median(x, nruns);
  free(x);
  return m;
}

static const struct series *find(const struct side *sd, const char *reason) {
  for (size_t i = 0; i < sd->ns; i++)
    if (!strcmp(sd->s[i].reason, reason)) return &sd->s[i];
  return NULL;
}

int report_kvm_exits__section(json_t *d, const struct kvm_exits_acc *a) {
  int rows = 0;
  json_t *table = NULL;
  for (size_t c = 0; a && c < a->n; c++) {
    const struct cell *ce = &a->c[c];
    if (!ce->side[0].nruns || !ce->side[1].nruns) continue;
    json_t *names = json_object();
    for (int k = 0; k < 2; k++)
      for (size_t i = 0; i < ce->side[k].ns; i++)
        json_object_set_new(names, ce->side[k].s[i].reason, json_true());
    const char *k;
    json_t *x;
    json_object_foreach(names, k, x) {
      if (!rows++) {
        report_doc__heading(d, 2, "kvm-exits", "VM exits by reason: model vs KVM");
        report_doc__para(d, "Timed region, medians over repetitions. KVM's side counts every exit "
                            "KVM handled (kvm:kvm_exit: kvm_exits in the records, SVM reasons "
                            "under their SDM names), not only those that reached refvmm. A reason "
                            "one side never took counts 0 there.");
        static const char *const head[] = {"workload",   "params", "paging",
                                           "SDM reason", "model",  "KVM"};
        json_t *h = json_array();
        for (size_t y = 0; y < 6; y++)
          json_array_append_new(h, json_string(head[y]));
        table = report_doc__table(d, h, 4, -1);
      }
      const struct series *am = find(&ce->side[0], k), *ak = find(&ce->side[1], k);
      char mv[32], kv[32];
      snprintf(mv, sizeof mv, "%.0f", am ? median_of(am, ce->side[0].nruns) : 0.0);
      snprintf(kv, sizeof kv, "%.0f", ak ? median_of(ak, ce->side[1].nruns) : 0.0);
      json_array_append_new(
          table, json_pack("[s,s,s,s,s,s]", ce->workload, ce->params, ce->paging, k, mv, kv));
    }
    json_decref(names);
  }
  return rows;
}
