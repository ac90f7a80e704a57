/* savings.h - what each hardware assist saves: for every workload and
 * backend, one-factor-at-a-time pairs of configurations that differ in
 * exactly one switch (EPT vs shadow with the same tlb/nmi/irq; VPID vs flush
 * under ept and under shadow; NMI window vs poll; IRQ window vs poll), the
 * ratio of their times per iteration and the cause in a VMM engineer's
 * units: exits avoided or added per iteration by reason, walk references
 * per TLB miss, TLB refills avoided, delivery latency p50/p99. */
#ifndef VTBENCH_SAVINGS_H
#define VTBENCH_SAVINGS_H

#include <jansson.h>
#include <stdbool.h>

#include "aggregate.h"

enum assist {
  ASSIST_EPT,         /* paging: ept vs shadow */
  ASSIST_VPID_EPT,    /* tlb: vpid vs flush, under ept */
  ASSIST_VPID_SHADOW, /* tlb: vpid vs flush, under shadow */
  ASSIST_NMI_WINDOW,  /* nmi: window vs poll */
  ASSIST_IRQ_WINDOW,  /* irq: window vs poll */
  ASSIST_COUNT
};

struct assist_info {
  const char *title; /* "EPT vs shadow" */
  const char *name;  /* "ept" (file names, JSON) */
  int axis;          /* MODE_AXIS_* it switches */
  int paging;        /* -1: any; else the paging the pair must have (1 shadow, 2 ept) */
};
extern const struct assist_info savings_assists[ASSIST_COUNT];

enum saving_status {
  SAVING_MEASURED,     /* both sides measured */
  SAVING_NOT_MEASURED, /* the matrix has no such pair */
  SAVING_HOST_FIXED    /* this host cannot switch the axis (note says why) */
};
enum saving_verdict { SAVING_SAVES = -1, SAVING_SAME = 0, SAVING_COSTS = 1 };

struct saving_cell {
  enum saving_status status;
  const struct agg_group *off, *on; /* without and with the assist */
  double ratio, lo, hi;             /* time(on) / time(off), 95% bootstrap CI */
  bool exact;                       /* deterministic (the model): no interval */
  double p;                         /* measured: two-sided Mann-Whitney U of the two samples */
  enum saving_verdict verdict;      /* exact: beyond 0.5%; measured: CI excludes 1, p < 0.05 */
  double effect;                    /* |ln ratio|, for sorting */
  char ratio_text[80];              /* "exact", "95% CI [0.88, 0.95]" */
  char verdict_text[64];            /* "saves 56% (0.44x)", "costs 2.1x", "no measurable ..." */
  char cause[400];                  /* per iteration, on vs off */
  char note[160];                   /* why there is no figure */
};

struct saving_row {
  const struct agg_group *first; /* backend, workload, label of the row */
  struct saving_cell cell[ASSIST_COUNT];
};

/* One row per backend and workload (with its parameters) in the order of s
 * (report order). context: the document's context (kvm.flavour,
 * kvm.modes) to tell an axis the host cannot switch; may be NULL. Returns
 * the number of rows in a malloc'd array. */
size_t savings__compute(const struct agg_set *s, const json_t *context, struct saving_row **out);

/* The savings as JSON (for report.json): [{backend, workload, assist, ...}]. */
json_t *savings__json(const struct saving_row *rows, size_t n);

#endif
