/* test_probes.c - the probes end to end on /dev/kvm: exits counted by
 * reason and sub-reason inside the timed region only, KVM's binary stats
 * agreeing with them (per KVM flavour), the PMU reporting what it cannot
 * count instead of zeros, the context describing the host, and the human
 * summary carrying units. Every document is validated against
 * results/schema.json by run_refvmm() (tests/lib/run_refvmm.c).
 *
 * KVM flavours differ in what `io_exits` counts: kvm_intel and kvm_amd count
 * every I/O exit there, kvm_pvm leaves it at 0 and counts only `exits`
 * (docs/PROBES.md). The flavour is read from the document's own context. */
#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "probes/exit_stats.h"
#include "probes/probe_set.h"
#include "probes/timing.h"
#include "refvmm/exit_codes.h"
#include "results/context.h"
#include "results/result_doc.h"
#include "tests/lib/elf_builder.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"
#include "tests/lib/schema_check.h"
#include "workloads/rt/vtb_abi.h"

static void run_ok(struct refvmm_result *r, const char *const *args) {
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  itest__assert_ok_run(r);
}

static json_t *ctx(const struct refvmm_result *r) {
  return json_object_get(r->doc, "context");
}

static const char *flavour(const struct refvmm_result *r) {
  const char *f = json_string_value(json_object_get(json_object_get(ctx(r), "kvm"), "flavour"));
  ck_assert_ptr_nonnull(f);
  return f;
}

/* run.kvm_stats.vcpu.NAME.value, -1 when the stat is absent. */
static int64_t vcpu_stat(const struct refvmm_result *r, const char *name) {
  json_t *st = json_object_get(json_object_get(json_object_get(r->run, "kvm_stats"), "vcpu"), name);
  json_t *v = json_object_get(st, "value");
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* KVM's own count of the region's I/O exits, by flavour. On kvm_pvm the
 * generic `exits` also counts the region's other kernel exits (the marks'
 * own OUTs, preemptions), so it is a lower bound there. */
static void assert_kvm_io_exits(const struct refvmm_result *r, int64_t n) {
  ck_assert_msg(json_is_true(json_object_get(json_object_get(r->run, "kvm_stats"), "available")),
                "kvm_stats unavailable: %s",
                json_string_value(json_object_get(json_object_get(r->run, "kvm_stats"), "error")));
  const char *f = flavour(r);
  int64_t io = vcpu_stat(r, "io_exits"), all = vcpu_stat(r, "exits");
  printf("%s: flavour %s, kvm io_exits delta %lld, exits delta %lld (user space counted %lld)\n",
         __FILE__, f, (long long)io, (long long)all, (long long)n);
  if (!strcmp(f, "kvm_intel") || !strcmp(f, "kvm_amd")) {
    ck_assert_int_eq(io, n);
  } else {
    ck_assert_msg(all >= n, "%s: vcpu exits delta %lld < %lld I/O exits", f, (long long)all,
                  (long long)n);
    /* ...but not the setup before mark begin: at most a handful more */
    ck_assert_msg(all < n + 50, "%s: vcpu exits delta %lld far above %lld", f, (long long)all,
                  (long long)n);
  }
}

/* latency_ns is ordered and the histogram holds every sample. */
static void assert_reason_consistent(const struct refvmm_result *r, const char *reason,
                                     int64_t count) {
  json_t *e =
      json_object_get(json_object_get(json_object_get(r->run, "exits"), "by_reason"), reason);
  ck_assert_msg(e != NULL, "no exits.by_reason.%s", reason);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "count")), count);
  json_t *l = json_object_get(e, "latency_ns");
  json_int_t mn = json_integer_value(json_object_get(l, "min")),
             p50 = json_integer_value(json_object_get(l, "p50")),
             p99 = json_integer_value(json_object_get(l, "p99")),
             mx = json_integer_value(json_object_get(l, "max"));
  ck_assert_msg(mn <= p50 && p50 <= p99 && p99 <= mx, "latency not ordered: %lld %lld %lld %lld",
                (long long)mn, (long long)p50, (long long)p99, (long long)mx);
  ck_assert_int_gt(mx, 0);
  json_int_t sum = 0;
  size_t i;
  json_t *b;
  json_array_foreach(json_object_get(e, "hist"), i, b) sum +=
      json_integer_value(json_object_get(b, "count"));
  ck_assert_int_eq(sum, count);
}

/* pio n=1000: exactly 1000 IO exits in user space, all on the bench port,
 * and KVM's own counter agrees (per flavour). */
START_TEST(pio_1000_user_and_kvm_counts) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=1000", "--quiet", "--timeout", "60", NULL};
  run_ok(&r, args);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 1000);
  assert_reason_consistent(&r, "IO", 1000);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "io_port", VTB_PORT_BENCH), 1000);
  assert_kvm_io_exits(&r, 1000);
  refvmm_result__free(&r);
}
END_TEST

/* 500 OUTs to the same port before mark begin: they reach the device but
 * neither the exit accounting nor KVM's deltas. */
START_TEST(timed_region_excludes_setup) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run",     IMG("pio"), "--param",   "n=1000", "--param",
                        "pre=500", "--quiet",  "--timeout", "60",     NULL};
  run_ok(&r, args);
  json_t *bench = json_object_get(json_object_get(r.run, "io"), "bench_port");
  ck_assert_int_eq(json_integer_value(json_object_get(bench, "writes")), 1500);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 1000);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.by_reason.IO.count"), 1000);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "io_port", VTB_PORT_BENCH), 1000);
  assert_kvm_io_exits(&r, 1000);
  /* the checksum covers the timed loop only */
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r.run, "guest"), "checksum")),
                   1000 * 999 / 2);
  refvmm_result__free(&r);
}
END_TEST

/* A hand-assembled guest: mark begin, N report hypercalls, mark end, exit.
 * The hypercall ports are accounted by hypercall number, not as raw ports. */
#define HC_N 25
static void write_hypercall_guest(const char *path) {
  uint8_t text[] = {
      0x66, 0xba, 0x02, 0x05,       /* mov dx, 0x502 (mark) */
      0xb8, 0x00, 0x10, 0x20, 0x00, /* mov eax, 0x201000 (begin) */
      0xef,                         /* out dx, eax */
      0xb9, HC_N, 0x00, 0x00, 0x00, /* mov ecx, HC_N */
      0x66, 0xba, 0x03, 0x05,       /* loop: mov dx, 0x503 (report) */
      0xb8, 0x40, 0x10, 0x20, 0x00, /* mov eax, 0x201040 */
      0xef,                         /* out dx, eax */
      0xff, 0xc9,                   /* dec ecx */
      0x75, 0xf2,                   /* jnz loop */
      0x66, 0xba, 0x02, 0x05,       /* mov dx, 0x502 (mark) */
      0xb8, 0x10, 0x10, 0x20, 0x00, /* mov eax, 0x201010 (end) */
      0xef,                         /* out dx, eax */
      0x66, 0xba, 0x01, 0x05,       /* mov dx, 0x501 (exit) */
      0xb8, 0x20, 0x10, 0x20, 0x00, /* mov eax, 0x201020 */
      0xef,                         /* out dx, eax */
      0xf4, 0xeb, 0xfd,             /* hlt; jmp hlt */
  };
  uint8_t data[0x100];
  memset(data, 0, sizeof data);
  struct vtb_hc_mark begin = {VTB_REGION_TIMED, VTB_MARK_BEGIN, 0};
  struct vtb_hc_mark end = {VTB_REGION_TIMED, VTB_MARK_END, 0};
  struct vtb_hc_exit ex = {0};
  struct vtb_hc_report rep = {"probe.hc", 7};
  memcpy(data + 0x00, &begin, sizeof begin);
  memcpy(data + 0x10, &end, sizeof end);
  memcpy(data + 0x20, &ex, sizeof ex);
  memcpy(data + 0x40, &rep, sizeof rep);
  struct elf_builder b;
  eb__init(&b, EB_TEXT_GPA);
  eb__add_load(&b, EB_TEXT_GPA, PF_R | PF_X, text, sizeof text, sizeof text);
  eb__add_load(&b, EB_DATA_GPA, PF_R | PF_W, data, sizeof data, 0x1000);
  ck_assert_msg(eb__write(&b, path) == 0, "cannot write %s", path);
  eb__free(&b);
}

START_TEST(hypercalls_are_sub_reasons_by_number) {
  if (itest__kvm_missing()) return;
  char path[64];
  snprintf(path, sizeof path, "/tmp/vtb_probes_hc_%d.elf", (int)getpid());
  write_hypercall_guest(path);
  struct refvmm_result r;
  const char *args[] = {"run", path, "--quiet", "--timeout", "60", NULL};
  run_ok(&r, args);
  unlink(path);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), HC_N);
  assert_reason_consistent(&r, "IO", HC_N);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "hypercall", VTB_HC_REPORT), HC_N);
  /* not also as a raw port, and the marks stay outside the region */
  ck_assert_int_eq(refvmm_result__sub_count(&r, "io_port", VTB_HC_PORT_BASE + VTB_HC_REPORT), 0);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "hypercall", VTB_HC_MARK), 0);
  ck_assert_int_eq(json_array_size(json_object_get(json_object_get(r.run, "exits"), "by_sub")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(
                       json_object_get(json_object_get(r.run, "guest"), "reports"), "probe.hc")),
                   7);
  assert_kvm_io_exits(&r, HC_N);
  refvmm_result__free(&r);
}
END_TEST

/* MMIO exits are accounted per page. */
START_TEST(mmio_exits_by_page) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("mmio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("mmio"), "--param", "n=300", "--quiet", "--timeout", "60", NULL};
  run_ok(&r, args);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 300);
  assert_reason_consistent(&r, "MMIO", 300);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "mmio_page", VTB_MMIO_GPA & ~0xfffull), 300);
  refvmm_result__free(&r);
}
END_TEST

/* --events: libpfm4 strings; software events count, hardware events this
 * host cannot count are reported unsupported (never 0), an unknown name is
 * reported too, and the run goes on. */
START_TEST(events_list_supported_and_unsupported) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {
      "run",   IMG("pio"), "--param",
      "n=200", "--quiet",  "--timeout",
      "60",    "--events", "perf::task-clock,perf::context-switches,perf::cycles,no_such_event_xyz",
      NULL};
  run_ok(&r, args);
  json_t *pmu = json_object_get(r.run, "pmu");
  json_t *tc = json_object_get(pmu, "perf::task-clock");
  ck_assert_msg(json_is_true(json_object_get(tc, "supported")), "task-clock: %s",
                json_string_value(json_object_get(tc, "error")));
  ck_assert_int_gt(json_integer_value(json_object_get(tc, "value")), 0);
  ck_assert_int_gt(json_integer_value(json_object_get(tc, "time_enabled")), 0);
  ck_assert_int_ge(json_integer_value(json_object_get(tc, "scaled")),
                   json_integer_value(json_object_get(tc, "value")));
  ck_assert(
      json_is_true(json_object_get(json_object_get(pmu, "perf::context-switches"), "supported")));
  /* hardware: guest and host variants, supported exactly when the context says so */
  bool hw = json_is_true(json_object_get(
      json_object_get(json_object_get(ctx(&r), "pmu"), "perf_event_open"), "hardware"));
  const char *variants[] = {"perf::cycles@guest", "perf::cycles@host"};
  for (int i = 0; i < 2; i++) {
    json_t *e = json_object_get(pmu, variants[i]);
    ck_assert_msg(e != NULL, "no %s", variants[i]);
    if (hw) continue; /* a host with a PMU may still refuse guest-only counting */
    ck_assert(json_is_false(json_object_get(e, "supported")));
    ck_assert(json_is_null(json_object_get(e, "value")));
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(e, "error")), "perf_event_open"));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "errno")));
  }
  json_t *bad = json_object_get(pmu, "no_such_event_xyz");
  ck_assert(json_is_false(json_object_get(bad, "supported")));
  ck_assert(json_is_null(json_object_get(bad, "value")));
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(bad, "error")), "libpfm4"));
  /* and the run itself is unaffected */
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 200);
  refvmm_result__free(&r);
}
END_TEST

/* The default set: hardware events in guest and host variants plus the
 * software events; none reported as a bare zero when unsupported. */
START_TEST(default_events_never_zero_when_unsupported) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=100", "--quiet", "--timeout", "60", NULL};
  run_ok(&r, args);
  json_t *pmu = json_object_get(r.run, "pmu");
  ck_assert_int_gt(json_object_size(pmu), 3);
  const char *k;
  json_t *e;
  int guest = 0, host = 0, sw = 0;
  json_object_foreach(pmu, k, e) {
    const char *v = json_string_value(json_object_get(e, "variant"));
    guest += !strcmp(v, "guest");
    host += !strcmp(v, "host");
    sw += !strcmp(v, "all");
    if (json_is_false(json_object_get(e, "supported"))) {
      ck_assert_msg(json_is_null(json_object_get(e, "value")), "%s unsupported but has a value", k);
      ck_assert_msg(json_is_string(json_object_get(e, "error")), "%s unsupported without reason",
                    k);
    }
  }
  ck_assert_int_gt(guest, 0);
  ck_assert_int_eq(guest, host);
  ck_assert_int_ge(sw, 1);
  ck_assert(json_is_true(json_object_get(json_object_get(pmu, "perf::task-clock"), "supported")));
  refvmm_result__free(&r);
}
END_TEST

/* --no-pmu keeps exits and KVM stats; pmu is empty. */
START_TEST(no_pmu_keeps_the_rest) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run",       IMG("pio"), "--param",  "n=100", "--quiet",
                        "--timeout", "60",       "--no-pmu", NULL};
  run_ok(&r, args);
  ck_assert_int_eq(json_object_size(json_object_get(r.run, "pmu")), 0);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 100);
  assert_kvm_io_exits(&r, 100);
  refvmm_result__free(&r);
}
END_TEST

/* context: CPU identity, PMU availability, TSC source, KVM flavour and all
 * of its module parameters. */
START_TEST(context_describes_the_host) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=10", "--quiet", "--timeout", "60", NULL};
  run_ok(&r, args);
  json_t *c = ctx(&r), *cpu = json_object_get(c, "cpu");
  ck_assert(json_is_string(json_object_get(cpu, "vendor")));
  ck_assert(json_is_integer(json_object_get(cpu, "family")));
  ck_assert(json_is_integer(json_object_get(cpu, "model")));
  json_t *peo = json_object_get(json_object_get(c, "pmu"), "perf_event_open");
  ck_assert(json_is_boolean(json_object_get(peo, "hardware")));
  ck_assert(json_is_true(json_object_get(peo, "software")));
  ck_assert(json_object_get(json_object_get(c, "pmu"), "core_pmu") != NULL);
  json_t *tsc = json_object_get(c, "tsc");
  ck_assert_int_gt(json_integer_value(json_object_get(tsc, "hz")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(tsc, "hz")),
                   json_integer_value(json_object_get(c, "tsc_hz")));
  ck_assert(json_is_string(json_object_get(tsc, "source")));
  json_t *kvm = json_object_get(c, "kvm");
  const char *f = flavour(&r);
  ck_assert_msg(strcmp(f, "none") && strcmp(f, "unknown"), "flavour %s with /dev/kvm open", f);
  /* every parameter of the flavour's module and of kvm, as sysfs lists them */
  const char *mods[] = {json_string_value(json_object_get(kvm, "module")), "kvm"};
  const char *keys[] = {"params", "kvm_params"};
  for (int i = 0; i < 2; i++) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls /sys/module/%s/parameters 2>/dev/null | wc -l", mods[i]);
    FILE *p = popen(cmd, "r");
    int n = -1;
    ck_assert_int_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    ck_assert_int_gt(n, 0);
    ck_assert_msg(json_object_size(json_object_get(kvm, keys[i])) == (size_t)n,
                  "context.kvm.%s has %zu entries, /sys/module/%s/parameters %d", keys[i],
                  json_object_size(json_object_get(kvm, keys[i])), mods[i], n);
  }
  refvmm_result__free(&r);
}
END_TEST

/* The human summary: exits table, KVM stats that changed and PMU counts,
 * each with units. */
START_TEST(summary_has_stats_and_pmu_with_units) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=500", "--timeout", "60", NULL};
  ck_assert_int_eq(run_refvmm(&r, false, args), 0);
  ck_assert_int_eq(r.exit_code, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "p50 ns"));
  const char *k = strstr(r.out, "kvm stats that changed");
  ck_assert_msg(k != NULL, "no KVM stats in: %s", r.out);
  ck_assert_ptr_nonnull(strstr(k, "unit"));
  /* `exits` moved by at least 500 on every flavour, printed as a count */
  const char *ex = strstr(k, "vcpu exits ");
  ck_assert_ptr_nonnull(ex);
  long long v = 0;
  char unit[16] = "";
  ck_assert_int_eq(sscanf(ex, "vcpu exits %lld %15s", &v, unit), 2);
  ck_assert_int_ge(v, 500);
  ck_assert_str_eq(unit, "count");
  const char *p = strstr(r.out, "pmu event");
  ck_assert_ptr_nonnull(p);
  const char *tc = strstr(p, "perf::task-clock");
  ck_assert_ptr_nonnull(tc);
  unsigned long long raw, scaled;
  ck_assert_int_eq(sscanf(tc, "perf::task-clock %llu %llu %15s", &raw, &scaled, unit), 3);
  ck_assert_str_eq(unit, "ns");
  ck_assert_uint_gt(raw, 0);
  refvmm_result__free(&r);
}
END_TEST

/* --no-probes: the overhead baseline carries no probe sections at all. */
START_TEST(no_probes_has_no_sections) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run",       IMG("pio"), "--param",     "n=100", "--quiet",
                        "--timeout", "60",       "--no-probes", NULL};
  run_ok(&r, args);
  ck_assert_ptr_null(json_object_get(r.run, "exits"));
  ck_assert_ptr_null(json_object_get(r.run, "kvm_stats"));
  ck_assert_ptr_null(json_object_get(r.run, "pmu"));
  refvmm_result__free(&r);
}
END_TEST

/* A kernel without stats fds (KVM_GET_STATS_FD fails with ENOTTY, as on an
 * fd that is no KVM object): the probes say so in the JSON, the PMU still
 * counts, and the document validates. No /dev/kvm needed. */
START_TEST(no_stats_fd_is_reported_and_run_goes_on) {
  int fd = memfd_create("not-kvm", MFD_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  static struct probe_set ps;
  char err[256];
  ck_assert_int_eq(probe_set__open(&ps, fd, fd, 0, "perf::task-clock", true, err, sizeof err), 0);
  ck_assert(!ps.kvm_ok);
  probe_set__begin(&ps);
  for (volatile int i = 0; i < 1000000; i++) {
  }
  probe_set__end(&ps);
  json_t *k = probe_set__kvm_json(&ps);
  ck_assert(json_is_false(json_object_get(k, "available")));
  const char *why = json_string_value(json_object_get(k, "error"));
  ck_assert_msg(why && strstr(why, "KVM_GET_STATS_FD") && strstr(why, "no binary stats fd"),
                "error: %s", why ? why : "(null)");
  json_t *pmu = probe_set__pmu_json(&ps);
  json_t *tc = json_object_get(pmu, "perf::task-clock");
  ck_assert(json_is_true(json_object_get(tc, "supported")));
  ck_assert_int_gt(json_integer_value(json_object_get(tc, "value")), 0);

  char *argv[] = {"test_probes", NULL};
  json_t *doc = result_doc__new(context__collect(1, argv));
  json_t *run =
      json_pack("{s:s, s:{}, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:o, s:o}", "workload",
                "no_stats_fd", "params", "backend", "kvm", "modes", "paging", "shadow", "tlb",
                "flush", "nmi", "poll", "irq", "poll", "status", "ok", "kvm_stats", k, "pmu", pmu);
  result_doc__add_run(doc, run);
  char verr[2048];
  int rc = schema_check__json(doc, verr, sizeof verr);
  ck_assert_msg(rc == 0, "schema: %s", verr);
  json_decref(doc);
  probe_set__close(&ps);
  close(fd);
}
END_TEST

/* KVM_EXIT_HYPERCALL numbers (KVM_HC_*) and refvmm's port hypercalls
 * (VTB_HC_*) are separate number spaces: the same number twice gives two
 * sub-reasons, named apart. */
START_TEST(kvm_and_port_hypercalls_are_apart) {
  static struct exit_stats st;
  exit_stats__init(&st, 1000000000ull, NULL);
  st.enabled = true;
  exit_stats__record(&st, 2, EXIT_SUB_HYPERCALL, 12, 100);
  exit_stats__record(&st, 3, EXIT_SUB_KVM_HYPERCALL, 12, 200);
  exit_stats__record(&st, 3, EXIT_SUB_KVM_HYPERCALL, 12, 300);
  json_t *j = exit_stats__to_json(&st);
  json_t *subs = json_object_get(j, "by_sub");
  ck_assert_int_eq(json_array_size(subs), 2);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(subs, 0), "kind")),
                   "hypercall");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(subs, 1), "kind")),
                   "kvm_hypercall");
  ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(subs, 1), "count")), 2);
  json_decref(j);
}
END_TEST

/* A rate known from KVM replaces detection and says where it came from. */
START_TEST(tsc_rate_records_its_source) {
  timing__tsc_set(1234567000ull, TSC_SRC_KVM, "KVM_GET_TSC_KHZ on the vCPU");
  json_t *t = timing__tsc_json();
  ck_assert_int_eq(json_integer_value(json_object_get(t, "hz")), 1234567000);
  ck_assert_str_eq(json_string_value(json_object_get(t, "source")), "kvm_get_tsc_khz");
  ck_assert_uint_eq(timing__tsc_hz(), 1234567000ull);
  ck_assert_int_eq((int)(timing__ticks_to_ns(1234567) + 0.5), 1000000);
  json_decref(t);
}
END_TEST

/* `vtbench events` lists what this host can count: the same verdicts the
 * runs record (software events open; hardware events exactly when the
 * context says perf_event_open works for them). */
START_TEST(vtbench_events_lists_host_capabilities) {
  const char *bin = getenv("VTBENCH");
  if (!bin || !*bin) bin = "bin/vtbench";
  ck_assert_msg(access(bin, X_OK) == 0, "%s is missing: run make", bin);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s events --json", bin);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  json_error_t je;
  json_t *o = json_loadf(p, 0, &je);
  ck_assert_int_eq(pclose(p), 0);
  ck_assert_msg(o != NULL, "vtbench events --json: %s", je.text);
  json_t *peo = json_object_get(json_object_get(o, "pmu"), "perf_event_open");
  ck_assert(json_is_true(json_object_get(peo, "software")));
  bool hw = json_is_true(json_object_get(peo, "hardware"));
  json_t *evs = json_object_get(o, "events"), *e;
  size_t i, opened = 0, guest = 0;
  ck_assert_int_gt(json_array_size(evs), 3);
  json_array_foreach(evs, i, e) {
    const char *v = json_string_value(json_object_get(e, "variant"));
    ck_assert_ptr_nonnull(v);
    guest += !strcmp(v, "guest");
    bool op = json_is_true(json_object_get(e, "opened"));
    opened += op;
    if (!op)
      ck_assert_msg(json_is_string(json_object_get(e, "error")), "%s: not opened, no reason",
                    json_string_value(json_object_get(e, "label")));
    if (!hw && strcmp(v, "all")) ck_assert(!op);
    if (!strcmp(json_string_value(json_object_get(e, "label")), "perf::task-clock")) ck_assert(op);
  }
  ck_assert_int_gt(guest, 0);
  ck_assert_int_ge(opened, 1);
  size_t nevents = json_array_size(evs);
  json_decref(o);
  /* the table form says how many of them count */
  snprintf(cmd, sizeof cmd, "%s events", bin);
  p = popen(cmd, "r");
  char buf[16384];
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  ck_assert_int_eq(pclose(p), 0);
  char want[64];
  snprintf(want, sizeof want, "%zu of %zu can be counted here", opened, nevents);
  ck_assert_msg(strstr(buf, want) != NULL, "'%s' not in: %s", want, buf);
  ck_assert_ptr_nonnull(strstr(buf, "core PMU (libpfm4"));
}
END_TEST

Suite *suite_probes(void) {
  Suite *s = suite_create("probes");
  TCase *tc = tcase_create("kvm");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, pio_1000_user_and_kvm_counts);
  tcase_add_test(tc, timed_region_excludes_setup);
  tcase_add_test(tc, hypercalls_are_sub_reasons_by_number);
  tcase_add_test(tc, mmio_exits_by_page);
  tcase_add_test(tc, events_list_supported_and_unsupported);
  tcase_add_test(tc, default_events_never_zero_when_unsupported);
  tcase_add_test(tc, no_pmu_keeps_the_rest);
  tcase_add_test(tc, context_describes_the_host);
  tcase_add_test(tc, summary_has_stats_and_pmu_with_units);
  tcase_add_test(tc, no_probes_has_no_sections);
  suite_add_tcase(s, tc);
  TCase *tn = tcase_create("no_kvm");
  tcase_add_test(tn, no_stats_fd_is_reported_and_run_goes_on);
  tcase_add_test(tn, tsc_rate_records_its_source);
  tcase_add_test(tn, kvm_and_port_hypercalls_are_apart);
  tcase_add_test(tn, vtbench_events_lists_host_capabilities);
  suite_add_tcase(s, tn);
  return s;
}
