/* itest.h - what the integration tests share: image paths, the /dev/kvm
 * skip, reading numbers out of a run record, the host reference mixer, and
 * the usual assertions over a refvmm_result (tests/lib/run_refvmm.h).
 *
 * The assertions fail the calling Check test (ck_assert), so they are for
 * test bodies only. Replaces the static copies each test file used to carry
 * (kvm_missing, require_image, IMG, json_u64, assert_ok_run, ...). */
#ifndef TESTS_LIB_ITEST_H
#define TESTS_LIB_ITEST_H

#include <jansson.h>
#include <stdint.h>

#include "tests/lib/run_refvmm.h"

/* Guest images, relative to the repository root (built by `make`). */
#define IMG(name)     "workloads/build/" name ".elf"
#define HOSTILE(name) "workloads/build/hostile/" name ".elf"

/* 1 after printing "SKIP FILE: /dev/kvm cannot be opened on this host" when
 * /dev/kvm is missing or not usable; 0 when KVM tests can run. */
int itest__kvm_missing_in(const char *file);
#define itest__kvm_missing() itest__kvm_missing_in(__FILE__)

/* A missing image is a failure, not a skip: images are built by `make`. */
void itest__require_image(const char *path);

/* A u64 from a JSON integer or a decimal/0x-hex string (the schema's u64
 * form); anything else fails the test. */
uint64_t itest__json_u64(const json_t *j);
/* r->run at a dotted path as a u64; a missing member fails the test. */
uint64_t itest__u64_at(const struct refvmm_result *r, const char *path);

/* The runtime's mixer (workloads/rt/hash.h), written out again from
 * docs/ABI.md so that a change on either side shows in the checksums. */
uint64_t itest__mix64(uint64_t z);

/* run.guest.reports (NULL when absent) and one key of it (must be there). */
json_t *itest__guest_reports(const struct refvmm_result *r);
uint64_t itest__guest_report(const struct refvmm_result *r, const char *key);

/* refvmm wrote a JSON record; run_refvmm() has already validated it against
 * results/schema.json when it loaded it. */
void itest__assert_record(const struct refvmm_result *r);
/* Exit EXIT_OK, a record, status "ok". */
void itest__assert_ok_run(const struct refvmm_result *r);
/* run.guest.checksum == checksum and run.guest.iterations == iterations. */
void itest__assert_checksum(const struct refvmm_result *r, uint64_t checksum, uint64_t iterations);

/* `refvmm ARGS` (no --json) ends with `code` and says `needle` on stderr. */
void itest__check_refused(const char *const *args, int code, const char *needle);

#endif
