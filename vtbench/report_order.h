/* report_order.h - the order and colours every table and plot of a report
 * uses, whatever order the runs came in: workloads in the catalog's order,
 * then backend, then parameters, then the mode in canonical order (native,
 * shadow/flush, shadow/vpid, ept/flush, ept/vpid; for NMI then IRQ, poll
 * before window), and one fixed colour per mode. */
#ifndef VTBENCH_REPORT_ORDER_H
#define VTBENCH_REPORT_ORDER_H

#include "aggregate.h"

/* A mode "paging/tlb/nmi/irq" split into its four switches. */
struct mode_axes {
  int paging; /* 0 native, 1 shadow, 2 ept */
  int tlb;    /* 0 flush, 1 vpid */
  int nmi;    /* 0 poll, 1 window */
  int irq;    /* 0 poll, 1 window */
};
enum { MODE_AXIS_PAGING, MODE_AXIS_TLB, MODE_AXIS_NMI, MODE_AXIS_IRQ, MODE_AXES };

/* 0, or -1 when mode is not four known words. */
int report_order__parse(const char *mode, struct mode_axes *out);
int report_order__axis(const struct mode_axes *m, int axis);
/* Position of a mode in the canonical order (0 = native/flush/poll/poll);
 * unknown modes after every known one. */
int report_order__mode_rank(const char *mode);
/* "#rrggbb" of the mode, the same in every plot and table: one hue per
 * paging/tlb pair, darker with NMI/IRQ window exiting. */
const char *report_order__colour(const char *mode);
/* Position of a workload in the catalog; unknown ones after, by name. */
int report_order__workload_rank(const char *workload);
/* qsort comparator of two groups in report order. */
int report_order__cmp(const struct agg_group *a, const struct agg_group *b);
/* Sort the groups of s into report order (stable for equal keys). */
void report_order__sort(struct agg_set *s);

#endif
