/* kvm_host_config.c - reload the KVM vendor module with other parameters
 * and put the originals back (kvm_host.h, "Host configuration"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refvmm/kvm/kvm_host.h"

const char *kvm_host__default_state_path(char *buf, size_t len) {
  const char *e = getenv("VTB_HOST_STATE");
  if (e && *e) {
    snprintf(buf, len, "%s", e);
    return buf;
  }
  const char *x = getenv("XDG_STATE_HOME");
  if (x && *x)
    snprintf(buf, len, "%s/vtbench/host-state.json", x);
  else if (geteuid() == 0)
    snprintf(buf, len, "/var/lib/vtbench/host-state.json");
  else
    snprintf(buf, len, "%s/.local/state/vtbench/host-state.json",
             getenv("HOME") ? getenv("HOME") : ".");
  return buf;
}

static const char *state_path(const struct kvm_host_env *env, char *buf, size_t len) {
  return env->state_path ? env->state_path : kvm_host__default_state_path(buf, len);
}

static const char *sysroot_of(const struct kvm_host_env *env) {
  return env->sysroot ? env->sysroot : "/sys";
}

/* ---- parsing ---- */
static bool vendor_has(const struct kvm_host_info *h, const char *name) {
  for (int i = 0; i < h->vendor.n; i++)
    if (strcmp(h->vendor.p[i].name, name) == 0) return true;
  return false;
}

int kvm_host__parse_settings(const struct kvm_host_info *h, int n, char *const words[],
                             struct kvm_host_plan *plan, char *err, size_t errlen) {
  memset(plan, 0, sizeof *plan);
  if (h->flavour != KVM_FLAVOUR_INTEL && h->flavour != KVM_FLAVOUR_AMD) {
    snprintf(err, errlen,
             "this host's KVM is %s (%s): it has no vendor module parameters refvmm can set",
             kvm_flavour__name(h->flavour), kvm_flavour__description(h->flavour));
    return -1;
  }
  snprintf(plan->module, sizeof plan->module, "%s", h->module);
  if (n <= 0) {
    snprintf(err, errlen, "no settings given (e.g. ept=0 vpid=1)");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    const char *w = words[i], *eq = strchr(w, '=');
    if (!eq || eq == w || !eq[1]) {
      snprintf(err, errlen, "'%s': expected NAME=VALUE (e.g. ept=0)", w);
      return -1;
    }
    char name[KVM_PARAM_NAME_MAX];
    size_t nl = (size_t)(eq - w);
    if (nl >= sizeof name) {
      snprintf(err, errlen, "'%s': parameter name too long", w);
      return -1;
    }
    memcpy(name, w, nl);
    name[nl] = '\0';
    const char *dot = strchr(name, '.');
    if (dot) {
      if (strncmp(name, h->module, (size_t)(dot - name)) != 0 ||
          strlen(h->module) != (size_t)(dot - name)) {
        snprintf(err, errlen,
                 "'%s': only parameters of %s can be set (the kvm module is shared: reload it "
                 "by hand)",
                 w, h->module);
        return -1;
      }
      memmove(name, dot + 1, strlen(dot + 1) + 1);
    }
    /* the TDP parameter under either vendor's name */
    if (h->flavour == KVM_FLAVOUR_AMD && strcmp(name, "ept") == 0) strcpy(name, "npt");
    if (h->flavour == KVM_FLAVOUR_INTEL && strcmp(name, "npt") == 0) strcpy(name, "ept");
    if (!vendor_has(h, name)) {
      snprintf(err, errlen, "'%s': %s has no parameter '%s' (see vtbench host show)", w, h->module,
               name);
      return -1;
    }
    if (strlen(eq + 1) >= KVM_PARAM_VALUE_MAX || strpbrk(eq + 1, " \t\n")) {
      snprintf(err, errlen, "'%s': value too long or with spaces", w);
      return -1;
    }
    if (plan->n >= KVM_HOST_SET_MAX) {
      snprintf(err, errlen, "more than %d settings", KVM_HOST_SET_MAX);
      return -1;
    }
    struct kvm_host_setting *s = &plan->set[plan->n++];
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->value, sizeof s->value, "%s", eq + 1);
  }
  return 0;
}

/* ---- can we reload? ---- */
static int read_int_file(const char *path, long *out) {
  FILE *f = fopen(path, "r");
  if (!f) return -errno;
  int ok = fscanf(f, "%ld", out) == 1;
  fclose(f);
  return ok ? 0 : -EINVAL;
}

/* Running VMs as debugfs lists them (PID-FD directories); -1 unknown. */
static int debugfs_vms(const struct kvm_host_env *env) {
  char dir[512];
  if (env->debugfs)
    snprintf(dir, sizeof dir, "%s", env->debugfs);
  else
    snprintf(dir, sizeof dir, "%s/kernel/debug/kvm", sysroot_of(env));
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    unsigned long pid, fd;
    char extra;
    if (sscanf(de->d_name, "%lu-%lu%c", &pid, &fd, &extra) == 2) n++;
  }
  closedir(d);
  return n;
}

int kvm_host__can_reload(const struct kvm_host_info *h, const struct kvm_host_env *env, char *why,
                         size_t len) {
  if (h->flavour != KVM_FLAVOUR_INTEL && h->flavour != KVM_FLAVOUR_AMD) {
    snprintf(why, len,
             "this host's KVM is %s (%s)%s: only kvm_intel and kvm_amd take ept/npt, vpid and "
             "vnmi parameters",
             kvm_flavour__name(h->flavour), kvm_flavour__description(h->flavour),
             h->flavour == KVM_FLAVOUR_PVM ? ", which always uses shadow paging" : "");
    return -1;
  }
  if (!env->assume_root && geteuid() != 0) {
    snprintf(why, len, "reloading %s needs root (run with sudo)", h->module);
    return -1;
  }
  char path[512];
  long refcnt = 0;
  snprintf(path, sizeof path, "%s/module/%s/refcnt", sysroot_of(env), h->module);
  int rc = read_int_file(path, &refcnt);
  if (rc == -ENOENT) {
    snprintf(why, len,
             "%s is built into the kernel (no %s): it cannot be unloaded; set its parameters on "
             "the kernel command line (%s.NAME=VALUE) instead",
             h->module, path, h->module);
    return -1;
  }
  if (rc) {
    snprintf(why, len, "cannot read %s: %s", path, strerror(-rc));
    return -1;
  }
  int vms = debugfs_vms(env);
  if (refcnt > 0 || vms > 0) {
    char vmtext[64] = "";
    if (vms >= 0) snprintf(vmtext, sizeof vmtext, ", %d VM%s in debugfs", vms, vms == 1 ? "" : "s");
    snprintf(why, len, "%s is in use (refcnt %ld%s): stop the other VMs first", h->module, refcnt,
             vmtext);
    return -1;
  }
  return 0;
}

/* ---- running modprobe ---- */
static int exec_default(const char *const argv[], void *arg) {
  (void)arg;
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -errno;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run_cmd(const struct kvm_host_env *env, const char *const argv[]) {
  return env->exec ? env->exec(argv, env->exec_arg) : exec_default(argv, NULL);
}

/* modprobe -r MODULE; modprobe MODULE k=v ... */
static int reload(const struct kvm_host_env *env, const char *module,
                  const struct kvm_host_setting *set, int n, char *msg, size_t len) {
  const char *rm[] = {"modprobe", "-r", module, NULL};
  int rc = run_cmd(env, rm);
  if (rc) {
    snprintf(msg, len, "modprobe -r %s failed (%d)", module, rc);
    return -1;
  }
  char args[KVM_HOST_SET_MAX][KVM_PARAM_NAME_MAX + KVM_PARAM_VALUE_MAX + 2];
  const char *add[KVM_HOST_SET_MAX + 3] = {"modprobe", module};
  for (int i = 0; i < n; i++) {
    snprintf(args[i], sizeof args[i], "%s=%s", set[i].name, set[i].value);
    add[2 + i] = args[i];
  }
  add[2 + n] = NULL;
  rc = run_cmd(env, add);
  if (rc) {
    snprintf(msg, len, "modprobe %s failed (%d)", module, rc);
    return -1;
  }
  return 0;
}

static int as_bool(const char *v) {
  if (!strcmp(v, "Y") || !strcmp(v, "y") || !strcmp(v, "1")) return 1;
  if (!strcmp(v, "N") || !strcmp(v, "n") || !strcmp(v, "0")) return 0;
  return -1;
}

/* The module's parameters now match `set`? Names the first mismatch. */
static int verify(const struct kvm_host_env *env, const char *module,
                  const struct kvm_host_setting *set, int n, char *msg, size_t len) {
  struct kvm_host_info *now = malloc(sizeof *now);
  if (!now) return -1;
  kvm_host__detect_at(sysroot_of(env), NULL, now);
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) {
    const char *v = kvm_host__param(now, module, set[i].name);
    bool same = v && (strcmp(v, set[i].value) == 0 ||
                      (as_bool(v) >= 0 && as_bool(v) == as_bool(set[i].value)));
    if (!same) {
      snprintf(msg, len, "%s.%s reads %s after the reload, not %s", module, set[i].name,
               v ? v : "(absent)", set[i].value);
      rc = -1;
    }
  }
  free(now);
  return rc;
}

/* ---- state file ---- */
static int mkdirs_for(const char *file) {
  char d[512];
  snprintf(d, sizeof d, "%s", file);
  for (char *p = d + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(d, 0755) < 0 && errno != EEXIST) return -errno;
    *p = '/';
  }
  return 0;
}

static int load_state(const char *path, struct kvm_host_plan *orig) {
  memset(orig, 0, sizeof *orig);
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  if (!doc) return access(path, F_OK) == 0 ? -EINVAL : -ENOENT;
  const char *mod = json_string_value(json_object_get(doc, "module"));
  json_t *params = json_object_get(doc, "params");
  if (!mod || !json_is_object(params)) {
    json_decref(doc);
    return -EINVAL;
  }
  snprintf(orig->module, sizeof orig->module, "%s", mod);
  const char *k;
  json_t *v;
  json_object_foreach(params, k, v) {
    if (orig->n >= KVM_HOST_SET_MAX || !json_is_string(v)) continue;
    snprintf(orig->set[orig->n].name, sizeof orig->set[0].name, "%s", k);
    snprintf(orig->set[orig->n].value, sizeof orig->set[0].value, "%s", json_string_value(v));
    orig->n++;
  }
  json_decref(doc);
  return 0;
}

static int save_state(const char *path, const struct kvm_host_plan *orig) {
  json_t *params = json_object();
  for (int i = 0; i < orig->n; i++)
    json_object_set_new(params, orig->set[i].name, json_string(orig->set[i].value));
  json_t *doc = json_pack("{s:s, s:o, s:s}", "module", orig->module, "params", params, "note",
                          "original KVM module parameters; `vtbench host restore` puts them back");
  int rc = mkdirs_for(path);
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (!rc && json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS)) rc = -EIO;
  if (!rc && rename(tmp, path) < 0) rc = -errno;
  json_decref(doc);
  return rc;
}

int kvm_host__reconfigure(const struct kvm_host_env *env, const struct kvm_host_plan *plan,
                          char *msg, size_t len) {
  struct kvm_host_info *h = malloc(sizeof *h);
  struct kvm_host_plan *orig = malloc(sizeof *orig);
  int rc = -1;
  char spbuf[512], why[512];
  const char *sp = state_path(env, spbuf, sizeof spbuf);
  if (!h || !orig) goto out;
  kvm_host__detect_at(sysroot_of(env), NULL, h);
  if (kvm_host__can_reload(h, env, why, sizeof why)) {
    snprintf(msg, len, "cannot reconfigure: %s; nothing was changed", why);
    goto out;
  }
  if (strcmp(h->module, plan->module) != 0) {
    snprintf(msg, len, "the plan is for %s but this host runs %s; nothing was changed",
             plan->module, h->module);
    goto out;
  }
  /* originals: an existing state file's values win (an earlier set) */
  int lrc = load_state(sp, orig);
  if (lrc == -EINVAL) {
    snprintf(msg, len, "state file %s is unreadable: fix or remove it; nothing was changed", sp);
    goto out;
  }
  if (lrc == 0 && strcmp(orig->module, h->module) != 0) {
    snprintf(msg, len, "state file %s is for %s, not %s: restore or remove it first", sp,
             orig->module, h->module);
    goto out;
  }
  if (lrc == -ENOENT) snprintf(orig->module, sizeof orig->module, "%s", h->module);
  for (int i = 0; i < plan->n; i++) {
    bool have = false;
    for (int j = 0; j < orig->n; j++)
      have |= strcmp(orig->set[j].name, plan->set[i].name) == 0;
    const char *cur = kvm_host__param(h, h->module, plan->set[i].name);
    if (have || !cur || orig->n >= KVM_HOST_SET_MAX) continue;
    orig->set[orig->n] = (struct kvm_host_setting){{0}, {0}};
    snprintf(orig->set[orig->n].name, sizeof orig->set[0].name, "%s", plan->set[i].name);
    snprintf(orig->set[orig->n].value, sizeof orig->set[0].value, "%s", cur);
    orig->n++;
  }
  int src = save_state(sp, orig);
  if (src) {
    snprintf(msg, len, "cannot write the state file %s: %s; nothing was changed", sp,
             strerror(-src));
    goto out;
  }
  /* the new set: current values of everything saved (an earlier set
   * stays), then the plan on top */
  struct kvm_host_plan want = *orig;
  for (int j = 0; j < want.n; j++) {
    const char *cur = kvm_host__param(h, h->module, want.set[j].name);
    if (cur) snprintf(want.set[j].value, sizeof want.set[j].value, "%s", cur);
  }
  for (int i = 0; i < plan->n; i++) {
    int j = 0;
    while (j < want.n && strcmp(want.set[j].name, plan->set[i].name) != 0)
      j++;
    if (j == want.n && want.n < KVM_HOST_SET_MAX) want.n++;
    if (j < KVM_HOST_SET_MAX) want.set[j] = plan->set[i];
  }
  char err[512] = "";
  if (reload(env, h->module, want.set, want.n, err, sizeof err) == 0 &&
      verify(env, h->module, plan->set, plan->n, err, sizeof err) == 0) {
    snprintf(msg, len, "reloaded %s; originals saved in %s (vtbench host restore)", h->module, sp);
    rc = 0;
    goto out;
  }
  /* put back what was there */
  char err2[512] = "";
  if (reload(env, h->module, orig->set, orig->n, err2, sizeof err2) == 0 &&
      verify(env, h->module, orig->set, orig->n, err2, sizeof err2) == 0) {
    unlink(sp);
    snprintf(msg, len, "%s; the original parameters were put back", err);
  } else {
    snprintf(msg, len, "%s; putting the originals back failed too (%s): see %s", err, err2, sp);
  }
out:
  free(h);
  free(orig);
  return rc;
}

int kvm_host__restore(const struct kvm_host_env *env, char *msg, size_t len) {
  char spbuf[512], why[512];
  const char *sp = state_path(env, spbuf, sizeof spbuf);
  struct kvm_host_plan *orig = malloc(sizeof *orig);
  struct kvm_host_info *h = malloc(sizeof *h);
  int rc = -1;
  if (!orig || !h) goto out;
  int lrc = load_state(sp, orig);
  if (lrc == -ENOENT) {
    snprintf(msg, len, "nothing to restore (no state file %s)", sp);
    rc = 1;
    goto out;
  }
  if (lrc) {
    snprintf(msg, len, "state file %s is unreadable: %s", sp, strerror(-lrc));
    goto out;
  }
  kvm_host__detect_at(sysroot_of(env), NULL, h);
  if (kvm_host__can_reload(h, env, why, sizeof why)) {
    snprintf(msg, len, "cannot restore: %s; nothing was changed", why);
    goto out;
  }
  if (strcmp(h->module, orig->module) != 0) {
    snprintf(msg, len, "state file %s is for %s but this host runs %s; nothing was changed", sp,
             orig->module, h->module);
    goto out;
  }
  char err[512] = "";
  if (reload(env, orig->module, orig->set, orig->n, err, sizeof err) ||
      verify(env, orig->module, orig->set, orig->n, err, sizeof err)) {
    snprintf(msg, len, "restore failed: %s (state kept in %s)", err, sp);
    goto out;
  }
  unlink(sp);
  snprintf(msg, len, "restored %s (%d parameter%s)", orig->module, orig->n,
           orig->n == 1 ? "" : "s");
  rc = 0;
out:
  free(orig);
  free(h);
  return rc;
}

/* ---- reconfigure around a piece of work ---- */
static volatile sig_atomic_t pending_signal;

static void record_signal(int sig) {
  pending_signal = sig;
}

bool kvm_host__interrupted(void) {
  return pending_signal != 0;
}

int kvm_host__with_config(const struct kvm_host_env *env, const struct kvm_host_plan *plan,
                          int (*fn)(void *arg), void *arg, char *msg, size_t len) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old[3], sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = record_signal;
  sigemptyset(&sa.sa_mask);
  pending_signal = 0;
  for (int i = 0; i < 3; i++)
    sigaction(sigs[i], &sa, &old[i]);
  int rc = -1;
  if (kvm_host__reconfigure(env, plan, msg, len) == 0) {
    rc = pending_signal ? -1 : fn(arg);
    char rmsg[512];
    if (kvm_host__restore(env, rmsg, sizeof rmsg) < 0)
      snprintf(msg, len, "the work ended but the restore failed: %s", rmsg);
    else
      snprintf(msg, len, "ran with %s reconfigured; %s", plan->module, rmsg);
  }
  for (int i = 0; i < 3; i++)
    sigaction(sigs[i], &old[i], NULL);
  if (pending_signal) raise(pending_signal);
  return rc;
}

/* ---- show ---- */
static void print_set(const char *title, const struct kvm_param_set *s, FILE *out) {
  if (!s->present) return;
  fprintf(out, "%s parameters:\n", title);
  for (int i = 0; i < s->n; i++)
    fprintf(out, "  %-36s %s\n", s->p[i].name, s->p[i].readable ? s->p[i].value : "(unreadable)");
}

void kvm_host__print(const struct kvm_host_info *h, const struct kvm_host_env *env, FILE *out) {
  fprintf(out, "flavour   %s (%s)%s%s\n", kvm_flavour__name(h->flavour),
          kvm_flavour__description(h->flavour), h->detail[0] ? ": " : "", h->detail);
  if (h->dev_path[0])
    fprintf(out, "device    %s: %s%s\n", h->dev_path,
            h->dev_openable  ? "openable"
            : h->dev_present ? "present, not openable: "
                             : "absent: ",
            h->dev_openable ? "" : strerror(h->dev_errno));
  const char *pg = kvm_host__paging_name(h), *tl = kvm_host__tlb_name(h);
  const char *pp = kvm_host__paging_param(h), *tp = kvm_host__tlb_param(h);
  fprintf(out, "modes this host gives:\n");
  fprintf(out, "  paging  %-8s %s%s\n", pg ? pg : "unknown",
          pp ? "set by " : "fixed by the flavour", pp ? pp : "");
  fprintf(out, "  tlb     %-8s %s%s\n", tl ? tl : "unknown",
          tp ? "set by " : "fixed by the flavour", tp ? tp : "");
  fprintf(out, "  vnmi    %-8s %s\n",
          h->vnmi < 0 ? "unknown"
          : h->vnmi   ? "yes"
                      : "no",
          h->flavour == KVM_FLAVOUR_INTEL ? "set by kvm_intel.vnmi"
          : h->flavour == KVM_FLAVOUR_AMD ? "set by kvm_amd.vnmi"
                                          : "fixed by the flavour");
  fprintf(out, "  nmi/irq poll|window: refvmm policies, any flavour (refvmm --nmi/--irq)\n");
  print_set(h->module, &h->vendor, out);
  print_set("kvm", &h->kvm, out);
  char why[512];
  if (kvm_host__can_reload(h, env, why, sizeof why))
    fprintf(out, "host set: not possible here: %s\n", why);
  else
    fprintf(out, "host set: possible (vtbench host set NAME=VALUE ... --yes)\n");
  char spbuf[512];
  const char *sp = state_path(env, spbuf, sizeof spbuf);
  if (access(sp, F_OK) == 0) fprintf(out, "pending restore: %s (vtbench host restore)\n", sp);
}
