/* run_record.c - the run object of the result document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "exit_codes.h"
#include "session.h"

const char *run_record__workload_name(const char *image, char *buf, size_t len) {
  const char *base = strrchr(image, '/');
  base = base ? base + 1 : image;
  size_t n = strlen(base);
  if (n > 4 && strcmp(base + n - 4, ".elf") == 0) n -= 4;
  if (n >= len) n = len - 1;
  memcpy(buf, base, n);
  buf[n] = '\0';
  return buf;
}

const char *run_record__linux_workload(const char *cmdline, char *buf, size_t len) {
  static const char key[] = "vtb.workload=";
  const char *w = NULL;
  for (const char *p = cmdline ? cmdline : ""; (p = strstr(p, key)); p += sizeof key - 1)
    if (p == cmdline || p[-1] == ' ') w = p + sizeof key - 1; /* the last one counts */
  size_t n = w ? strcspn(w, " ") : 0;
  if (n == 0) {
    snprintf(buf, len, "linux");
    return buf;
  }
  snprintf(buf, len, "linux:%.*s", (int)n, w);
  return buf;
}

/* jansson integers are signed: values past INT64_MAX become hex strings
 * (results/schema.json "u64"). */
static json_t *u64_json(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
  return json_string(buf);
}

static json_t *params_json(const struct vm_config *cfg) {
  json_t *o = json_object();
  for (int i = 0; i < cfg->nparams; i++) {
    const char *eq = strchr(cfg->params[i], '=');
    if (!eq) continue;
    char key[128];
    size_t n = (size_t)(eq - cfg->params[i]);
    if (n >= sizeof key) n = sizeof key - 1;
    memcpy(key, cfg->params[i], n);
    key[n] = '\0';
    json_object_set_new(o, key, json_string(eq + 1));
  }
  return o;
}

static json_t *modes_json(const struct vm_modes *m) {
  return json_pack("{s:s, s:s, s:s, s:s}", "paging", paging_mode__name(m->paging), "tlb",
                   tlb_mode__name(m->tlb), "nmi", event_mode__name(m->nmi), "irq",
                   event_mode__name(m->irq));
}

/* Which axes the command line chose; the others are the host's (kvm) or
 * the defaults. On kvm_pvm `tlb` is not a choice and is recorded "flush". */
static json_t *modes_set_json(const struct vm_modes *m) {
  return json_pack("{s:b, s:b, s:b, s:b}", "paging", m->paging_set, "tlb", m->tlb_set, "nmi",
                   m->nmi_set, "irq", m->irq_set);
}

static json_t *guest_json(const struct session *s) {
  const struct vm *vm = &s->vm;
  json_t *reports = json_object();
  json_t *checksum = json_null(), *iterations = json_null();
  for (int i = 0; i < vm->nreports; i++) {
    const struct guest_report *r = &vm->reports[i];
    json_object_set_new(reports, r->key, u64_json(r->value));
    if (strcmp(r->key, VTB_KEY_CHECKSUM) == 0) {
      json_decref(checksum);
      checksum = u64_json(r->value);
    } else if (strcmp(r->key, VTB_KEY_ITERATIONS) == 0) {
      json_decref(iterations);
      iterations = u64_json(r->value);
    }
  }
  json_t *g = json_object();
  json_object_set_new(g, "checksum", checksum);
  json_object_set_new(g, "iterations", iterations);
  json_object_set_new(g, "exit_status", u64_json(vm->guest_exit_status));
  json_object_set_new(g, "reports", reports);
  return g;
}

static json_t *timed_json(const struct vm *vm) {
  json_t *t = json_object();
  bool done = vm->timed_begun && vm->timed_ended;
  json_object_set_new(t, "complete", json_boolean(done));
  json_object_set_new(t, "wall_ns",
                      done ? json_integer((json_int_t)(vm->timed_ns_end - vm->timed_ns_begin))
                           : json_null());
  json_object_set_new(t, "tsc",
                      done ? json_integer((json_int_t)(vm->timed_tsc_end - vm->timed_tsc_begin))
                           : json_null());
  json_object_set_new(t, "guest_tsc",
                      done && vm->guest_tsc_end >= vm->guest_tsc_begin
                          ? u64_json(vm->guest_tsc_end - vm->guest_tsc_begin)
                          : json_null());
  json_object_set_new(t, "tsc_hz", vm->tsc_hz ? json_integer((json_int_t)vm->tsc_hz) : json_null());
  return t;
}

static json_t *regs_json(const struct vcpu_regs *r) {
  json_t *o = json_object();
#define REG(name) json_object_set_new(o, #name, u64_json(r->name))
  REG(rip), REG(rflags), REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi), REG(rbp);
  REG(rsp), REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13), REG(r14), REG(r15);
  REG(cr0), REG(cr2), REG(cr3), REG(cr4), REG(cr8), REG(efer), REG(cs), REG(ss), REG(cpl);
#undef REG
  return o;
}

static json_t *io_json(const struct session *s) {
  json_t *o = json_object();
  json_object_set_new(o, "unclaimed_port_reads", u64_json(s->bus.unclaimed_reads));
  json_object_set_new(o, "unclaimed_port_writes", u64_json(s->bus.unclaimed_writes));
  json_object_set_new(o, "unclaimed_mmio_reads", u64_json(s->bus.mmio_reads));
  json_object_set_new(o, "unclaimed_mmio_writes", u64_json(s->bus.mmio_writes));
  json_object_set_new(
      o, "bench_port",
      json_pack("{s:o, s:o}", "writes", u64_json(s->bench.writes), "sum", u64_json(s->bench.sum)));
  json_t *hc = json_object();
  for (uint32_t i = 0; i < VTB_HC_COUNT; i++)
    if (s->hc.calls[i]) json_object_set_new(hc, hypercall__name(i), u64_json(s->hc.calls[i]));
  json_object_set_new(o, "hypercalls", hc);
  json_object_set_new(o, "nmi_requested", u64_json(s->hc.nmi_requested));
  json_object_set_new(o, "irq_requested", u64_json(s->hc.irq_requested));
  json_object_set_new(o, "exits_whole_run", u64_json(s->rl.exits_all));
  return o;
}

/* Guests may write any byte; the document must be valid UTF-8, so bytes
 * outside printable ASCII (but newline and tab) become '?'; a carriage
 * return before a newline (a tty's line ends) is dropped. */
static json_t *console_json(const struct console *c) {
  char *copy = malloc(c->len + 1);
  if (!copy) return json_string("");
  size_t n = 0;
  for (size_t i = 0; i < c->len; i++) {
    unsigned char ch = (unsigned char)c->buf[i];
    if (ch == '\r' && i + 1 < c->len && c->buf[i + 1] == '\n') continue;
    copy[n++] = (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f)) ? (char)ch : '?';
  }
  json_t *t = json_stringn(copy, n);
  free(copy);
  return t ? t : json_string("");
}

/* A Linux boot: what was loaded where (linux_boot.h). */
static json_t *linux_json(const struct session *s) {
  const struct vm_config *cfg = &s->vm.cfg;
  const struct linux_image *li = &s->linux_img;
  json_t *e820 = json_array();
  for (unsigned i = 0; i < li->e820_entries; i++)
    json_array_append_new(e820, json_pack("{s:o,s:o,s:s}", "addr", u64_json(li->e820_addr[i]),
                                          "size", u64_json(li->e820_size[i]), "type",
                                          li->e820_type[i] == 1 ? "ram" : "reserved"));
  return json_pack("{s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "kernel", cfg->kernel, "initrd",
                   cfg->initrd ? json_string(cfg->initrd) : json_null(), "cmdline",
                   cfg->cmdline ? cfg->cmdline : "", "boot_protocol",
                   (char[8]){'2', '.', (char)('0' + ((li->protocol & 0xff) / 10) % 10),
                             (char)('0' + (li->protocol & 0xff) % 10), 0},
                   "kernel_gpa", u64_json(li->kernel_lo), "init_size", u64_json(li->init_size),
                   "initrd_gpa", u64_json(li->initrd_lo), "initrd_bytes", u64_json(li->initrd_len),
                   "e820", e820);
}

json_t *run_record__to_json(const struct session *s) {
  const struct vm *vm = &s->vm;
  char name[256];
  json_t *run = json_object();
  if (vm->cfg.kernel) {
    json_object_set_new(
        run, "workload",
        json_string(run_record__linux_workload(vm->cfg.cmdline, name, sizeof name)));
    json_object_set_new(run, "image", json_string(vm->cfg.kernel));
  } else {
    json_object_set_new(run, "workload",
                        json_string(run_record__workload_name(vm->cfg.image, name, sizeof name)));
    json_object_set_new(run, "image", json_string(vm->cfg.image));
  }
  json_object_set_new(run, "params", params_json(&vm->cfg));
  if (vm->cfg.kernel) json_object_set_new(run, "linux", linux_json(s));
  json_object_set_new(run, "backend", json_string(vm->cfg.backend));
  json_object_set_new(run, "modes", modes_json(&vm->cfg.modes));
  json_object_set_new(run, "modes_set", modes_set_json(&vm->cfg.modes));
  json_object_set_new(run, "mem_bytes", u64_json(vm->cfg.mem_size));
  json_object_set_new(run, "status", json_string(run_status__name(vm->status)));
  json_object_set_new(run, "status_detail", json_string(vm->status_detail));
  json_object_set_new(run, "exit_code", json_integer(run_status__exit_code(vm->status)));
  json_object_set_new(run, "guest", guest_json(s));
  json_object_set_new(run, "timed", timed_json(vm));
  if (s->ran && !s->opts.no_probes)
    json_object_set_new(run, "exits", exit_stats__to_json(&s->stats));
  json_object_set_new(run, "probes", json_boolean(!s->opts.no_probes));
  if (s->probes_open) {
    json_object_set_new(run, "kvm_stats", probe_set__kvm_json(&s->probes));
    json_object_set_new(run, "pmu", probe_set__pmu_json(&s->probes));
    json_object_set_new(run, "kvm_exits", probe_set__exits_json(&s->probes));
    json_object_set_new(run, "kvm_events", probe_set__events_json(&s->probes));
  }
  json_object_set_new(run, "io", io_json(s));
  if (vm->events) json_object_set_new(run, "events", events__to_json(vm->events));
  if (vm->ops && vm->ops->section_json) {
    json_t *own = vm->ops->section_json(vm); /* null: the backend has nothing to say */
    if (own && !json_is_null(own))
      json_object_set_new(run, vm->ops->section, own);
    else
      json_decref(own);
  }
  json_object_set_new(run, "console", console_json(&s->console));
  json_object_set_new(run, "console_bytes", u64_json(s->console.total));
  json_object_set_new(run, "console_truncated", json_boolean(s->console.dropped > 0));
  if (vm->status == RUN_GUEST_EXCEPTION) {
    const struct vtb_hc_exception *x = &vm->exception;
    json_object_set_new(run, "exception",
                        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "vector", u64_json(x->vector),
                                  "error_code", u64_json(x->error_code), "rip", u64_json(x->rip),
                                  "cr2", u64_json(x->cr2), "cs", u64_json(x->cs), "rsp",
                                  u64_json(x->rsp)));
  }
  if (vm->have_regs) json_object_set_new(run, "registers", regs_json(&vm->final_regs));
  return run;
}
