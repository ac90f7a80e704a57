/* report_kvm_exits.h - report sections fed by the KVM tracepoint probe and
 * the host context, kept apart from the report's layout (cmd_report.c) so
 * either can change alone:
 *   - a warning when the host CPU is emulated (QEMU TCG): counts exact,
 *     timings not hardware figures;
 *   - VM exits by SDM reason, the model's next to KVM's (kvm_exits from
 *     kvm:kvm_exit), per workload and paging mode. */
#ifndef VTBENCH_REPORT_KVM_EXITS_H
#define VTBENCH_REPORT_KVM_EXITS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The warning, as a Markdown block quote (html false) or an HTML paragraph,
 * when any context of doc says cpu.emulated; nothing otherwise. Returns
 * whether it wrote. */
bool report_kvm_exits__emulated_note(FILE *f, const json_t *doc, bool html);

/* The Markdown section "VM exits by reason: model vs KVM" for doc's runs:
 * for each workload (with its parameters) and paging mode that has both a
 * model run and a KVM run with kvm_exits, one row per SDM reason with the
 * medians over repetitions of each side's count in the timed region.
 * Returns the number of rows written (0: no such pair, nothing written). */
int report_kvm_exits__table_md(FILE *f, const json_t *doc);

#endif
