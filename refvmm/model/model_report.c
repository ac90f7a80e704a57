/* model_report.c - the `model` section of a run's JSON and its human
 * summary: instructions, the TLB model's lookups/hits/misses per level,
 * page walks and their memory references by level, TLB flushes by cause.
 * Paging-mode sections (shadow, ept) are null until those modes exist. */
#include <jansson.h>
#include <stdio.h>

#include "model_backend.h"
#include "model_cpu.h"
#include "vmm_shadow.h"

static const char *const level_names[TLBL_COUNT] = {"l1d", "l1i", "l2"};

static void level_counts(const struct model_cpu *c, int lv, uint64_t *lookups, uint64_t *hits,
                         uint64_t *misses) {
  const struct tlb_stats *st = &c->tlbm.st;
  *lookups = st->lookups[lv];
  *hits = st->hits[lv];
  *misses = st->misses[lv];
  if (lv == TLBL_L1D) { /* hits the CPU's front served are L1 DTLB hits */
    *lookups += st->front_hits;
    *hits += st->front_hits;
  }
}

json_t *model_backend__to_json(const struct vm *vm) {
  const struct model_cpu *c = model_backend__cpu(vm);
  if (!c) return json_null();
  const struct tlb_stats *st = &c->tlbm.st;
  json_t *tlb = json_object();
  for (int lv = 0; lv < TLBL_COUNT; lv++) {
    uint64_t l, h, m;
    level_counts(c, lv, &l, &h, &m);
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
  const struct model_vmcs *v = &c->vmcs;
  bool ept = model_vmcs__ept(v);
  json_t *by_level = json_pack("{s:o,s:o}", "guest", guest_lv, "ept", ept_lv);
  json_t *pwc = json_pack("{s:I,s:I,s:I}", "pml4e", (json_int_t)st->pwc_hits[0], "pdpte",
                          (json_int_t)st->pwc_hits[1], "pde", (json_int_t)st->pwc_hits[2]);
  json_t *walks = json_pack("{s:I,s:I,s:f,s:o,s:o}", "count", (json_int_t)st->walks, "refs",
                            (json_int_t)st->walk_refs, "refs_per_walk",
                            st->walks ? (double)st->walk_refs / (double)st->walks : 0.0, "by_level",
                            by_level, "pwc_hits", pwc);
  json_t *flushes = json_pack("{s:I,s:I,s:I,s:I}", "on_entry", (json_int_t)v->flush_on_entry,
                              "on_exit", (json_int_t)v->flush_on_exit, "by_guest",
                              (json_int_t)c->cnt.tlb_flushes, "invlpg", (json_int_t)st->invlpg);
  json_t *exits = json_object();
  for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
    if (v->exits[r] && vmx_exit_reason__name(r))
      json_object_set_new(exits, vmx_exit_reason__name(r), json_integer((json_int_t)v->exits[r]));
  json_t *ept_j = ept ? json_pack("{s:I,s:I}", "violations", (json_int_t)v->ept_violations,
                                  "misconfigs", (json_int_t)v->ept_misconfigs)
                      : json_null();
  const struct vmm_shadow *sh = model_backend__shadow(vm);
  json_t *shadow_j =
      sh ? json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "hidden_faults",
                     (json_int_t)sh->hidden_faults, "true_faults", (json_int_t)sh->true_faults,
                     "pt_write_exits", (json_int_t)sh->pt_write_exits, "roots_built",
                     (json_int_t)sh->roots_built, "roots_reused", (json_int_t)sh->roots_reused,
                     "zaps", (json_int_t)sh->zaps, "cr3_exits", (json_int_t)sh->cr3_exits,
                     "invlpg_exits", (json_int_t)sh->invlpg_exits)
         : json_null();
  return json_pack("{s:s,s:b,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "paging",
                   !v->active ? "native"
                   : ept      ? "ept"
                              : "shadow",
                   "vpid", model_vmcs__vpid(v), "instructions", (json_int_t)c->cnt.instructions,
                   "tlb", tlb, "walks", walks, "flushes", flushes, "shadow", shadow_j, "ept", ept_j,
                   "exits", exits);
}

void model_backend__print(const struct vm *vm, FILE *out) {
  const struct model_cpu *c = model_backend__cpu(vm);
  if (!c) return;
  const struct tlb_stats *st = &c->tlbm.st;
  fprintf(out, "model: %llu instructions\n", (unsigned long long)c->cnt.instructions);
  fprintf(out, "tlb level      lookups         hits       misses  miss%%\n");
  for (int lv = 0; lv < TLBL_COUNT; lv++) {
    uint64_t l, h, m;
    level_counts(c, lv, &l, &h, &m);
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
  const struct vmm_shadow *sh = model_backend__shadow(vm);
  if (sh)
    fprintf(out,
            "shadow: hidden faults %llu, true faults %llu, pt writes %llu, roots built %llu, "
            "reused %llu, zaps %llu\n",
            (unsigned long long)sh->hidden_faults, (unsigned long long)sh->true_faults,
            (unsigned long long)sh->pt_write_exits, (unsigned long long)sh->roots_built,
            (unsigned long long)sh->roots_reused, (unsigned long long)sh->zaps);
  fprintf(out, "tlb flushes on entry %llu, on exit %llu\n", (unsigned long long)v->flush_on_entry,
          (unsigned long long)v->flush_on_exit);
  fprintf(out, "vm exits by reason (SDM):");
  for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
    if (v->exits[r] && vmx_exit_reason__name(r))
      fprintf(out, " %s %llu", vmx_exit_reason__name(r), (unsigned long long)v->exits[r]);
  fprintf(out, "\n");
}
