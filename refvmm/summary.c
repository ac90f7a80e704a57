/* summary.c - refvmm's human output after a run. */
#include <inttypes.h>
#include <string.h>

#include "backend.h"
#include "session.h"

static const char *report_value(const struct vm *vm, const char *key, uint64_t *v) {
  for (int i = 0; i < vm->nreports; i++)
    if (strcmp(vm->reports[i].key, key) == 0) {
      *v = vm->reports[i].value;
      return key;
    }
  return NULL;
}

void summary__print_status(const struct session *s, FILE *out) {
  const struct vm *vm = &s->vm;
  fprintf(out, "refvmm: status %s (exit code %d)%s%s\n", run_status__name(vm->status),
          run_status__exit_code(vm->status), vm->status_detail[0] ? ": " : "", vm->status_detail);
}

static void print_regs(const struct vcpu_regs *r, FILE *out) {
  fprintf(out, "registers:\n");
  fprintf(out, "  rip %016" PRIx64 "  rflags %016" PRIx64 "  cs %04x ss %04x cpl %u\n", r->rip,
          r->rflags, r->cs, r->ss, (unsigned)r->cpl);
  fprintf(out, "  rax %016" PRIx64 "  rbx %016" PRIx64 "  rcx %016" PRIx64 "  rdx %016" PRIx64 "\n",
          r->rax, r->rbx, r->rcx, r->rdx);
  fprintf(out, "  rsi %016" PRIx64 "  rdi %016" PRIx64 "  rbp %016" PRIx64 "  rsp %016" PRIx64 "\n",
          r->rsi, r->rdi, r->rbp, r->rsp);
  fprintf(out, "  r8  %016" PRIx64 "  r9  %016" PRIx64 "  r10 %016" PRIx64 "  r11 %016" PRIx64 "\n",
          r->r8, r->r9, r->r10, r->r11);
  fprintf(out, "  r12 %016" PRIx64 "  r13 %016" PRIx64 "  r14 %016" PRIx64 "  r15 %016" PRIx64 "\n",
          r->r12, r->r13, r->r14, r->r15);
  fprintf(out, "  cr0 %016" PRIx64 "  cr2 %016" PRIx64 "  cr3 %016" PRIx64 "  cr4 %016" PRIx64 "\n",
          r->cr0, r->cr2, r->cr3, r->cr4);
  fprintf(out, "  efer %016" PRIx64 "\n", r->efer);
}

/* Each axis as it ran, and where a value not given on the command line came
 * from: the backend says where paging/tlb come from (on kvm the host
 * module's); paging native means no VMX at all, so no TLB tagging either;
 * nmi/irq are refvmm's policies, window unless asked (the backends'
 * check_modes fill them in). */
static void print_modes(const struct vm *vm, FILE *out) {
  const struct vm_modes *m = &vm->cfg.modes;
  const char *unset_axis =
      vm->ops && vm->ops->unset_mode_origin ? vm->ops->unset_mode_origin : " (default)";
  bool native = m->paging == PAGING_NATIVE;
  fprintf(out, "backend %s  paging %s", vm->ops ? vm->ops->name : vm->cfg.backend,
          paging_mode__name(m->paging));
  if (!m->paging_set && native && vm->ops)
    fprintf(out, " (%s default: no VMX)", vm->ops->name);
  else if (!m->paging_set)
    fprintf(out, "%s", unset_axis);
  if (native)
    fprintf(out, "  tlb n/a (native)");
  else
    fprintf(out, "  tlb %s%s", tlb_mode__name(m->tlb), m->tlb_set ? "" : unset_axis);
  fprintf(out, "  nmi %s%s  irq %s%s  mem %" PRIu64 " MiB\n", event_mode__name(m->nmi),
          m->nmi_set ? "" : " (default)", event_mode__name(m->irq), m->irq_set ? "" : " (default)",
          vm->cfg.mem_size >> 20);
}

void summary__print(const struct session *s, FILE *out) {
  const struct vm *vm = &s->vm;
  fprintf(out, "\n");
  summary__print_status(s, out);
  print_modes(vm, out);
  uint64_t v;
  if (report_value(vm, VTB_KEY_CHECKSUM, &v)) fprintf(out, "checksum   0x%016" PRIx64 "\n", v);
  if (report_value(vm, VTB_KEY_ITERATIONS, &v)) fprintf(out, "iterations %" PRIu64 "\n", v);
  for (int i = 0; i < vm->nreports; i++) {
    const char *k = vm->reports[i].key;
    if (strcmp(k, VTB_KEY_CHECKSUM) && strcmp(k, VTB_KEY_ITERATIONS))
      fprintf(out, "report %-24s %" PRIu64 "\n", k, vm->reports[i].value);
  }
  /* A backend that models time: its modeled time first, the wall time is
   * then how long the backend took to run the guest. */
  bool modeled = vm->ops && vm->ops->print_modeled_time;
  if (modeled) vm->ops->print_modeled_time(vm, out);
  if (vm->timed_begun && vm->timed_ended) {
    uint64_t ticks = vm->timed_tsc_end - vm->timed_tsc_begin;
    fprintf(out, "%s %.3f ms wall, %" PRIu64 " TSC ticks (%.3f ms at %.3f GHz)\n",
            modeled ? "  host wall time to run it:" : "timed region:",
            (double)(vm->timed_ns_end - vm->timed_ns_begin) / 1e6, ticks,
            vm->tsc_hz ? (double)ticks * 1e3 / (double)vm->tsc_hz : 0.0, (double)vm->tsc_hz / 1e9);
  } else {
    fprintf(out, "timed region: %s\n",
            vm->timed_begun ? "begun but never ended" : "never marked by the guest");
  }
  if (s->opts.no_probes) {
    fprintf(out, "exits in the whole run: %" PRIu64 " (--no-probes: no accounting)\n",
            s->rl.exits_all);
  } else {
    if (vm->ops && vm->ops->print_vm_exits) vm->ops->print_vm_exits(vm, out);
    fprintf(out, "exits %sin the whole run: %" PRIu64 "; in the timed region%s:\n",
            modeled ? "that reached refvmm " : "", s->rl.exits_all,
            modeled ? " (latency: host wall time)" : "");
    exit_stats__print(&s->stats, out);
  }
  if (s->probes_open) probe_set__print(&s->probes, out);
  if (vm->events) events__print(vm->events, out);
  if (vm->ops && vm->ops->print_summary) vm->ops->print_summary(vm, out);
  if (s->bus.unclaimed_reads || s->bus.unclaimed_writes)
    fprintf(out, "unclaimed ports: %" PRIu64 " reads, %" PRIu64 " writes (first at port 0x%x)\n",
            s->bus.unclaimed_reads, s->bus.unclaimed_writes, (unsigned)s->bus.first_unclaimed_port);
  if (s->bus.mmio_reads || s->bus.mmio_writes)
    fprintf(out, "unclaimed MMIO: %" PRIu64 " reads, %" PRIu64 " writes (first at 0x%" PRIx64 ")\n",
            s->bus.mmio_reads, s->bus.mmio_writes, (uint64_t)s->bus.first_mmio_gpa);
  if (s->console.dropped)
    fprintf(out, "console: %" PRIu64 " bytes, %" PRIu64 " not kept in the record\n",
            s->console.total, s->console.dropped);
  if (vm->have_regs) print_regs(&vm->final_regs, out);
}
