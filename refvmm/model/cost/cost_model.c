/* cost_model.c - profiles (strict JSON loader, the embedded default) and
 * modeled cycles as a linear function of the model's counters. */
#include "cost_model.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/model_cache.h"
#include "../cpu/model_cpu.h"
#include "../vmm/vmm_shadow.h"

static const char *const fig_path[CF_COUNT] = {
#define COST_PATH(id, path) path,
    COST_FIGURES(COST_PATH)
#undef COST_PATH
};

const char *cost_fig__path(enum cost_fig f) {
  return (unsigned)f < CF_COUNT ? fig_path[f] : "?";
}

/* ---- loader ------------------------------------------------------------------------ */

struct load_ctx {
  const char *file;
  char *err;
  size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct load_ctx *x, const char *fmt, ...) {
  if (!x->err || !x->errlen) return -1;
  int n = snprintf(x->err, x->errlen, "cost profile %s: ", x->file);
  if (n < 0 || (size_t)n >= x->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static const char *type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "an array";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
  case JSON_REAL:
    return "a number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "a boolean";
  default:
    return "null";
  }
}

/* Is "prefix.key" a figure path, or the start of one (an inner node)? */
static int node_kind(const char *path) {
  size_t l = strlen(path);
  for (int f = 0; f < CF_COUNT; f++) {
    if (strcmp(fig_path[f], path) == 0) return 2;
    if (strncmp(fig_path[f], path, l) == 0 && fig_path[f][l] == '.') return 1;
  }
  return 0;
}

static int copy_str(struct load_ctx *x, const json_t *v, const char *key, char *dst, size_t n) {
  if (!json_is_string(v)) return fail(x, "'%s' must be a string (it is %s)", key, type_name(v));
  snprintf(dst, n, "%s", json_string_value(v));
  return 0;
}

static int load_figure(struct load_ctx *x, const json_t *v, const char *path,
                       struct cost_profile *p) {
  int f = 0;
  while (f < CF_COUNT && strcmp(fig_path[f], path))
    f++;
  if (!json_is_object(v))
    return fail(x, "'%s' must be an object {\"cycles\": N, \"source\": \"...\"} (it is %s)", path,
                type_name(v));
  const char *k;
  json_t *m;
  json_object_foreach((json_t *)v, k, m) {
    if (strcmp(k, "cycles") && strcmp(k, "source"))
      return fail(x, "unknown key '%s.%s' (a figure has only \"cycles\" and \"source\")", path, k);
  }
  const json_t *cy = json_object_get(v, "cycles"), *src = json_object_get(v, "source");
  if (!cy) return fail(x, "missing key '%s.cycles'", path);
  if (!src) return fail(x, "missing key '%s.source' (name the reference or the measurement)", path);
  if (!json_is_number(cy))
    return fail(x, "'%s.cycles' must be a number (it is %s)", path, type_name(cy));
  if (!json_is_string(src) || !json_string_length(src))
    return fail(x, "'%s.source' must be a non-empty string", path);
  double c = json_number_value(cy);
  if (!isfinite(c) || c < 0 || c > 1e9)
    return fail(x, "'%s.cycles' = %g: expected a finite number in [0, 1e9]", path, c);
  if (f <= CF_INSN_OTHER && c < COST_INSN_MIN)
    return fail(x,
                "'%s.cycles' = %g: an instruction class costs at least %g modeled cycles (the "
                "clock must advance with every instruction)",
                path, c, COST_INSN_MIN);
  p->cycles[f] = c;
  p->fp[f] = (uint64_t)llround(c * (double)(1u << COST_FP_SHIFT));
  snprintf(p->source[f], sizeof p->source[f], "%s", json_string_value(src));
  return 0;
}

static int load_node(struct load_ctx *x, const json_t *obj, const char *prefix,
                     struct cost_profile *p, bool *seen) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    char path[160];
    snprintf(path, sizeof path, "%s.%s", prefix, k);
    int kind = node_kind(path);
    if (!kind) return fail(x, "unknown key '%s'", path);
    if (kind == 2) {
      if (load_figure(x, v, path, p)) return -1;
      for (int f = 0; f < CF_COUNT; f++)
        if (!strcmp(fig_path[f], path)) seen[f] = true;
    } else {
      if (!json_is_object(v))
        return fail(x, "'%s' must be an object (it is %s)", path, type_name(v));
      if (load_node(x, v, path, p, seen)) return -1;
    }
  }
  return 0;
}

static int load_measured_on(struct load_ctx *x, const json_t *v, struct cost_profile *p) {
  p->measured = false;
  p->measured_on[0] = 0;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_object(v))
    return fail(x, "'measured_on' must be null or an object (it is %s)", type_name(v));
  static const char *const keys[] = {"host", "kvm", "date", "command"};
  const char *k;
  json_t *m;
  json_object_foreach((json_t *)v, k, m) {
    bool ok = false;
    for (unsigned i = 0; i < 4; i++)
      ok |= !strcmp(k, keys[i]);
    if (!ok) return fail(x, "unknown key 'measured_on.%s' (expected host, kvm, date, command)", k);
    if (!json_is_string(m))
      return fail(x, "'measured_on.%s' must be a string (it is %s)", k, type_name(m));
  }
  snprintf(p->measured_host, sizeof p->measured_host, "%s",
           json_string_value(json_object_get(v, "host"))
               ? json_string_value(json_object_get(v, "host"))
               : "");
  size_t n = 0;
  for (unsigned i = 0; i < 4; i++) {
    const json_t *s = json_object_get(v, keys[i]);
    if (!s) return fail(x, "missing key 'measured_on.%s'", keys[i]);
    int w = snprintf(p->measured_on + n, sizeof p->measured_on - n, "%s%s", n ? ", " : "",
                     json_string_value(s));
    if (w > 0) n += (size_t)w;
    if (n >= sizeof p->measured_on) break;
  }
  p->measured = true;
  return 0;
}

/* "caches": {"l1": {"size_kib": N, "ways": W, "source": "..."}, "l2": ..., "llc": ...} */
static int load_caches(struct load_ctx *x, const json_t *v, struct cost_profile *p) {
  static const char *const lv[3] = {"l1", "l2", "llc"};
  if (!json_is_object(v)) return fail(x, "'caches' must be an object (it is %s)", type_name(v));
  const char *k;
  json_t *m;
  json_object_foreach((json_t *)v, k, m) {
    if (strcmp(k, "l1") && strcmp(k, "l2") && strcmp(k, "llc"))
      return fail(x, "unknown key 'caches.%s' (expected l1, l2, llc)", k);
  }
  for (int l = 0; l < 3; l++) {
    const json_t *c = json_object_get(v, lv[l]);
    if (!c)
      return fail(x,
                  "missing key 'caches.%s' ({\"size_kib\": N, \"ways\": W, \"source\": \"...\"})",
                  lv[l]);
    if (!json_is_object(c))
      return fail(x, "'caches.%s' must be an object (it is %s)", lv[l], type_name(c));
    json_object_foreach((json_t *)c, k, m) {
      if (strcmp(k, "size_kib") && strcmp(k, "ways") && strcmp(k, "source"))
        return fail(x, "unknown key 'caches.%s.%s' (expected size_kib, ways, source)", lv[l], k);
    }
    const json_t *sz = json_object_get(c, "size_kib"), *w = json_object_get(c, "ways"),
                 *src = json_object_get(c, "source");
    if (!json_is_integer(sz) || !json_is_integer(w))
      return fail(x, "'caches.%s.size_kib' and '.ways' must be integers", lv[l]);
    if (!json_is_string(src) || !json_string_length(src))
      return fail(x, "'caches.%s.source' must be a non-empty string", lv[l]);
    json_int_t size = json_integer_value(sz), ways = json_integer_value(w);
    /* sets = size / 64 B / ways: a whole number the cache model takes (16..2^24) */
    if (ways < 1 || ways > 32 || size < 1 || size > (1 << 20) || (size * 16) % ways ||
        (size * 16) / ways < 16)
      return fail(x,
                  "'caches.%s' = %lld KiB, %lld ways: expected 1..32 ways and a size in KiB "
                  "(up to 1 GiB) that makes a whole number of at least 16 sets of 64-byte lines",
                  lv[l], (long long)size, (long long)ways);
    p->cache[l].size_kib = (uint32_t)size;
    p->cache[l].ways = (uint32_t)ways;
    snprintf(p->cache[l].source, sizeof p->cache[l].source, "%s", json_string_value(src));
  }
  return 0;
}

static int load_root(struct load_ctx *x, const json_t *root, struct cost_profile *p) {
  if (!json_is_object(root))
    return fail(x, "the top level must be an object (it is %s)", type_name(root));
  bool seen[CF_COUNT] = {false};
  if (json_object_get(json_object_get(root, "mem"), "walk_ref"))
    return fail(x, "'mem.walk_ref' is a figure of the model before its data caches: this "
                   "profile predates them (make a new one with vtbench calibrate, or start "
                   "from refvmm/model/profiles/intel-skylake.json)");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)root, k, v) {
    if (!strcmp(k, "name")) {
      if (copy_str(x, v, k, p->name, sizeof p->name)) return -1;
    } else if (!strcmp(k, "description")) {
      if (copy_str(x, v, k, p->description, sizeof p->description)) return -1;
    } else if (!strcmp(k, "cpu")) {
      if (copy_str(x, v, k, p->cpu, sizeof p->cpu)) return -1;
    } else if (!strcmp(k, "tsc_ghz")) {
      if (!json_is_number(v)) return fail(x, "'tsc_ghz' must be a number (it is %s)", type_name(v));
      p->tsc_ghz = json_number_value(v);
      if (!isfinite(p->tsc_ghz) || p->tsc_ghz <= 0 || p->tsc_ghz > 100)
        return fail(x, "'tsc_ghz' = %g: expected a number in (0, 100]", p->tsc_ghz);
    } else if (!strcmp(k, "measured_on")) {
      if (load_measured_on(x, v, p)) return -1;
    } else if (!strcmp(k, "host_flavour")) {
      if (copy_str(x, v, k, p->host_flavour, sizeof p->host_flavour)) return -1;
      if (strcmp(p->host_flavour, "kvm_intel") && strcmp(p->host_flavour, "kvm_amd") &&
          strcmp(p->host_flavour, "kvm_pvm"))
        return fail(x, "'host_flavour' = \"%s\": expected " COST_FLAVOURS, json_string_value(v));
    } else if (!strcmp(k, "caches")) {
      if (load_caches(x, v, p)) return -1;
    } else if (node_kind(k) == 1) {
      if (!json_is_object(v)) return fail(x, "'%s' must be an object (it is %s)", k, type_name(v));
      if (load_node(x, v, k, p, seen)) return -1;
    } else {
      return fail(x, "unknown key '%s'", k);
    }
  }
  if (!p->name[0]) return fail(x, "missing key 'name'");
  if (!json_object_get(root, "tsc_ghz")) return fail(x, "missing key 'tsc_ghz'");
  if (!p->host_flavour[0])
    return fail(x, "missing key 'host_flavour' (the KVM the figures describe: " COST_FLAVOURS ")");
  if (!json_object_get(root, "caches"))
    return fail(x, "missing key 'caches' (the data caches: l1, l2, llc with size_kib, ways, "
                   "source)");
  for (int f = 0; f < CF_COUNT; f++)
    if (!seen[f])
      return fail(x, "missing figure '%s' (expected {\"cycles\": N, \"source\": \"...\"})",
                  fig_path[f]);
  return 0;
}

int cost_profile__parse(const char *text, size_t len, const char *name, struct cost_profile *p,
                        char *err, size_t errlen) {
  struct load_ctx x = {name, err, errlen};
  memset(p, 0, sizeof *p);
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) return fail(&x, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
  int rc = load_root(&x, root, p);
  json_decref(root);
  if (!rc) snprintf(p->path, sizeof p->path, "%s", name);
  return rc;
}

int cost_profile__load(const char *path, struct cost_profile *p, char *err, size_t errlen) {
  struct load_ctx x = {path, err, errlen};
  FILE *f = fopen(path, "rb");
  if (!f) return fail(&x, "cannot open: %s (give an existing profile file)", strerror(errno));
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? 2 * cap : 65536;
      if (cap > (16u << 20)) {
        free(buf);
        fclose(f);
        return fail(&x, "larger than 16 MiB: not a profile");
      }
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return fail(&x, "out of memory");
      }
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  bool ioerr = ferror(f);
  fclose(f);
  if (ioerr) {
    free(buf);
    return fail(&x, "read error");
  }
  int rc = cost_profile__parse(buf, len, path, p, err, errlen);
  free(buf);
  return rc;
}

/* The embedded default (cost_profile_data.c). */
extern const char cost_profile__builtin_json[];
extern const char cost_profile__builtin_end[];

static struct cost_profile default_profile;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void) {
  char err[512];
  size_t len = (size_t)(cost_profile__builtin_end - cost_profile__builtin_json);
  if (cost_profile__parse(cost_profile__builtin_json, len,
                          "built-in refvmm/model/profiles/intel-skylake.json", &default_profile,
                          err, sizeof err)) {
    fprintf(stderr, "refvmm: %s (the built-in profile is broken: fix it and rebuild)\n", err);
    abort();
  }
}

const struct cost_profile *cost_profile__default(void) {
  pthread_once(&default_once, default_init);
  return &default_profile;
}

/* ---- costs --------------------------------------------------------------------------- */

static const unsigned exit_fig_reason[][2] = {
    {CF_EXIT_CPUID, EXIT_REASON_CPUID},
    {CF_EXIT_IO_INSTRUCTION, EXIT_REASON_IO_INSTRUCTION},
    {CF_EXIT_EPT_VIOLATION, EXIT_REASON_EPT_VIOLATION},
    {CF_EXIT_EPT_MISCONFIG, EXIT_REASON_EPT_MISCONFIG},
    {CF_EXIT_EXCEPTION_NMI, EXIT_REASON_EXCEPTION_NMI},
    {CF_EXIT_CR_ACCESS, EXIT_REASON_CR_ACCESS},
    {CF_EXIT_INVLPG, EXIT_REASON_INVLPG},
    {CF_EXIT_VMCALL, EXIT_REASON_VMCALL},
    {CF_EXIT_HLT, EXIT_REASON_HLT},
    {CF_EXIT_NMI_WINDOW, EXIT_REASON_NMI_WINDOW},
    {CF_EXIT_INTERRUPT_WINDOW, EXIT_REASON_INTERRUPT_WINDOW},
    {CF_EXIT_PREEMPTION_TIMER, EXIT_REASON_PREEMPTION_TIMER},
    {CF_EXIT_EXTERNAL_INTERRUPT, EXIT_REASON_EXTERNAL_INTERRUPT},
};

/* The figure a cache reference served at level l, of kind `kind`, is
 * priced with (L1 data hits: mem.data_ref alone, never a row here; walk
 * references are never streams). */
static const int cache_fig[CL_COUNT][CK_COUNT] = {
    [CL_L1] = {CF_MEM_L1_DEP, CF_MEM_L1_INDEP, CF_MEM_L1_INDEP},
    [CL_L2] = {CF_MEM_L2_DEP, CF_MEM_L2_INDEP, CF_MEM_L2_STREAM},
    [CL_LLC] = {CF_MEM_LLC_DEP, CF_MEM_LLC_INDEP, CF_MEM_LLC_STREAM},
    [CL_DRAM] = {CF_MEM_DRAM_DEP, CF_MEM_DRAM_INDEP, CF_MEM_DRAM_STREAM},
};

static const int dep_fig[MODEL_DEP_COUNT] = {
    [MODEL_DEP_NONE] = -1,
    [MODEL_DEP_ALU] = CF_INSN_DEP_ALU,
    [MODEL_DEP_MOV] = CF_INSN_DEP_MOV,
    [MODEL_DEP_MULDIV] = CF_INSN_DEP_MULDIV,
    [MODEL_DEP_LOAD] = CF_INSN_DEP_LOAD,
};

void cost_counts__from_cpu(const struct model_counters *n, const struct tlb_stats *st,
                           const struct cache_stats *cs, uint64_t cpl0_insns,
                           struct cost_counts *k) {
  memset(k, 0, sizeof *k);
  for (int i = 0; i < IC_COUNT; i++)
    for (int d = 0; d < MODEL_DEP_COUNT; d++) {
      k->n[CF_INSN_ALU + i] += n->by_class[i][d];
      if (dep_fig[d] >= 0) k->n[dep_fig[d]] += n->by_class[i][d];
    }
  k->n[CF_INSN_REP_ITERATION] = n->rep_iterations;
  k->n[CF_INSN_CPL0] = cpl0_insns;
  k->n[CF_MEM_DATA_REF] = n->mem_reads + n->mem_writes;
  for (int l = CL_L2; l < CL_COUNT; l++) /* data: beyond L1 */
    for (int kind = 0; kind < CK_COUNT; kind++)
      k->n[cache_fig[l][kind]] += cs->refs[CS_DATA][l][kind];
  for (int src = 0; src < 2; src++) /* walks: every level */
    for (int l = 0; l < CL_COUNT; l++)
      for (int kind = 0; kind < CK_COUNT; kind++) {
        uint64_t r = cs->refs[src ? CS_EPT : CS_WALK][l][kind];
        k->n[cache_fig[l][kind]] += r;
        k->wk[src][cache_fig[l][kind] - COST_WALK_FIRST] += r;
      }
  k->n[CF_MEM_TLB_L2_HIT] = st->hits[TLBL_L2];
  k->walks = st->walks;
  k->n[CF_TLB_FLUSH] = st->flushes;
  k->n[CF_TLB_INVLPG] = st->invlpg;
  k->n[CF_EVENT_DELIVERY] = n->exceptions;
  k->n[CF_EVENT_IRET] = n->exceptions; /* every delivered event returns once (approximation) */
}

void model_cost__counts(const struct model_cost *m, struct cost_counts *k) {
  const struct model_cpu *c = m->c;
  const struct model_counters *n = &c->cnt;
  /* insn.cpl0 counts what a host that emulates ring 0 emulates: every
   * ring-0 instruction, and a REP string instruction again as KVM does */
  cost_counts__from_cpu(n, &c->tlbm.st, &c->cache.st,
                        model_cpu__cpl0_insns(c) + c->cpl_acct.rep_emulations0, k);
  const struct model_vmcs *v = &c->vmcs;
  if (!v->active) return;
  uint64_t all = 0;
  for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
    all += v->exits[r];
  for (unsigned i = 0; i < sizeof exit_fig_reason / sizeof exit_fig_reason[0]; i++) {
    k->n[exit_fig_reason[i][0]] = v->exits[exit_fig_reason[i][1]];
    all -= v->exits[exit_fig_reason[i][1]];
  }
  k->n[CF_EXIT_DEFAULT] = all;
  k->n[CF_VMM_USER_EXIT] = m->user_exits;
  k->n[CF_VMM_CPUID] = v->exits[EXIT_REASON_CPUID];
  k->n[CF_VMM_EPT_VIOLATION] = v->ept_violations;
  k->n[CF_VMM_EVENT_INJECT] = n->nmis + n->irqs;
  if (m->shadow) {
    const struct vmm_shadow *s = m->shadow;
    /* an unprotect-and-retry (policy unsync) emulates nothing: a #PF exit
     * whose VMM work is a walk and a zap, priced as a fill */
    k->n[CF_VMM_SHADOW_FILL] = s->hidden_faults + s->pt_write_retries;
    k->n[CF_VMM_SHADOW_TRUE_FAULT] = s->true_faults;
    k->n[CF_VMM_PT_WRITE_EMULATE] = s->pt_write_exits - s->pt_write_retries;
    k->n[CF_VMM_CR3_SWITCH] = s->cr3_exits;
    k->n[CF_VMM_ROOT_BUILD] = s->roots_built;
    k->n[CF_VMM_INVLPG] = s->invlpg_exits;
  }
}

uint64_t cost__total_fp(const struct cost_profile *p, const struct cost_counts *k) {
  unsigned __int128 t = 0;
  for (int f = 0; f < CF_COUNT; f++)
    t += (unsigned __int128)p->fp[f] * k->n[f];
  return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

uint64_t cost__walk_fp(const struct cost_profile *p, const struct cost_counts *k, int src) {
  uint64_t t = 0;
  for (int f = 0; f < COST_WALK_FIGS; f++)
    t += p->fp[COST_WALK_FIRST + f] * k->wk[src][f];
  return t;
}

void cost_profile__cache_config(const struct cost_profile *p, struct model_cache_config *cc) {
  memset(cc, 0, sizeof *cc);
  for (int l = 0; l < 3; l++) {
    uint32_t w = p->cache[l].ways;
    cc->lv[l].ways = w;
    cc->lv[l].sets = w ? p->cache[l].size_kib * 16 / w : 0; /* KiB / 64 B lines / ways */
  }
}

uint64_t cost__cycles(const struct cost_profile *p, const struct cost_counts *k) {
  return cost__total_fp(p, k) >> COST_FP_SHIFT;
}

void model_cost__init(struct model_cost *m, const struct model_cpu *c,
                      const struct vmm_shadow *shadow) {
  memset(m, 0, sizeof *m);
  m->c = c;
  m->shadow = shadow;
}

const struct cost_profile *model_cost__profile(const struct model_cost *m) {
  return m->profile ? m->profile : cost_profile__default();
}

void model_cost__set_profile(struct model_cost *m, const struct cost_profile *p) {
  m->profile = p;
}

uint64_t model_cost__now(const void *arg) {
  const struct model_cost *m = arg;
  struct cost_counts k;
  model_cost__counts(m, &k);
  return cost__cycles(model_cost__profile(m), &k) + m->c->cnt.halted_cycles;
}

void model_cost__region_mark(struct model_cost *m, bool end) {
  struct cost_region *r = &m->region;
  if (!end) {
    model_cost__counts(m, &r->begin);
    r->begun = true;
    r->ended = false;
  } else if (r->begun) {
    model_cost__counts(m, &r->end);
    r->ended = true;
  }
}

bool model_cost__scope_counts(const struct model_cost *m, struct cost_counts *k) {
  const struct cost_region *r = &m->region;
  if (r->begun && r->ended) {
    cost_counts__sub(&r->end, &r->begin, k);
    return true;
  }
  model_cost__counts(m, k);
  return false;
}

uint64_t cost__sum_fp(const struct cost_profile *p, const struct cost_counts *k,
                      enum cost_fig first, enum cost_fig last) {
  uint64_t t = 0;
  for (int f = first; f <= (int)last && f < CF_COUNT; f++)
    t += p->fp[f] * k->n[f];
  return t;
}

void cost_counts__sub(const struct cost_counts *b, const struct cost_counts *a,
                      struct cost_counts *out) {
  for (int f = 0; f < CF_COUNT; f++)
    out->n[f] = b->n[f] - a->n[f];
  for (int src = 0; src < 2; src++)
    for (int f = 0; f < COST_WALK_FIGS; f++)
      out->wk[src][f] = b->wk[src][f] - a->wk[src][f];
  out->walks = b->walks - a->walks;
}

void cost__breakdown(const struct cost_profile *p, const struct cost_counts *mode,
                     const struct cost_counts *native, struct cost_breakdown *b) {
  const struct cost_counts *k[2] = {mode, native};
  int64_t total[2], exits[2], wref[2], l2tlb[2], events[2];
  for (int i = 0; i < 2; i++) {
    total[i] = (int64_t)cost__total_fp(p, k[i]);
    exits[i] = (int64_t)cost__sum_fp(p, k[i], CF_EXIT_DEFAULT, CF_VMM_EPT_VIOLATION);
    wref[i] = (int64_t)(cost__walk_fp(p, k[i], 0) + cost__walk_fp(p, k[i], 1));
    l2tlb[i] = (int64_t)cost__sum_fp(p, k[i], CF_MEM_TLB_L2_HIT, CF_TLB_INVLPG);
    events[i] = (int64_t)cost__sum_fp(p, k[i], CF_VMM_EVENT_INJECT, CF_EVENT_IRET);
  }
  b->overhead = total[0] - total[1];
  b->exits = exits[0] - exits[1];
  b->events = events[0] - events[1];
  /* extra walks priced at this mode's mean walk cost (integer: exact sums) */
  int64_t dwalks = (int64_t)mode->walks - (int64_t)native->walks;
  int64_t extra = mode->walks ? (int64_t)((__int128)dwalks * wref[0] / (int64_t)mode->walks) : 0;
  b->refills = extra + (l2tlb[0] - l2tlb[1]);
  b->walks = (wref[0] - wref[1]) - extra;
  b->other = b->overhead - b->exits - b->events - b->refills - b->walks;
}
