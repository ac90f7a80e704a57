/* model_report.c - the `model` section of a run's JSON and its human
 * summary: instructions, the TLB model's lookups/hits/misses per level,
 * page walks and their memory references by level, TLB flushes by cause,
 * the shadow/EPT managers' counts, exits by SDM reason; the cost model's
 * modeled cycles, overhead versus native and its breakdown by cause, the
 * profile (docs/COST_MODEL.md); the NMI/IRQ policies' events. */
#include "model_report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../vmm/vmm_events.h"
#include "cost_model.h"

/* ---- cost model: modeled cycles, overhead versus native, breakdown ------------------ */

/* The groups of cycles_by_group, in this order. */
static const char *const group_names[] = {
    "instructions",      "data_refs", "walks_guest", "walks_ept", "tlb_l2_hits",
    "tlb_invalidations", "exits",     "vmm",         "events",
};
#define NGROUPS (sizeof group_names / sizeof group_names[0])

/* A group's cost in 1/1024 cycles: instructions (classes, dependency
 * stalls, ring 0, REP iterations), data references with their cache misses
 * (every cache figure's count less the walks' share), walk references of
 * the guest (or shadow) and of the EPT tables, then ranges of figures. */
static uint64_t group_fp(const struct cost_profile *p, const struct cost_counts *k, unsigned g) {
  switch (g) {
  case 0:
    return cost__sum_fp(p, k, CF_INSN_ALU, CF_INSN_CPL0);
  case 1:
    return cost__sum_fp(p, k, CF_MEM_DATA_REF, COST_WALK_LAST) - cost__walk_fp(p, k, 0) -
           cost__walk_fp(p, k, 1);
  case 2:
  case 3:
    return cost__walk_fp(p, k, (int)g - 2);
  case 4:
    return cost__sum_fp(p, k, CF_MEM_TLB_L2_HIT, CF_MEM_TLB_L2_HIT);
  case 5:
    return cost__sum_fp(p, k, CF_TLB_FLUSH, CF_TLB_INVLPG);
  case 6:
    return cost__sum_fp(p, k, CF_EXIT_DEFAULT, CF_EXIT_EXTERNAL_INTERRUPT);
  case 7:
    return cost__sum_fp(p, k, CF_VMM_USER_EXIT, CF_VMM_EPT_VIOLATION);
  default:
    return cost__sum_fp(p, k, CF_VMM_EVENT_INJECT, CF_EVENT_IRET);
  }
}

/* fp to whole cycles, rounded down (as cost__cycles does), for negatives too. */
static int64_t floor_cycles(int64_t fp) {
  return fp >= 0 ? fp >> COST_FP_SHIFT : -((-fp + (1 << COST_FP_SHIFT) - 1) >> COST_FP_SHIFT);
}

/* Group cycles rounded down cumulatively, on the grid of modeled_cycles (the
 * total rounded down), so they add up to it exactly. */
static void group_cycles(const struct cost_profile *p, const struct cost_counts *k,
                         int64_t out[NGROUPS]) {
  int64_t cum = 0, prev = 0;
  for (unsigned g = 0; g < NGROUPS; g++) {
    cum += (int64_t)group_fp(p, k, g);
    int64_t r = floor_cycles(cum);
    out[g] = r - prev;
    prev = r;
  }
}

static const char *exit_fig_name(enum cost_fig f) {
  return cost_fig__path(f) + 5; /* "exit." */
}

struct cost_view {
  const struct cost_profile *p;
  struct cost_counts k, whole;
  bool timed;
  uint64_t cycles, whole_cycles;
  bool have_native; /* overhead computable */
  const char *baseline_run;
  char reason[300];
  struct cost_breakdown b; /* when have_native, in fp */
  uint64_t native_cycles;
  uint64_t native_fp; /* the native total in fp (exact), for rounding the causes */
};

static void cost_view(const struct model_cost *c, struct cost_view *v) {
  memset(v, 0, sizeof *v);
  v->p = model_cost__profile(c);
  v->timed = model_cost__scope_counts(c, &v->k);
  model_cost__counts(c, &v->whole);
  v->cycles = cost__cycles(v->p, &v->k);
  v->whole_cycles = cost__cycles(v->p, &v->whole);
  const struct cost_baseline *bl = &c->baseline;
  switch (bl->state) {
  case COST_BASELINE_SELF:
    v->baseline_run = "self";
    v->have_native = true;
    cost__breakdown(v->p, &v->k, &v->k, &v->b);
    v->native_cycles = v->cycles;
    v->native_fp = cost__total_fp(v->p, &v->k);
    break;
  case COST_BASELINE_RAN:
    v->baseline_run = "native";
    if (bl->timed != v->timed) {
      snprintf(v->reason, sizeof v->reason,
               "the native baseline %s a timed region and this run %s: not comparable",
               bl->timed ? "marked" : "did not mark", v->timed ? "did" : "did not");
      break;
    }
    v->have_native = true;
    cost__breakdown(v->p, &v->k, &bl->counts, &v->b);
    v->native_cycles = cost__cycles(v->p, &bl->counts);
    v->native_fp = cost__total_fp(v->p, &bl->counts);
    break;
  case COST_BASELINE_FAILED:
    v->baseline_run = "failed";
    snprintf(v->reason, sizeof v->reason, "%s", bl->reason);
    break;
  default:
    v->baseline_run = "none";
    snprintf(v->reason, sizeof v->reason, "%s",
             bl->reason[0] ? bl->reason : "no native baseline run (not requested)");
    break;
  }
}

/* results/schema.json u64: an integer, or a decimal string above 2^63-1 */
static json_t *u64_json(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char b[24];
  snprintf(b, sizeof b, "%llu", (unsigned long long)v);
  return json_string(b);
}

static json_t *cycles_json(int64_t fp) {
  return json_integer((json_int_t)cost__fp_to_cycles(fp));
}

static json_t *exits_breakdown_json(const struct cost_view *v, int64_t exits_fp) {
  json_t *by_reason = json_object(), *by_kind = json_object();
  for (int f = CF_EXIT_DEFAULT; f <= CF_VMM_EPT_VIOLATION; f++) {
    if (!v->k.n[f]) continue;
    json_t *e = json_pack("{s:I,s:o}", "count", (json_int_t)v->k.n[f], "cycles",
                          cycles_json((int64_t)(v->p->fp[f] * v->k.n[f])));
    if (f <= CF_EXIT_EXTERNAL_INTERRUPT)
      json_object_set_new(by_reason, f == CF_EXIT_DEFAULT ? "other" : exit_fig_name(f), e);
    else
      json_object_set_new(by_kind, cost_fig__path(f) + 4, e); /* "vmm." */
  }
  return json_pack("{s:o,s:o,s:o}", "cycles", cycles_json(exits_fp), "by_reason", by_reason,
                   "vmm_by_kind", by_kind);
}

static void cost_to_json(const struct model_cost *c, json_t *model) {
  struct cost_view v;
  cost_view(c, &v);
  int64_t g[NGROUPS];
  group_cycles(v.p, &v.k, g);
  json_t *groups = json_object();
  for (unsigned i = 0; i < NGROUPS; i++)
    json_object_set_new(groups, group_names[i], json_integer((json_int_t)g[i]));
  json_object_set_new(model, "modeled_cycles", json_integer((json_int_t)v.cycles));
  json_object_set_new(model, "modeled_cycles_scope",
                      json_string(v.timed ? "timed_region" : "whole_run"));
  json_object_set_new(model, "modeled_cycles_whole_run", json_integer((json_int_t)v.whole_cycles));
  json_object_set_new(model, "modeled_ns", json_real((double)v.cycles / v.p->tsc_ghz));
  json_object_set_new(model, "cycles_by_group", groups);
  /* what each figure was multiplied with (modeled_cycles' scope): a profile
   * can be refitted to measured times from these (vtbench calibrate) */
  json_t *counts = json_object();
  for (int f = 0; f < CF_COUNT; f++)
    json_object_set_new(counts, cost_fig__path(f), u64_json(v.k.n[f]));
  json_object_set_new(model, "counts_by_figure", counts);
  const struct cost_baseline *bl = &c->baseline;
  json_object_set_new(
      model, "baseline",
      json_pack("{s:s,s:o,s:o}", "run", v.baseline_run, "checksum",
                bl->state == COST_BASELINE_RAN ? u64_json(bl->checksum) : json_null(), "reason",
                v.have_native ? json_null() : json_string(v.reason)));
  if (v.have_native) {
    int64_t d = (int64_t)v.cycles - (int64_t)v.native_cycles;
    json_object_set_new(
        model, "overhead_vs_native",
        json_pack("{s:I,s:I,s:f}", "native_cycles", (json_int_t)v.native_cycles, "cycles",
                  (json_int_t)d, "ratio",
                  v.native_cycles ? (double)v.cycles / (double)v.native_cycles : 0.0));
    /* Cumulative rounding on the same grid as the totals (modeled cycles
     * are the fp total rounded down): the causes then add up to
     * overhead_vs_native.cycles exactly, and a cause that is 0 in fp stays
     * 0 instead of absorbing the totals' rounding as +-1. */
    int64_t parts[5] = {v.b.exits, v.b.walks, v.b.refills, v.b.events, v.b.other};
    int64_t out[5], at = (int64_t)v.native_fp, prev = floor_cycles(at);
    for (int i = 0; i < 5; i++) {
      at += parts[i];
      out[i] = floor_cycles(at) - prev;
      prev = floor_cycles(at);
    }
    out[4] +=
        d - (prev - floor_cycles((int64_t)v.native_fp)); /* 0 unless the parts miss the total */
    json_t *ex = exits_breakdown_json(&v, v.b.exits);
    json_object_set_new(ex, "cycles", json_integer((json_int_t)out[0]));
    json_object_set_new(model, "breakdown",
                        json_pack("{s:o,s:I,s:I,s:I,s:I}", "exits", ex, "walks", (json_int_t)out[1],
                                  "refills", (json_int_t)out[2], "events", (json_int_t)out[3],
                                  "other", (json_int_t)out[4]));
  } else {
    json_object_set_new(model, "overhead_vs_native", json_null());
    json_t *ex = exits_breakdown_json(
        &v, (int64_t)cost__sum_fp(v.p, &v.k, CF_EXIT_DEFAULT, CF_VMM_EPT_VIOLATION));
    json_object_set_new(
        model, "breakdown",
        json_pack("{s:o,s:n,s:n,s:n,s:n}", "exits", ex, "walks", "refills", "events", "other"));
  }
  json_object_set_new(model, "profile",
                      json_pack("{s:s,s:s,s:s,s:f,s:o,s:s,s:o}", "name", v.p->name, "path",
                                v.p->path, "cpu", v.p->cpu, "tsc_ghz", v.p->tsc_ghz, "measured_on",
                                v.p->measured ? json_string(v.p->measured_on) : json_null(),
                                "host_flavour", v.p->host_flavour, "measured_host",
                                v.p->measured ? json_string(v.p->measured_host) : json_null()));
}

static void cost_print(const struct model_cost *c, FILE *out) {
  struct cost_view v;
  cost_view(c, &v);
  fprintf(out, "cost model: %llu modeled cycles (%s; %.3f ms at %.2f GHz; whole run %llu)\n",
          (unsigned long long)v.cycles, v.timed ? "timed region" : "whole run",
          (double)v.cycles / v.p->tsc_ghz / 1e6, v.p->tsc_ghz, (unsigned long long)v.whole_cycles);
  fprintf(out, "cost profile: %s (%s)%s%s\n", v.p->name, v.p->path,
          v.p->measured ? ", measured on " : "", v.p->measured ? v.p->measured_on : "");
  int64_t g[NGROUPS];
  group_cycles(v.p, &v.k, g);
  fprintf(out, "cycles by group:");
  for (unsigned i = 0; i < NGROUPS; i++)
    if (g[i]) fprintf(out, " %s %lld", group_names[i], (long long)g[i]);
  fprintf(out, "\n");
  if (!v.have_native) {
    fprintf(out, "overhead vs native: n/a (%s)\n", v.reason);
  } else {
    int64_t d = (int64_t)v.cycles - (int64_t)v.native_cycles;
    fprintf(out,
            "overhead vs native: %+lld cycles (%+.2f%% of native %llu): exits %+lld, walks "
            "%+lld, refills %+lld, events %+lld, other %+lld\n",
            (long long)d, v.native_cycles ? 100.0 * (double)d / (double)v.native_cycles : 0.0,
            (unsigned long long)v.native_cycles, (long long)cost__fp_to_cycles(v.b.exits),
            (long long)cost__fp_to_cycles(v.b.walks), (long long)cost__fp_to_cycles(v.b.refills),
            (long long)cost__fp_to_cycles(v.b.events), (long long)cost__fp_to_cycles(v.b.other));
  }
  bool any = false;
  for (int f = CF_EXIT_DEFAULT; f <= CF_VMM_EPT_VIOLATION; f++) {
    if (!v.k.n[f]) continue;
    if (!any) fprintf(out, "exit cycles:");
    any = true;
    fprintf(out, " %s %llu x %g", cost_fig__path(f), (unsigned long long)v.k.n[f], v.p->cycles[f]);
  }
  if (any) fprintf(out, "\n");
}

static const char *const level_names[TLBL_COUNT] = {"l1d", "l1i", "l2"};

static void level_counts(const struct tlb_stats *st, int lv, uint64_t *lookups, uint64_t *hits,
                         uint64_t *misses) {
  *lookups = st->lookups[lv];
  *hits = st->hits[lv];
  *misses = st->misses[lv];
  if (lv == TLBL_L1D) { /* hits the CPU's front served are L1 DTLB hits */
    *lookups += st->front_hits;
    *hits += st->front_hits;
  }
}

/* ---- snapshots: the whole run and the timed region -------------------------------------- */

void model_report__init(struct model_report *r, const struct model_cpu *c,
                        const struct vmm_shadow *shadow, const struct vmm_events *events,
                        const struct model_cost *cost) {
  memset(r, 0, sizeof *r);
  r->c = c;
  r->shadow = shadow;
  r->events = events;
  r->cost = cost;
}

void model_report__snapshot(const struct model_report *r, struct model_snapshot *k) {
  const struct model_cpu *c = r->c;
  memset(k, 0, sizeof *k);
  k->cnt = c->cnt;
  k->st = c->tlbm.st;
  k->cache = c->cache.st;
  const struct model_vmcs *v = &c->vmcs;
  memcpy(k->exits, v->exits, sizeof k->exits);
  k->flush_on_entry = v->flush_on_entry;
  k->flush_on_exit = v->flush_on_exit;
  k->ept_violations = v->ept_violations;
  k->ept_misconfigs = v->ept_misconfigs;
  k->user_exits = r->cost->user_exits;
  memcpy(k->user_exits_by, r->cost->user_exits_by, sizeof k->user_exits_by);
  k->cpl0_insns = model_cpu__cpl0_insns(c);
  k->cpl0_writes = model_cpu__cpl0_writes(c);
  k->cpl0_entered = c->cpl_acct.entered;
  k->cpl0_left = c->cpl_acct.left;
  k->cpl0_rep_emulations = c->cpl_acct.rep_emulations0;
  k->cpl3_cpuid = c->cpl_acct.cpuid3;
  k->cpl3_mmio = c->cpl_acct.mmio3;
  vmm_shadow__stats(r->shadow, &k->sh);
}

void model_report__region_mark(struct model_report *rep, bool end) {
  struct model_region *r = &rep->region;
  if (!end) {
    model_report__snapshot(rep, &r->begin);
    r->begun = true;
    r->ended = false;
  } else if (r->begun) {
    model_report__snapshot(rep, &r->end);
    r->ended = true;
  }
}

void model_report__boot_mark(struct model_report *rep, uint64_t wall_ns) {
  if (rep->booted) return;
  model_report__snapshot(rep, &rep->boot);
  rep->boot_cycles = model_cpu__cycles(rep->c);
  rep->boot_wall_ns = wall_ns;
  rep->booted = true;
}

#define SNAP_WORDS (sizeof(struct model_snapshot) / sizeof(uint64_t))
_Static_assert(sizeof(struct model_snapshot) % sizeof(uint64_t) == 0,
               "struct model_snapshot holds uint64_t members only");

/* out = b - a, member by member. */
static void snapshot_sub(const struct model_snapshot *b, const struct model_snapshot *a,
                         struct model_snapshot *out) {
  uint64_t x[SNAP_WORDS], y[SNAP_WORDS];
  memcpy(x, b, sizeof x);
  memcpy(y, a, sizeof y);
  for (size_t i = 0; i < SNAP_WORDS; i++)
    x[i] -= y[i];
  memcpy(out, x, sizeof x);
}

/* What the cost model's instruction figures count: retired instructions by
 * class, dependency stalls by producer kind, REP iterations, data refs. */
static json_t *timing_json(const struct model_snapshot *k) {
  static const char *const cls[IC_COUNT] = {"alu",    "mov",    "branch", "stack", "muldiv",
                                            "string", "system", "io",     "other"};
  static const char *const dep[MODEL_DEP_COUNT] = {"none", "alu", "mov", "muldiv", "load"};
  json_t *by_class = json_object(), *stalls = json_object();
  for (unsigned i = 0; i < IC_COUNT; i++)
    json_object_set_new(by_class, cls[i],
                        json_integer((json_int_t)model_cpu__class_count(&k->cnt, i)));
  for (unsigned i = 1; i < MODEL_DEP_COUNT; i++)
    json_object_set_new(stalls, dep[i], json_integer((json_int_t)model_cpu__dep_count(&k->cnt, i)));
  return json_pack("{s:o,s:o,s:I,s:I}", "by_class", by_class, "dep_stalls", stalls,
                   "rep_iterations", (json_int_t)k->cnt.rep_iterations, "data_refs",
                   (json_int_t)(k->cnt.mem_reads + k->cnt.mem_writes));
}

/* Where the data caches served references: data beyond L1 by kind, walk
 * references (guest or shadow tables, EPT tables) at every level. */
static json_t *caches_json(const struct cache_stats *cs) {
  static const char *const lv[CL_COUNT] = {"l1", "l2", "llc", "dram"};
  static const char *const kind[CK_COUNT] = {"dependent", "independent", "stream"};
  static const char *const src[CS_COUNT] = {"data", "walk", "ept"};
  json_t *o = json_object();
  for (int s = 0; s < CS_COUNT; s++) {
    json_t *so = json_object();
    for (int l = s == CS_DATA ? CL_L2 : CL_L1; l < CL_COUNT; l++) {
      json_t *lo = json_object();
      for (int k = 0; k < (s == CS_DATA ? CK_COUNT : CK_STREAM); k++)
        json_object_set_new(lo, kind[k], json_integer((json_int_t)cs->refs[s][l][k]));
      json_object_set_new(so, lv[l], lo);
    }
    json_object_set_new(o, src[s], so);
  }
  return o;
}

/* The counters of a snapshot as the model section shows them: instructions
 * (and the CPL0 part), TLB levels, walks, flushes, the shadow or EPT
 * manager's counts (null in other modes), VM exits by SDM reason. */
static void counters_to_json(json_t *o, const struct model_snapshot *k, bool ept, bool shadow) {
  const struct tlb_stats *st = &k->st;
  json_t *tlb = json_object();
  for (int lv = 0; lv < TLBL_COUNT; lv++) {
    uint64_t l, h, m;
    level_counts(st, lv, &l, &h, &m);
    json_object_set_new(tlb, level_names[lv],
                        json_pack("{s:I,s:I,s:I}", "lookups", (json_int_t)l, "hits", (json_int_t)h,
                                  "misses", (json_int_t)m));
  }
  static const char *const wl[WALK_LEVELS] = {"", "pt", "pd", "pdpt", "pml4"};
  json_t *guest_lv = json_object(), *ept_lv = json_object();
  for (int l = 4; l >= 1; l--) {
    json_object_set_new(guest_lv, wl[l], json_integer((json_int_t)st->walk_refs_by_level[l]));
    json_object_set_new(ept_lv, wl[l], json_integer((json_int_t)st->ept_refs_by_level[l]));
  }
  json_t *by_level = json_pack("{s:o,s:o}", "guest", guest_lv, "ept", ept_lv);
  json_t *pwc = json_pack("{s:I,s:I,s:I}", "pml4e", (json_int_t)st->pwc_hits[0], "pdpte",
                          (json_int_t)st->pwc_hits[1], "pde", (json_int_t)st->pwc_hits[2]);
  json_t *ept_pwc =
      json_pack("{s:I,s:I,s:I}", "pml4e", (json_int_t)st->ept_pwc_hits[0], "pdpte",
                (json_int_t)st->ept_pwc_hits[1], "pde", (json_int_t)st->ept_pwc_hits[2]);
  json_t *walks = json_pack("{s:I,s:I,s:f,s:o,s:o,s:o}", "count", (json_int_t)st->walks, "refs",
                            (json_int_t)st->walk_refs, "refs_per_walk",
                            st->walks ? (double)st->walk_refs / (double)st->walks : 0.0, "by_level",
                            by_level, "pwc_hits", pwc, "ept_pwc_hits", ept_pwc);
  json_t *flushes = json_pack("{s:I,s:I,s:I,s:I}", "on_entry", (json_int_t)k->flush_on_entry,
                              "on_exit", (json_int_t)k->flush_on_exit, "by_guest",
                              (json_int_t)k->cnt.tlb_flushes, "invlpg", (json_int_t)st->invlpg);
  json_t *exits = json_object();
  for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
    if (k->exits[r] && vmx_exit_reason__name(r))
      json_object_set_new(exits, vmx_exit_reason__name(r), json_integer((json_int_t)k->exits[r]));
  json_t *ept_j = ept ? json_pack("{s:I,s:I}", "violations", (json_int_t)k->ept_violations,
                                  "misconfigs", (json_int_t)k->ept_misconfigs)
                      : json_null();
  json_t *shadow_j = json_null();
  if (shadow) {
    const struct vmm_shadow_stats *sh = &k->sh;
    shadow_j = json_object();
#define FIELD(name) json_object_set_new(shadow_j, #name, json_integer((json_int_t)sh->name));
    FIELD(hidden_faults)
    FIELD(true_faults)
    FIELD(pt_write_exits)
    FIELD(roots_built)
    FIELD(roots_reused)
    FIELD(zaps)
    FIELD(flooded)
    FIELD(cr3_exits)
    FIELD(invlpg_exits)
    FIELD(flush_exits)
    FIELD(flush_batches)
    FIELD(pages_allocated)
    FIELD(pages_freed)
    FIELD(unsynced)
    FIELD(resynced)
    FIELD(invlpg_resyncs)
    FIELD(pt_write_retries)
#undef FIELD
    json_object_set_new(shadow_j, "pt_writes_emulated",
                        json_integer((json_int_t)(sh->pt_write_exits - sh->pt_write_retries)));
    json_object_set_new(
        shadow_j, "by_cpl",
        json_pack("{s:{s:I,s:I,s:I},s:{s:I,s:I,s:I}}", "cpl0", "hidden_faults",
                  (json_int_t)sh->hidden_faults_cpl0, "true_faults",
                  (json_int_t)sh->true_faults_cpl0, "pt_write_exits",
                  (json_int_t)sh->pt_write_exits_cpl0, "cpl3", "hidden_faults",
                  (json_int_t)(sh->hidden_faults - sh->hidden_faults_cpl0), "true_faults",
                  (json_int_t)(sh->true_faults - sh->true_faults_cpl0), "pt_write_exits",
                  (json_int_t)(sh->pt_write_exits - sh->pt_write_exits_cpl0)));
    uint64_t vf =
        sh->flush_zap + sh->flush_protect + sh->flush_root_drop + sh->flush_invlpg + sh->flush_sync;
    json_object_set_new(
        shadow_j, "vmm_flushes",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "total", (json_int_t)vf, "zap",
                  (json_int_t)sh->flush_zap, "protect", (json_int_t)sh->flush_protect,
                  "protect_user", (json_int_t)sh->flush_protect_user, "root_drop",
                  (json_int_t)sh->flush_root_drop, "invlpg", (json_int_t)sh->flush_invlpg, "sync",
                  (json_int_t)sh->flush_sync));
  }
  json_object_set_new(o, "instructions", json_integer((json_int_t)k->cnt.instructions));
  json_object_set_new(o, "timing", timing_json(k));
  json_object_set_new(o, "caches", caches_json(&k->cache));
  json_object_set_new(o, "cpl0",
                      json_pack("{s:I,s:I,s:I,s:I,s:I}", "instructions", (json_int_t)k->cpl0_insns,
                                "mem_writes", (json_int_t)k->cpl0_writes, "entered",
                                (json_int_t)k->cpl0_entered, "left", (json_int_t)k->cpl0_left,
                                "rep_emulations", (json_int_t)k->cpl0_rep_emulations));
  json_object_set_new(
      o, "cpl3",
      json_pack("{s:I,s:I}", "cpuid", (json_int_t)k->cpl3_cpuid, "mmio", (json_int_t)k->cpl3_mmio));
  json_object_set_new(o, "tlb", tlb);
  json_object_set_new(o, "walks", walks);
  json_object_set_new(o, "flushes", flushes);
  json_object_set_new(o, "shadow", shadow_j);
  json_object_set_new(o, "ept", ept_j);
  json_object_set_new(o, "exits", exits);
}

json_t *model_report__to_json(const struct model_report *rep) {
  const struct model_cpu *c = rep->c;
  const struct model_vmcs *v = &c->vmcs;
  bool ept = model_vmcs__ept(v);
  bool shadow = rep->shadow != NULL;
  json_t *model = json_pack("{s:s,s:b}", "paging",
                            !v->active ? "native"
                            : ept      ? "ept"
                                       : "shadow",
                            "vpid", model_vmcs__vpid(v));
  if (!model) return NULL;
  if (shadow)
    json_object_set_new(model, "shadow_policy",
                        json_string(vmm_shadow__policy_name(rep->shadow->policy)));
  struct model_snapshot whole;
  model_report__snapshot(rep, &whole);
  counters_to_json(model, &whole, ept, shadow);
  /* The same counters over the timed region (between the guest's marks),
   * the span KVM's statistics and the run's exits cover; null without one. */
  const struct model_region *r = &rep->region;
  if (r->begun && r->ended) {
    struct model_snapshot d;
    snapshot_sub(&r->end, &r->begin, &d);
    json_t *t = json_object();
    counters_to_json(t, &d, ept, shadow);
    json_object_set_new(model, "timed", t);
  } else {
    json_object_set_new(model, "timed", json_null());
  }
  cost_to_json(rep->cost, model);
  json_object_set_new(model, "events", vmm_events__to_json(rep->events));
  /* a Linux boot: entry to the first user-space instruction (no key otherwise) */
  if (rep->booted) {
    json_t *b = json_object();
    counters_to_json(b, &rep->boot, ept, shadow);
    double ghz = model_cost__profile(rep->cost)->tsc_ghz;
    json_object_set_new(b, "modeled_cycles", json_integer((json_int_t)rep->boot_cycles));
    json_object_set_new(b, "modeled_ns", json_real((double)rep->boot_cycles / ghz));
    json_object_set_new(b, "wall_ns", json_integer((json_int_t)rep->boot_wall_ns));
    json_object_set_new(model, "boot_to_user", b);
  }
  return model;
}

void model_report__print(const struct model_report *rep, FILE *out) {
  const struct model_cpu *c = rep->c;
  const struct tlb_stats *st = &c->tlbm.st;
  fprintf(out, "model: %llu instructions\n", (unsigned long long)c->cnt.instructions);
  if (rep->booted) {
    const struct model_snapshot *b = &rep->boot;
    fprintf(out,
            "model boot: first user-space instruction after %llu instructions, %llu modeled "
            "cycles (%.1f ms), %.2f s wall;",
            (unsigned long long)b->cnt.instructions, (unsigned long long)rep->boot_cycles,
            (double)rep->boot_cycles / model_cost__profile(rep->cost)->tsc_ghz / 1e6,
            (double)rep->boot_wall_ns / 1e9);
    bool any = false;
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
      if (b->exits[r] && vmx_exit_reason__name(r)) {
        fprintf(out, "%s %s %llu", any ? "," : " vm exits", vmx_exit_reason__name(r),
                (unsigned long long)b->exits[r]);
        any = true;
      }
    fprintf(out, "\n");
  }
  cost_print(rep->cost, out);
  vmm_events__print(rep->events, out);
  fprintf(out, "tlb level      lookups         hits       misses  miss%%\n");
  for (int lv = 0; lv < TLBL_COUNT; lv++) {
    uint64_t l, h, m;
    level_counts(st, lv, &l, &h, &m);
    fprintf(out, "tlb %-5s %12llu %12llu %12llu %6.2f\n", level_names[lv], (unsigned long long)l,
            (unsigned long long)h, (unsigned long long)m, l ? 100.0 * (double)m / (double)l : 0.0);
  }
  fprintf(
      out,
      "walks %llu, refs %llu (%.2f per walk; pml4 %llu pdpt %llu pd %llu pt %llu); "
      "flushes by guest %llu, invlpg %llu\n",
      (unsigned long long)st->walks, (unsigned long long)st->walk_refs,
      st->walks ? (double)st->walk_refs / (double)st->walks : 0.0,
      (unsigned long long)st->walk_refs_by_level[4], (unsigned long long)st->walk_refs_by_level[3],
      (unsigned long long)st->walk_refs_by_level[2], (unsigned long long)st->walk_refs_by_level[1],
      (unsigned long long)c->cnt.tlb_flushes, (unsigned long long)st->invlpg);
  const struct model_vmcs *v = &c->vmcs;
  if (!v->active) return;
  fprintf(out, "vmx: %s, %s; ept refs pml4 %llu pdpt %llu pd %llu pt %llu; ept violations %llu\n",
          model_vmcs__ept(v) ? "ept" : "shadow", model_vmcs__vpid(v) ? "vpid" : "no vpid (flush)",
          (unsigned long long)st->ept_refs_by_level[4],
          (unsigned long long)st->ept_refs_by_level[3],
          (unsigned long long)st->ept_refs_by_level[2],
          (unsigned long long)st->ept_refs_by_level[1], (unsigned long long)v->ept_violations);
  const struct vmm_shadow *sh = rep->shadow;
  if (sh)
    fprintf(out,
            "shadow (%s): hidden faults %llu (cpl0 %llu), true faults %llu, pt writes %llu, roots "
            "built %llu, reused %llu, zaps %llu (flooded pages %llu), pages %llu allocated %llu "
            "freed, unsynced %llu, vmm flushes %llu\n",
            vmm_shadow__policy_name(sh->policy), (unsigned long long)sh->hidden_faults,
            (unsigned long long)sh->hidden_faults_cpl0, (unsigned long long)sh->true_faults,
            (unsigned long long)sh->pt_write_exits, (unsigned long long)sh->roots_built,
            (unsigned long long)sh->roots_reused, (unsigned long long)sh->zaps,
            (unsigned long long)sh->flooded, (unsigned long long)sh->pages_allocated,
            (unsigned long long)sh->pages_freed, (unsigned long long)sh->unsynced,
            (unsigned long long)(sh->flush_zap + sh->flush_protect + sh->flush_root_drop +
                                 sh->flush_invlpg + sh->flush_sync));
  fprintf(out, "tlb flushes on entry %llu, on exit %llu\n", (unsigned long long)v->flush_on_entry,
          (unsigned long long)v->flush_on_exit);
}

void model_report__print_time(const struct model_report *r, FILE *out) {
  struct cost_view v;
  cost_view(r->cost, &v);
  fprintf(out, "%s: %.3f ms modeled, %llu cycles at %.2f GHz (cost profile %s)\n",
          v.timed ? "timed region" : "whole run", (double)v.cycles / v.p->tsc_ghz / 1e6,
          (unsigned long long)v.cycles, v.p->tsc_ghz, v.p->name);
}

/* The cost figure of an exit's round trip for SDM reason r. */
static enum cost_fig exit_fig(unsigned r) {
  switch (r) {
#define EXIT_FIG(name)                                                                             \
  case EXIT_REASON_##name:                                                                         \
    return CF_EXIT_##name;
    EXIT_FIG(CPUID)
    EXIT_FIG(IO_INSTRUCTION)
    EXIT_FIG(EPT_VIOLATION)
    EXIT_FIG(EPT_MISCONFIG)
    EXIT_FIG(EXCEPTION_NMI)
    EXIT_FIG(CR_ACCESS)
    EXIT_FIG(INVLPG)
    EXIT_FIG(VMCALL)
    EXIT_FIG(HLT)
    EXIT_FIG(NMI_WINDOW)
    EXIT_FIG(INTERRUPT_WINDOW)
    EXIT_FIG(PREEMPTION_TIMER)
    EXIT_FIG(EXTERNAL_INTERRUPT)
#undef EXIT_FIG
  default:
    return CF_EXIT_DEFAULT;
  }
}

void model_report__print_exits(const struct model_report *rep, FILE *out) {
  if (!rep->c->vmcs.active) return;
  const struct model_region *rg = &rep->region;
  bool timed = rg->begun && rg->ended;
  struct model_snapshot k;
  if (timed)
    snapshot_sub(&rg->end, &rg->begin, &k);
  else
    model_report__snapshot(rep, &k);
  uint64_t total = 0, to_refvmm = 0;
  for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
    total += k.exits[r], to_refvmm += k.user_exits_by[r];
  const struct cost_profile *p = model_cost__profile(rep->cost);
  fprintf(out,
          "vm exits in the %s (model, SDM reasons; cycles: modeled round trip, plus refvmm's "
          "handling for those that reached it):\n",
          timed ? "timed region" : "whole run");
  fprintf(out, "%-26s %10s %8s %10s %12s\n", "exit reason", "count", "share", "to refvmm",
          "cycles/exit");
  for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
    if (!k.exits[r]) continue;
    const char *name = vmx_exit_reason__name(r);
    char unk[32];
    if (!name) snprintf(unk, sizeof unk, "reason %u", r), name = unk;
    double per = p->cycles[exit_fig(r)] +
                 p->cycles[CF_VMM_USER_EXIT] * (double)k.user_exits_by[r] / (double)k.exits[r];
    fprintf(out, "%-26s %10llu %7.2f%% %10llu %12.0f\n", name, (unsigned long long)k.exits[r],
            100.0 * (double)k.exits[r] / (double)total, (unsigned long long)k.user_exits_by[r],
            per);
  }
  fprintf(out, "%-26s %10llu %8s %10llu\n", "total", (unsigned long long)total, "",
          (unsigned long long)to_refvmm);
}
