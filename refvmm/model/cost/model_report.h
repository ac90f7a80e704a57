/* model_report.h - the model backend's `model` section of the run object
 * and its summary lines (model_report.c): the machine's counters, the VMM's
 * (shadow MMU, EPT manager, event policies) and the cost model's figures,
 * for the whole run and for the timed region. */
#ifndef REFVMM_MODEL_REPORT_H
#define REFVMM_MODEL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../cpu/model_cpu.h"
#include "../vmm/vmm_shadow.h"

struct json_t;
struct model_cost;
struct vmm_events;
struct vmm_ept;

/* The counters of the `model` JSON section at one moment ,
 * snapshotted at the timed region's marks so the report gives the region's
 * figures next to the whole run's. Only uint64_t members: subtracted as such. */
struct model_snapshot {
  struct model_counters cnt;
  struct tlb_stats st;
  struct cache_stats cache;
  uint64_t exits[EXIT_REASON_MAX];
  uint64_t flush_on_entry, flush_on_exit, ept_violations, ept_misconfigs, user_exits;
  uint64_t user_exits_by[EXIT_REASON_MAX]; /* exits that reached refvmm, by SDM reason */
  uint64_t cpl0_insns, cpl0_writes, cpl0_entered, cpl0_left, cpl0_rep_emulations;
  uint64_t cpl3_cpuid, cpl3_mmio;
  struct vmm_shadow_stats sh;
};
struct model_region {
  struct model_snapshot begin, end;
  bool begun, ended;
};

/* What the report reads: the CPU, the VMM's parts (NULL where the mode has
 * none) and the cost accounting; the region snapshots live here too. */
struct model_report {
  const struct model_cpu *c;
  const struct vmm_shadow *shadow; /* paging shadow */
  const struct vmm_events *events;
  const struct model_cost *cost;
  struct model_region region; /* the counters at the timed region's marks */
  /* a Linux boot: the counters at the first user-space instruction, the
   * modeled cycles then and the wall time since the first entry */
  bool booted;
  struct model_snapshot boot;
  uint64_t boot_cycles, boot_wall_ns;
};

void model_report__init(struct model_report *r, const struct model_cpu *c,
                        const struct vmm_shadow *shadow, const struct vmm_events *events,
                        const struct model_cost *cost);
/* The counters now, and at the timed region's begin / end mark. */
void model_report__snapshot(const struct model_report *r, struct model_snapshot *k);
void model_report__region_mark(struct model_report *r, bool end);
/* The guest reached user space for the first time (model_cpu user_seen):
 * the boot's figures; wall_ns since the guest's first entry. */
void model_report__boot_mark(struct model_report *r, uint64_t wall_ns);
/* The run's `model` section: instructions, timing {by_class, dep_stalls,
 * rep_iterations, data_refs}, caches {data, walks}, tlb {l1d,l1i,l2 {lookups,
 * hits, misses}}, walks {count, refs, refs_per_walk, by_level, pwc_hits}, flushes,
 * shadow, ept, exits; the cost model's modeled_cycles, cycles_by_group,
 * baseline, overhead_vs_native, breakdown, profile (docs/COST_MODEL.md);
 * events. New reference. */
struct json_t *model_report__to_json(const struct model_report *r);
/* The same as a few human lines. */
void model_report__print(const struct model_report *r, FILE *out);
/* The timed region's modeled time, first of the summary's time lines
 * ("timed region: 0.026 ms modeled, 105166 cycles at 4.00 GHz"); the whole
 * run's when the guest marked no region. */
void model_report__print_time(const struct model_report *r, FILE *out);
/* The VM exits by SDM reason in the style of perf kvm stat (timed region,
 * else the whole run): count, share, how many reached refvmm, modeled
 * cycles per exit (the exit's round trip, plus refvmm's handling for those
 * that reached it). Nothing without VMX (native). */
void model_report__print_exits(const struct model_report *r, FILE *out);

#endif
