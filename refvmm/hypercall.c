/* hypercall.c - hypercall table and handlers. */
#include "hypercall.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "../probes/exit_stats.h"
#include "backend.h"
#include "console.h"
#include "events.h"

typedef int (*hc_fn)(struct vm *vm, struct hypercall_dev *hc, gpa_t arg);

static const char *const hc_names[VTB_HC_COUNT] = {
    [VTB_HC_CONSOLE] = "console",     [VTB_HC_EXIT] = "exit",
    [VTB_HC_MARK] = "mark",           [VTB_HC_REPORT] = "report",
    [VTB_HC_RAISE_NMI] = "raise_nmi", [VTB_HC_RAISE_IRQ] = "raise_irq",
    [VTB_HC_EXCEPTION] = "exception",
};

const char *hypercall__name(uint32_t nr) {
  return nr < VTB_HC_COUNT && hc_names[nr] ? hc_names[nr] : "unknown";
}

/* End the run: bad hypercall, message names hypercall, field, value, why. */
static int bad(struct vm *vm, uint32_t nr, const char *field, uint64_t value, const char *why) {
  vm->status = RUN_BAD_HYPERCALL;
  snprintf(vm->status_detail, sizeof vm->status_detail,
           "bad hypercall %u (%s): %s = 0x%" PRIx64 ": %s", nr, hypercall__name(nr), field, value,
           why);
  return 1;
}

/* The argument struct, copied out of guest RAM once (the guest cannot change
 * it under us; its GPA need not be aligned): 0, or the run ends. */
static int arg_read(struct vm *vm, uint32_t nr, gpa_t arg, void *dst, uint64_t size) {
  if (guest_mem__read(&vm->mem, arg, dst, size) == 0) return 0;
  return bad(vm, nr, "argument GPA (eax)", arg, "struct does not lie inside guest RAM");
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int hc_console(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  struct vtb_hc_console a;
  int stop = arg_read(vm, VTB_HC_CONSOLE, arg, &a, sizeof a);
  if (stop) return stop;
  if (a.len > VTB_CONSOLE_MAX)
    return bad(vm, VTB_HC_CONSOLE, "len", a.len, "longer than VTB_CONSOLE_MAX (4096)");
  const void *buf = guest_mem__ptr(&vm->mem, a.buf, a.len);
  if (!buf) return bad(vm, VTB_HC_CONSOLE, "buf", a.buf, "buf+len does not lie inside guest RAM");
  console__write(hc->con, buf, (size_t)a.len);
  return 0;
}

static int hc_exit(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  (void)hc;
  struct vtb_hc_exit a;
  int stop = arg_read(vm, VTB_HC_EXIT, arg, &a, sizeof a);
  if (stop) return stop;
  vm->guest_exit_status = a.status;
  if (a.status == 0) {
    vm->status = RUN_OK;
    snprintf(vm->status_detail, sizeof vm->status_detail, "guest exited with status 0");
  } else {
    vm->status = RUN_GUEST_FAILED;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "guest exited with status %" PRIu64 " (see its console output)", a.status);
  }
  return 1;
}

static int hc_mark(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  struct vtb_hc_mark a;
  int stop = arg_read(vm, VTB_HC_MARK, arg, &a, sizeof a);
  if (stop) return stop;
  if (a.region >= VTB_REGIONS_MAX)
    return bad(vm, VTB_HC_MARK, "region", a.region, "not below VTB_REGIONS_MAX (8)");
  if (a.phase != VTB_MARK_BEGIN && a.phase != VTB_MARK_END)
    return bad(vm, VTB_HC_MARK, "phase", a.phase,
               "neither VTB_MARK_BEGIN (1) nor VTB_MARK_END (2)");
  hc->marks[a.region][a.phase - 1]++;
  if (a.region != VTB_REGION_TIMED) return 0; /* other regions: counted only */
  if (a.phase == VTB_MARK_BEGIN) {
    if (vm->timed_begun)
      return bad(vm, VTB_HC_MARK, "phase", a.phase, "timed region 0 begun a second time");
    vm->timed_begun = true;
    vm->guest_tsc_begin = a.tsc;
    vm->timed_ns_begin = now_ns();
    vm->timed_tsc_begin = __rdtsc();
    if (vm->exits) vm->exits->enabled = true; /* from the next exit on */
    if (vm->events) events__on_timed(vm->events, true);
  } else {
    uint64_t tsc = __rdtsc();
    if (vm->exits) vm->exits->enabled = false; /* this exit is not counted */
    if (!vm->timed_begun || vm->timed_ended)
      return bad(vm, VTB_HC_MARK, "phase", a.phase,
                 vm->timed_ended ? "timed region 0 ended a second time"
                                 : "timed region 0 ended before it began");
    vm->timed_tsc_end = tsc;
    vm->timed_ns_end = now_ns();
    vm->guest_tsc_end = a.tsc;
    vm->timed_ended = true;
    if (vm->events) events__on_timed(vm->events, false);
  }
  return 0;
}

static int report_key_ok(const char *k) {
  if (!k[0]) return 0;
  for (size_t i = 0; i < VTB_REPORT_KEY_MAX; i++) {
    char c = k[i];
    if (c == '\0') return 1;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return 0;
  }
  return 0; /* no NUL inside the field */
}

/* The event-log keys name a struct vtb_event_log refvmm writes into
 * (docs/ABI.md): it must lie wholly inside guest RAM and be 8-byte aligned,
 * as its uint64_t fields are for the guest's single loads; 0 is no log. */
_Static_assert(sizeof(struct vtb_event_log) == 65552, "the refusal below names the size");
static int check_event_log(struct vm *vm, const struct vtb_hc_report *a) {
  if (strcmp(a->key, VTB_KEY_NMI_LOG) != 0 && strcmp(a->key, VTB_KEY_IRQ_LOG) != 0) return 0;
  if (a->value == 0) return 0;
  char field[64];
  snprintf(field, sizeof field, "value of %s", a->key);
  if (a->value % 8)
    return bad(vm, VTB_HC_REPORT, field, a->value,
               "a struct vtb_event_log must be 8-byte aligned (docs/ABI.md)");
  if (!guest_mem__ptr(&vm->mem, a->value, sizeof(struct vtb_event_log)))
    return bad(vm, VTB_HC_REPORT, field, a->value,
               "the struct vtb_event_log (65552 bytes) does not lie inside guest RAM");
  return 0;
}

static int hc_report(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  (void)hc;
  struct vtb_hc_report a;
  int stop = arg_read(vm, VTB_HC_REPORT, arg, &a, sizeof a);
  if (stop) return stop;
  if (!report_key_ok(a.key)) {
    uint64_t first8 = 0;
    memcpy(&first8, a.key, sizeof first8);
    return bad(vm, VTB_HC_REPORT, "key (first 8 bytes)", first8,
               "not a non-empty NUL-terminated [a-z0-9_.] string of < 32 bytes");
  }
  if ((stop = check_event_log(vm, &a))) return stop;
  for (int i = 0; i < vm->nreports; i++) {
    if (strcmp(vm->reports[i].key, a.key) == 0) {
      vm->reports[i].value = a.value; /* a key reported again: last value wins */
      if (vm->events) events__on_report(vm->events, a.key, a.value);
      return 0;
    }
  }
  if (vm->nreports >= VM_REPORTS_MAX)
    return bad(vm, VTB_HC_REPORT, "report count", (uint64_t)vm->nreports + 1,
               "more distinct keys than VM_REPORTS_MAX (128)");
  struct guest_report *r = &vm->reports[vm->nreports++];
  memcpy(r->key, a.key, sizeof r->key);
  r->value = a.value;
  if (vm->events) events__on_report(vm->events, r->key, r->value);
  return 0;
}

/* Backends without refvmm's delivery policies (vm->events NULL, backend.h)
 * inject at once through their ops; a run that asked for a policy
 * explicitly fails there rather than measuring something else. */
static int policy_missing(struct vm *vm, uint32_t nr, const char *opt, enum event_mode m) {
  vm->status = RUN_HOST_ERROR;
  snprintf(vm->status_detail, sizeof vm->status_detail,
           "hypercall %u (%s): refvmm cannot honour %s %s on the %s backend (it runs no "
           "delivery policies); omit %s to let the backend inject at once",
           nr, hypercall__name(nr), opt, event_mode__name(m), vm->ops->name, opt);
  return 1;
}

/* With refvmm's policies (vm->events): pending now or after delay_ns. */
#define RAISE_DELAY_MAX_NS (60ull * 1000000000ull)
#define RAISE_COUNT_MAX    4096u
static int raise_via_events(struct vm *vm, uint32_t nr, enum event_kind k,
                            const struct vtb_hc_raise *a) {
  if (a->count > RAISE_COUNT_MAX)
    return bad(vm, nr, "count", a->count, "more than 4096 events in one request");
  if (a->delay_ns > RAISE_DELAY_MAX_NS)
    return bad(vm, nr, "delay_ns", a->delay_ns, "longer than 60 s");
  int rc = events__raise(vm->events, k, a->vector, a->count, a->delay_ns);
  if (rc == -ENOSPC)
    return bad(vm, nr, "delay_ns", a->delay_ns,
               "more delayed raises waiting than refvmm holds (4096): wait for some first");
  if (rc) {
    vm->status = RUN_HOST_ERROR;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "hypercall %u (%s): cannot start the events timer thread: %s", nr, hypercall__name(nr),
             strerror(-rc));
    return 1;
  }
  return 0;
}

static int hc_raise_nmi(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  struct vtb_hc_raise a;
  int stop = arg_read(vm, VTB_HC_RAISE_NMI, arg, &a, sizeof a);
  if (stop) return stop;
  if (a.count < 1) return bad(vm, VTB_HC_RAISE_NMI, "count", a.count, "must be >= 1");
  hc->nmi_requested += a.count;
  if (vm->events) return raise_via_events(vm, VTB_HC_RAISE_NMI, EV_NMI, &a);
  if (vm->cfg.modes.nmi_set)
    return policy_missing(vm, VTB_HC_RAISE_NMI, "--nmi", vm->cfg.modes.nmi);
  if (a.delay_ns)
    return bad(vm, VTB_HC_RAISE_NMI, "delay_ns", a.delay_ns,
               "delayed NMIs need a delivery policy (use 0)");
  if (a.count != 1)
    return bad(vm, VTB_HC_RAISE_NMI, "count", a.count,
               "KVM collapses queued NMIs; more than 1 per request needs a delivery policy");
  if (!vm->ops->inject_nmi || vm->ops->inject_nmi(vm) < 0) {
    vm->status = RUN_HOST_ERROR;
    return 1;
  }
  return 0;
}

static int hc_raise_irq(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  struct vtb_hc_raise a;
  int stop = arg_read(vm, VTB_HC_RAISE_IRQ, arg, &a, sizeof a);
  if (stop) return stop;
  if (a.vector < 32 || a.vector > 255)
    return bad(vm, VTB_HC_RAISE_IRQ, "vector", a.vector, "not in 32..255");
  if (a.count < 1 || a.count > 256)
    return bad(vm, VTB_HC_RAISE_IRQ, "count", a.count, "not in 1..256");
  hc->irq_requested += a.count;
  if (vm->events) return raise_via_events(vm, VTB_HC_RAISE_IRQ, EV_IRQ, &a);
  if (vm->cfg.modes.irq_set)
    return policy_missing(vm, VTB_HC_RAISE_IRQ, "--irq", vm->cfg.modes.irq);
  if (a.delay_ns)
    return bad(vm, VTB_HC_RAISE_IRQ, "delay_ns", a.delay_ns,
               "delayed IRQs need a delivery policy (use 0)");
  for (uint32_t i = 0; i < a.count; i++) {
    int rc = vm->ops->inject_irq ? vm->ops->inject_irq(vm, a.vector) : -1;
    if (rc < 0)
      return bad(vm, VTB_HC_RAISE_IRQ, "count", a.count, "more IRQs pending than the queue holds");
  }
  return 0;
}

static const char *vector_name(uint64_t v) {
  static const char *const names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                      "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "res",
                                      "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
  return v < sizeof names / sizeof names[0] ? names[v] : (v < 32 ? "reserved" : "interrupt");
}

static int hc_exception(struct vm *vm, struct hypercall_dev *hc, gpa_t arg) {
  (void)hc;
  struct vtb_hc_exception a;
  int stop = arg_read(vm, VTB_HC_EXCEPTION, arg, &a, sizeof a);
  if (stop) return stop;
  vm->exception = a;
  vm->status = RUN_GUEST_EXCEPTION;
  snprintf(vm->status_detail, sizeof vm->status_detail,
           "unhandled guest exception: vector %" PRIu64 " (%s) at rip 0x%" PRIx64
           ", error code 0x%" PRIx64 ", cr2 0x%" PRIx64 ", cs 0x%" PRIx64
           " (cpl %u), rsp 0x%" PRIx64,
           a.vector, vector_name(a.vector), a.rip, a.error_code, a.cr2, a.cs, (unsigned)(a.cs & 3),
           a.rsp);
  return 1;
}

static const hc_fn hc_table[VTB_HC_COUNT] = {
    [VTB_HC_CONSOLE] = hc_console,     [VTB_HC_EXIT] = hc_exit,
    [VTB_HC_MARK] = hc_mark,           [VTB_HC_REPORT] = hc_report,
    [VTB_HC_RAISE_NMI] = hc_raise_nmi, [VTB_HC_RAISE_IRQ] = hc_raise_irq,
    [VTB_HC_EXCEPTION] = hc_exception,
};

int hypercall__handle(struct vm *vm, struct hypercall_dev *hc, uint32_t nr, gpa_t arg) {
  if (nr >= VTB_HC_COUNT || !hc_table[nr])
    return bad(vm, nr, "number", nr, "no such hypercall (see vtb_abi.h enum vtb_hypercall)");
  hc->calls[nr]++;
  return hc_table[nr](vm, hc, arg);
}

static int hc_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                  uint8_t *data) {
  uint32_t nr = (uint32_t)port - VTB_HC_PORT_BASE;
  if (!write || size != 4) {
    /* Fill IN data defensively even though the run ends. */
    if (!write) memset(data, 0xff, size);
    return bad(vm, nr, write ? "access size" : "direction", write ? size : 0,
               "hypercalls are 32-bit OUTs (out dx, eax)");
  }
  uint32_t gpa;
  memcpy(&gpa, data, sizeof gpa);
  return hypercall__handle(vm, opaque, nr, gpa);
}

void hypercall__init(struct hypercall_dev *hc, struct console *con) {
  memset(hc, 0, sizeof *hc);
  hc->con = con;
}

int hypercall__register(struct device_bus *bus, struct hypercall_dev *hc, char *err,
                        size_t errlen) {
  return devbus__register(bus, "hypercall", VTB_HC_PORT_BASE, VTB_HC_COUNT, hc_pio, hc, err,
                          errlen);
}
