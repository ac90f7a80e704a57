/* test_kvm_host_set.c - host reconfiguration (kvm_host.h "Host
 * configuration"): settings parsed against the vendor module, refusals
 * (paravirtual flavour, built-in module, module in use, VMs in debugfs),
 * reload + verify + restore on a scratch sysfs tree with a fake modprobe,
 * originals put back when verification fails, and the live host here
 * refusing without running anything or writing a state file. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "refvmm/kvm/kvm_host.h"

#define FIXTURES "tests/fixtures/sysfs"

static char tmp[256];   /* scratch tree: copy of a fixture */
static char state[320]; /* state file inside it */
static struct kvm_host_info h;

/* A fake modprobe: records calls; `modprobe M k=v` writes v (bools as the
 * kernel shows them) into the scratch tree unless `ignore` is set. */
struct fake {
  int calls, removes;
  bool ignore;
  char last[512];
};

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
  fputs(text, f);
  fclose(f);
}

static char *read_param(const char *module, const char *name, char *buf, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/module/%s/parameters/%s", tmp, module, name);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(buf, (int)len, f));
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

static int fake_exec(const char *const argv[], void *arg) {
  struct fake *fk = arg;
  fk->calls++;
  fk->last[0] = '\0';
  for (int i = 0; argv[i]; i++) {
    strncat(fk->last, argv[i], sizeof fk->last - strlen(fk->last) - 2);
    strcat(fk->last, " ");
  }
  ck_assert_str_eq(argv[0], "modprobe");
  if (strcmp(argv[1], "-r") == 0) {
    fk->removes++;
    return 0;
  }
  if (fk->ignore) return 0;
  for (int i = 2; argv[i]; i++) {
    char kv[256];
    snprintf(kv, sizeof kv, "%s", argv[i]);
    char *eq = strchr(kv, '=');
    ck_assert_ptr_nonnull(eq);
    *eq = '\0';
    const char *v = eq + 1;
    if (!strcmp(v, "1") || !strcmp(v, "y")) v = "Y";
    if (!strcmp(v, "0") || !strcmp(v, "n")) v = "N";
    char path[1024], text[160];
    snprintf(path, sizeof path, "%s/module/%s/parameters/%s", tmp, argv[1], kv);
    snprintf(text, sizeof text, "%s\n", v);
    write_file(path, text);
  }
  return 0;
}

/* Copy fixture `name` to a scratch directory; refcnt < 0: no refcnt file. */
static void scratch(const char *name, const char *module, int refcnt) {
  snprintf(tmp, sizeof tmp, "/tmp/vtb_hostset_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
  char cmd[600];
  snprintf(cmd, sizeof cmd, "cp -r %s/%s/module %s/", FIXTURES, name, tmp);
  ck_assert_int_eq(system(cmd), 0);
  if (refcnt >= 0) {
    char path[400], text[16];
    snprintf(path, sizeof path, "%s/module/%s/refcnt", tmp, module);
    snprintf(text, sizeof text, "%d\n", refcnt);
    write_file(path, text);
  }
  snprintf(state, sizeof state, "%s/state/host-state.json", tmp);
  ck_assert_int_eq(kvm_host__detect(tmp, &h), 0);
}

static void teardown(void) {
  if (!tmp[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  (void)!system(cmd);
  tmp[0] = '\0';
}

static struct kvm_host_env env_for(struct fake *fk) {
  return (struct kvm_host_env){.sysroot = tmp,
                               .debugfs = "/nonexistent/debugfs/kvm",
                               .state_path = state,
                               .exec = fake_exec,
                               .exec_arg = fk,
                               .assume_root = true};
}

START_TEST(settings_parse_against_the_vendor_module) {
  scratch("kvm_intel", "kvm_intel", 0);
  struct kvm_host_plan p;
  char err[512];
  char *ok[] = {"ept=0", "kvm_intel.vpid=1", "vnmi=Y"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 3, ok, &p, err, sizeof err), 0);
  ck_assert_str_eq(p.module, "kvm_intel");
  ck_assert_int_eq(p.n, 3);
  ck_assert_str_eq(p.set[1].name, "vpid");
  ck_assert_str_eq(p.set[2].value, "Y");
  char *bad[] = {"bogus=1"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, bad, &p, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "'bogus'"));
  char *kvm[] = {"kvm.halt_poll_ns=0"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, kvm, &p, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "only parameters of kvm_intel"));
  char *noeq[] = {"ept"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, noeq, &p, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "NAME=VALUE"));
  teardown();
  scratch("kvm_amd", "kvm_amd", 0);
  char *tdp[] = {"ept=0"}; /* the TDP knob under Intel's name */
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, tdp, &p, err, sizeof err), 0);
  ck_assert_str_eq(p.set[0].name, "npt");
  teardown();
  scratch("kvm_pvm", "kvm_pvm", -1);
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, tdp, &p, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "kvm_pvm"));
}
END_TEST

START_TEST(reload_refused_with_the_reason) {
  struct fake fk = {0};
  char why[512];
  scratch("kvm_pvm", "kvm_pvm", -1);
  struct kvm_host_env env = env_for(&fk);
  ck_assert_int_eq(kvm_host__can_reload(&h, &env, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "kvm_pvm"));
  ck_assert_ptr_nonnull(strstr(why, "shadow paging"));
  teardown();
  scratch("kvm_intel", "kvm_intel", -1); /* built in */
  env = env_for(&fk);
  ck_assert_int_eq(kvm_host__can_reload(&h, &env, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "built into the kernel"));
  teardown();
  scratch("kvm_intel", "kvm_intel", 2); /* two VMs hold it */
  env = env_for(&fk);
  ck_assert_int_eq(kvm_host__can_reload(&h, &env, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "in use (refcnt 2"));
  teardown();
  scratch("kvm_intel", "kvm_intel", 0);
  char dbg[400];
  snprintf(dbg, sizeof dbg, "%s/debugfs", tmp);
  ck_assert_int_eq(mkdir(dbg, 0755), 0);
  env = env_for(&fk);
  env.debugfs = dbg;
  ck_assert_int_eq(kvm_host__can_reload(&h, &env, why, sizeof why), 0);
  char vmdir[480];
  snprintf(vmdir, sizeof vmdir, "%s/4242-11", dbg);
  ck_assert_int_eq(mkdir(vmdir, 0755), 0);
  ck_assert_int_eq(kvm_host__can_reload(&h, &env, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "1 VM in debugfs"));
  ck_assert_int_eq(fk.calls, 0);
}
END_TEST

START_TEST(set_verifies_and_restore_puts_back) {
  struct fake fk = {0};
  scratch("kvm_intel", "kvm_intel", 0);
  struct kvm_host_env env = env_for(&fk);
  struct kvm_host_plan p;
  char err[512], msg[1024], buf[64];
  char *w[] = {"ept=0", "vpid=0"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 2, w, &p, err, sizeof err), 0);
  ck_assert_int_eq(kvm_host__reconfigure(&env, &p, msg, sizeof msg), 0);
  ck_assert_str_eq(read_param("kvm_intel", "ept", buf, sizeof buf), "N");
  ck_assert_str_eq(read_param("kvm_intel", "vpid", buf, sizeof buf), "N");
  ck_assert_str_eq(read_param("kvm_intel", "vnmi", buf, sizeof buf), "Y"); /* untouched */
  ck_assert_int_eq(fk.removes, 1);
  ck_assert_int_eq(access(state, R_OK), 0);
  /* the modes follow the parameters */
  ck_assert_int_eq(kvm_host__detect(tmp, &h), 0);
  ck_assert_str_eq(kvm_host__paging_name(&h), "shadow");
  ck_assert_str_eq(kvm_host__tlb_name(&h), "flush");
  /* a second set keeps the first one's originals and its changes */
  char *w2[] = {"vnmi=0"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, w2, &p, err, sizeof err), 0);
  ck_assert_int_eq(kvm_host__reconfigure(&env, &p, msg, sizeof msg), 0);
  ck_assert_str_eq(read_param("kvm_intel", "ept", buf, sizeof buf), "N");
  ck_assert_str_eq(read_param("kvm_intel", "vnmi", buf, sizeof buf), "N");
  /* restore: everything as the fixture had it, state file gone */
  ck_assert_int_eq(kvm_host__restore(&env, msg, sizeof msg), 0);
  ck_assert_ptr_nonnull(strstr(msg, "restored kvm_intel (3 parameters)"));
  ck_assert_str_eq(read_param("kvm_intel", "ept", buf, sizeof buf), "Y");
  ck_assert_str_eq(read_param("kvm_intel", "vpid", buf, sizeof buf), "Y");
  ck_assert_str_eq(read_param("kvm_intel", "vnmi", buf, sizeof buf), "Y");
  ck_assert_int_ne(access(state, F_OK), 0);
  ck_assert_int_eq(kvm_host__restore(&env, msg, sizeof msg), 1);
  ck_assert_ptr_nonnull(strstr(msg, "nothing to restore"));
}
END_TEST

START_TEST(failed_verification_puts_the_originals_back) {
  struct fake fk = {.ignore = true}; /* the "kernel" ignores the new values */
  scratch("kvm_intel", "kvm_intel", 0);
  struct kvm_host_env env = env_for(&fk);
  struct kvm_host_plan p;
  char err[512], msg[1024], buf[64];
  char *w[] = {"ept=0"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, w, &p, err, sizeof err), 0);
  ck_assert_int_eq(kvm_host__reconfigure(&env, &p, msg, sizeof msg), -1);
  ck_assert_ptr_nonnull(strstr(msg, "kvm_intel.ept reads Y after the reload, not 0"));
  ck_assert_ptr_nonnull(strstr(msg, "original parameters were put back"));
  ck_assert_str_eq(read_param("kvm_intel", "ept", buf, sizeof buf), "Y");
  ck_assert_int_ne(access(state, F_OK), 0);
  ck_assert_int_eq(fk.removes, 2); /* the try and the put-back */
}
END_TEST

/* The live host here: refuse, run nothing, write nothing, change nothing. */
START_TEST(live_host_refuses_and_changes_nothing) {
  static struct kvm_host_info before, after;
  ck_assert_int_eq(kvm_host__detect(NULL, &before), 0);
  struct fake fk = {0};
  snprintf(tmp, sizeof tmp, "/tmp/vtb_hostset_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
  snprintf(state, sizeof state, "%s/host-state.json", tmp);
  struct kvm_host_env env = {.state_path = state, .exec = fake_exec, .exec_arg = &fk};
  char why[512], msg[1024];
  int can = kvm_host__can_reload(&before, &env, why, sizeof why);
  if (can == 0) {
    printf("SKIP %s: this host's KVM (%s) can be reloaded; the refusal is tested on fixtures\n",
           __FILE__, before.module);
    return;
  }
  printf("live host: %s\n", why);
  struct kvm_host_plan p = {.n = 1};
  snprintf(p.module, sizeof p.module, "%s", before.module);
  snprintf(p.set[0].name, sizeof p.set[0].name, "ept");
  snprintf(p.set[0].value, sizeof p.set[0].value, "0");
  ck_assert_int_eq(kvm_host__reconfigure(&env, &p, msg, sizeof msg), -1);
  ck_assert_ptr_nonnull(strstr(msg, "nothing was changed"));
  ck_assert_int_eq(fk.calls, 0);
  ck_assert_int_ne(access(state, F_OK), 0);
  ck_assert_int_eq(kvm_host__restore(&env, msg, sizeof msg), 1);
  ck_assert_int_eq(kvm_host__detect(NULL, &after), 0);
  ck_assert_int_eq(after.vendor.n, before.vendor.n);
  for (int i = 0; i < before.vendor.n; i++) {
    ck_assert_str_eq(after.vendor.p[i].name, before.vendor.p[i].name);
    ck_assert_str_eq(after.vendor.p[i].value, before.vendor.p[i].value);
  }
}
END_TEST

/* A matrix interrupted by SIGINT: the work sees the flag, the host is
 * restored, then the signal reaches the previous handler. */
static volatile sig_atomic_t test_got_sigint;
static void test_sigint(int sig) {
  (void)sig;
  test_got_sigint = 1;
}

static int interrupted_work(void *arg) {
  char buf[64];
  ck_assert_str_eq(read_param("kvm_intel", "ept", buf, sizeof buf), "N"); /* reconfigured */
  raise(SIGINT);                                                          /* the user's Ctrl-C */
  ck_assert(kvm_host__interrupted());
  ck_assert(!test_got_sigint); /* held until the restore */
  *(int *)arg = 1;
  return 7;
}

START_TEST(with_config_restores_also_on_sigint) {
  struct fake fk = {0};
  scratch("kvm_intel", "kvm_intel", 0);
  struct kvm_host_env env = env_for(&fk);
  signal(SIGINT, test_sigint);
  struct kvm_host_plan p;
  char err[512], msg[1024], buf[64];
  char *w[] = {"ept=0"};
  ck_assert_int_eq(kvm_host__parse_settings(&h, 1, w, &p, err, sizeof err), 0);
  int ran = 0;
  ck_assert_int_eq(kvm_host__with_config(&env, &p, interrupted_work, &ran, msg, sizeof msg), 7);
  ck_assert_int_eq(ran, 1);
  ck_assert(test_got_sigint);
  ck_assert_str_eq(read_param("kvm_intel", "ept", buf, sizeof buf), "Y");
  ck_assert_int_ne(access(state, F_OK), 0);
  ck_assert_ptr_nonnull(strstr(msg, "restored kvm_intel"));
}
END_TEST

Suite *suite_kvm_host_set(void) {
  Suite *s = suite_create("kvm_host_set");
  TCase *tc = tcase_create("reconfigure");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, settings_parse_against_the_vendor_module);
  tcase_add_test(tc, reload_refused_with_the_reason);
  tcase_add_test(tc, set_verifies_and_restore_puts_back);
  tcase_add_test(tc, failed_verification_puts_the_originals_back);
  tcase_add_test(tc, live_host_refuses_and_changes_nothing);
  tcase_add_test(tc, with_config_restores_also_on_sigint);
  suite_add_tcase(s, tc);
  return s;
}
