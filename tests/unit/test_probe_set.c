/* test_probe_set.c - the bundled per-vCPU probes (KVM stats + PMU). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "probes/exit_stats.h"
#include "probes/probe_set.h"
#include "probes/timing.h"
#include "results/context.h"
#include "results/result_doc.h"
#include "tests/lib/schema_check.h"

START_TEST(missing_pieces_do_not_fail) {
  static struct probe_set ps;
  char err[256];
  /* -1 fds: KVM_GET_STATS_FD fails (EBADF); PMU off. */
  ck_assert_int_eq(probe_set__open(&ps, -1, -1, 0, NULL, false, err, sizeof(err)), 0);
  ck_assert(!ps.kvm_ok);
  ck_assert_ptr_nonnull(strstr(ps.kvm_error, "KVM_GET_STATS_FD"));
  probe_set__begin(&ps);
  probe_set__end(&ps);
  json_t *k = probe_set__kvm_json(&ps);
  ck_assert(json_is_false(json_object_get(k, "available")));
  ck_assert(json_is_string(json_object_get(k, "error")));
  json_t *p = probe_set__pmu_json(&ps);
  ck_assert_int_eq(json_object_size(p), 0);
  json_decref(k);
  json_decref(p);
  probe_set__close(&ps);
}
END_TEST

static int kvm_fds(int *kvm, int *vm, int *vcpu) {
  *kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (*kvm < 0) return -errno;
  *vm = ioctl(*kvm, KVM_CREATE_VM, 0);
  ck_assert_msg(*vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));
  *vcpu = ioctl(*vm, KVM_CREATE_VCPU, 0);
  ck_assert_msg(*vcpu >= 0, "KVM_CREATE_VCPU: %s", strerror(errno));
  return 0;
}

START_TEST(live_region) {
  int kvm, vm, vcpu;
  if (kvm_fds(&kvm, &vm, &vcpu)) {
    printf("SKIP live_region: /dev/kvm: %s\n", strerror(errno));
    return;
  }
  static struct probe_set ps;
  char err[256];
  ck_assert_int_eq(
      probe_set__open(&ps, vm, vcpu, 0, "perf::task-clock,perf::cycles", true, err, sizeof(err)),
      0);
  ck_assert_msg(ps.kvm_ok, "%s", ps.kvm_error);
  json_t *k = probe_set__kvm_json(&ps); /* before any region */
  ck_assert(json_is_string(json_object_get(k, "error")));
  json_decref(k);
  struct run_observer_like {
    void (*b)(struct vm *, void *);
    void (*e)(struct vm *, void *);
  } obs = {probe_set__on_begin, probe_set__on_end};
  obs.b(NULL, &ps);
  volatile uint64_t x = 0;
  (void)x; /* only the loop's work matters */
  for (uint64_t i = 0; i < 10000000; i++)
    x += i;
  obs.e(NULL, &ps);
  k = probe_set__kvm_json(&ps);
  ck_assert(json_is_true(json_object_get(k, "available")));
  ck_assert(json_is_null(json_object_get(k, "error")));
  ck_assert_uint_eq(json_object_size(json_object_get(k, "vm")), ps.vm_st.nstats);
  ck_assert_uint_eq(json_object_size(json_object_get(k, "vcpu")), ps.vcpu_st.nstats);
  json_decref(k);
  json_t *p = probe_set__pmu_json(&ps);
  json_t *tc = json_object_get(p, "perf::task-clock");
  ck_assert(json_is_true(json_object_get(tc, "supported")));
  ck_assert_int_gt(json_integer_value(json_object_get(tc, "value")), 0);
  ck_assert_ptr_nonnull(json_object_get(p, "perf::cycles@guest"));
  ck_assert_ptr_nonnull(json_object_get(p, "perf::cycles@host"));
  json_decref(p);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  probe_set__print(&ps, f);
  fclose(f);
  ck_assert_ptr_nonnull(strstr(buf, "perf::task-clock"));
  free(buf);
  probe_set__close(&ps);
  close(vcpu);
  close(vm);
  close(kvm);
}
END_TEST

START_TEST(unterminated_region) {
  int kvm, vm, vcpu;
  if (kvm_fds(&kvm, &vm, &vcpu)) {
    printf("SKIP unterminated_region: /dev/kvm: %s\n", strerror(errno));
    return;
  }
  static struct probe_set ps;
  char err[256];
  ck_assert_int_eq(probe_set__open(&ps, vm, vcpu, 0, NULL, false, err, sizeof(err)), 0);
  probe_set__begin(&ps);
  probe_set__finish(&ps);
  ck_assert(ps.ended && !ps.complete);
  json_t *k = probe_set__kvm_json(&ps);
  ck_assert(json_is_true(json_object_get(k, "available")));
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(k, "error")), "not ended"));
  json_decref(k);
  probe_set__close(&ps);
  close(vcpu);
  close(vm);
  close(kvm);
}
END_TEST

static const char *reason_name(uint32_t r) {
  return r == 2 ? "io" : r == 6 ? "mmio" : NULL;
}

/* A whole document carrying every probe section validates against
 * results/schema.json. */
START_TEST(sections_validate_against_schema) {
  int kvm = -1, vm = -1, vcpu = -1;
  bool have_kvm = kvm_fds(&kvm, &vm, &vcpu) == 0;
  static struct probe_set ps;
  char err[4096];
  ck_assert_int_eq(probe_set__open(&ps, vm, vcpu, 0, "perf::task-clock,perf::cycles,bogus::ev",
                                   true, err, sizeof(err)),
                   0);
  probe_set__begin(&ps);
  static struct exit_stats st;
  exit_stats__init(&st, timing__tsc_hz(), reason_name);
  st.enabled = true;
  for (int i = 0; i < 1000; i++)
    exit_stats__record(&st, 2, EXIT_SUB_IO_PORT, 0xe9, 20000 + i);
  exit_stats__record(&st, 6, EXIT_SUB_MMIO_PAGE, 0xfee00000, 50000);
  exit_stats__record(&st, 99, EXIT_SUB_NONE, 0, 1);
  probe_set__end(&ps);

  char *argv[] = {"test_probe_set", NULL};
  json_t *ctx = context__collect(1, argv);
  json_t *pc = pmu__context_json();
  json_object_set_new(pc, "tsc", timing__tsc_json());
  json_object_set_new(ctx, "pmu", pc);
  json_t *doc = result_doc__new(ctx);
  json_t *run = json_pack("{s:s, s:{}, s:s, s:{s:s, s:s, s:s, s:s}, s:s}", "workload", "probe_test",
                          "params", "backend", "kvm", "modes", "paging", "shadow", "tlb", "flush",
                          "nmi", "poll", "irq", "poll", "status", "ok");
  json_object_set_new(run, "exits", exit_stats__to_json(&st));
  json_object_set_new(run, "kvm_stats", probe_set__kvm_json(&ps));
  json_object_set_new(run, "pmu", probe_set__pmu_json(&ps));
  result_doc__add_run(doc, run);
  int rc = schema_check__json(doc, err, sizeof(err));
  if (rc < 0) {
    printf("SKIP schema validation: %s\n", err);
  } else {
    ck_assert_msg(rc == 0, "schema: %s", err);
    if (!have_kvm) printf("note: no /dev/kvm: validated the kvm_stats 'unavailable' form\n");
  }
  json_decref(doc);
  probe_set__close(&ps);
  if (have_kvm) {
    close(vcpu);
    close(vm);
    close(kvm);
  }
}
END_TEST

Suite *suite_probe_set(void) {
  Suite *s = suite_create("probe_set");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, missing_pieces_do_not_fail);
  tcase_add_test(tc, live_region);
  tcase_add_test(tc, unterminated_region);
  tcase_add_test(tc, sections_validate_against_schema);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);
  return s;
}
