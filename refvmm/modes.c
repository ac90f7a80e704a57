/* modes.c - names and parsers for the mode axes, and the run-status
 * vocabulary (JSON `status` strings and refvmm's process exit codes). */
#include <string.h>

#include "exit_codes.h"
#include "vm.h"

static const char *const paging_names[] = {
    [PAGING_SHADOW] = "shadow", [PAGING_EPT] = "ept", [PAGING_NATIVE] = "native"};
static const char *const tlb_names[] = {[TLB_FLUSH] = "flush", [TLB_VPID] = "vpid"};
static const char *const event_names[] = {[EVENT_POLL] = "poll", [EVENT_WINDOW] = "window"};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned v) {
  return v < n && names[v] ? names[v] : "unknown";
}

static int parse_of(const char *const *names, size_t n, const char *s, int *out) {
  if (!s) return -1;
  for (size_t i = 0; i < n; i++) {
    if (names[i] && strcmp(names[i], s) == 0) {
      *out = (int)i;
      return 0;
    }
  }
  return -1;
}

const char *paging_mode__name(enum paging_mode m) {
  return name_of(paging_names, ARRAY_LEN(paging_names), (unsigned)m);
}
const char *tlb_mode__name(enum tlb_mode m) {
  return name_of(tlb_names, ARRAY_LEN(tlb_names), (unsigned)m);
}
const char *event_mode__name(enum event_mode m) {
  return name_of(event_names, ARRAY_LEN(event_names), (unsigned)m);
}

int paging_mode__parse(const char *s, enum paging_mode *out) {
  int v;
  if (parse_of(paging_names, ARRAY_LEN(paging_names), s, &v)) return -1;
  *out = (enum paging_mode)v;
  return 0;
}
int tlb_mode__parse(const char *s, enum tlb_mode *out) {
  int v;
  if (parse_of(tlb_names, ARRAY_LEN(tlb_names), s, &v)) return -1;
  *out = (enum tlb_mode)v;
  return 0;
}
int event_mode__parse(const char *s, enum event_mode *out) {
  int v;
  if (parse_of(event_names, ARRAY_LEN(event_names), s, &v)) return -1;
  *out = (enum event_mode)v;
  return 0;
}

static const struct {
  const char *name;
  int exit_code;
} run_statuses[RUN_STATUS_COUNT] = {
    [RUN_OK] = {"ok", EXIT_OK},
    [RUN_GUEST_FAILED] = {"guest_failed", EXIT_GUEST_FAILED},
    [RUN_GUEST_EXCEPTION] = {"guest_exception", EXIT_GUEST_EXCEPTION},
    [RUN_TRIPLE_FAULT] = {"triple_fault", EXIT_TRIPLE_FAULT},
    [RUN_TIMEOUT] = {"timeout", EXIT_TIMEOUT},
    [RUN_INTERNAL_ERROR] = {"internal_error", EXIT_INTERNAL_ERROR},
    [RUN_FAILED_ENTRY] = {"failed_entry", EXIT_FAILED_ENTRY},
    [RUN_BAD_HYPERCALL] = {"bad_hypercall", EXIT_BAD_HYPERCALL},
    [RUN_HOST_ERROR] = {"host_error", EXIT_HOST},
};

const char *run_status__name(enum run_status s) {
  return (unsigned)s < RUN_STATUS_COUNT ? run_statuses[s].name : "unknown";
}

int run_status__exit_code(enum run_status s) {
  /* An out-of-range status is a VMM bug: report it as a host error. */
  return (unsigned)s < RUN_STATUS_COUNT ? run_statuses[s].exit_code : EXIT_HOST;
}
