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

/* One (workload, params, paging) cell: the runs' counts by SDM reason. */
struct cell {
  char key[512];
  char workload[64], params[320], paging[16];
  json_t *model; /* {REASON: [counts...]} */
  json_t *kvm;
};

static void add_counts(json_t *into, const json_t *by_reason) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)by_reason, k, v) {
    if (!json_is_number(v)) continue;
    json_t *a = json_object_get(into, k);
    if (!a) json_object_set_new(into, k, a = json_array());
    json_array_append_new(a, json_real(json_number_value(v)));
  }
}

/* Median of the counts, a reason absent from some runs counting 0 there. */
static double median_of(const json_t *a, size_t nruns) {
  if (!nruns) return NAN;
  double *x = calloc(nruns, sizeof *x);
  if (!x) return NAN;
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (i < nruns) x[i] = json_number_value(v);
  double m = stats__median(x, nruns);
  free(x);
  return m;
}

int report_kvm_exits__section(json_t *d, const json_t *doc) {
  const json_t *runs = json_object_get(doc, "runs");
  size_t n = json_array_size(runs), ncells = 0;
  struct cell *cells = calloc(n ? n : 1, sizeof *cells);
  size_t *nm = calloc(n ? n : 1, sizeof *nm), *nk = calloc(n ? n : 1, sizeof *nk);
  int rows = 0;
  json_t *table = NULL;
  if (!cells || !nm || !nk) goto out;
  size_t i;
  json_t *r;
  json_array_foreach(runs, i, r) {
    const char *status = json_string_value(json_object_get(r, "status"));
    const char *backend = json_string_value(json_object_get(r, "backend"));
    const char *wl = json_string_value(json_object_get(r, "workload"));
    const char *pg = json_string_value(json_object_get(json_object_get(r, "modes"), "paging"));
    if (!status || strcmp(status, "ok") || !backend || !wl || !pg) continue;
    const json_t *counts = NULL;
    bool model = !strcmp(backend, "model");
    if (model)
      counts = json_object_get(json_object_get(json_object_get(r, "model"), "timed"), "exits");
    else if (json_is_true(json_object_get(json_object_get(r, "kvm_exits"), "available")))
      counts = json_object_get(json_object_get(r, "kvm_exits"), "by_sdm_reason");
    if (!json_is_object(counts)) continue;
    char *p = json_dumps(json_object_get(r, "params"), JSON_SORT_KEYS | JSON_COMPACT);
    char key[512];
    snprintf(key, sizeof key, "%s %s %s", wl, p ? p : "{}", pg);
    size_t c = 0;
    while (c < ncells && strcmp(cells[c].key, key))
      c++;
    if (c == ncells) {
      ncells++;
      snprintf(cells[c].key, sizeof cells[c].key, "%s", key);
      snprintf(cells[c].workload, sizeof cells[c].workload, "%s", wl);
      snprintf(cells[c].params, sizeof cells[c].params, "%s", p ? p : "{}");
      snprintf(cells[c].paging, sizeof cells[c].paging, "%s", pg);
      cells[c].model = json_object();
      cells[c].kvm = json_object();
    }
    free(p);
    add_counts(model ? cells[c].model : cells[c].kvm, counts);
    /* runs without a reason count 0 for it: pad every reason to the run count */
    size_t *cnt = model ? &nm[c] : &nk[c];
    (*cnt)++;
    const char *k;
    json_t *a;
    json_object_foreach(model ? cells[c].model : cells[c].kvm, k,
                        a) while (json_array_size(a) < *cnt) json_array_append_new(a, json_real(0));
  }
  for (size_t c = 0; c < ncells; c++) {
    if (!nm[c] || !nk[c]) continue;
    json_t *names = json_object();
    const char *k;
    json_t *a;
    json_object_foreach(cells[c].model, k, a) json_object_set_new(names, k, json_true());
    json_object_foreach(cells[c].kvm, k, a) json_object_set_new(names, k, json_true());
    json_object_foreach(names, k, a) {
      if (!rows++) {
        report_doc__heading(d, 2, "kvm-exits", "VM exits by reason: model vs KVM");
        report_doc__para(d, "Timed region, medians over repetitions. KVM's side counts every exit "
                            "KVM handled (kvm:kvm_exit: kvm_exits in the records, SVM reasons "
                            "under their SDM names), not only those that reached refvmm. A reason "
                            "one side never took counts 0 there.");
        static const char *const head[] = {"workload",   "params", "paging",
                                           "SDM reason", "model",  "KVM"};
        json_t *h = json_array();
        for (size_t x = 0; x < 6; x++)
          json_array_append_new(h, json_string(head[x]));
        table = report_doc__table(d, h, 4, -1);
      }
      const json_t *am = json_object_get(cells[c].model, k), *ak = json_object_get(cells[c].kvm, k);
      char mv[32], kv[32];
      snprintf(mv, sizeof mv, "%.0f", am ? median_of(am, nm[c]) : 0.0);
      snprintf(kv, sizeof kv, "%.0f", ak ? median_of(ak, nk[c]) : 0.0);
      json_array_append_new(table, json_pack("[s,s,s,s,s,s]", cells[c].workload, cells[c].params,
                                             cells[c].paging, k, mv, kv));
    }
    json_decref(names);
  }
out:
  for (size_t c = 0; c < ncells; c++) {
    json_decref(cells[c].model);
    json_decref(cells[c].kvm);
  }
  free(cells);
  free(nm);
  free(nk);
  return rows;
}
