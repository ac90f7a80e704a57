/* kvm_stats.h - KVM binary statistics (KVM_GET_STATS_FD) read generically.
 *
 * The stats fd holds: a header, an id string, num_desc descriptors (each
 * struct kvm_stats_desc followed by name_size bytes of name), and a data
 * block of u64s. The header, id and descriptors are read and validated once
 * at open; a snapshot is one pread of the data block into a preallocated
 * buffer (no allocation after open). Every stat the kernel offers is
 * carried with its type, unit, base and exponent.
 *
 * Use at the timed region:
 *   kvm_stats__open(vcpu_fd, &st, err, sizeof err)   once, after vCPU creation
 *   kvm_stats__snap_init(&st, &before); ...(&st, &after)   once
 *   kvm_stats__snapshot(&st, &before)                 at mark begin
 *   kvm_stats__snapshot(&st, &after)                  at mark end
 *   kvm_stats__delta_json(&st, &before, &after)       into run.kvm_stats.vcpu
 */
#ifndef PROBES_KVM_STATS_H
#define PROBES_KVM_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Sanity limits: a blob past them is rejected as malformed. */
#define KVM_STATS_NAME_SIZE_MAX 4096u
#define KVM_STATS_NUM_DESC_MAX  65536u
#define KVM_STATS_DATA_MAX      (16u << 20) /* bytes in the data block */

struct kvm_stat {
  const char *name; /* into kvm_stats.names */
  uint32_t flags;
  uint32_t type, unit, base; /* KVM_STATS_{TYPE,UNIT,BASE}_* (shifted values) */
  int16_t exponent;
  uint16_t size;        /* number of u64s (histogram buckets) */
  uint32_t offset;      /* byte offset inside the data block */
  uint32_t bucket_size; /* linear histograms */
};

struct kvm_stats_snap {
  uint64_t *data; /* data_words u64s */
  size_t nwords;
};

struct kvm_stats {
  int fd; /* owned; -1 when closed */
  uint32_t name_size, num_desc;
  uint32_t id_offset, desc_offset, data_offset;
  char *id;    /* NUL-terminated */
  char *names; /* num_desc * name_size bytes, each NUL-terminated */
  struct kvm_stat *stats;
  size_t nstats;
  size_t data_bytes; /* data block bytes covered by the descriptors */
};

/* Take ownership of `stats_fd` (closed on failure too), read and validate
 * header, id and descriptors. 0, or -errno / -EBADMSG (malformed blob) with
 * a message in err[len] naming the field and value. */
int kvm_stats__open_fd(int stats_fd, struct kvm_stats *s, char *err, size_t len);
/* KVM_GET_STATS_FD on a VM or vCPU fd, then kvm_stats__open_fd. When the
 * kernel has no stats fd (EINVAL/ENOTTY) returns -ENOTSUP with the reason. */
int kvm_stats__open(int kvm_obj_fd, struct kvm_stats *s, char *err, size_t len);
void kvm_stats__close(struct kvm_stats *s);

/* Preallocate a snapshot buffer for `s` (0 / -ENOMEM). */
int kvm_stats__snap_init(const struct kvm_stats *s, struct kvm_stats_snap *snap);
void kvm_stats__snap_free(struct kvm_stats_snap *snap);
/* One pread of the data block: no allocation. 0 or -errno (-EIO on a short
 * read). */
int kvm_stats__snapshot(const struct kvm_stats *s, struct kvm_stats_snap *snap);

/* Index of stat `name` or -1. */
int kvm_stats__find(const struct kvm_stats *s, const char *name);
/* Element i of stat idx in a snapshot. */
static inline uint64_t kvm_stats__value(const struct kvm_stats *s,
                                        const struct kvm_stats_snap *snap, size_t idx, size_t i) {
  return snap->data[s->stats[idx].offset / 8 + i];
}

const char *kvm_stats__type_name(uint32_t type); /* "cumulative", ..., "unknown" */
const char *kvm_stats__unit_name(uint32_t unit); /* "none", "bytes", ... */
const char *kvm_stats__base_name(uint32_t base); /* "pow10", "pow2" */

/* {NAME: {"value": N | "values": [..], "type", "unit", "base", "exponent"
 * [, "bucket_size"]}}: cumulative stats and histograms give after-before
 * (per bucket), instant and peak stats the `after` value. */
json_t *kvm_stats__delta_json(const struct kvm_stats *s, const struct kvm_stats_snap *before,
                              const struct kvm_stats_snap *after);
/* The run's "kvm_stats" section (results/schema.json):
 * {"available": true, "error": null, "vm": VM, "vcpu": VCPU} (both stolen;
 * either may be NULL -> {}), or for kernels without a stats fd
 * {"available": false, "error": reason}. */
json_t *kvm_stats__section_json(json_t *vm, json_t *vcpu);
json_t *kvm_stats__unavailable_json(const char *reason);
/* Aligned "name  delta  unit" lines for scalar stats whose value changed
 * (cumulative) or is non-zero (instant/peak); returns lines printed. */
int kvm_stats__print_changed(const struct kvm_stats *s, const struct kvm_stats_snap *before,
                             const struct kvm_stats_snap *after, const char *prefix, FILE *out);

#endif
