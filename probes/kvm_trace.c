/* kvm_trace.c - KVM tracepoints as a probe (kvm_trace.h). */
#include "probes/kvm_trace.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probes/kvm_exit_reasons.h"
#include "probes/tracefs.h"

/* Counted events: what KVM did in the kernel for this vCPU. Each hit of a
 * tracepoint with a perf event attached costs ~0.25 us on the development
 * hosts (bench/trace_cost.sh), so only events that fire about once per
 * shadow page or less are counted by default; the ones that fire per exit or
 * per emulated instruction are counted when asked for (--events kvm:all or by
 * name). A third column is a filter (the name then carries it: the
 * tracepoint fires for failed emulations too, which the insn_emulation_fail
 * statistic counts apart). */
struct counted_event {
  const char *system, *event, *filter;
  bool by_default;
};
static const struct counted_event counted_events[] = {
    {"kvm", "kvm_emulate_insn", NULL, false},
    {"kvm", "kvm_emulate_insn", "failed != 0", false},
    {"kvm", "kvm_pio", NULL, false},
    {"kvm", "kvm_mmio", NULL, false},
    {"kvm", "kvm_userspace_exit", NULL, false},
    {"kvm", "kvm_hypercall", NULL, false},
    {"kvm", "kvm_cpuid", NULL, false},
    {"kvm", "kvm_msr", NULL, false},
    {"kvm", "kvm_cr", NULL, false},
    {"kvm", "kvm_page_fault", NULL, false},
    {"kvm", "kvm_inj_virq", NULL, false},
    {"kvm", "kvm_fpu", NULL, false},
    {"kvmmmu", "kvm_mmu_pagetable_walk", NULL, false},
    {"kvmmmu", "kvm_mmu_set_spte", NULL, false},
    {"kvmmmu", "kvm_mmu_spte_requested", NULL, false},
    {"kvmmmu", "kvm_tdp_mmu_spte_changed", NULL, false},
    {"kvmmmu", "kvm_mmu_get_page", NULL, true},
    {"kvmmmu", "kvm_mmu_prepare_zap_page", NULL, true},
    {"kvmmmu", "kvm_mmu_sync_page", NULL, true},
    {"kvmmmu", "kvm_mmu_unsync_page", NULL, true},
    {"kvmmmu", "mark_mmio_spte", NULL, true},
    {"kvmmmu", "handle_mmio_page_fault", NULL, true},
    {"kvmmmu", "fast_page_fault", NULL, true},
};
_Static_assert(sizeof counted_events / sizeof counted_events[0] <= KVM_TRACE_COUNTED_MAX,
               "raise KVM_TRACE_COUNTED_MAX");

/* Whether the comma-separated list holds this exact word. */
static bool has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; p && *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    if (len == n && !strncmp(p, word, n)) return true;
    p = c ? c + 1 : NULL;
  }
  return false;
}

/* Whether the request asks for system:event (by name or kvm:all). */
static bool requested(const char *req, const char *system, const char *event) {
  char want[96];
  snprintf(want, sizeof want, "%s:%s", system, event);
  return has_word(req, want) || has_word(req, "kvm:all");
}

/* 2^n data pages: at ~80 bytes per record, 256 K exits between two marks. */
#define RING_PAGES 4096

static int perf_open(struct perf_event_attr *a, pid_t tid) {
  return (int)syscall(SYS_perf_event_open, a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_counter(long id, pid_t tid) {
  struct perf_event_attr a = {
      .type = PERF_TYPE_TRACEPOINT, .size = sizeof a, .config = (uint64_t)id, .disabled = 0};
  return perf_open(&a, tid);
}

static int open_sampled(long id, pid_t tid, uint64_t *id_out) {
  struct perf_event_attr a = {.type = PERF_TYPE_TRACEPOINT,
                              .size = sizeof a,
                              .config = (uint64_t)id,
                              .sample_period = 1,
                              .sample_type =
                                  PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW,
                              .disabled = 1,
                              .watermark = 1,
                              .wakeup_watermark = 1u << 30};
  int fd = perf_open(&a, tid);
  if (fd >= 0 && ioctl(fd, PERF_EVENT_IOC_ID, id_out) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void open_ring(struct kvm_trace *t, pid_t tid) {
  const char *dir = t->tracefs;
  long ex = tracefs__event_id(dir, "kvm", "kvm_exit");
  long en = tracefs__event_id(dir, "kvm", "kvm_entry");
  long ij = tracefs__event_id(dir, "kvm", "kvm_inj_exception");
  if (ex < 0 || en < 0 || ij < 0) {
    snprintf(t->ring_error, sizeof t->ring_error,
             "%s/events/kvm: kvm_exit, kvm_entry or kvm_inj_exception missing", dir);
    return;
  }
  if (tracefs__field(dir, "kvm", "kvm_exit", "exit_reason", &t->off_reason, &t->sz_reason) ||
      tracefs__field(dir, "kvm", "kvm_exit", "isa", &t->off_isa, &t->sz_isa) ||
      tracefs__field(dir, "kvm", "kvm_exit", "info1", &t->off_info1, &t->sz_info1) ||
      tracefs__field(dir, "kvm", "kvm_inj_exception", "exception", &t->off_vec, &t->sz_vec)) {
    snprintf(t->ring_error, sizeof t->ring_error,
             "%s/events/kvm/kvm_exit/format: exit_reason, isa or info1 (or kvm_inj_exception's "
             "exception) not found",
             dir);
    return;
  }
  if (tracefs__field(dir, "kvm", "kvm_inj_exception", "reinjected", &t->off_reinj, &t->sz_reinj))
    t->sz_reinj = 0;
  t->exit_fd = open_sampled(ex, tid, &t->exit_id);
  if (t->exit_fd < 0) {
    snprintf(t->ring_error, sizeof t->ring_error, "perf_event_open(kvm:kvm_exit): %s",
             strerror(errno));
    return;
  }
  long page = sysconf(_SC_PAGESIZE);
  size_t len = (size_t)page * (RING_PAGES + 1);
  void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, t->exit_fd, 0);
  if (m == MAP_FAILED) {
    snprintf(t->ring_error, sizeof t->ring_error, "mmap of the kvm_exit ring (%zu KiB): %s",
             len / 1024, strerror(errno));
    return;
  }
  t->ring = m;
  t->ring_bytes = (size_t)page * RING_PAGES;
  t->entry_fd = open_sampled(en, tid, &t->entry_id);
  t->exc_fd = open_sampled(ij, tid, &t->exc_id);
  if (t->entry_fd < 0 || t->exc_fd < 0 ||
      ioctl(t->entry_fd, PERF_EVENT_IOC_SET_OUTPUT, t->exit_fd) ||
      ioctl(t->exc_fd, PERF_EVENT_IOC_SET_OUTPUT, t->exit_fd)) {
    snprintf(t->ring_error, sizeof t->ring_error,
             "perf_event_open(kvm:kvm_entry/kvm_inj_exception) into the kvm_exit ring: %s",
             strerror(errno));
    return;
  }
  /* kvm_exit/kvm_entry fire on every exit: only when asked for (their cost) */
  int fds[3] = {t->exc_fd, t->exit_fd, t->entry_fd};
  for (int i = 0; i < (t->want_exits ? 3 : 1); i++)
    ioctl(fds[i], PERF_EVENT_IOC_ENABLE, 0);
  t->ring_ok = true;
}

/* The vendor module loaded, for messages only (refvmm/kvm/kvm_host.c has
 * the full detection). */
static const char *loaded_flavour(void) {
  static const char *const mods[] = {"kvm_pvm", "kvm_intel", "kvm_amd"};
  char p[64];
  for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
    snprintf(p, sizeof p, "/sys/module/%s", mods[i]);
    if (!access(p, F_OK)) return mods[i];
  }
  return "unknown flavour";
}

void kvm_trace__open(struct kvm_trace *t, pid_t tid, const char *tracefs_dir, const char *flavour,
                     const char *events) {
  memset(t, 0, sizeof *t);
  t->exit_fd = t->entry_fd = t->exc_fd = -1;
  t->pending_reason = -1;
  t->flavour = flavour ? flavour : loaded_flavour();
  for (int i = 0; i < KVM_TRACE_COUNTED_MAX; i++)
    t->counted[i].fd = -1;
  char why[256];
  if ((tracefs_dir && !strcmp(tracefs_dir, "off")) || has_word(events, "kvm:off")) {
    snprintf(t->error, sizeof t->error, "off (--events kvm:off)");
    return;
  }
  if (tracefs__find(tracefs_dir, t->tracefs, sizeof t->tracefs, why, sizeof why)) {
    snprintf(t->error, sizeof t->error, "%s", why);
    return;
  }
  int opened = 0, first_errno = 0;
  for (size_t i = 0; i < sizeof counted_events / sizeof counted_events[0]; i++) {
    const struct counted_event *ce = &counted_events[i];
    if (!ce->by_default && !requested(events, ce->system, ce->event)) continue;
    struct kvm_trace_counted *c = &t->counted[t->ncounted++];
    const char *filter = ce->filter;
    snprintf(c->name, sizeof c->name, "%s:%s%s%s%s", ce->system, ce->event, filter ? " (" : "",
             filter ? filter : "", filter ? ")" : "");
    long id = tracefs__event_id(t->tracefs, ce->system, ce->event);
    if (id < 0) continue; /* absent on this kernel */
    c->fd = open_counter(id, tid);
    if (c->fd >= 0 && filter && ioctl(c->fd, PERF_EVENT_IOC_SET_FILTER, filter) != 0) {
      close(c->fd); /* a kernel without the field: absent, never an unfiltered count */
      c->fd = -1;
    }
    if (c->fd >= 0)
      opened++;
    else if (!first_errno)
      first_errno = errno;
  }
  /* other system:event words: any kvm/kvmmmu tracepoint this kernel has */
  for (const char *p = events; p && *p && t->ncounted < KVM_TRACE_COUNTED_MAX;) {
    const char *c = strchr(p, ',');
    size_t n = c ? (size_t)(c - p) : strlen(p);
    char word[64], sys[16];
    snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), p);
    p = c ? c + 1 : NULL;
    char *colon = strchr(word, ':');
    if (!colon || !strcmp(word, "kvm:all") || !strcmp(word, "kvm:default") ||
        !strcmp(word, "kvm:exits") || !strcmp(word, "kvm:kvm_exit") ||
        !strcmp(word, "kvm:kvm_entry"))
      continue;
    bool known = false;
    for (int i = 0; i < t->ncounted; i++)
      known |= !strcmp(t->counted[i].name, word);
    for (size_t i = 0; i < sizeof counted_events / sizeof counted_events[0]; i++)
      known |= !strcmp(colon + 1, counted_events[i].event);
    if (known) continue;
    snprintf(sys, sizeof sys, "%.*s", (int)(colon - word), word);
    struct kvm_trace_counted *ct = &t->counted[t->ncounted++];
    snprintf(ct->name, sizeof ct->name, "%s", word);
    long id = tracefs__event_id(t->tracefs, sys, colon + 1);
    if (id >= 0 && (ct->fd = open_counter(id, tid)) >= 0) opened++;
  }
  if (!opened) {
    snprintf(t->error, sizeof t->error,
             first_errno ? "perf_event_open on the kvm tracepoints of %s: %s (root or "
                           "perf_event_paranoid -1 needed)"
                         : "%s/events has no kvm events (kvm module not loaded?)%s",
             t->tracefs, first_errno ? strerror(first_errno) : "");
    for (int i = 0; i < t->ncounted; i++)
      t->counted[i].fd = -1;
    return;
  }
  t->want_exits = has_word(events, "kvm:exits") || has_word(events, "kvm:all") ||
                  has_word(events, "kvm:kvm_exit");
  open_ring(t, tid);
  t->available = true;
  t->phase = KVM_TRACE_BEFORE;
}

/* ---- the ring ---------------------------------------------------------- */
static uint64_t field(const unsigned char *raw, uint32_t rawlen, unsigned off, unsigned sz) {
  if ((uint64_t)off + sz > rawlen) return 0;
  uint64_t v = 0;
  memcpy(&v, raw + off, sz); /* little-endian host */
  return v;
}

static int reason_index(struct kvm_trace *t, unsigned isa, uint32_t code, uint64_t info1) {
  char buf[32];
  struct kvm_exit_name n = kvm_exit_reasons__name(isa, code, info1, buf, sizeof buf);
  for (int i = 0; i < t->nreasons; i++)
    if (!strcmp(t->reasons[i].hw, n.hw) && t->reasons[i].sdm == n.sdm) return i;
  if (t->nreasons >= KVM_TRACE_REASONS_MAX) return -1;
  struct kvm_trace_reason *r = &t->reasons[t->nreasons];
  memset(r, 0, sizeof *r);
  snprintf(r->hw, sizeof r->hw, "%s", n.hw);
  r->sdm = n.sdm;
  r->code = code;
  return t->nreasons++;
}

static void add_latency(struct kvm_trace_reason *r, uint64_t ns) {
  if (r->nlat == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    uint64_t *p = realloc(r->lat, cap * sizeof *p);
    if (!p) return; /* latencies are best effort; counts stay exact */
    r->lat = p;
    r->cap = cap;
  }
  r->lat[r->nlat++] = ns;
}

static void on_sample(struct kvm_trace *t, const unsigned char *rec, size_t len) {
  /* PERF_RECORD_SAMPLE with IDENTIFIER | TIME | RAW: u64 id, u64 time, u32 size, raw */
  if (len < 8 + 8 + 8 + 4) return;
  uint64_t id, time;
  uint32_t rawlen;
  memcpy(&id, rec + 8, 8);
  memcpy(&time, rec + 16, 8);
  memcpy(&rawlen, rec + 24, 4);
  const unsigned char *raw = rec + 28;
  if (28 + (size_t)rawlen > len) return;
  enum kvm_trace_phase ph = t->phase;
  if (id == t->exit_id) {
    unsigned isa = (unsigned)field(raw, rawlen, t->off_isa, t->sz_isa);
    uint32_t code = (uint32_t)field(raw, rawlen, t->off_reason, t->sz_reason);
    uint64_t info1 = field(raw, rawlen, t->off_info1, t->sz_info1);
    t->isa = isa;
    t->exits[ph]++;
    int i = reason_index(t, isa, code, info1);
    if (i < 0) {
      t->other_reasons[ph]++;
    } else {
      t->reasons[i].count[ph]++;
    }
    t->pending = ph == KVM_TRACE_REGION;
    t->pending_reason = i;
    t->pending_ns = time;
    t->open_exit = true;
  } else if (id == t->entry_id) {
    t->open_exit = false;
    if (t->pending && t->pending_reason >= 0 && time >= t->pending_ns)
      add_latency(&t->reasons[t->pending_reason], time - t->pending_ns);
    t->pending = false;
  } else if (id == t->exc_id) {
    unsigned v = (unsigned)field(raw, rawlen, t->off_vec, t->sz_vec);
    if (t->sz_reinj && field(raw, rawlen, t->off_reinj, t->sz_reinj)) {
      t->exc_reinjected[ph]++; /* the same exception again: not a new one */
      return;
    }
    t->exc_total[ph]++;
    if (v < KVM_TRACE_VECTORS) t->exc_by_vector[ph][v]++;
  }
}

/* Read every record the kernel has written; phase says whose they are. */
static void drain(struct kvm_trace *t) {
  if (!t->ring_ok) return;
  struct perf_event_mmap_page *mp = t->ring;
  unsigned char *data = (unsigned char *)t->ring + sysconf(_SC_PAGESIZE);
  uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = mp->data_tail;
  size_t mask = t->ring_bytes - 1;
  unsigned char buf[512];
  while (tail + sizeof(struct perf_event_header) <= head) {
    struct perf_event_header h;
    for (size_t i = 0; i < sizeof h; i++)
      ((unsigned char *)&h)[i] = data[(tail + i) & mask];
    if (h.size < sizeof h || tail + h.size > head) break;
    if (h.type == PERF_RECORD_SAMPLE && h.size <= sizeof buf) {
      for (size_t i = 0; i < h.size; i++)
        buf[i] = data[(tail + i) & mask];
      on_sample(t, buf, h.size);
    } else if (h.type == PERF_RECORD_LOST && h.size >= 8 + 16) {
      uint64_t lost = 0;
      for (size_t i = 0; i < 8; i++)
        ((unsigned char *)&lost)[i] = data[(tail + 16 + i) & mask];
      t->lost[t->phase] += lost;
    }
    tail += h.size;
  }
  __atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
}

static void read_counters(struct kvm_trace *t, enum kvm_trace_phase ph) {
  for (int i = 0; i < t->ncounted; i++) {
    struct kvm_trace_counted *c = &t->counted[i];
    uint64_t v = 0;
    if (c->fd >= 0 && read(c->fd, &v, sizeof v) == (ssize_t)sizeof v) c->at[ph] = v;
  }
}

void kvm_trace__begin(struct kvm_trace *t) {
  if (!t->available || t->begun) return;
  t->begun = true;
  drain(t); /* what came before the region */
  read_counters(t, KVM_TRACE_BEFORE);
  t->phase = KVM_TRACE_REGION;
}

void kvm_trace__end(struct kvm_trace *t) {
  if (!t->available || !t->begun || t->ended) return;
  t->ended = true;
  read_counters(t, KVM_TRACE_REGION);
  drain(t);
  t->pending = false;
  t->phase = KVM_TRACE_AFTER;
}

void kvm_trace__finish(struct kvm_trace *t) {
  if (!t->available || t->closed) return;
  if (t->begun && !t->ended) kvm_trace__end(t);
  read_counters(t, KVM_TRACE_AFTER);
  drain(t);
  t->closed = true;
  int fds[3] = {t->exit_fd, t->entry_fd, t->exc_fd};
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0) ioctl(fds[i], PERF_EVENT_IOC_DISABLE, 0);
}

void kvm_trace__close(struct kvm_trace *t) {
  for (int i = 0; i < t->ncounted; i++)
    if (t->counted[i].fd >= 0) close(t->counted[i].fd), t->counted[i].fd = -1;
  if (t->ring) munmap(t->ring, t->ring_bytes + (size_t)sysconf(_SC_PAGESIZE));
  t->ring = NULL;
  int *fds[3] = {&t->exit_fd, &t->entry_fd, &t->exc_fd};
  for (int i = 0; i < 3; i++)
    if (*fds[i] >= 0) close(*fds[i]), *fds[i] = -1;
  for (int i = 0; i < t->nreasons; i++)
    free(t->reasons[i].lat), t->reasons[i].lat = NULL;
  t->available = false;
}

/* ---- output -------------------------------------------------------------- */
const char *kvm_trace__vector_name(unsigned v, char *buf, size_t len) {
  static const char *const names[32] = {"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM",
                                        "DF", NULL, "TS",  "NP", "SS", "GP", "PF", NULL,
                                        "MF", "AC", "MC",  "XM", "VE", "CP"};
  if (v < 32 && names[v]) return names[v];
  snprintf(buf, len, "v%u", v);
  return buf;
}

/* Counts of a phase range: region only, or the whole run. */
static uint64_t counted_delta(const struct kvm_trace_counted *c, bool whole) {
  return whole ? c->at[KVM_TRACE_AFTER] : c->at[KVM_TRACE_REGION] - c->at[KVM_TRACE_BEFORE];
}
static uint64_t sum_phases(const uint64_t *v, bool whole) {
  return whole ? v[0] + v[1] + v[2] : v[KVM_TRACE_REGION];
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}
static uint64_t pct(const uint64_t *s, size_t n, double p) {
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return s[i < n ? i : n - 1];
}

/* Whether kvm_exit fired at all: a region always ends with an exit (the
 * end mark is one), so none in it means the tracepoint does not fire here. */
static bool exits_fire(const struct kvm_trace *t) {
  return t->exits[0] + t->exits[1] + t->exits[2] + t->lost[0] + t->lost[1] + t->lost[2] > 0;
}

json_t *kvm_trace__exits_json(const struct kvm_trace *t) {
  json_t *o = json_object();
  const char *why = !t->available ? t->error : !t->ring_ok ? t->ring_error : NULL;
  char buf[400];
  if (!why && !t->want_exits)
    why = "not traced: refvmm --events kvm:exits (vtbench run --kvm-exits) counts every exit by "
          "hardware reason, at a cost per exit (docs/PROBES.md)";
  if (!why && !exits_fire(t)) {
    snprintf(buf, sizeof buf,
             "kvm:kvm_exit never fired on this host's KVM (%s): its exit path bypasses the "
             "tracepoint; refvmm's exits.by_reason has the exits that reach user space, "
             "kvm_stats the rest in aggregate",
             t->flavour);
    why = buf;
  }
  if (why) {
    json_object_set_new(o, "available", json_false());
    json_object_set_new(o, "reason", json_string(why));
    return o;
  }
  json_object_set_new(o, "available", json_true());
  json_object_set_new(o, "source",
                      json_string("kvm:kvm_exit -> kvm:kvm_entry (perf_event_open, "
                                  "every hit sampled, vCPU thread)"));
  json_object_set_new(o, "isa", json_string(kvm_exit_reasons__isa_name(t->isa)));
  json_object_set_new(o, "region_complete", json_boolean(t->ended));
  json_object_set_new(
      o, "total",
      json_integer((json_int_t)(t->exits[KVM_TRACE_REGION] + t->lost[KVM_TRACE_REGION])));
  json_object_set_new(o, "lost", json_integer((json_int_t)t->lost[KVM_TRACE_REGION]));
  json_t *by = json_object(), *sdm = json_object(), *run = json_object();
  for (int i = 0; i < t->nreasons; i++) {
    const struct kvm_trace_reason *r = &t->reasons[i];
    char key[64];
    /* npf and msr split by SDM reason: "npf" and "npf (EPT_MISCONFIG)" stay apart */
    bool split = false;
    for (int j = 0; j < t->nreasons; j++)
      split |= j != i && !strcmp(t->reasons[j].hw, r->hw);
    if (split && r->sdm)
      snprintf(key, sizeof key, "%s (%s)", r->hw, r->sdm);
    else
      snprintf(key, sizeof key, "%s", r->hw);
    uint64_t run_n = sum_phases(r->count, true);
    if (run_n) json_object_set_new(run, key, json_integer((json_int_t)run_n));
    uint64_t n = r->count[KVM_TRACE_REGION];
    if (!n) continue;
    json_t *e = json_pack("{s:I,s:I}", "count", (json_int_t)n, "code", (json_int_t)r->code);
    json_object_set_new(e, "sdm", r->sdm ? json_string(r->sdm) : json_null());
    if (r->nlat) {
      uint64_t *s = malloc(r->nlat * sizeof *s);
      if (s) {
        memcpy(s, r->lat, r->nlat * sizeof *s);
        qsort(s, r->nlat, sizeof *s, cmp_u64);
        json_object_set_new(
            e, "latency_ns",
            json_pack("{s:I,s:I,s:I,s:I,s:I}", "samples", (json_int_t)r->nlat, "min",
                      (json_int_t)s[0], "p50", (json_int_t)pct(s, r->nlat, 0.5), "p99",
                      (json_int_t)pct(s, r->nlat, 0.99), "max", (json_int_t)s[r->nlat - 1]));
        free(s);
      }
    }
    json_object_set_new(by, key, e);
    if (r->sdm) {
      json_int_t prev = json_integer_value(json_object_get(sdm, r->sdm));
      json_object_set_new(sdm, r->sdm, json_integer(prev + (json_int_t)n));
    }
  }
  if (t->other_reasons[KVM_TRACE_REGION])
    json_object_set_new(
        by, "other", json_pack("{s:I}", "count", (json_int_t)t->other_reasons[KVM_TRACE_REGION]));
  json_object_set_new(o, "by_reason", by);
  json_object_set_new(o, "by_sdm_reason", sdm);
  json_object_set_new(
      o, "run_total",
      json_integer((json_int_t)(sum_phases(t->exits, true) + sum_phases(t->lost, true))));
  json_object_set_new(o, "run_by_reason", run);
  /* The run's last exit (the guest's final OUT) is never followed by an
   * entry; perf kvm stat counts exits at their entry and leaves it out. */
  if (t->closed && t->open_exit && t->pending_reason >= 0)
    json_object_set_new(o, "run_unpaired", json_string(t->reasons[t->pending_reason].hw));
  return o;
}

json_t *kvm_trace__events_json(const struct kvm_trace *t) {
  json_t *o = json_object();
  if (!t->available) {
    json_object_set_new(o, "available", json_false());
    json_object_set_new(o, "reason", json_string(t->error));
    return o;
  }
  json_object_set_new(o, "available", json_true());
  json_object_set_new(o, "tracefs", json_string(t->tracefs));
  json_t *region = json_object(), *run = json_object(), *absent = json_array();
  for (int i = 0; i < t->ncounted; i++) {
    const struct kvm_trace_counted *c = &t->counted[i];
    if (c->fd < 0 && !c->at[KVM_TRACE_AFTER]) {
      json_array_append_new(absent, json_string(c->name));
      continue;
    }
    uint64_t r = counted_delta(c, false), w = counted_delta(c, true);
    if (r) json_object_set_new(region, c->name, json_integer((json_int_t)r));
    if (w) json_object_set_new(run, c->name, json_integer((json_int_t)w));
  }
  json_t *vec = json_object();
  if (t->ring_ok) {
    uint64_t r = t->exc_total[KVM_TRACE_REGION], w = sum_phases(t->exc_total, true);
    if (r) json_object_set_new(region, "kvm:kvm_inj_exception", json_integer((json_int_t)r));
    if (w) json_object_set_new(run, "kvm:kvm_inj_exception", json_integer((json_int_t)w));
    uint64_t rr = t->exc_reinjected[KVM_TRACE_REGION];
    if (rr)
      json_object_set_new(region, "kvm:kvm_inj_exception (reinjected)",
                          json_integer((json_int_t)rr));
    for (unsigned v = 0; v < KVM_TRACE_VECTORS; v++) {
      char b[8];
      if (t->exc_by_vector[KVM_TRACE_REGION][v])
        json_object_set_new(vec, kvm_trace__vector_name(v, b, sizeof b),
                            json_integer((json_int_t)t->exc_by_vector[KVM_TRACE_REGION][v]));
    }
  } else {
    json_object_set_new(o, "sampled_error", json_string(t->ring_error));
  }
  json_object_set_new(o, "region", region);
  json_object_set_new(o, "inj_exception_by_vector", vec);
  json_object_set_new(o, "run", run);
  json_object_set_new(o, "absent", absent);
  return o;
}

void kvm_trace__print(const struct kvm_trace *t, FILE *out) {
  if (!t->available) {
    fprintf(out, "kvm tracepoints: unavailable: %s\n", t->error);
    return;
  }
  json_t *ex = kvm_trace__exits_json(t);
  if (!json_is_true(json_object_get(ex, "available"))) {
    fprintf(out, "kvm exits by reason (kvm:kvm_exit): %s\n",
            json_string_value(json_object_get(ex, "reason")));
  } else {
    fprintf(out, "\n%-26s %10s %-20s %10s %10s %10s %10s\n", "kvm exits (kvm:kvm_exit)", "count",
            "SDM reason", "min ns", "p50 ns", "p99 ns", "max ns");
    const char *k;
    json_t *e;
    json_object_foreach(json_object_get(ex, "by_reason"), k, e) {
      const json_t *l = json_object_get(e, "latency_ns");
      const char *sdm = json_string_value(json_object_get(e, "sdm"));
      fprintf(out, "  %-24s %10lld %-20s", k,
              (long long)json_integer_value(json_object_get(e, "count")), sdm ? sdm : "-");
      if (l)
        fprintf(out, " %10lld %10lld %10lld %10lld\n",
                (long long)json_integer_value(json_object_get(l, "min")),
                (long long)json_integer_value(json_object_get(l, "p50")),
                (long long)json_integer_value(json_object_get(l, "p99")),
                (long long)json_integer_value(json_object_get(l, "max")));
      else
        fprintf(out, "\n");
    }
    fprintf(out, "  %-24s %10lld%s\n", "total",
            (long long)json_integer_value(json_object_get(ex, "total")),
            json_integer_value(json_object_get(ex, "lost")) ? " (some records lost: counts low)"
                                                            : "");
  }
  json_decref(ex);
  json_t *ev = kvm_trace__events_json(t);
  fprintf(out, "kvm events that fired (timed region):");
  const char *k;
  json_t *v;
  int n = 0;
  json_object_foreach(json_object_get(ev, "region"), k, v) {
    fprintf(out, "%s %s %lld", n++ ? "," : "", k, (long long)json_integer_value(v));
  }
  if (json_object_size(json_object_get(ev, "inj_exception_by_vector"))) {
    fprintf(out, " (by vector:");
    json_object_foreach(json_object_get(ev, "inj_exception_by_vector"), k, v)
        fprintf(out, " %s %lld", k, (long long)json_integer_value(v));
    fprintf(out, ")");
  }
  fprintf(out, "%s\n", n ? "" : " none");
  json_decref(ev);
}
