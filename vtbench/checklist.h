/* checklist.h - one line per check and a summary, in the style of
 * kvm-unit-tests, for commands that check something (`vtbench validate`):
 *
 *   PASS pio io_exits kvm 500 model 500 (exact)
 *   FAIL forkwait mmu_shadow_zapped kvm 98 model 73 (0.745x, outside max(3, 1%))
 *   XFAIL pio io_exits kvm 0 model 500 (known: kvm_pvm leaves io_exits at 0)
 *   SKIP mmio: no KVM run
 *   14 passed, 1 failed (2 known differences, 1 skipped)
 *
 * A known difference (XFAIL) is one the documentation explains; it does not
 * fail the checklist. The lines go to the stream given at init (stdout);
 * checklist__ok() says whether the command should exit 0. */
#ifndef VTBENCH_CHECKLIST_H
#define VTBENCH_CHECKLIST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "msg.h"

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_XFAIL, CHECK_SKIP };

struct checklist {
  FILE *out;
  unsigned n[4]; /* by enum check_result */
};

void checklist__init(struct checklist *c, FILE *out);
/* One line: "PASS TEXT", "FAIL TEXT", "XFAIL TEXT" or "SKIP TEXT". */
void checklist__add(struct checklist *c, enum check_result r, const char *fmt, ...)
    MSG_PRINTF(3, 4);
/* PASS when ok, else FAIL. */
void checklist__check(struct checklist *c, bool ok, const char *fmt, ...) MSG_PRINTF(3, 4);
/* "N passed, M failed" with the known differences and skips when any. */
void checklist__summary(const struct checklist *c);
/* No check failed. */
bool checklist__ok(const struct checklist *c);
const char *checklist__word(enum check_result r); /* "PASS", ... */

#endif
