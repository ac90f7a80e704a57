/* report_page.h - the content of `vtbench report`'s page, built once as a
 * report_doc (report_doc.h) and written as index.html and summary.md: the
 * first screen says what each assist saves (savings.h), then the findings,
 * the virtualization tax per mode, the model's causes, NMI/IRQ delivery,
 * the comparison with another document, the plots and the hosts. */
#ifndef VTBENCH_REPORT_PAGE_H
#define VTBENCH_REPORT_PAGE_H

#include <jansson.h>
#include <stddef.h>

#include "aggregate.h"
#include "report_kvm_exits.h"
#include "savings.h"

struct report_in {
  const char *path;
  const json_t *doc; /* the envelope: context, session (the runs are in s) */
  const struct agg_set *s;
  const struct kvm_exits_acc *kvm_exits; /* the runs' exits by reason, or NULL */
};

struct report_page_in {
  const struct report_in *in; /* this document, and the other one with --compare */
  int nin;
  const char *dir; /* the report directory: only plots drawn there are shown */
  const char *baseline;
  const json_t *findings, *plots;
  const struct saving_row *sv, *osv; /* savings of this and the other document */
  size_t nsv, nosv;
};

/* The document (new reference). */
json_t *report_page__build(const struct report_page_in *p);

#endif
