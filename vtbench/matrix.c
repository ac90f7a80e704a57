/* matrix.c - matrix files: parse, validate with the place of every error,
 * expand into configurations and interleaved, shardable jobs.
 *
 * Keys: "backends" (array of "kvm" | "model", default both), "workloads"
 * (array of names or {"name", "params": {key: non-negative integer |
 * word}}; keys and types from `vtbench workloads`), "modes" (array of
 * objects {paging, tlb, nmi, irq} or strings "paging/tlb/nmi/irq"),
 * "reps" (1..1000, default 5), "warmup" (0..100, default 1), "model_reps"
 * (1..1000, default 1: the model is deterministic, so its repetitions and
 * warm-up rounds repeat the same counts; it runs model_reps times without
 * warm-up). Unknown keys
 * are errors, so a typo never silently runs the wrong matrix.
 */
#include "matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "stats.h"
#include "workload_catalog.h"

static const char *const paging_words[] = {"shadow", "ept", "native", NULL};
static const char *const tlb_words[] = {"flush", "vpid", NULL};
static const char *const event_words[] = {"poll", "window", NULL};
static const char *const backend_words[] = {"kvm", "model", NULL};

static bool in_words(const char *s, const char *const *words) {
  for (; *words; words++)
    if (!strcmp(s, *words)) return true;
  return false;
}

static void join_words(const char *const *words, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = 0;
  for (int i = 0; words[i] && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "|" : "", words[i]);
}

/* The value as the user wrote it, for messages. */
static void show(const json_t *v, char *buf, size_t len) {
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  snprintf(buf, len, "%s", s ? s : "?");
  free(s);
}

static int check_word(const char *where, const char *field, const char *s, const char *const *words,
                      char *err, size_t len) {
  if (in_words(s, words)) return 0;
  char w[64];
  join_words(words, w, sizeof(w));
  return msg__fail(err, len, "%s%s: expected %s, got \"%s\"", where, field, w, s);
}

int matrix__parse_mode(const char *s, struct matrix_mode *out, char *err, size_t len) {
  char buf[64], *parts[5] = {0}, *save = NULL;
  snprintf(buf, sizeof(buf), "%s", s);
  int n = 0;
  for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
    if (n == 4)
      return msg__fail(err, len, "mode \"%s\": more than 4 parts (paging/tlb/nmi/irq)", s);
    parts[n++] = t;
  }
  if (!n) return msg__fail(err, len, "mode \"%s\": empty (expected paging/tlb/nmi/irq)", s);
  const char *def[4] = {"shadow", "flush", "poll", "poll"};
  const char *const *words[4] = {paging_words, tlb_words, event_words, event_words};
  const char *names[4] = {"paging", "tlb", "nmi", "irq"};
  char *dst[4] = {out->paging, out->tlb, out->nmi, out->irq};
  for (int i = 0; i < 4; i++) {
    const char *v = i < n ? parts[i] : def[i];
    char field[32];
    snprintf(field, sizeof(field), "%s (%s)", s, names[i]);
    if (check_word("mode ", field, v, words[i], err, len)) return -1;
    snprintf(dst[i], sizeof(out->paging), "%s", v);
  }
  return 0;
}

void matrix__mode_str(const struct matrix_mode *mode, char *buf, size_t len) {
  snprintf(buf, len, "%s/%s/%s/%s", mode->paging, mode->tlb, mode->nmi, mode->irq);
}

static int parse_mode_obj(const json_t *o, const char *where, size_t idx, struct matrix_mode *out,
                          char *err, size_t len) {
  char vb[128];
  if (json_is_string(o)) {
    char e[200];
    if (matrix__parse_mode(json_string_value(o), out, e, sizeof(e)))
      return msg__fail(err, len, "%s: modes[%zu]: %s", where, idx, e);
    return 0;
  }
  if (!json_is_object(o)) {
    show(o, vb, sizeof(vb));
    return msg__fail(err, len,
                     "%s: modes[%zu]: expected an object or \"paging/tlb/nmi/irq\", got %s", where,
                     idx, vb);
  }
  matrix__parse_mode("shadow", out, err, len); /* defaults */
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)o, key, v) {
    char place[160];
    snprintf(place, sizeof(place), "%s: modes[%zu].%s", where, idx, key);
    const char *const *words;
    char *dst;
    if (!strcmp(key, "paging"))
      words = paging_words, dst = out->paging;
    else if (!strcmp(key, "tlb"))
      words = tlb_words, dst = out->tlb;
    else if (!strcmp(key, "nmi"))
      words = event_words, dst = out->nmi;
    else if (!strcmp(key, "irq"))
      words = event_words, dst = out->irq;
    else
      return msg__fail(err, len, "%s: unknown key (expected paging, tlb, nmi, irq)", place);
    if (!json_is_string(v)) {
      show(v, vb, sizeof(vb));
      return msg__fail(err, len, "%s: expected a string, got %s", place, vb);
    }
    if (check_word(place, "", json_string_value(v), words, err, len)) return -1;
    snprintf(dst, sizeof(out->paging), "%s", json_string_value(v));
  }
  return 0;
}

static int parse_workload(const json_t *o, const char *where, size_t idx,
                          struct matrix_workload *out, char *err, size_t len) {
  char vb[128];
  const json_t *name = o, *params = NULL;
  if (json_is_object(o)) {
    name = json_object_get(o, "name");
    params = json_object_get(o, "params");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
      if (strcmp(key, "name") && strcmp(key, "params"))
        return msg__fail(err, len, "%s: workloads[%zu].%s: unknown key (expected name, params)",
                         where, idx, key);
    }
    if (!name) return msg__fail(err, len, "%s: workloads[%zu]: missing \"name\"", where, idx);
  }
  if (!json_is_string(name)) {
    show(name, vb, sizeof(vb));
    return msg__fail(err, len, "%s: workloads[%zu]%s: expected a workload name, got %s", where, idx,
                     json_is_object(o) ? ".name" : "", vb);
  }
  const struct wl_info *wl = workload_catalog__find(json_string_value(name));
  if (!wl)
    return msg__fail(err, len,
                     "%s: workloads[%zu]: unknown workload \"%s\" (see `vtbench workloads`)", where,
                     idx, json_string_value(name));
  snprintf(out->name, sizeof(out->name), "%s", wl->name);
  out->params = json_object();
  if (!params) return 0;
  if (!json_is_object(params)) {
    show(params, vb, sizeof(vb));
    return msg__fail(err, len, "%s: workloads[%zu].params: expected an object, got %s", where, idx,
                     vb);
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)params, key, v) {
    const struct wl_param *p = workload_catalog__param(wl, key);
    if (!p) {
      char names[160];
      workload_catalog__param_names(wl, names, sizeof(names));
      return msg__fail(err, len,
                       "%s: workloads[%zu].params.%s: %s has no such parameter (known: %s)", where,
                       idx, key, wl->name, names);
    }
    if (p->type == WLP_INT && !(json_is_integer(v) && json_integer_value(v) >= 0)) {
      show(v, vb, sizeof(vb));
      return msg__fail(err, len,
                       "%s: workloads[%zu].params.%s: expected a non-negative integer, got %s",
                       where, idx, key, vb);
    }
    if (p->type == WLP_WORD && !json_is_string(v)) {
      show(v, vb, sizeof(vb));
      return msg__fail(err, len, "%s: workloads[%zu].params.%s: expected a string, got %s", where,
                       idx, key, vb);
    }
    json_object_set(out->params, key, v);
  }
  return 0;
}

static int parse_count(const json_t *j, const char *where, const char *key, unsigned lo,
                       unsigned hi, unsigned *out, char *err, size_t len) {
  const json_t *v = json_object_get(j, key);
  if (!v) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
    char vb[128];
    show(v, vb, sizeof(vb));
    return msg__fail(err, len, "%s: %s: expected an integer in %u..%u, got %s", where, key, lo, hi,
                     vb);
  }
  *out = (unsigned)json_integer_value(v);
  return 0;
}

int matrix__from_json(struct matrix *m, const json_t *j, const char *where, char *err, size_t len) {
  memset(m, 0, sizeof(*m));
  m->reps = 5;
  m->warmup = 1;
  m->model_reps = 1;
  char vb[128];
  if (!json_is_object(j))
    return msg__fail(err, len, "%s: expected a JSON object at the top", where);
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    if (strcmp(key, "backends") && strcmp(key, "workloads") && strcmp(key, "modes") &&
        strcmp(key, "reps") && strcmp(key, "warmup") && strcmp(key, "model_reps"))
      return msg__fail(err, len,
                       "%s: %s: unknown key (expected backends, workloads, modes, reps, warmup, "
                       "model_reps)",
                       where, key);
  }
  if (parse_count(j, where, "reps", 1, MATRIX_REPS_MAX, &m->reps, err, len) ||
      parse_count(j, where, "warmup", 0, MATRIX_WARMUP_MAX, &m->warmup, err, len) ||
      parse_count(j, where, "model_reps", 1, MATRIX_REPS_MAX, &m->model_reps, err, len))
    return -1;

  const json_t *b = json_object_get(j, "backends");
  if (!b) {
    snprintf(m->backends[0], sizeof(m->backends[0]), "kvm");
    snprintf(m->backends[1], sizeof(m->backends[1]), "model");
    m->nbackends = 2;
  } else {
    if (!json_is_array(b) || !json_array_size(b) || json_array_size(b) > MATRIX_BACKENDS_MAX) {
      show(b, vb, sizeof(vb));
      return msg__fail(err, len,
                       "%s: backends: expected a non-empty array of \"kvm\"/\"model\", got %s",
                       where, vb);
    }
    for (size_t i = 0; i < json_array_size(b); i++) {
      const json_t *e = json_array_get(b, i);
      char place[64];
      snprintf(place, sizeof(place), "%s: backends[%zu]", where, i);
      if (!json_is_string(e)) {
        show(e, vb, sizeof(vb));
        return msg__fail(err, len, "%s: expected kvm|model, got %s", place, vb);
      }
      if (check_word(place, "", json_string_value(e), backend_words, err, len)) return -1;
      snprintf(m->backends[m->nbackends++], sizeof(m->backends[0]), "%s", json_string_value(e));
    }
  }

  const json_t *w = json_object_get(j, "workloads");
  if (!json_is_array(w) || !json_array_size(w)) {
    show(w ? w : json_null(), vb, sizeof(vb));
    return msg__fail(err, len, "%s: workloads: expected a non-empty array, got %s", where,
                     w ? vb : "nothing");
  }
  m->workloads = calloc(json_array_size(w), sizeof(*m->workloads));
  for (size_t i = 0; i < json_array_size(w); i++) {
    m->nworkloads = i + 1;
    if (parse_workload(json_array_get(w, i), where, i, &m->workloads[i], err, len)) {
      matrix__free(m);
      return -1;
    }
  }

  const json_t *md = json_object_get(j, "modes");
  if (!json_is_array(md) || !json_array_size(md)) {
    show(md ? md : json_null(), vb, sizeof(vb));
    matrix__free(m);
    return msg__fail(err, len, "%s: modes: expected a non-empty array, got %s", where,
                     md ? vb : "nothing");
  }
  m->modes = calloc(json_array_size(md), sizeof(*m->modes));
  m->nmodes = json_array_size(md);
  for (size_t i = 0; i < m->nmodes; i++)
    if (parse_mode_obj(json_array_get(md, i), where, i, &m->modes[i], err, len)) {
      matrix__free(m);
      return -1;
    }
  return 0;
}

int matrix__load(struct matrix *m, const char *path, char *err, size_t len) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) {
    memset(m, 0, sizeof(*m));
    if (je.line < 1) return msg__fail(err, len, "%s: cannot read: %s", path, je.text);
    return msg__fail(err, len, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
  }
  int rc = matrix__from_json(m, j, path, err, len);
  json_decref(j);
  return rc;
}

json_t *matrix__to_json(const struct matrix *m) {
  json_t *b = json_array(), *w = json_array(), *md = json_array();
  for (size_t i = 0; i < m->nbackends; i++)
    json_array_append_new(b, json_string(m->backends[i]));
  for (size_t i = 0; i < m->nworkloads; i++)
    json_array_append_new(
        w, json_pack("{s:s,s:O}", "name", m->workloads[i].name, "params", m->workloads[i].params));
  for (size_t i = 0; i < m->nmodes; i++) {
    char s[64];
    matrix__mode_str(&m->modes[i], s, sizeof(s));
    json_array_append_new(md, json_string(s));
  }
  return json_pack("{s:o,s:o,s:o,s:i,s:i,s:i}", "backends", b, "workloads", w, "modes", md, "reps",
                   (json_int_t)m->reps, "warmup", (json_int_t)m->warmup, "model_reps",
                   (json_int_t)m->model_reps);
}

void matrix__free(struct matrix *m) {
  for (size_t i = 0; i < m->nworkloads; i++)
    json_decref(m->workloads[i].params);
  free(m->workloads);
  free(m->modes);
  memset(m, 0, sizeof(*m));
}

/* ---- built-in matrices -------------------------------------------------- */
static void from_text(struct matrix *m, const char *text) {
  char err[256];
  json_t *j = json_loads(text, 0, NULL);
  if (!j || matrix__from_json(m, j, "built-in matrix", err, sizeof(err))) {
    msg__error("internal error in the built-in matrix: %s", j ? err : "bad JSON");
    abort();
  }
  json_decref(j);
}

void matrix__standard(struct matrix *m) {
  /* Every freestanding workload with its defaults in the modes that separate
   * the axes (the Linux guest's need a kernel: named with --workloads). */
  char text[2048];
  size_t off = (size_t)snprintf(text, sizeof(text), "{\"workloads\": [");
  for (size_t i = 0, n = 0; i < workload_catalog_len; i++)
    if (!workload_catalog__is_linux(&workload_catalog[i]) &&
        !workload_catalog__is_tool(&workload_catalog[i]))
      off += (size_t)snprintf(text + off, sizeof(text) - off, "%s\"%s\"", n++ ? "," : "",
                              workload_catalog[i].name);
  snprintf(text + off, sizeof(text) - off,
           "], \"modes\": [\"native\", \"shadow/flush/poll/poll\", \"shadow/vpid/poll/poll\","
           " \"ept/flush/poll/poll\", \"ept/vpid/poll/poll\", \"ept/vpid/window/window\"],"
           " \"reps\": 5, \"warmup\": 1}");
  from_text(m, text);
}

void matrix__quick(struct matrix *m) {
  /* A newcomer's first answer in under a minute on a 2-core host, and one
   * workload per question the tool answers: pio/cpuid (exit round trips in
   * user space / in the kernel), compute (no exits: every mode ~1x), gups
   * (TLB reach: 2-D walks in ept; 16 MiB is beyond the modeled L2 TLB's
   * reach), forkwait (page-table churn: shadow's #PF and write-protect
   * exits), cr3switch (address-space switches: flush vs vpid), nmistorm
   * with NMIs raised inside a blocking handler (poll vs window delivery).
   * The modes pair up one switch at a time (EPT vs shadow, VPID vs flush
   * under both, NMI window vs poll, IRQ window vs poll) so the report can
   * say what each assist saves. Sizes keep a kvm run near 0.2 s and a model
   * run (with refvmm's in-run native baseline for shadow/ept) under a
   * second; the model runs each configuration once (model_reps 1: it is
   * deterministic), kvm four times after a warm-up round, the fewest with
   * which a Mann-Whitney test of two configurations can reach p < 0.05. */
  from_text(m, "{\"workloads\": ["
               "{\"name\": \"pio\", \"params\": {\"n\": 5000}},"
               "{\"name\": \"cpuid\", \"params\": {\"n\": 5000}},"
               "{\"name\": \"compute\", \"params\": {\"n\": 500000}},"
               "{\"name\": \"gups\", \"params\": {\"n\": 100000, \"ws\": 16777216}},"
               "{\"name\": \"forkwait\", \"params\": {\"n\": 25}},"
               "{\"name\": \"cr3switch\", \"params\": {\"n\": 500}},"
               "{\"name\": \"nmistorm\", \"params\": {\"n\": 100, \"period_us\": 20, "
               "\"block_us\": 50}}],"
               " \"modes\": [\"native\", \"shadow/flush/poll/poll\", \"shadow/vpid/poll/poll\","
               " \"ept/flush/poll/poll\", \"ept/vpid/poll/poll\", \"shadow/flush/window/poll\","
               " \"shadow/flush/poll/window\"],"
               " \"reps\": 4, \"warmup\": 1, \"model_reps\": 1}");
}

/* ---- expansion ------------------------------------------------------------ */
void matrix__config_key(const struct matrix *m, const struct matrix_config *c, char *buf,
                        size_t len) {
  char mode[64];
  matrix__mode_str(&m->modes[c->mode], mode, sizeof(mode));
  char *p = json_dumps(m->workloads[c->workload].params, JSON_SORT_KEYS | JSON_COMPACT);
  snprintf(buf, len, "%s %s %s %s", m->backends[c->backend], m->workloads[c->workload].name,
           p ? p : "{}", mode);
  free(p);
}

size_t matrix__configs(const struct matrix *m, matrix_supported_fn ok, void *ctx,
                       struct matrix_config **out) {
  size_t cap = m->nbackends * m->nworkloads * m->nmodes, n = 0, index = 0;
  struct matrix_config *c = calloc(cap ? cap : 1, sizeof(*c));
  for (size_t b = 0; b < m->nbackends; b++)
    for (size_t w = 0; w < m->nworkloads; w++)
      for (size_t md = 0; md < m->nmodes; md++, index++) {
        if (ok && !ok(m->backends[b], &m->modes[md], ctx)) continue;
        c[n] = (struct matrix_config){.backend = b, .workload = w, .mode = md, .index = index};
        matrix__config_key(m, &c[n], c[n].key, sizeof(c[n].key));
        n++;
      }
  *out = c;
  return n;
}

int matrix__parse_shard(const char *s, unsigned *i, unsigned *n) {
  char *end;
  unsigned long a = strtoul(s, &end, 10);
  if (end == s || *end != '/') return -1;
  const char *t = end + 1;
  unsigned long b = strtoul(t, &end, 10);
  if (end == t || *end || b < 1 || b > 100000 || a < 1 || a > b) return -1;
  *i = (unsigned)a;
  *n = (unsigned)b;
  return 0;
}

size_t matrix__shard_configs(struct matrix_config *c, size_t n, unsigned shard_i,
                             unsigned shard_n) {
  size_t keep = 0;
  for (size_t i = 0; i < n; i++)
    if (c[i].index % shard_n == shard_i - 1) c[keep++] = c[i];
  return keep;
}

size_t matrix__jobs(const struct matrix *m, size_t nconfigs, unsigned shard_i, unsigned shard_n,
                    uint64_t seed, struct matrix_job **out) {
  size_t *mine = calloc(nconfigs ? nconfigs : 1, sizeof(*mine)), k = 0;
  for (size_t c = 0; c < nconfigs; c++)
    if (c % shard_n == shard_i - 1) mine[k++] = c;
  unsigned rounds = m->warmup + m->reps;
  struct matrix_job *j = calloc(k * rounds + 1, sizeof(*j));
  size_t n = 0;
  size_t *order = calloc(k ? k : 1, sizeof(*order));
  for (unsigned r = 0; r < rounds; r++) {
    /* Fisher-Yates with a per-round seed: deterministic, and independent
     * of how many shards there are, given the shard's configurations. */
    struct stats_rng rng;
    stats_rng__seed(&rng, seed ^ ((uint64_t)r * 0x9e3779b97f4a7c15ull));
    memcpy(order, mine, k * sizeof(*order));
    for (size_t i = k; i > 1; i--) {
      size_t x = stats_rng__below(&rng, i), t = order[i - 1];
      order[i - 1] = order[x];
      order[x] = t;
    }
    for (size_t i = 0; i < k; i++) {
      bool warm = r < m->warmup;
      j[n++] =
          (struct matrix_job){.config = order[i], .rep = warm ? r : r - m->warmup, .warmup = warm};
    }
  }
  free(order);
  free(mine);
  *out = j;
  return n;
}

size_t matrix__trim_model(const struct matrix *m, const struct matrix_config *cfgs,
                          struct matrix_job *j, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool model = !strcmp(m->backends[cfgs[j[i].config].backend], "model");
    if (model && (j[i].warmup || j[i].rep >= m->model_reps)) continue;
    j[k++] = j[i];
  }
  return k;
}

/* ---- host modes on kvm ---------------------------------------------------- */
int matrix__host_plan(const struct kvm_host_info *h, const struct matrix_mode *mode,
                      struct kvm_host_plan *plan, char *why, size_t len) {
  memset(plan, 0, sizeof(*plan));
  struct vm_modes want = {.paging_set = true, .tlb_set = true};
  if (paging_mode__parse(mode->paging, &want.paging) || tlb_mode__parse(mode->tlb, &want.tlb))
    return msg__fail(why, len, "mode %s/%s: unknown paging or tlb", mode->paging, mode->tlb);
  char err[512];
  struct vm_modes m = want;
  if (kvm_host__check_modes(h, &m, err, sizeof(err)) == 0) return 0; /* runs as it is */
  enum paging_mode pm;
  enum tlb_mode tm;
  if (want.paging == PAGING_NATIVE ||
      (h->flavour != KVM_FLAVOUR_INTEL && h->flavour != KVM_FLAVOUR_AMD) ||
      kvm_host__paging_mode(h, &pm) || kvm_host__tlb_mode(h, &tm))
    return msg__fail(why, len, "%s", err); /* names the flavour and that nothing can change it */
  char words[2][32];
  char *wp[2] = {words[0], words[1]};
  int n = 0;
  if (want.paging != pm) /* "ept" is the TDP knob's synonym on either vendor */
    snprintf(words[n++], sizeof(words[0]), "ept=%d", want.paging == PAGING_EPT);
  if (want.tlb != tm) {
    if (!kvm_host__tlb_param(h)) { /* kvm_amd: ASIDs always; say so, not the paging */
      struct vm_modes t = {.tlb = want.tlb, .tlb_set = true};
      kvm_host__check_modes(h, &t, err, sizeof(err));
      return msg__fail(why, len, "%s", err);
    }
    snprintf(words[n++], sizeof(words[0]), "vpid=%d", want.tlb == TLB_VPID);
  }
  return kvm_host__parse_settings(h, n, wp, plan, why, len) ? -1 : 0;
}

void matrix__plan_str(const struct kvm_host_plan *plan, char *buf, size_t len) {
  size_t off = (size_t)snprintf(buf, len, "%s", plan->module);
  for (int i = 0; i < plan->n && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, " %s=%s", plan->set[i].name, plan->set[i].value);
}

bool matrix__plan_eq(const struct kvm_host_plan *a, const struct kvm_host_plan *b) {
  if (strcmp(a->module, b->module) || a->n != b->n) return false;
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->set[i].name, b->set[i].name) || strcmp(a->set[i].value, b->set[i].value))
      return false;
  return true;
}
