/* test_model_events.c - the model's NMI/IRQ injection points: delivery at
 * the next instruction boundary, NMI blocking until IRET (and coalescing),
 * IRQs held while RFLAGS.IF=0 and through the STI shadow, IST stacks; and
 * refvmm's window/poll policies (vmm_events.c) on hand-built sequences: an
 * NMI raised inside an NMI handler is delivered right after its IRETQ under
 * window, an IRQ raised under CLI right after STI and its one-instruction
 * shadow, the MOV SS shadow, poll waiting for the preemption timer, NMI
 * merging, the periodic source in modeled time. */
#include <check.h>
#include <string.h>

#include "refvmm/event_policy.h"
#include "refvmm/model/vmm/vmm_events.h"
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

/* The CPU side alone: NMI-window exiting exits at the first boundary
 * without NMI blocking (after the handler's IRETQ); interrupt-window exiting
 * when IF=1 after the STI shadow; the VMX-preemption timer at its deadline. */
START_TEST(test_window_controls_exit_at_unblock) {
  static const uint8_t code[] = {0x90, 0xfb, 0x90, 0x90, 0x90}; /* nop; sti; nop... */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  struct model_cpu *c = t->c;
  memcpy(t->ram + TM_STUBS + 16 * 2, "\x90\x48\xcf", 3); /* nop; iretq */
  c->nmi_pending = true;
  model_cpu__run(c, 1); /* NMI delivered: blocked until IRET */
  c->vmcs.proc_based |= CPU_BASED_NMI_WINDOW_EXITING;
  ck_assert_int_eq(model_cpu__run(c, 100), MSTOP_VMEXIT);
  ck_assert_uint_eq(c->vmcs.exit_reason, EXIT_REASON_NMI_WINDOW);
  ck_assert_uint_eq(c->rip, TM_CODE);
  ck_assert_uint_eq(c->cnt.instructions, 2);
  c->vmcs.proc_based &= ~CPU_BASED_NMI_WINDOW_EXITING;
  c->vmcs.proc_based |= CPU_BASED_INTR_WINDOW_EXITING; /* IF=0: waits for STI + shadow */
  ck_assert_int_eq(model_cpu__run(c, 100), MSTOP_VMEXIT);
  ck_assert_uint_eq(c->vmcs.exit_reason, EXIT_REASON_INTERRUPT_WINDOW);
  ck_assert_uint_eq(c->rip, TM_CODE + 3);
  c->vmcs.proc_based &= ~CPU_BASED_INTR_WINDOW_EXITING;
  tm_free(t);
}
END_TEST

START_TEST(test_preemption_timer_deadline) {
  static const uint8_t code[] = {0xeb, 0xfe}; /* jmp . */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  struct model_cpu *c = t->c;
  uint64_t t0 = model_cpu__tsc(c);
  c->vmcs.pin_based |= PIN_BASED_VMX_PREEMPTION_TIMER;
  c->vmcs.preemption_deadline = t0 + 5000;
  ck_assert_int_eq(model_vmx__run_guest(c, 1u << 20, UINT64_MAX), MSTOP_VMEXIT);
  ck_assert_uint_eq(c->vmcs.exit_reason, EXIT_REASON_PREEMPTION_TIMER);
  uint64_t now = model_cpu__tsc(c);
  ck_assert_uint_ge(now, t0 + 5000);
  ck_assert_uint_le(now, t0 + 5000 + 64); /* at the first boundary past it */
  /* a host interrupt due earlier comes first */
  c->vmcs.preemption_deadline = now + 5000;
  ck_assert_int_eq(model_vmx__run_guest(c, 1u << 20, now + 1000), MSTOP_VMEXIT);
  ck_assert_uint_eq(c->vmcs.exit_reason, EXIT_REASON_EXTERNAL_INTERRUPT);
  /* without the control: no exit, the budget ends the run */
  c->vmcs.pin_based = 0;
  ck_assert_int_eq(model_vmx__run_guest(c, 1000, UINT64_MAX), MSTOP_SLICE);
  tm_free(t);
}
END_TEST

/* ---- hand-built sequences ------------------------------------------------------- */
#define HZ 1000000000ull /* 1 cycle per ns: poll_us 1 = 1000 cycles */

/* The model's policy driver and the policies it runs, as a backend binds them. */
struct tev {
  struct vmm_events ve;
  struct event_policy pol;
};

static void tev_init(struct tev *t, struct model_cpu *c, const struct vm_config *cfg) {
  vmm_events__init(&t->ve, c, HZ, NULL, NULL);
  event_policy__init(&t->pol, NULL, NULL);
  event_policy__configure(&t->pol, cfg);
  vmm_events__attach(&t->ve, &t->pol);
}

static void ve_setup(struct tev *ve, struct model_cpu *c, enum event_mode nmi, enum event_mode irq,
                     double poll_us) {
  struct vm_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.modes.nmi = nmi;
  cfg.modes.irq = irq;
  cfg.poll_us = poll_us;
  tev_init(ve, c, &cfg);
}

/* Run the VMM+guest for at most `work` units (instructions and deliveries). */
static void step(struct tev *ve, uint64_t work) {
  vmm_events__run(&ve->ve, work);
}

/* NMI handler (vector 2): nop; nop; iretq. A second NMI raised during it
 * waits for the IRETQ and, under window, is injected at the NMI_WINDOW exit
 * that comes right after it: before the interrupted code runs on. */
START_TEST(test_nmi_window_exits_right_after_iretq) {
  static const uint8_t code[64] = {[0 ... 63] = 0x90};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  memcpy(t->ram + TM_STUBS + 16 * 2, "\x90\x90\x48\xcf", 4);
  struct model_cpu *c = t->c;
  struct tev ve;
  ve_setup(&ve, c, EVENT_WINDOW, EVENT_WINDOW, 1);
  event_policy__raise(&ve.pol, EV_NMI, 0, 1, 0);
  step(&ve, 1); /* injected at entry, delivered before any instruction */
  ck_assert_uint_eq(c->cnt.nmis, 1);
  ck_assert_uint_eq(c->rip, TM_STUBS + 32);
  step(&ve, 1); /* the handler's first NOP */
  ck_assert_uint_eq(c->cnt.instructions, 1);
  event_policy__raise(&ve.pol, EV_NMI, 0, 1, 0); /* arrives blocked */
  ck_assert_uint_eq(model_vmx__interruptibility(c), GUEST_INTR_STATE_NMI);
  step(&ve, 1000); /* NOP, IRETQ, NMI_WINDOW exit at the boundary after it */
  ck_assert_uint_eq(ve.ve.exits[VEX_NMI_WINDOW], 1);
  ck_assert_uint_eq(c->cnt.instructions, 3);
  ck_assert_uint_eq(c->rip, TM_CODE);
  ck_assert_uint_eq(c->cnt.nmis, 1);
  step(&ve, 1); /* injected now: taken before the interrupted code's first NOP */
  ck_assert_uint_eq(c->cnt.nmis, 2);
  ck_assert_uint_eq(c->cnt.instructions, 3);
  ck_assert_uint_eq(ve.pol.st[EV_NMI].delivered, 2);
  ck_assert_uint_eq(ve.ve.exits[VEX_PREEMPTION_TIMER], 0);
  ck_assert(!(c->vmcs.proc_based & CPU_BASED_NMI_WINDOW_EXITING));
  event_policy__free(&ve.pol);
  tm_free(t);
}
END_TEST

/* The NMI of the sequence above raised inside the handler after its first
 * NOP: latency under `pol` (cycles), exits in *ve. */
static uint64_t nested_nmi_latency(enum event_mode pol, double poll_us, struct tev *ve,
                                   uint64_t *insns) {
  static const uint8_t code[4000] = {[0 ... 3999] = 0x90};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  memcpy(t->ram + TM_STUBS + 16 * 2, "\x90\x90\x48\xcf", 4);
  struct model_cpu *c = t->c;
  ve_setup(ve, c, pol, pol, poll_us);
  event_policy__raise(&ve->pol, EV_NMI, 0, 1, 0);
  step(ve, 1);
  ck_assert_uint_eq(c->cnt.nmis, 1);
  step(ve, 1);
  event_policy__raise(&ve->pol, EV_NMI, 0, 1, 0);
  for (int i = 0; i < 50 && c->cnt.nmis < 2; i++) {
    *insns = c->cnt.instructions; /* the delivering step starts with the delivery */
    step(ve, 1u << 20);
  }
  ck_assert_uint_eq(c->cnt.nmis, 2);
  event_policy__finish(&ve->pol);
  ck_assert_uint_eq(ve->pol.st[EV_NMI].nlat, 2);
  uint64_t lat = ve->pol.st[EV_NMI].lat[1];
  event_policy__free(&ve->pol);
  tm_free(t);
  return lat;
}

/* The same under poll: no window exit; the NMI waits for the preemption
 * timer (armed one interval after it began to wait), and arrives within the
 * handler's remaining time plus one interval (the window latency is the
 * handler's remaining time plus the delivery). */
START_TEST(test_nmi_poll_waits_for_the_timer) {
  struct tev w, p;
  uint64_t wi, pi;
  uint64_t lw = nested_nmi_latency(EVENT_WINDOW, 1, &w, &wi);
  uint64_t lp = nested_nmi_latency(EVENT_POLL, 0.5, &p, &pi); /* 500 cycles */
  ck_assert_uint_eq(p.pol.poll_ticks, 500);
  ck_assert_uint_eq(w.ve.exits[VEX_NMI_WINDOW], 1);
  ck_assert_uint_eq(w.ve.exits[VEX_PREEMPTION_TIMER], 0);
  ck_assert_uint_eq(wi, 3); /* nop, nop, iretq: none of the interrupted code */
  ck_assert_uint_eq(p.ve.exits[VEX_NMI_WINDOW], 0);
  ck_assert_uint_eq(p.ve.exits[VEX_PREEMPTION_TIMER], 1);
  ck_assert_uint_eq(p.pol.st[EV_NMI].poll_expiries, 1);
  ck_assert_uint_ge(p.pol.st[EV_NMI].blocked_checks, 1);
  ck_assert_uint_gt(pi, wi);               /* the interrupted code ran on while poll waited */
  ck_assert_uint_ge(lp, p.pol.poll_ticks); /* not before one interval */
  ck_assert_uint_le(lp, lw + p.pol.poll_ticks + 64); /* + the instruction the timer ends */
  ck_assert_uint_gt(lp, lw);
}
END_TEST

/* IRQ raised while IF=0: window exit after STI and the one instruction of
 * its shadow (SDM: blocking by STI), then delivery with RIP there. */
START_TEST(test_irq_window_after_sti_shadow) {
  static const uint8_t code[] = {0x90, 0x90, 0xfb, 0x90, 0x90, 0x90}; /* nop nop sti nop nop nop */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  struct model_cpu *c = t->c;
  struct tev ve;
  ve_setup(&ve, c, EVENT_WINDOW, EVENT_WINDOW, 1);
  event_policy__raise(&ve.pol, EV_IRQ, 0x40, 1, 0);
  step(&ve, 1000);
  ck_assert_uint_eq(ve.ve.exits[VEX_INTR_WINDOW], 1);
  ck_assert_uint_eq(c->rip, TM_CODE + 4); /* after the NOP in the STI shadow */
  ck_assert_uint_eq(c->cnt.instructions, 4);
  ck_assert_uint_eq(c->cnt.irqs, 0);
  step(&ve, 1);
  ck_assert_uint_eq(c->cnt.irqs, 1);
  ck_assert_uint_eq(c->rip, TM_STUBS + 16 * 0x40);
  ck_assert_uint_eq(ve.pol.st[EV_IRQ].delivered, 1);
  struct tm_result r;
  tm_run(t, &r); /* the stub's HLT: the frame says where the IRQ came in */
  ck_assert_int_eq(r.vector, 0x40);
  ck_assert_uint_eq(r.rip, TM_CODE + 4);
  event_policy__free(&ve.pol);
  tm_free(t);
}
END_TEST

/* The STI shadow shows in the interruptibility state; under poll an IRQ
 * that waits is taken at the first poll after IF=1 (no window exit). */
START_TEST(test_irq_poll_checks_if_and_shadow) {
  static const uint8_t code[3000] = {[0] = 0xfb, [1 ... 2999] = 0x90}; /* sti; nops */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  struct model_cpu *c = t->c;
  struct tev ve;
  ve_setup(&ve, c, EVENT_POLL, EVENT_POLL, 0.3);
  event_policy__raise(&ve.pol, EV_IRQ, 0x41, 1, 0);
  step(&ve, 1); /* STI (IF was 0: blocked, poll timer armed) */
  ck_assert_uint_eq(model_vmx__interruptibility(c), GUEST_INTR_STATE_STI);
  ck_assert_uint_eq(c->cnt.irqs, 0);
  for (int i = 0; i < 50 && !c->cnt.irqs; i++)
    step(&ve, 1u << 20);
  ck_assert_uint_eq(c->cnt.irqs, 1);
  ck_assert_uint_eq(ve.ve.exits[VEX_INTR_WINDOW], 0);
  ck_assert_uint_eq(ve.ve.exits[VEX_PREEMPTION_TIMER], 1);
  ck_assert_uint_ge(c->rip, TM_STUBS);
  event_policy__free(&ve.pol);
  tm_free(t);
}
END_TEST

/* MOV SS blocks NMIs and IRQs for one instruction: an NMI raised at an exit
 * inside that shadow gets its window exit after the next instruction. */
START_TEST(test_mov_ss_shadow_delays_the_window) {
  static const uint8_t code[] = {0x8e, 0xd0, 0x90, 0x90, 0x90}; /* mov ss, ax; nops */
  struct tm_state st = {.cpl = 0, .gpr = {[0] = 0x10}};
  struct tm *t = tm_new(code, sizeof code, &st);
  struct model_cpu *c = t->c;
  struct tev ve;
  ve_setup(&ve, c, EVENT_WINDOW, EVENT_WINDOW, 1);
  step(&ve, 1); /* MOV SS */
  ck_assert_uint_eq(c->cnt.instructions, 1);
  ck_assert_uint_eq(model_vmx__interruptibility(c), GUEST_INTR_STATE_MOV_SS);
  event_policy__raise(&ve.pol, EV_NMI, 0, 1, 0);
  step(&ve, 1000);
  ck_assert_uint_eq(ve.ve.exits[VEX_NMI_WINDOW], 1);
  ck_assert_uint_eq(c->cnt.instructions, 2);
  ck_assert_uint_eq(c->rip, TM_CODE + 3);
  step(&ve, 1);
  ck_assert_uint_eq(c->cnt.nmis, 1);
  event_policy__free(&ve.pol);
  tm_free(t);
}
END_TEST

/* NMIs coalesce: raises while one waits are merged; IRQs queue. */
START_TEST(test_nmi_merge_and_irq_queue) {
  static const uint8_t code[] = {0x90, 0x90};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  struct tev ve;
  ve_setup(&ve, t->c, EVENT_WINDOW, EVENT_WINDOW, 1);
  event_policy__raise(&ve.pol, EV_NMI, 0, 3, 0);
  ck_assert_uint_eq(ve.pol.st[EV_NMI].raised, 3);
  ck_assert_uint_eq(ve.pol.st[EV_NMI].merged, 2);
  event_policy__raise(&ve.pol, EV_IRQ, 0x40, 300, 0);
  ck_assert_uint_eq(ve.pol.irq_n, EVENT_IRQ_QUEUE);
  ck_assert_uint_eq(ve.pol.st[EV_IRQ].dropped, 300 - EVENT_IRQ_QUEUE);
  /* a delayed raise is a host-timer exit at its modeled time */
  ck_assert_int_eq(event_policy__raise(&ve.pol, EV_NMI, 0, 1, 5000), 0);
  ck_assert_int_eq(ve.pol.nsched, 1);
  ck_assert_uint_eq(ve.pol.sched[0].due, event_policy__now(&ve.pol) + 5000);
  event_policy__free(&ve.pol);
  tm_free(t);
}
END_TEST

/* Periodic source (--nmi-rate): raised in modeled time inside the timed
 * region only, each one a host-timer (EXTERNAL_INTERRUPT) exit at its time. */
START_TEST(test_periodic_source_in_modeled_time) {
  static const uint8_t code[] = {0xeb, 0xfe}; /* jmp . */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  memcpy(t->ram + TM_STUBS + 16 * 2, "\x48\xcf", 2); /* iretq */
  struct vm_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.modes.nmi = cfg.modes.irq = EVENT_WINDOW;
  cfg.nmi_rate_hz = 1e6; /* every 1000 cycles at 1 GHz */
  struct tev ve;
  tev_init(&ve, t->c, &cfg);
  for (int i = 0; i < 20; i++) /* outside the timed region: nothing */
    step(&ve, 100);
  ck_assert_uint_eq(ve.pol.period[EV_NMI], 1000); /* figured at the first entry */
  ck_assert_uint_eq(ve.pol.st[EV_NMI].raised, 0);
  event_policy__on_timed(&ve.pol, true);
  uint64_t t0 = event_policy__now(&ve.pol);
  while (event_policy__now(&ve.pol) < t0 + 10500)
    step(&ve, 1u << 20);
  uint64_t n = (event_policy__now(&ve.pol) - t0) / 1000; /* periods elapsed */
  ck_assert_uint_ge(n, 10);
  ck_assert_uint_eq(ve.pol.st[EV_NMI].raised, n);
  ck_assert_uint_eq(ve.ve.exits[VEX_EXTERNAL_INTERRUPT], n);
  ck_assert_uint_eq(ve.pol.st[EV_NMI].timer_raises, n);
  ck_assert_uint_ge(ve.pol.st[EV_NMI].delivered, n - 1);
  event_policy__finish(&ve.pol);
  ck_assert_uint_le(ve.pol.st[EV_NMI].lat_max, 200); /* unblocked: at the timer's exit */
  event_policy__on_timed(&ve.pol, false);
  uint64_t t1 = event_policy__now(&ve.pol);
  while (event_policy__now(&ve.pol) < t1 + 5000)
    step(&ve, 1u << 20);
  ck_assert_uint_eq(ve.pol.st[EV_NMI].raised, n);
  event_policy__free(&ve.pol);
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
  /* refvmm's window/poll policies (vmm_events.c) on hand-built sequences */
  TCase *tw = tcase_create("window_poll");
  tcase_add_test(tw, test_window_controls_exit_at_unblock);
  tcase_add_test(tw, test_preemption_timer_deadline);
  tcase_add_test(tw, test_nmi_window_exits_right_after_iretq);
  tcase_add_test(tw, test_nmi_poll_waits_for_the_timer);
  tcase_add_test(tw, test_irq_window_after_sti_shadow);
  tcase_add_test(tw, test_irq_poll_checks_if_and_shadow);
  tcase_add_test(tw, test_mov_ss_shadow_delays_the_window);
  tcase_add_test(tw, test_nmi_merge_and_irq_queue);
  tcase_add_test(tw, test_periodic_source_in_modeled_time);
  suite_add_tcase(s, tw);
  return s;
}
