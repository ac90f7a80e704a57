/* test_kvm_stats.c - KVM binary stats reader on synthetic blobs (memfd)
 * and on the live KVM. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probes/kvm_stats.h"

/* ---- synthetic blob builder ------------------------------------------------ */

struct sdesc {
  const char *name;
  uint32_t flags;
  int16_t exponent;
  uint16_t size;
  uint32_t bucket_size;
};

#define NAME_SIZE 48
#define HDR       sizeof(struct kvm_stats_header)

struct blob {
  uint8_t buf[8192];
  size_t len;
  struct kvm_stats_header *h;
  uint32_t nwords;
};

/* Layout like the kernel's: header | id | descriptors | data (u64s, the
 * stats packed in order). Data word i holds 1000 + i. */
static void blob_build(struct blob *b, const struct sdesc *d, int n) {
  memset(b, 0, sizeof(*b));
  b->h = (struct kvm_stats_header *)b->buf;
  b->h->name_size = NAME_SIZE;
  b->h->num_desc = (uint32_t)n;
  b->h->id_offset = HDR;
  b->h->desc_offset = HDR + NAME_SIZE;
  b->h->data_offset = b->h->desc_offset + (uint32_t)n * (sizeof(struct kvm_stats_desc) + NAME_SIZE);
  strcpy((char *)b->buf + HDR, "kvm-test/vcpu-0");
  uint32_t off = 0;
  for (int i = 0; i < n; i++) {
    struct kvm_stats_desc *kd =
        (struct kvm_stats_desc *)(b->buf + b->h->desc_offset +
                                  (size_t)i * (sizeof(struct kvm_stats_desc) + NAME_SIZE));
    kd->flags = d[i].flags;
    kd->exponent = d[i].exponent;
    kd->size = d[i].size;
    kd->offset = off;
    kd->bucket_size = d[i].bucket_size;
    strcpy(kd->name, d[i].name);
    off += 8u * d[i].size;
  }
  b->nwords = off / 8;
  uint64_t *data = (uint64_t *)(b->buf + b->h->data_offset);
  for (uint32_t i = 0; i < b->nwords; i++)
    data[i] = 1000 + i;
  b->len = b->h->data_offset + off;
}

static uint64_t *blob_data(struct blob *b) {
  return (uint64_t *)(b->buf + b->h->data_offset);
}

static int blob_fd(const struct blob *b, size_t len) {
  int fd = memfd_create("kvmstats", MFD_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, b->buf, len), (ssize_t)len);
  return fd;
}

static bool fd_closed(int fd) {
  return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static const struct sdesc all_kinds[] = {
    {"exits", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10, 0, 1, 0},
    {"pages_4k", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_NONE, 0, 1, 0},
    {"mem_bytes", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BYTES | KVM_STATS_BASE_POW2, 10, 1, 0},
    {"max_rmap", KVM_STATS_TYPE_PEAK | KVM_STATS_UNIT_NONE, 0, 1, 0},
    {"halt_wait_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS, -9, 1, 0},
    {"guest_cycles", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_CYCLES, 0, 1, 0},
    {"guest_mode", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 0, 1, 0},
    {"lin_hist", KVM_STATS_TYPE_LINEAR_HIST | KVM_STATS_UNIT_SECONDS, -6, 4, 10},
    {"log_hist", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS, -9, 8, 0},
};
#define NALL (int)(sizeof(all_kinds) / sizeof(all_kinds[0]))

START_TEST(synthetic_all_types) {
  static struct blob b;
  blob_build(&b, all_kinds, NALL);
  int fd = blob_fd(&b, b.len);
  struct kvm_stats s;
  char err[256];
  ck_assert_msg(kvm_stats__open_fd(fd, &s, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(s.id, "kvm-test/vcpu-0");
  ck_assert_uint_eq(s.nstats, NALL);
  ck_assert_uint_eq(s.data_bytes, (size_t)b.nwords * 8);
  struct kvm_stats_snap before, after;
  ck_assert_int_eq(kvm_stats__snap_init(&s, &before), 0);
  ck_assert_int_eq(kvm_stats__snap_init(&s, &after), 0);
  ck_assert_int_eq(kvm_stats__snapshot(&s, &before), 0);
  /* Advance every word by (i+1)*3 and re-write the data block. */
  uint64_t *d = blob_data(&b);
  for (uint32_t i = 0; i < b.nwords; i++)
    d[i] += (i + 1) * 3;
  ck_assert_int_eq(pwrite(fd, d, b.nwords * 8, b.h->data_offset), (ssize_t)b.nwords * 8);
  ck_assert_int_eq(kvm_stats__snapshot(&s, &after), 0);
  int ix = kvm_stats__find(&s, "exits");
  ck_assert_int_eq(ix, 0);
  ck_assert_uint_eq(kvm_stats__value(&s, &after, ix, 0), 1003);
  ck_assert_int_eq(kvm_stats__find(&s, "nope"), -1);

  json_t *j = kvm_stats__delta_json(&s, &before, &after);
  ck_assert_int_eq(json_object_size(j), NALL);
  /* cumulative: delta; instant/peak: after value */
  json_t *e = json_object_get(j, "exits");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "value")), 3);
  ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "cumulative");
  ck_assert_str_eq(json_string_value(json_object_get(e, "unit")), "none");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "base")), 10);
  e = json_object_get(j, "pages_4k");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "value")), 1001 + 6);
  ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "instant");
  e = json_object_get(j, "mem_bytes");
  ck_assert_str_eq(json_string_value(json_object_get(e, "unit")), "bytes");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "base")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "exponent")), 10);
  e = json_object_get(j, "max_rmap");
  ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "peak");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "value")), 1003 + 12);
  e = json_object_get(j, "halt_wait_ns");
  ck_assert_str_eq(json_string_value(json_object_get(e, "unit")), "seconds");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "exponent")), -9);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "value")), 15);
  e = json_object_get(j, "guest_cycles");
  ck_assert_str_eq(json_string_value(json_object_get(e, "unit")), "cycles");
  e = json_object_get(j, "guest_mode");
  ck_assert_str_eq(json_string_value(json_object_get(e, "unit")), "boolean");
  /* histograms: arrays of per-bucket deltas */
  e = json_object_get(j, "lin_hist");
  ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "linear_hist");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "bucket_size")), 10);
  json_t *v = json_object_get(e, "values");
  ck_assert_int_eq(json_array_size(v), 4);
  ck_assert_ptr_null(json_object_get(e, "value"));
  for (int i = 0; i < 4; i++) /* words 7..10 */
    ck_assert_int_eq(json_integer_value(json_array_get(v, i)), (7 + i + 1) * 3);
  e = json_object_get(j, "log_hist");
  ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "log_hist");
  ck_assert_int_eq(json_array_size(json_object_get(e, "values")), 8);
  ck_assert_ptr_null(json_object_get(e, "bucket_size"));
  json_decref(j);

  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int lines = kvm_stats__print_changed(&s, &before, &after, "  ", f);
  fclose(f);
  ck_assert_int_eq(lines, 9); /* 7 scalars (all changed or non-zero) + 2 histograms */
  ck_assert_ptr_nonnull(strstr(buf, "halt_wait_ns"));
  ck_assert_ptr_nonnull(strstr(buf, " ns"));
  ck_assert_ptr_nonnull(strstr(buf, "  count")); /* unit "none" is printed as a count */
  /* lin_hist: 4 buckets advanced by 24, 27, 30, 33 */
  ck_assert_ptr_nonnull(strstr(buf, "114  samples (linear_hist, 4 buckets"));
  free(buf);
  kvm_stats__snap_free(&before);
  kvm_stats__snap_free(&after);
  kvm_stats__close(&s);
  ck_assert(fd_closed(fd));
}
END_TEST

/* Open a corrupted blob: must fail with -EBADMSG, a message naming `what`,
 * and the fd closed (ownership taken). */
static void expect_malformed(const struct blob *b, size_t len, const char *what) {
  int fd = blob_fd(b, len);
  struct kvm_stats s;
  char err[256] = "";
  int rc = kvm_stats__open_fd(fd, &s, err, sizeof(err));
  ck_assert_msg(rc == -EBADMSG, "rc %d for %s (%s)", rc, what, err);
  ck_assert_msg(strstr(err, what), "message '%s' does not name '%s'", err, what);
  ck_assert(fd_closed(fd));
  ck_assert_int_eq(s.fd, -1);
}

START_TEST(malformed_blobs) {
  static struct blob b;
  blob_build(&b, all_kinds, NALL);
  expect_malformed(&b, 10, "header truncated");
  b.h->name_size = 0;
  expect_malformed(&b, b.len, "name_size");
  blob_build(&b, all_kinds, NALL);
  b.h->name_size = 1u << 20;
  expect_malformed(&b, b.len, "name_size");
  blob_build(&b, all_kinds, NALL);
  b.h->num_desc = 0xffffffffu;
  expect_malformed(&b, b.len, "num_desc");
  blob_build(&b, all_kinds, NALL);
  b.h->num_desc = 1000; /* under the limit but past the blob */
  expect_malformed(&b, b.len, "past the blob");
  blob_build(&b, all_kinds, NALL);
  b.h->desc_offset = 0xfffffff0u;
  expect_malformed(&b, b.len, "past the blob");
  blob_build(&b, all_kinds, NALL);
  b.h->desc_offset = 4; /* inside the header */
  expect_malformed(&b, b.len, "overlaps the header");
  blob_build(&b, all_kinds, NALL);
  b.h->data_offset = 0xfffffff0u;
  expect_malformed(&b, b.len, "data_offset");
  blob_build(&b, all_kinds, NALL);
  b.h->id_offset = 0xfffffff0u;
  expect_malformed(&b, b.len, "id_offset");
  blob_build(&b, all_kinds, NALL);
  expect_malformed(&b, b.len - 8, "data block ends"); /* last data word cut */
  blob_build(&b, all_kinds, NALL);
  b.h->data_offset = b.h->desc_offset + 16; /* data over the descriptors */
  expect_malformed(&b, b.len, "overlaps descriptors");
}
END_TEST

static struct kvm_stats_desc *desc_at(struct blob *b, int i) {
  return (struct kvm_stats_desc *)(b->buf + b->h->desc_offset +
                                   (size_t)i * (sizeof(struct kvm_stats_desc) + NAME_SIZE));
}

START_TEST(malformed_descriptors) {
  static struct blob b;
  blob_build(&b, all_kinds, NALL);
  memset(desc_at(&b, 2)->name, 'x', NAME_SIZE); /* no NUL */
  expect_malformed(&b, b.len, "not NUL-terminated");
  blob_build(&b, all_kinds, NALL);
  desc_at(&b, 0)->name[0] = 0;
  expect_malformed(&b, b.len, "empty");
  blob_build(&b, all_kinds, NALL);
  desc_at(&b, 1)->size = 0;
  expect_malformed(&b, b.len, "size 0");
  blob_build(&b, all_kinds, NALL);
  desc_at(&b, 1)->offset = 0xfffffff8u;
  expect_malformed(&b, b.len, "limit");
  blob_build(&b, all_kinds, NALL);
  desc_at(&b, 1)->offset = 3;
  expect_malformed(&b, b.len, "not 8-aligned");
  blob_build(&b, all_kinds, NALL);
  desc_at(&b, NALL - 1)->size = 60000; /* runs past the file's end */
  expect_malformed(&b, b.len, "data block ends");
}
END_TEST

START_TEST(unknown_type_is_carried) {
  static struct blob b;
  const struct sdesc d[] = {{"future", 0x9 | KVM_STATS_UNIT_NONE, 0, 1, 0}};
  blob_build(&b, d, 1);
  int fd = blob_fd(&b, b.len);
  struct kvm_stats s;
  char err[256];
  ck_assert_msg(kvm_stats__open_fd(fd, &s, err, sizeof(err)) == 0, "%s", err);
  struct kvm_stats_snap a;
  kvm_stats__snap_init(&s, &a);
  kvm_stats__snapshot(&s, &a);
  json_t *j = kvm_stats__delta_json(&s, &a, &a);
  json_t *e = json_object_get(j, "future");
  ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "unknown");
  ck_assert_int_eq(json_integer_value(json_object_get(e, "value")), 1000); /* not a delta */
  json_decref(j);
  kvm_stats__snap_free(&a);
  kvm_stats__close(&s);
}
END_TEST

/* An fd that is not a KVM object: the ioctl fails with ENOTTY like a kernel
 * without stats fds; the reader says so and the JSON carries the reason. */
START_TEST(no_stats_fd) {
  int fd = memfd_create("notkvm", MFD_CLOEXEC);
  struct kvm_stats s;
  char err[256] = "";
  ck_assert_int_eq(kvm_stats__open(fd, &s, err, sizeof(err)), -ENOTSUP);
  ck_assert_ptr_nonnull(strstr(err, "KVM_GET_STATS_FD"));
  json_t *j = kvm_stats__unavailable_json(err);
  ck_assert(json_is_false(json_object_get(j, "available")));
  ck_assert_str_eq(json_string_value(json_object_get(j, "error")), err);
  json_decref(j);
  close(fd);
}
END_TEST

START_TEST(live_kvm) {
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) {
    printf("SKIP live_kvm: /dev/kvm: %s\n", strerror(errno));
    return;
  }
  if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0) {
    printf("SKIP live_kvm: KVM_CAP_BINARY_STATS_FD not offered by this kernel\n");
    close(kvm);
    return;
  }
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  ck_assert_msg(vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  ck_assert_msg(vcpu >= 0, "KVM_CREATE_VCPU: %s", strerror(errno));
  struct kvm_stats vs, cs;
  char err[256];
  ck_assert_msg(kvm_stats__open(vm, &vs, err, sizeof(err)) == 0, "vm: %s", err);
  ck_assert_msg(kvm_stats__open(vcpu, &cs, err, sizeof(err)) == 0, "vcpu: %s", err);
  ck_assert_ptr_nonnull(strstr(vs.id, "kvm-"));
  ck_assert_ptr_nonnull(strstr(cs.id, "vcpu-0"));
  ck_assert_uint_gt(vs.nstats, 0);
  ck_assert_msg(kvm_stats__find(&cs, "exits") >= 0 || kvm_stats__find(&cs, "io_exits") >= 0,
                "vcpu stats have neither exits nor io_exits");
  struct kvm_stats_snap a, b;
  ck_assert_int_eq(kvm_stats__snap_init(&cs, &a), 0);
  ck_assert_int_eq(kvm_stats__snap_init(&cs, &b), 0);
  ck_assert_int_eq(kvm_stats__snapshot(&cs, &a), 0);
  ck_assert_int_eq(kvm_stats__snapshot(&cs, &b), 0);
  json_t *j = kvm_stats__delta_json(&cs, &a, &b);
  ck_assert_uint_eq(json_object_size(j), cs.nstats);
  json_t *ex = json_object_get(j, kvm_stats__find(&cs, "exits") >= 0 ? "exits" : "io_exits");
  ck_assert_int_eq(json_integer_value(json_object_get(ex, "value")), 0); /* nothing ran */
  printf("live KVM: vm '%s' %zu stats, vcpu '%s' %zu stats (%zu data bytes)\n", vs.id, vs.nstats,
         cs.id, cs.nstats, cs.data_bytes);
  json_decref(j);
  kvm_stats__snap_free(&a);
  kvm_stats__snap_free(&b);
  kvm_stats__close(&vs);
  kvm_stats__close(&cs);
  close(vcpu);
  close(vm);
  close(kvm);
}
END_TEST

/* Random corruption of a valid blob: open either fails with a message or
 * yields stats whose snapshot and JSON stay inside the buffers (run under
 * SAN=1 to make out-of-bounds accesses fatal). */
START_TEST(random_corruption_never_crashes) {
  static struct blob good, b;
  blob_build(&good, all_kinds, NALL);
  unsigned seed = 12345;
  int opened = 0, rejected = 0;
  for (int iter = 0; iter < 3000; iter++) {
    b = good;
    b.h = (struct kvm_stats_header *)b.buf;
    int flips = 1 + (int)(rand_r(&seed) % 4);
    for (int f = 0; f < flips; f++) {
      /* mostly header and descriptor fields, sometimes anywhere */
      size_t lim = (rand_r(&seed) & 1) ? good.h->data_offset : good.len;
      size_t at = (size_t)rand_r(&seed) % lim;
      b.buf[at] = (uint8_t)rand_r(&seed);
    }
    int fd = blob_fd(&b, good.len);
    struct kvm_stats s;
    char err[256] = "";
    if (kvm_stats__open_fd(fd, &s, err, sizeof(err)) != 0) {
      ck_assert_msg(err[0], "rejected without a message");
      ck_assert(fd_closed(fd));
      rejected++;
      continue;
    }
    opened++;
    struct kvm_stats_snap a;
    ck_assert_int_eq(kvm_stats__snap_init(&s, &a), 0);
    if (kvm_stats__snapshot(&s, &a) == 0) {
      json_t *j = kvm_stats__delta_json(&s, &a, &a);
      ck_assert_ptr_nonnull(j);
      json_decref(j);
    }
    kvm_stats__snap_free(&a);
    kvm_stats__close(&s);
  }
  printf("kvm_stats corruption: %d opened, %d rejected\n", opened, rejected);
  ck_assert_int_gt(rejected, 0);
  ck_assert_int_gt(opened, 0);
}
END_TEST

Suite *suite_kvm_stats(void) {
  Suite *s = suite_create("kvm_stats");
  TCase *tc = tcase_create("synthetic");
  tcase_add_test(tc, synthetic_all_types);
  tcase_add_test(tc, malformed_blobs);
  tcase_add_test(tc, malformed_descriptors);
  tcase_add_test(tc, unknown_type_is_carried);
  tcase_add_test(tc, no_stats_fd);
  tcase_add_test(tc, random_corruption_never_crashes);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  TCase *live = tcase_create("live");
  tcase_add_test(live, live_kvm);
  suite_add_tcase(s, live);
  return s;
}
