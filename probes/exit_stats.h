/* exit_stats.h - exits by reason and sub-reason with handling latency.
 *
 * Latency is "KVM_RUN return to re-entry" in TSC ticks, kept in log2
 * histograms. Everything is preallocated: the exit path does no allocation
 * and no syscalls (exit_stats__record is a few loads, adds and compares).
 */
#ifndef PROBES_EXIT_STATS_H
#define PROBES_EXIT_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HIST_BUCKETS     64 /* bucket b holds values v with floor(log2(v)) == b; v=0 in 0 */
#define EXIT_REASONS_MAX 64
#define EXIT_SUBS_MAX    64 /* distinct sub-reasons (ports, MMIO pages, hypercalls) */

struct log2_hist {
  uint64_t count;
  uint64_t sum;
  uint64_t min, max;
  uint64_t bucket[HIST_BUCKETS];
};

void log2_hist__init(struct log2_hist *h);
static inline void log2_hist__add(struct log2_hist *h, uint64_t v) {
  unsigned b = v ? 63u - (unsigned)__builtin_clzll(v) : 0u;
  h->bucket[b]++;
  h->count++;
  h->sum += v;
  if (v < h->min) h->min = v;
  if (v > h->max) h->max = v;
}
/* Value at quantile q in [0,1]: linear interpolation inside the bucket that
 * holds the rank, clamped to [min, max]. 0 for an empty histogram. */
uint64_t log2_hist__quantile(const struct log2_hist *h, double q);

/* Sub-reason kinds: what `key` means. HYPERCALL: refvmm's port hypercalls
 * (VTB_HC_*); KVM_HYPERCALL: the number of a KVM_EXIT_HYPERCALL (KVM_HC_*,
 * a separate number space). */
enum exit_sub_kind {
  EXIT_SUB_NONE,
  EXIT_SUB_IO_PORT,
  EXIT_SUB_MMIO_PAGE,
  EXIT_SUB_HYPERCALL,
  EXIT_SUB_KVM_HYPERCALL,
  EXIT_SUB_MSR,
};

struct exit_sub {
  enum exit_sub_kind kind;
  uint64_t key; /* port, MMIO page address, hypercall number */
  struct log2_hist lat;
};

struct exit_stats {
  bool enabled;    /* counting on (inside the timed region) */
  uint64_t tsc_hz; /* for tick -> ns conversion in reports */
  uint64_t total;
  uint64_t sub_overflow;                        /* sub-reasons that found no free slot */
  struct log2_hist by_reason[EXIT_REASONS_MAX]; /* index = exit reason */
  struct exit_sub subs[EXIT_SUBS_MAX];
  int nsubs;
  const char *(*reason_name)(uint32_t r); /* backend's names */
};

void exit_stats__init(struct exit_stats *s, uint64_t tsc_hz, const char *(*reason_name)(uint32_t));
/* Record one exit of `reason` (and sub-reason kind/key, EXIT_SUB_NONE for
 * none) that took `ticks`. No-op when !enabled. */
void exit_stats__record(struct exit_stats *s, uint32_t reason, enum exit_sub_kind kind,
                        uint64_t key, uint64_t ticks);
/* {"total": N, "by_reason": {NAME: {count, latency_ns {min,p50,p99,max}, hist}},
 *  "by_sub": [{kind, key, count, latency_ns, hist}]} */
json_t *exit_stats__to_json(const struct exit_stats *s);
/* Human table like `perf kvm stat report`. */
void exit_stats__print(const struct exit_stats *s, FILE *out);

/* Additions (probes/exit_stats.c). Reasons >= EXIT_REASONS_MAX are counted
 * in slot EXIT_REASONS_MAX-1, reported as "other". */
/* Zero every count (keeps tsc_hz, reason_name, enabled). */
void exit_stats__reset(struct exit_stats *s);
/* Slot of (kind, key): existing, or claimed when `create`; NULL when absent
 * or the table is full. */
struct exit_sub *exit_stats__find_sub(struct exit_stats *s, enum exit_sub_kind kind, uint64_t key,
                                      bool create);
const char *exit_sub_kind__name(enum exit_sub_kind kind); /* "io_port", ... */
const char *exit_stats__reason_name(const struct exit_stats *s, uint32_t reason);
double exit_stats__ticks_to_ns(const struct exit_stats *s, uint64_t ticks); /* 0 if !tsc_hz */
/* Non-empty buckets as [{lo_ns, hi_ns, count}] (null bounds if !tsc_hz). */
json_t *log2_hist__to_json(const struct log2_hist *h, const struct exit_stats *s);

#endif
