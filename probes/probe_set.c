/* probe_set.c - KVM stats + PMU for one vCPU (see probe_set.h). */
#include "probes/probe_set.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int open_kvm(struct probe_set *ps, int vm_fd, int vcpu_fd) {
  char err[256];
  int rc = kvm_stats__open(vm_fd, &ps->vm_st, err, sizeof(err));
  if (rc) {
    snprintf(ps->kvm_error, sizeof(ps->kvm_error), "vm stats: %s", err);
    return rc;
  }
  rc = kvm_stats__open(vcpu_fd, &ps->vcpu_st, err, sizeof(err));
  if (rc) {
    snprintf(ps->kvm_error, sizeof(ps->kvm_error), "vcpu stats: %s", err);
    kvm_stats__close(&ps->vm_st);
    return rc;
  }
  if (kvm_stats__snap_init(&ps->vm_st, &ps->vm_before) ||
      kvm_stats__snap_init(&ps->vm_st, &ps->vm_after) ||
      kvm_stats__snap_init(&ps->vcpu_st, &ps->vcpu_before) ||
      kvm_stats__snap_init(&ps->vcpu_st, &ps->vcpu_after))
    return -ENOMEM;
  ps->kvm_ok = true;
  return 0;
}

static void append_word(char *buf, size_t len, const char *w, size_t n) {
  size_t l = strlen(buf);
  if (l + n + 2 > len) return;
  if (l) buf[l++] = ',';
  memcpy(buf + l, w, n);
  buf[l + n] = 0;
}

static void split_events(const char *list, char *trace, size_t tlen, char *pmu, size_t plen) {
  for (const char *p = list; p && *p;) {
    const char *c = strchr(p, ',');
    size_t n = c ? (size_t)(c - p) : strlen(p);
    bool tp = (n > 4 && !strncmp(p, "kvm:", 4)) || (n > 7 && !strncmp(p, "kvmmmu:", 7));
    if (n) append_word(tp ? trace : pmu, tp ? tlen : plen, p, n);
    p = c ? c + 1 : NULL;
  }
}

int probe_set__open(struct probe_set *ps, int vm_fd, int vcpu_fd, pid_t vcpu_tid,
                    const char *pmu_events, bool pmu_enable, char *err, size_t len) {
  memset(ps, 0, sizeof(*ps));
  ps->vm_st.fd = ps->vcpu_st.fd = -1;
  if (open_kvm(ps, vm_fd, vcpu_fd) == -ENOMEM) {
    snprintf(err, len, "probes: out of memory for KVM stats snapshots");
    probe_set__close(ps);
    return -ENOMEM;
  }
  ps->trace = malloc(sizeof(*ps->trace));
  if (!ps->trace) {
    snprintf(err, len, "probes: out of memory for the KVM tracepoints");
    probe_set__close(ps);
    return -ENOMEM;
  }
  /* --events: tracepoint words (kvm:..., kvmmmu:...) for the trace probe,
   * the rest for the PMU (none left: the PMU's default set) */
  char trace_words[512] = "", pmu_words[1024] = "";
  split_events(pmu_events, trace_words, sizeof trace_words, pmu_words, sizeof pmu_words);
  kvm_trace__open(ps->trace, vcpu_tid, getenv("VTB_TRACEFS"), NULL, trace_words);
  pmu_events = pmu_words[0] ? pmu_words : NULL;
  if (!pmu_enable) {
    snprintf(ps->pmu_error, sizeof(ps->pmu_error), "PMU counting off");
    return 0;
  }
  ps->pmu = calloc(1, sizeof(*ps->pmu));
  if (!ps->pmu) {
    snprintf(err, len, "probes: out of memory for the PMU");
    probe_set__close(ps);
    return -ENOMEM;
  }
  if (pmu__init(ps->pmu, pmu_events, PMU_VARIANTS_DEFAULT, ps->pmu_error, sizeof(ps->pmu_error))) {
    free(ps->pmu); /* the reason stays in pmu_error */
    ps->pmu = NULL;
    return 0;
  }
  pmu__open(ps->pmu, vcpu_tid);
  return 0;
}

void probe_set__begin(struct probe_set *ps) {
  if (ps->begun) return;
  ps->begun = true;
  if (ps->kvm_ok) {
    kvm_stats__snapshot(&ps->vm_st, &ps->vm_before);
    kvm_stats__snapshot(&ps->vcpu_st, &ps->vcpu_before);
  }
  if (ps->trace) kvm_trace__begin(ps->trace);
  if (ps->pmu) pmu__start(ps->pmu);
}

static void end(struct probe_set *ps, bool complete) {
  if (!ps->begun || ps->ended) return;
  if (ps->pmu) pmu__stop(ps->pmu);
  if (ps->trace) kvm_trace__end(ps->trace);
  if (ps->kvm_ok) {
    kvm_stats__snapshot(&ps->vcpu_st, &ps->vcpu_after);
    kvm_stats__snapshot(&ps->vm_st, &ps->vm_after);
  }
  ps->ended = true;
  ps->complete = complete;
}

void probe_set__end(struct probe_set *ps) {
  end(ps, true);
}
void probe_set__finish(struct probe_set *ps) {
  end(ps, false);
  if (ps->trace) kvm_trace__finish(ps->trace); /* the rest of the run */
}

void probe_set__on_begin(struct vm *vm, void *arg) {
  (void)vm;
  probe_set__begin(arg);
}

void probe_set__on_end(struct vm *vm, void *arg) {
  (void)vm;
  probe_set__end(arg);
}

void probe_set__close(struct probe_set *ps) {
  kvm_stats__snap_free(&ps->vm_before);
  kvm_stats__snap_free(&ps->vm_after);
  kvm_stats__snap_free(&ps->vcpu_before);
  kvm_stats__snap_free(&ps->vcpu_after);
  if (ps->kvm_ok || ps->vm_st.fd >= 0) kvm_stats__close(&ps->vm_st);
  if (ps->kvm_ok || ps->vcpu_st.fd >= 0) kvm_stats__close(&ps->vcpu_st);
  ps->kvm_ok = false;
  if (ps->trace) {
    kvm_trace__close(ps->trace);
    free(ps->trace);
    ps->trace = NULL;
  }
  if (ps->pmu) {
    pmu__close(ps->pmu);
    free(ps->pmu);
    ps->pmu = NULL;
  }
}

json_t *probe_set__kvm_json(const struct probe_set *ps) {
  if (!ps->kvm_ok) return kvm_stats__unavailable_json(ps->kvm_error);
  if (!ps->ended) {
    json_t *o = kvm_stats__section_json(NULL, NULL);
    json_object_set_new(o, "error", json_string("no timed region: the guest never marked begin"));
    return o;
  }
  json_t *o = kvm_stats__section_json(
      kvm_stats__delta_json(&ps->vm_st, &ps->vm_before, &ps->vm_after),
      kvm_stats__delta_json(&ps->vcpu_st, &ps->vcpu_before, &ps->vcpu_after));
  if (!ps->complete)
    json_object_set_new(o, "error",
                        json_string("timed region not ended by the guest: "
                                    "values up to the end of the run"));
  return o;
}

json_t *probe_set__exits_json(const struct probe_set *ps) {
  return ps->trace ? kvm_trace__exits_json(ps->trace) : json_object();
}
json_t *probe_set__events_json(const struct probe_set *ps) {
  return ps->trace ? kvm_trace__events_json(ps->trace) : json_object();
}

json_t *probe_set__pmu_json(const struct probe_set *ps) {
  return ps->pmu ? pmu__to_json(ps->pmu) : json_object();
}

void probe_set__print(const struct probe_set *ps, FILE *out) {
  if (!ps->kvm_ok) {
    fprintf(out, "kvm stats: unavailable: %s\n", ps->kvm_error);
  } else if (ps->ended) {
    fprintf(out, "\n%-39s %14s  %s\n", "kvm stats that changed (timed region)", "change", "unit");
    int n = kvm_stats__print_changed(&ps->vm_st, &ps->vm_before, &ps->vm_after, "  vm   ", out);
    n += kvm_stats__print_changed(&ps->vcpu_st, &ps->vcpu_before, &ps->vcpu_after, "  vcpu ", out);
    if (!n) fprintf(out, "  (none)\n");
  }
  if (ps->trace) kvm_trace__print(ps->trace, out);
  fprintf(out, "\n");
  if (ps->pmu)
    pmu__print(ps->pmu, out);
  else
    fprintf(out, "pmu: %s\n", ps->pmu_error[0] ? ps->pmu_error : "off");
}
