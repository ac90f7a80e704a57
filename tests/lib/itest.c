/* itest.c - shared integration-test helpers (itest.h). */
#include "tests/lib/itest.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/exit_codes.h"

int itest__kvm_missing_in(const char *file) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    printf("SKIP %s: /dev/kvm cannot be opened on this host\n", file);
    return 1;
  }
  close(fd);
  return 0;
}

void itest__require_image(const char *path) {
  ck_assert_msg(access(path, R_OK) == 0, "image %s is missing: run make", path);
}

uint64_t itest__json_u64(const json_t *j) {
  if (json_is_integer(j)) return (uint64_t)json_integer_value(j);
  if (json_is_string(j)) {
    const char *s = json_string_value(j);
    char *end;
    uint64_t v = strtoull(s, &end, 0);
    ck_assert_msg(*s && !*end, "'%s' is not a u64", s);
    return v;
  }
  ck_abort_msg("not a u64 value (want an integer or a decimal/0x string)");
  return 0;
}

uint64_t itest__u64_at(const struct refvmm_result *r, const char *path) {
  json_t *j = refvmm_result__get(r, path);
  ck_assert_msg(j != NULL, "record lacks %s", path);
  return itest__json_u64(j);
}

uint64_t itest__mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

json_t *itest__guest_reports(const struct refvmm_result *r) {
  return refvmm_result__get(r, "guest.reports");
}

uint64_t itest__guest_report(const struct refvmm_result *r, const char *key) {
  json_t *v = json_object_get(itest__guest_reports(r), key);
  ck_assert_msg(v != NULL, "guest did not report %s", key);
  return itest__json_u64(v);
}

void itest__assert_record(const struct refvmm_result *r) {
  ck_assert_msg(r->doc != NULL && r->run != NULL,
                "refvmm wrote no JSON record (exit %d, stderr: %s)", r->exit_code,
                r->err ? r->err : "");
}

void itest__assert_ok_run(const struct refvmm_result *r) {
  ck_assert_msg(r->exit_code == EXIT_OK, "refvmm exit %d, stderr: %s", r->exit_code, r->err);
  itest__assert_record(r);
  const char *status = refvmm_result__str(r, "status");
  ck_assert_msg(status && !strcmp(status, "ok"), "status %s, want ok", status ? status : "(none)");
}

void itest__assert_checksum(const struct refvmm_result *r, uint64_t checksum, uint64_t iterations) {
  uint64_t got = itest__u64_at(r, "guest.checksum");
  ck_assert_msg(got == checksum, "checksum %#llx, host reference %#llx", (unsigned long long)got,
                (unsigned long long)checksum);
  ck_assert_uint_eq(itest__u64_at(r, "guest.iterations"), iterations);
}

void itest__check_refused(const char *const *args, int code, const char *needle) {
  struct refvmm_result r;
  ck_assert_int_eq(run_refvmm(&r, false, args), 0);
  ck_assert_msg(r.exit_code == code, "exit %d, expected %d; stderr: %s", r.exit_code, code, r.err);
  ck_assert_msg(strstr(r.err, needle) != NULL, "stderr lacks '%s': %s", needle, r.err);
  refvmm_result__free(&r);
}
