/* test_model_events.c - the model's NMI/IRQ injection points: delivery at
 * the next instruction boundary, NMI blocking until IRET (and coalescing),
 * IRQs held while RFLAGS.IF=0 and through the STI shadow, IST stacks. These
 * are the hooks the window/poll policies of issue 7 drive. */
#include <check.h>
#include <string.h>

#include "test_model_harness.h"

static const uint8_t nops[] = {0x90, 0x90, 0x90, 0x90};

START_TEST(test_nmi_delivered_on_ist) {
  struct tm_state st = {.cpl = 3};
  struct tm *t = tm_new(nops, sizeof nops, &st);
  t->c->nmi_pending = true;
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, 2);
  ck_assert_uint_eq(r.rip, TM_CODE); /* before the first instruction */
  ck_assert(t->c->nmi_blocked);
  ck_assert_uint_le(t->c->gpr[4], TM_ISTACK); /* frame on IST1, not RSP0 */
  ck_assert_uint_gt(t->c->gpr[4], TM_ISTACK - 64);
  ck_assert_uint_eq(t->c->cnt.nmis, 1);
  tm_free(t);
}
END_TEST

/* A second NMI waits for the IRET of the first handler (nop; iretq here),
 * then is taken at the next boundary. */
START_TEST(test_nmi_blocked_until_iret) {
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(nops, sizeof nops, &st);
  memcpy(t->ram + TM_STUBS + 16 * 2, "\x90\x48\xcf", 3); /* nop; iretq */
  t->c->nmi_pending = true;
  model_cpu__run(t->c, 1); /* the delivery (events count as work done) */
  ck_assert_uint_eq(t->c->cnt.nmis, 1);
  ck_assert(t->c->nmi_blocked);
  t->c->nmi_pending = true; /* arrives while the handler runs: held */
  model_cpu__run(t->c, 2);  /* the handler's NOP and IRETQ */
  ck_assert_uint_eq(t->c->cnt.nmis, 1);
  ck_assert(!t->c->nmi_blocked);
  ck_assert(t->c->nmi_pending);
  ck_assert_uint_eq(t->c->rip, TM_CODE);
  model_cpu__run(t->c, 1); /* taken before any guest instruction */
  ck_assert_uint_eq(t->c->cnt.nmis, 2);
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, 6); /* back in the code, ran to the UD2 */
  ck_assert_uint_eq(t->c->cnt.nmis, 2);
  tm_free(t);
}
END_TEST

START_TEST(test_irq_waits_for_if_and_sti_shadow) {
  static const uint8_t code[] = {0x90, 0xfb, 0x90, 0x90}; /* nop; sti; nop; nop */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  t->c->irq_pending = true;
  t->c->irq_vector = 0x40;
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, 0x40);
  ck_assert_uint_eq(r.rip, TM_CODE + 3); /* after the instruction following STI */
  ck_assert(r.rflags & RF_IF);
  ck_assert(!(t->c->rflags & RF_IF)); /* interrupt gate cleared IF */
  ck_assert_uint_eq(t->c->cnt.irqs, 1);
  tm_free(t);
}
END_TEST

START_TEST(test_irq_masked_never_delivered) {
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(nops, sizeof nops, &st);
  t->c->irq_pending = true;
  t->c->irq_vector = 0x41;
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert(t->c->irq_pending);
  tm_free(t);
}
END_TEST

/* A guest that faults forever without retiring anything still returns to
 * the VMM when its budget is used up (the watchdog relies on it). */
START_TEST(test_fault_loop_respects_budget) {
  static const uint8_t ud[] = {0x0f, 0x0b};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(ud, sizeof ud, &st);
  memcpy(t->ram + TM_STUBS + 16 * 6, "\x0f\x0b", 2); /* the #UD handler is a UD2 */
  enum model_stop s = model_cpu__run(t->c, 1000);
  ck_assert_int_eq(s, MSTOP_SLICE);
  ck_assert_uint_eq(t->c->cnt.exceptions, 1000);
  ck_assert_uint_eq(t->c->cnt.instructions, 0);
  tm_free(t);
}
END_TEST

/* An IDT gate with a non-canonical target: #GP in delivery, then #DF, then
 * shutdown, as on hardware. */
START_TEST(test_noncanonical_gate_triple_faults) {
  static const uint8_t ud[] = {0x0f, 0x0b};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(ud, sizeof ud, &st);
  for (int v = 0; v < 32; v++)
    memset(t->ram + TM_IDT + 16 * v + 8, 0x80, 4); /* offset 63:32 */
  struct tm_result r;
  ck_assert_int_eq(tm_run(t, &r), MSTOP_SHUTDOWN);
  tm_free(t);
}
END_TEST

Suite *suite_model_events(void) {
  Suite *s = suite_create("model_events");
  TCase *tc = tcase_create("inject");
  tcase_add_test(tc, test_nmi_delivered_on_ist);
  tcase_add_test(tc, test_nmi_blocked_until_iret);
  tcase_add_test(tc, test_irq_waits_for_if_and_sti_shadow);
  tcase_add_test(tc, test_irq_masked_never_delivered);
  tcase_add_test(tc, test_fault_loop_respects_budget);
  tcase_add_test(tc, test_noncanonical_gate_triple_faults);
  suite_add_tcase(s, tc);
  return s;
}
