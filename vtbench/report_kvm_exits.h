/* report_kvm_exits.h - report blocks fed by the KVM tracepoint probe and
 * the host context, kept apart from the report's layout (report_page.c) so
 * either can change alone; they add to a report_doc (report_doc.h):
 *   - a warning when the host CPU is emulated (QEMU TCG): counts exact,
 *     timings not hardware figures;
 *   - VM exits by SDM reason, the model's next to KVM's (kvm_exits from
 *     kvm:kvm_exit), per workload and paging mode. */
#ifndef VTBENCH_REPORT_KVM_EXITS_H
#define VTBENCH_REPORT_KVM_EXITS_H

#include <jansson.h>
#include <stdbool.h>

/* A note on report d when any context of the result document says
 * cpu.emulated; nothing otherwise. Returns whether it added one. */
bool report_kvm_exits__emulated_note(json_t *d, const json_t *doc);

/* The runs' counts by SDM reason, gathered run by run as a document is
 * read (aggregate__load_observed), so that the runs need not stay in
 * memory: per (workload, params, paging) cell and side, one count per run
 * and reason. */
struct kvm_exits_acc;
struct kvm_exits_acc *report_kvm_exits__new(void);
/* Take one run's counts (any run: not ok ones and other backends are skipped). */
void report_kvm_exits__add(struct kvm_exits_acc *a, const json_t *run);
void report_kvm_exits__free(struct kvm_exits_acc *a);

/* The section "VM exits by reason: model vs KVM" (id "kvm-exits") for the
 * runs gathered in a: for each workload (with its parameters) and paging
 * mode that has both a model run and a KVM run with kvm_exits, one row per
 * SDM reason with the medians over repetitions of each side's count in the
 * timed region. Returns the number of rows (0: no such pair, nothing
 * added). */
int report_kvm_exits__section(json_t *d, const struct kvm_exits_acc *a);

#endif
