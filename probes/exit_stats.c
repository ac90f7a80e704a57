/* exit_stats.c - exits by reason and sub-reason with log2 latency histograms.
 *
 * The record path touches only preallocated arrays: one histogram add for
 * the reason, and for a sub-reason a hashed linear probe over the fixed
 * slot table (EXIT_SUBS_MAX slots; a full table counts sub_overflow).
 * Reports (JSON, table) may allocate.
 *
 * JSON histogram format: "hist" is an array of the non-empty log2 buckets
 * only, each {"lo_ns", "hi_ns", "count"}: bucket b covers ticks
 * [2^b, 2^(b+1)) (bucket 0 covers [0, 2)), converted to ns with tsc_hz
 * (lo rounded down, hi rounded up). Latencies are null when tsc_hz is 0.
 */
#include "probes/exit_stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reasons at or past EXIT_REASONS_MAX are folded into this slot. */
#define EXIT_REASON_OTHER (EXIT_REASONS_MAX - 1)

void log2_hist__init(struct log2_hist *h) {
  memset(h, 0, sizeof(*h));
  h->min = UINT64_MAX;
}

static uint64_t bucket_lo(unsigned b) {
  return b ? (uint64_t)1 << b : 0;
}
static uint64_t bucket_hi_incl(unsigned b) { /* last value bucket b holds */
  return b >= 63 ? UINT64_MAX : ((uint64_t)1 << (b + 1)) - 1;
}

uint64_t log2_hist__quantile(const struct log2_hist *h, double q) {
  if (!h->count) return 0;
  if (!(q > 0)) return h->min; /* also catches NaN */
  if (q >= 1) return h->max;
  double rank = q * (double)h->count; /* in (0, count) */
  uint64_t before = 0;
  for (unsigned b = 0; b < HIST_BUCKETS; b++) {
    uint64_t n = h->bucket[b];
    if (!n) continue;
    if ((double)(before + n) >= rank) {
      /* Interpolate over the part of the bucket the data can occupy. */
      uint64_t lo = bucket_lo(b), hi = bucket_hi_incl(b);
      if (lo < h->min) lo = h->min;
      if (hi > h->max) hi = h->max;
      if (hi < lo) hi = lo;
      double frac = (rank - (double)before) / (double)n;
      if (frac < 0) frac = 0;
      if (frac > 1) frac = 1;
      double v = (double)lo + (double)(hi - lo) * frac;
      uint64_t r = v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)(v + 0.5);
      if (r < h->min) r = h->min;
      if (r > h->max) r = h->max;
      return r;
    }
    before += n;
  }
  return h->max;
}

void exit_stats__init(struct exit_stats *s, uint64_t tsc_hz, const char *(*reason_name)(uint32_t)) {
  memset(s, 0, sizeof(*s));
  s->tsc_hz = tsc_hz;
  s->reason_name = reason_name;
  for (int i = 0; i < EXIT_REASONS_MAX; i++)
    log2_hist__init(&s->by_reason[i]);
  for (int i = 0; i < EXIT_SUBS_MAX; i++) {
    s->subs[i].kind = EXIT_SUB_NONE;
    log2_hist__init(&s->subs[i].lat);
  }
}

void exit_stats__reset(struct exit_stats *s) {
  bool enabled = s->enabled;
  exit_stats__init(s, s->tsc_hz, s->reason_name);
  s->enabled = enabled;
}

static inline unsigned sub_slot(enum exit_sub_kind kind, uint64_t key) {
  uint64_t h = (key ^ ((uint64_t)kind << 56)) * 0x9E3779B97F4A7C15ull; /* Fibonacci hash */
  return (unsigned)(h >> 58) & (EXIT_SUBS_MAX - 1);
}
_Static_assert((EXIT_SUBS_MAX & (EXIT_SUBS_MAX - 1)) == 0 && EXIT_SUBS_MAX <= 64,
               "sub_slot assumes a power-of-two slot count of at most 64");

static inline struct exit_sub *find_sub(struct exit_stats *s, enum exit_sub_kind kind, uint64_t key,
                                        bool create) {
  unsigned i = sub_slot(kind, key);
  for (int n = 0; n < EXIT_SUBS_MAX; n++, i = (i + 1) & (EXIT_SUBS_MAX - 1)) {
    struct exit_sub *sub = &s->subs[i];
    if (sub->kind == kind && sub->key == key) return sub;
    if (sub->kind == EXIT_SUB_NONE) {
      if (!create) return NULL;
      sub->kind = kind;
      sub->key = key;
      s->nsubs++;
      return sub;
    }
  }
  return NULL;
}

struct exit_sub *exit_stats__find_sub(struct exit_stats *s, enum exit_sub_kind kind, uint64_t key,
                                      bool create) {
  return find_sub(s, kind, key, create);
}

void exit_stats__record(struct exit_stats *s, uint32_t reason, enum exit_sub_kind kind,
                        uint64_t key, uint64_t ticks) {
  if (!s->enabled) return;
  if (reason >= EXIT_REASONS_MAX) reason = EXIT_REASON_OTHER;
  s->total++;
  log2_hist__add(&s->by_reason[reason], ticks);
  if (kind == EXIT_SUB_NONE) return;
  struct exit_sub *sub = find_sub(s, kind, key, true);
  if (sub)
    log2_hist__add(&sub->lat, ticks);
  else
    s->sub_overflow++;
}

const char *exit_sub_kind__name(enum exit_sub_kind kind) {
  switch (kind) {
  case EXIT_SUB_IO_PORT:
    return "io_port";
  case EXIT_SUB_MMIO_PAGE:
    return "mmio_page";
  case EXIT_SUB_HYPERCALL:
    return "hypercall";
  case EXIT_SUB_KVM_HYPERCALL:
    return "kvm_hypercall";
  case EXIT_SUB_MSR:
    return "msr";
  case EXIT_SUB_NONE:
    break;
  }
  return "none";
}

const char *exit_stats__reason_name(const struct exit_stats *s, uint32_t reason) {
  if (reason == EXIT_REASON_OTHER) return "other";
  const char *n = s->reason_name ? s->reason_name(reason) : NULL;
  return n ? n : "unknown";
}

double exit_stats__ticks_to_ns(const struct exit_stats *s, uint64_t ticks) {
  return s->tsc_hz ? (double)ticks * 1e9 / (double)s->tsc_hz : 0.0;
}

static json_t *ns_json(const struct exit_stats *s, uint64_t ticks, int round_up) {
  if (!s->tsc_hz) return json_null();
  double ns = exit_stats__ticks_to_ns(s, ticks);
  double r = round_up > 0 ? ceil(ns) : round_up < 0 ? floor(ns) : ns + 0.5;
  if (r > 9.2e18) r = 9.2e18;
  return json_integer((json_int_t)r);
}

static json_t *latency_json(const struct exit_stats *s, const struct log2_hist *h) {
  json_t *o = json_object();
  json_object_set_new(o, "min", ns_json(s, h->count ? h->min : 0, 0));
  json_object_set_new(o, "p50", ns_json(s, log2_hist__quantile(h, 0.50), 0));
  json_object_set_new(o, "p99", ns_json(s, log2_hist__quantile(h, 0.99), 0));
  json_object_set_new(o, "max", ns_json(s, h->max, 0));
  json_object_set_new(o, "mean", ns_json(s, h->count ? h->sum / h->count : 0, 0));
  return o;
}

json_t *log2_hist__to_json(const struct log2_hist *h, const struct exit_stats *s) {
  json_t *a = json_array();
  for (unsigned b = 0; b < HIST_BUCKETS; b++) {
    if (!h->bucket[b]) continue;
    json_t *e = json_object();
    json_object_set_new(e, "lo_ns", ns_json(s, bucket_lo(b), -1));
    json_object_set_new(e, "hi_ns", ns_json(s, b >= 63 ? UINT64_MAX : (uint64_t)1 << (b + 1), 1));
    json_object_set_new(e, "count", json_integer((json_int_t)h->bucket[b]));
    json_array_append_new(a, e);
  }
  return a;
}

static int sub_cmp(const void *a, const void *b) {
  const struct exit_sub *x = *(const struct exit_sub *const *)a;
  const struct exit_sub *y = *(const struct exit_sub *const *)b;
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  return x->key < y->key ? -1 : x->key > y->key;
}

/* Used sub slots sorted by (kind, key); returns how many were written. */
static int sorted_subs(const struct exit_stats *s, const struct exit_sub **out) {
  int n = 0;
  for (int i = 0; i < EXIT_SUBS_MAX; i++)
    if (s->subs[i].kind != EXIT_SUB_NONE) out[n++] = &s->subs[i];
  qsort(out, (size_t)n, sizeof(*out), sub_cmp);
  return n;
}

json_t *exit_stats__to_json(const struct exit_stats *s) {
  json_t *o = json_object();
  json_object_set_new(o, "total", json_integer((json_int_t)s->total));
  json_object_set_new(o, "tsc_hz", json_integer((json_int_t)s->tsc_hz));
  json_object_set_new(o, "sub_overflow", json_integer((json_int_t)s->sub_overflow));
  json_t *by = json_object();
  for (uint32_t r = 0; r < EXIT_REASONS_MAX; r++) {
    const struct log2_hist *h = &s->by_reason[r];
    if (!h->count) continue;
    json_t *e = json_object();
    json_object_set_new(e, "reason", json_integer(r));
    json_object_set_new(e, "count", json_integer((json_int_t)h->count));
    json_object_set_new(e, "latency_ns", latency_json(s, h));
    json_object_set_new(e, "hist", log2_hist__to_json(h, s));
    /* Two reasons with one name (an unnamed backend) must not collide. */
    const char *name = exit_stats__reason_name(s, r);
    char buf[64];
    if (json_object_get(by, name)) {
      snprintf(buf, sizeof(buf), "%s_%u", name, r);
      name = buf;
    }
    json_object_set_new(by, name, e);
  }
  json_object_set_new(o, "by_reason", by);
  json_t *subs = json_array();
  const struct exit_sub *list[EXIT_SUBS_MAX];
  int n = sorted_subs(s, list);
  for (int i = 0; i < n; i++) {
    json_t *e = json_object();
    json_object_set_new(e, "kind", json_string(exit_sub_kind__name(list[i]->kind)));
    json_object_set_new(e, "key", json_integer((json_int_t)list[i]->key));
    json_object_set_new(e, "count", json_integer((json_int_t)list[i]->lat.count));
    json_object_set_new(e, "latency_ns", latency_json(s, &list[i]->lat));
    json_object_set_new(e, "hist", log2_hist__to_json(&list[i]->lat, s));
    json_array_append_new(subs, e);
  }
  json_object_set_new(o, "by_sub", subs);
  return o;
}

/* Nanoseconds: user-space handling is tens of ns, a us column would
 * round it away. */
static double ns(const struct exit_stats *s, uint64_t ticks) {
  return exit_stats__ticks_to_ns(s, ticks);
}

static void print_row(const struct exit_stats *s, FILE *out, const char *name,
                      const struct log2_hist *h) {
  double share = s->total ? 100.0 * (double)h->count / (double)s->total : 0.0;
  fprintf(out, "%-24s %10" PRIu64 " %7.2f%% %11.0f %11.0f %11.0f %11.0f\n", name, h->count, share,
          ns(s, h->min), ns(s, log2_hist__quantile(h, 0.5)), ns(s, log2_hist__quantile(h, 0.99)),
          ns(s, h->max));
}

void exit_stats__print(const struct exit_stats *s, FILE *out) {
  fprintf(out, "%-24s %10s %8s %11s %11s %11s %11s\n", "exit reason", "samples", "share", "min ns",
          "p50 ns", "p99 ns", "max ns");
  for (uint32_t r = 0; r < EXIT_REASONS_MAX; r++) {
    if (!s->by_reason[r].count) continue;
    print_row(s, out, exit_stats__reason_name(s, r), &s->by_reason[r]);
  }
  fprintf(out, "%-24s %10" PRIu64 "%s\n", "total", s->total,
          s->tsc_hz ? "" : "   (no TSC frequency: latencies not converted)");
  const struct exit_sub *list[EXIT_SUBS_MAX];
  int n = sorted_subs(s, list);
  if (!n) return;
  fprintf(out, "\n%-24s %10s %8s %11s %11s %11s %11s\n", "sub-reason", "samples", "share", "min ns",
          "p50 ns", "p99 ns", "max ns");
  for (int i = 0; i < n; i++) {
    char name[48];
    const char *k = exit_sub_kind__name(list[i]->kind);
    if (list[i]->kind == EXIT_SUB_HYPERCALL || list[i]->kind == EXIT_SUB_KVM_HYPERCALL)
      snprintf(name, sizeof(name), "  %s %" PRIu64, k, list[i]->key);
    else
      snprintf(name, sizeof(name), "  %s 0x%" PRIx64, k, list[i]->key);
    print_row(s, out, name, &list[i]->lat);
  }
  if (s->sub_overflow)
    fprintf(out, "  (%" PRIu64 " exits with sub-reasons past the %d-slot table)\n", s->sub_overflow,
            EXIT_SUBS_MAX);
}
