/* test_model_workloads.c - every workload image, with small parameters, runs
 * to status ok on the model backend and gives the same checksum as on KVM
 * (the same image, the same parameters; KVM skipped without /dev/kvm).
 * Skips while refvmm does not know the "model" backend or the images are
 * not built. */
#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/backend.h"
#include "refvmm/session.h"

struct wl {
  const char *name;
  const char *params[3];
  bool model_only; /* the KVM host here answers differently (see below) */
};

static const struct wl wls[] = {
    {"compute", {"n=200000"}},
    {"cpuid", {"n=2000"}},
    {"pio", {"n=2000"}},
    {"mmio", {"n=2000"}},
    {"cr3switch", {"n=500"}},
    {"forkwait", {"n=20"}},
    {"pgfault", {"n=500"}},
    {"ptemod", {"n=500"}},
    {"gups", {"n=200000", "ws=1048576"}},
    {"memstream", {"passes=2", "ws=1048576"}},
    {"callret", {"n=200000"}},
    {"syscall", {"n=500"}},
    {"divzero", {"n=200"}},
    {"cr8wr", {"n=2000"}},
    /* model only: on the kvm_pvm host here a ring-0 VMCALL/VMMCALL never
     * completes (ring 0 is emulated; the emulator rewrites the instruction
     * and re-executes it, spinning forever) and a ring-3 VMMCALL returns -1
     * (-KVM_EPERM), so KVM gives no checksum of the model's CPL0 path */
    {"vmcall", {"n=2000"}, true},
};
#define NWL ((int)(sizeof wls / sizeof wls[0]))

/* Run `w` on `backend`; 0 and *checksum, or -1 (skip) / 1 (failed, msg). */
static int run_one(const struct wl *w, const char *backend, uint64_t *checksum, char *msg,
                   size_t msglen) {
  char image[256];
  snprintf(image, sizeof image, "workloads/build/%s.elf", w->name);
  if (access(image, R_OK) != 0) return -1;
  struct vm_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.image = image;
  cfg.backend = backend;
  cfg.mem_size = 256ull << 20;
  cfg.timeout_s = 60;
  cfg.quiet = true;
  for (int i = 0; i < 3 && w->params[i]; i++)
    cfg.params[cfg.nparams++] = w->params[i];
  struct session_opts opts = {.no_probes = true};
  struct session *s = session__new(&cfg, &opts);
  int rc = session__prepare(s);
  if (rc) {
    snprintf(msg, msglen, "%s on %s: prepare failed: %.600s", w->name, backend, s->err);
    session__free(s);
    return 1;
  }
  enum run_status st = session__run(s);
  int ret = 1;
  if (st != RUN_OK) {
    snprintf(msg, msglen, "%s on %s: status %s: %.600s", w->name, backend, run_status__name(st),
             s->vm.status_detail);
  } else {
    for (int i = 0; i < s->vm.nreports; i++)
      if (strcmp(s->vm.reports[i].key, "checksum") == 0) {
        *checksum = s->vm.reports[i].value;
        ret = 0;
      }
    if (ret) snprintf(msg, msglen, "%s on %s: no checksum reported", w->name, backend);
  }
  session__free(s);
  return ret;
}

START_TEST(test_workload_model_vs_kvm) {
  const struct wl *w = &wls[_i];
  if (!backend__find("model")) {
    if (_i == 0) printf("test_model_workloads: skipped: refvmm has no \"model\" backend yet\n");
    return;
  }
  char msg[1024] = "";
  uint64_t cm = 0, ck = 0;
  int rc = run_one(w, "model", &cm, msg, sizeof msg);
  if (rc < 0) {
    printf("test_model_workloads: %s: skipped: image not built\n", w->name);
    return;
  }
  ck_assert_msg(rc == 0, "%s", msg);
  if (w->model_only) return;
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  close(fd);
  rc = run_one(w, "kvm", &ck, msg, sizeof msg);
  ck_assert_msg(rc == 0, "%s", msg);
  ck_assert_msg(cm == ck, "%s: checksum model 0x%llx, kvm 0x%llx", w->name, (unsigned long long)cm,
                (unsigned long long)ck);
}
END_TEST

Suite *suite_model_workloads(void) {
  Suite *s = suite_create("model_workloads");
  TCase *tc = tcase_create("checksums");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_workload_model_vs_kvm, 0, NWL);
  suite_add_tcase(s, tc);
  return s;
}
