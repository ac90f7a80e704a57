/* kvm_stats.c - KVM binary statistics reader (see kvm_stats.h).
 *
 * Everything read from the fd is untrusted: sizes and offsets are checked
 * in 64-bit arithmetic against the limits in kvm_stats.h, every pread must
 * be complete, names must be NUL-terminated inside name_size, and the
 * descriptor and data blocks must not overlap.
 */
#include "probes/kvm_stats.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DESC_FIXED sizeof(struct kvm_stats_desc) /* 16 bytes before the name */

static int fail(char *err, size_t len, int rc, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* pread exactly n bytes at off: 0, -errno, or -EBADMSG for a short read. */
static int pread_full(int fd, void *buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) return -EBADMSG;
    got += (size_t)r;
  }
  return 0;
}

void kvm_stats__close(struct kvm_stats *s) {
  if (s->fd >= 0) close(s->fd);
  free(s->id);
  free(s->names);
  free(s->stats);
  memset(s, 0, sizeof(*s));
  s->fd = -1;
}

static int read_header(struct kvm_stats *s, uint64_t fsize, char *err, size_t len) {
  struct kvm_stats_header h;
  int rc = pread_full(s->fd, &h, sizeof(h), 0);
  if (rc == -EBADMSG)
    return fail(err, len, rc, "kvm stats: header truncated (need %zu bytes)", sizeof(h));
  if (rc) return fail(err, len, rc, "kvm stats: reading header: %s", strerror(-rc));
  if (h.name_size == 0 || h.name_size > KVM_STATS_NAME_SIZE_MAX)
    return fail(err, len, -EBADMSG, "kvm stats: header name_size %" PRIu32 " outside 1..%u",
                h.name_size, KVM_STATS_NAME_SIZE_MAX);
  if (h.num_desc > KVM_STATS_NUM_DESC_MAX)
    return fail(err, len, -EBADMSG, "kvm stats: header num_desc %" PRIu32 " above the limit %u",
                h.num_desc, KVM_STATS_NUM_DESC_MAX);
  uint64_t desc_end = (uint64_t)h.desc_offset + (uint64_t)h.num_desc * (DESC_FIXED + h.name_size);
  if (h.desc_offset < sizeof(h) && h.num_desc)
    return fail(err, len, -EBADMSG, "kvm stats: header desc_offset %" PRIu32 " overlaps the header",
                h.desc_offset);
  if (fsize && desc_end > fsize)
    return fail(err, len, -EBADMSG,
                "kvm stats: descriptors end at %" PRIu64 ", past the blob's %" PRIu64
                " bytes (desc_offset %" PRIu32 ", num_desc %" PRIu32 ", name_size %" PRIu32 ")",
                desc_end, fsize, h.desc_offset, h.num_desc, h.name_size);
  if (fsize && (uint64_t)h.id_offset + h.name_size > fsize)
    return fail(err, len, -EBADMSG, "kvm stats: id_offset %" PRIu32 " + name_size past the blob",
                h.id_offset);
  if (fsize && h.data_offset > fsize)
    return fail(err, len, -EBADMSG,
                "kvm stats: data_offset %" PRIu32 " past the blob's %" PRIu64 " bytes",
                h.data_offset, fsize);
  s->name_size = h.name_size;
  s->num_desc = h.num_desc;
  s->id_offset = h.id_offset;
  s->desc_offset = h.desc_offset;
  s->data_offset = h.data_offset;
  return 0;
}

static int read_descs(struct kvm_stats *s, uint64_t fsize, char *err, size_t len) {
  size_t step = DESC_FIXED + s->name_size;
  size_t total = (size_t)s->num_desc * step;
  char *blk = malloc(total ? total : 1);
  s->names = calloc(s->num_desc ? s->num_desc : 1, s->name_size);
  s->stats = calloc(s->num_desc ? s->num_desc : 1, sizeof(*s->stats));
  if (!blk || !s->names || !s->stats) {
    free(blk);
    return fail(err, len, -ENOMEM, "kvm stats: out of memory for %" PRIu32 " descriptors",
                s->num_desc);
  }
  int rc = pread_full(s->fd, blk, total, s->desc_offset);
  if (rc) {
    free(blk);
    return fail(err, len, rc,
                "kvm stats: reading %zu descriptor bytes at desc_offset %" PRIu32 ": %s", total,
                s->desc_offset, rc == -EBADMSG ? "blob too short" : strerror(-rc));
  }
  uint64_t data_end = 0;
  for (uint32_t i = 0; i < s->num_desc; i++) {
    struct kvm_stats_desc d;
    memcpy(&d, blk + (size_t)i * step, DESC_FIXED);
    const char *name = blk + (size_t)i * step + DESC_FIXED;
    size_t nlen = strnlen(name, s->name_size);
    if (nlen == s->name_size || nlen == 0) {
      free(blk);
      return fail(err, len, -EBADMSG, "kvm stats: descriptor %" PRIu32 " name %s", i,
                  nlen ? "not NUL-terminated within name_size" : "empty");
    }
    char *dst = s->names + (size_t)i * s->name_size;
    memcpy(dst, name, nlen + 1);
    if (d.size == 0) {
      free(blk);
      return fail(err, len, -EBADMSG, "kvm stats: stat '%s' has size 0", dst);
    }
    if (d.offset % 8) {
      free(blk);
      return fail(err, len, -EBADMSG, "kvm stats: stat '%s' offset %" PRIu32 " not 8-aligned", dst,
                  d.offset);
    }
    uint64_t end = (uint64_t)d.offset + (uint64_t)d.size * 8;
    if (end > KVM_STATS_DATA_MAX) {
      free(blk);
      return fail(err, len, -EBADMSG,
                  "kvm stats: stat '%s' data [%" PRIu32 ", %" PRIu64 ") past the %u-byte limit",
                  dst, d.offset, end, KVM_STATS_DATA_MAX);
    }
    if (end > data_end) data_end = end;
    struct kvm_stat *st = &s->stats[i];
    st->name = dst;
    st->flags = d.flags;
    st->type = d.flags & KVM_STATS_TYPE_MASK;
    st->unit = d.flags & KVM_STATS_UNIT_MASK;
    st->base = d.flags & KVM_STATS_BASE_MASK;
    st->exponent = d.exponent;
    st->size = d.size;
    st->offset = d.offset;
    st->bucket_size = d.bucket_size;
  }
  free(blk);
  s->nstats = s->num_desc;
  s->data_bytes = (size_t)data_end;
  uint64_t dlo = s->data_offset, dhi = dlo + data_end;
  uint64_t clo = s->desc_offset, chi = clo + total;
  if (data_end && total && dlo < chi && clo < dhi)
    return fail(err, len, -EBADMSG,
                "kvm stats: data block [%" PRIu64 ", %" PRIu64 ") overlaps descriptors [%" PRIu64
                ", %" PRIu64 ")",
                dlo, dhi, clo, chi);
  if (data_end && dlo < sizeof(struct kvm_stats_header))
    return fail(err, len, -EBADMSG, "kvm stats: data_offset %" PRIu32 " overlaps the header",
                s->data_offset);
  if (fsize && dhi > fsize)
    return fail(err, len, -EBADMSG,
                "kvm stats: data block ends at %" PRIu64 ", past the blob's %" PRIu64 " bytes", dhi,
                fsize);
  return 0;
}

int kvm_stats__open_fd(int stats_fd, struct kvm_stats *s, char *err, size_t len) {
  memset(s, 0, sizeof(*s));
  s->fd = stats_fd;
  if (err && len) err[0] = 0;
  /* A regular file or memfd has a size to check against; KVM's anon fd
   * reports 0 and is bounded by complete-read checks instead. */
  struct stat sb;
  uint64_t fsize = 0;
  if (fstat(stats_fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    fsize = (uint64_t)sb.st_size;
    if (!fsize) {
      kvm_stats__close(s);
      return fail(err, len, -EBADMSG, "kvm stats: empty blob");
    }
  }
  int rc = read_header(s, fsize, err, len);
  if (!rc) {
    s->id = calloc(1, (size_t)s->name_size + 1);
    if (!s->id) rc = fail(err, len, -ENOMEM, "kvm stats: out of memory");
  }
  if (!rc) {
    rc = pread_full(s->fd, s->id, s->name_size, s->id_offset);
    if (rc)
      rc = fail(err, len, rc, "kvm stats: reading id at id_offset %" PRIu32 ": %s", s->id_offset,
                rc == -EBADMSG ? "blob too short" : strerror(-rc));
  }
  if (!rc) rc = read_descs(s, fsize, err, len);
  if (rc) kvm_stats__close(s);
  return rc;
}

int kvm_stats__open(int kvm_obj_fd, struct kvm_stats *s, char *err, size_t len) {
  memset(s, 0, sizeof(*s));
  s->fd = -1;
  int fd = ioctl(kvm_obj_fd, KVM_GET_STATS_FD, NULL);
  if (fd < 0) {
    int e = errno;
    if (e == EINVAL || e == ENOTTY)
      return fail(err, len, -ENOTSUP,
                  "KVM_GET_STATS_FD: %s (this kernel has no binary stats fd, Linux < 5.14)",
                  strerror(e));
    return fail(err, len, -e, "KVM_GET_STATS_FD: %s", strerror(e));
  }
  return kvm_stats__open_fd(fd, s, err, len);
}

int kvm_stats__snap_init(const struct kvm_stats *s, struct kvm_stats_snap *snap) {
  snap->nwords = s->data_bytes / 8;
  snap->data = calloc(snap->nwords ? snap->nwords : 1, 8);
  return snap->data ? 0 : -ENOMEM;
}

void kvm_stats__snap_free(struct kvm_stats_snap *snap) {
  free(snap->data);
  snap->data = NULL;
  snap->nwords = 0;
}

int kvm_stats__snapshot(const struct kvm_stats *s, struct kvm_stats_snap *snap) {
  if (s->fd < 0 || !snap->data || snap->nwords * 8 < s->data_bytes) return -EINVAL;
  int rc = pread_full(s->fd, snap->data, s->data_bytes, s->data_offset);
  return rc == -EBADMSG ? -EIO : rc;
}

int kvm_stats__find(const struct kvm_stats *s, const char *name) {
  for (size_t i = 0; i < s->nstats; i++)
    if (!strcmp(s->stats[i].name, name)) return (int)i;
  return -1;
}

const char *kvm_stats__type_name(uint32_t type) {
  switch (type) {
  case KVM_STATS_TYPE_CUMULATIVE:
    return "cumulative";
  case KVM_STATS_TYPE_INSTANT:
    return "instant";
  case KVM_STATS_TYPE_PEAK:
    return "peak";
  case KVM_STATS_TYPE_LINEAR_HIST:
    return "linear_hist";
  case KVM_STATS_TYPE_LOG_HIST:
    return "log_hist";
  }
  return "unknown";
}

const char *kvm_stats__unit_name(uint32_t unit) {
  switch (unit) {
  case KVM_STATS_UNIT_NONE:
    return "none";
  case KVM_STATS_UNIT_BYTES:
    return "bytes";
  case KVM_STATS_UNIT_SECONDS:
    return "seconds";
  case KVM_STATS_UNIT_CYCLES:
    return "cycles";
  case KVM_STATS_UNIT_BOOLEAN:
    return "boolean";
  }
  return "unknown";
}

const char *kvm_stats__base_name(uint32_t base) {
  switch (base) {
  case KVM_STATS_BASE_POW10:
    return "pow10";
  case KVM_STATS_BASE_POW2:
    return "pow2";
  }
  return "unknown";
}

/* Cumulative counters and histograms are deltas; instant and peak values
 * (and unknown future types) are read at the end. */
static bool is_delta(uint32_t type) {
  return type == KVM_STATS_TYPE_CUMULATIVE || type == KVM_STATS_TYPE_LINEAR_HIST ||
         type == KVM_STATS_TYPE_LOG_HIST;
}

static bool is_hist(const struct kvm_stat *st) {
  return st->type == KVM_STATS_TYPE_LINEAR_HIST || st->type == KVM_STATS_TYPE_LOG_HIST ||
         st->size > 1;
}

static json_int_t item(const struct kvm_stats *s, const struct kvm_stat *st,
                       const struct kvm_stats_snap *before, const struct kvm_stats_snap *after,
                       size_t i) {
  size_t w = st->offset / 8 + i;
  (void)s;
  uint64_t a = after->data[w];
  return is_delta(st->type) ? (json_int_t)(a - before->data[w]) : (json_int_t)a;
}

json_t *kvm_stats__delta_json(const struct kvm_stats *s, const struct kvm_stats_snap *before,
                              const struct kvm_stats_snap *after) {
  json_t *o = json_object();
  if (before->nwords * 8 < s->data_bytes || after->nwords * 8 < s->data_bytes) return o;
  for (size_t k = 0; k < s->nstats; k++) {
    const struct kvm_stat *st = &s->stats[k];
    json_t *e = json_object();
    if (is_hist(st)) {
      json_t *a = json_array();
      for (size_t i = 0; i < st->size; i++)
        json_array_append_new(a, json_integer(item(s, st, before, after, i)));
      json_object_set_new(e, "values", a);
    } else {
      json_object_set_new(e, "value", json_integer(item(s, st, before, after, 0)));
    }
    json_object_set_new(e, "type", json_string(kvm_stats__type_name(st->type)));
    json_object_set_new(e, "unit", json_string(kvm_stats__unit_name(st->unit)));
    json_object_set_new(e, "base", json_integer(st->base == KVM_STATS_BASE_POW2 ? 2 : 10));
    json_object_set_new(e, "exponent", json_integer(st->exponent));
    if (st->type == KVM_STATS_TYPE_LINEAR_HIST)
      json_object_set_new(e, "bucket_size", json_integer(st->bucket_size));
    json_object_set_new(o, st->name, e);
  }
  return o;
}

json_t *kvm_stats__section_json(json_t *vm, json_t *vcpu) {
  json_t *o = json_object();
  json_object_set_new(o, "available", json_true());
  json_object_set_new(o, "error", json_null());
  json_object_set_new(o, "vm", vm ? vm : json_object());
  json_object_set_new(o, "vcpu", vcpu ? vcpu : json_object());
  return o;
}

json_t *kvm_stats__unavailable_json(const char *reason) {
  return json_pack("{s:b, s:s}", "available", 0, "error", reason ? reason : "unknown reason");
}

/* Unit for a human line, with the exponent folded in where common:
 * dimensionless stats (KVM_STATS_UNIT_NONE) are counts. */
static void unit_suffix(const struct kvm_stat *st, char *buf, size_t len) {
  const char *u = st->unit == KVM_STATS_UNIT_NONE ? "count" : kvm_stats__unit_name(st->unit);
  if (st->unit == KVM_STATS_UNIT_SECONDS && st->base == KVM_STATS_BASE_POW10 &&
      (st->exponent == -9 || st->exponent == -6 || st->exponent == -3)) {
    snprintf(buf, len, "%s", st->exponent == -9 ? "ns" : st->exponent == -6 ? "us" : "ms");
  } else if (st->exponent) {
    snprintf(buf, len, "x%d^%d %s", st->base == KVM_STATS_BASE_POW2 ? 2 : 10, st->exponent, u);
  } else {
    snprintf(buf, len, "%s", u);
  }
}

int kvm_stats__print_changed(const struct kvm_stats *s, const struct kvm_stats_snap *before,
                             const struct kvm_stats_snap *after, const char *prefix, FILE *out) {
  int n = 0;
  if (before->nwords * 8 < s->data_bytes || after->nwords * 8 < s->data_bytes) return 0;
  for (size_t k = 0; k < s->nstats; k++) {
    const struct kvm_stat *st = &s->stats[k];
    char u[64];
    if (is_hist(st)) { /* one line: how many samples landed in the buckets */
      uint64_t sum = 0;
      for (size_t i = 0; i < st->size; i++)
        sum += (uint64_t)item(s, st, before, after, i);
      if (!sum) continue;
      fprintf(out, "%s%-32s %14" PRIu64 "  samples (%s, %u buckets in the JSON)\n",
              prefix ? prefix : "", st->name, sum, kvm_stats__type_name(st->type),
              (unsigned)st->size);
      n++;
      continue;
    }
    json_int_t v = item(s, st, before, after, 0);
    if (!v) continue;
    unit_suffix(st, u, sizeof(u));
    fprintf(out, "%s%-32s %14lld  %s%s\n", prefix ? prefix : "", st->name, (long long)v, u,
            is_delta(st->type) ? "" : (st->type == KVM_STATS_TYPE_PEAK ? " (peak)" : " (now)"));
    n++;
  }
  return n;
}
