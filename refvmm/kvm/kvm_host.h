/* kvm_host.h - what KVM this host runs: flavour, module parameters, /dev/kvm,
 * and the modes (paging, tlb, vnmi) those parameters give.
 *
 * paging and tlb are properties of the host's KVM module, not choices refvmm
 * makes per VM: kvm_intel has `ept` and `vpid`, kvm_amd has `npt` (ASIDs are
 * always on), the paravirtual kvm_pvm always uses shadow paging. Detection
 * reads sysfs under a root directory ("/sys" normally, a fixture directory
 * such as tests/fixtures/sysfs/kvm_intel in tests).
 *
 * Users: the KVM backend (kvm_host__detect, kvm_host__check_modes), the
 * result context (results/context.c) and host configuration (vtbench host).
 */
#ifndef REFVMM_KVM_HOST_H
#define REFVMM_KVM_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../vm.h"

enum kvm_flavour {
  KVM_FLAVOUR_NONE,    /* no KVM module */
  KVM_FLAVOUR_INTEL,   /* kvm_intel: VT-x */
  KVM_FLAVOUR_AMD,     /* kvm_amd: SVM */
  KVM_FLAVOUR_PVM,     /* kvm_pvm: paravirtual, no hardware virtualization */
  KVM_FLAVOUR_UNKNOWN, /* kvm loaded but no (or more than one) known vendor module */
};

#define KVM_PARAMS_MAX      128
#define KVM_PARAM_NAME_MAX  64
#define KVM_PARAM_VALUE_MAX 128

struct kvm_param {
  char name[KVM_PARAM_NAME_MAX];
  char value[KVM_PARAM_VALUE_MAX]; /* trailing newline stripped */
  bool readable;                   /* false: the file could not be read (JSON null) */
};

struct kvm_param_set {
  bool present; /* SYSROOT/module/NAME exists */
  int n;        /* sorted by name */
  struct kvm_param p[KVM_PARAMS_MAX];
};

struct kvm_host_info {
  enum kvm_flavour flavour;
  const char *module; /* "kvm_intel", "kvm_amd", "kvm_pvm", "none" or "unknown" */
  int tdp;            /* ept (intel) / npt (amd): 1, 0, or -1 when unknown; pvm 0 */
  int vpid;           /* intel vpid; amd: 1 (ASIDs); pvm 0; -1 when unknown */
  int vnmi;           /* hardware virtual NMIs: 1, 0, -1 unknown */

  char sysroot[256];
  char detail[128];            /* why the flavour is unknown, else "" */
  struct kvm_param_set kvm;    /* parameters of the kvm module */
  struct kvm_param_set vendor; /* parameters of the flavour's module */

  char dev_path[64]; /* "" when no device node was looked at (fixtures) */
  bool dev_present;  /* the node exists */
  bool dev_openable; /* open(O_RDWR) worked */
  int dev_errno;     /* why not, 0 if it did */
  int api_version;   /* KVM_GET_API_VERSION, -1 unknown */
};

/* Fill *out from <sysfs_root>/module/... (sysfs_root NULL = "/sys"); /dev/kvm
 * is looked at only for the live root. 0 always for a readable root (flavour
 * NONE when no KVM is loaded); -errno when sysfs_root cannot be read. */
int kvm_host__detect(const char *sysfs_root, struct kvm_host_info *out);
/* Same, with an explicit device node (NULL: do not look at any). */
int kvm_host__detect_at(const char *sysfs_root, const char *dev_path, struct kvm_host_info *out);

/* "kvm_intel", "kvm_amd", "kvm_pvm", "none", "unknown". */
const char *kvm_flavour__name(enum kvm_flavour f);
/* "Intel VT-x", "AMD SVM", "paravirtual (PVM)", "no KVM", ... */
const char *kvm_flavour__description(enum kvm_flavour f);

/* Value of a parameter of "kvm" or of the vendor module; NULL when absent or
 * unreadable. */
const char *kvm_host__param(const struct kvm_host_info *h, const char *module, const char *name);
/* Y/y/1 -> 1, N/n/0 -> 0, anything else or absent -> -1. */
int kvm_host__param_bool(const struct kvm_host_info *h, const char *module, const char *name);

/* Modes the host gives: 0 and *out, or -ENODEV without a known flavour. */
int kvm_host__paging_mode(const struct kvm_host_info *h, enum paging_mode *out);
int kvm_host__tlb_mode(const struct kvm_host_info *h, enum tlb_mode *out);
/* "ept"/"shadow"; "vpid"/"asid"/"flush"; NULL without a known flavour. */
const char *kvm_host__paging_name(const struct kvm_host_info *h);
const char *kvm_host__tlb_name(const struct kvm_host_info *h);
/* The module parameter that sets the mode ("kvm_intel.ept", "kvm_amd.npt",
 * "kvm_intel.vpid"), or NULL when the flavour fixes it. */
const char *kvm_host__paging_param(const struct kvm_host_info *h);
const char *kvm_host__tlb_param(const struct kvm_host_info *h);

/* Check requested modes against the host and fill in the ones not given
 * with what the host does (paging, tlb). 0, or -1 with a message in err
 * naming the option, the host flavour and the module parameter to change
 * (or that none exists). --paging native is refused (model backend only). */
int kvm_host__check_modes(const struct kvm_host_info *h, struct vm_modes *m, char *err,
                          size_t errlen);

/* {"flavour", "description", "module", ["detail"], "sysfs_root",
 *  "params" {NAME: "value"|null}, "kvm_params" {...},
 *  "dev_kvm" {path, present, openable, error}, "api_version",
 *  "modes" {paging, paging_param, tlb, tlb_param, vnmi}} */
json_t *kvm_host__to_json(const struct kvm_host_info *h);

/* ---- Host configuration: reload the vendor module with other parameters
 * (vtbench host set|restore, matrices with --allow-host-reconfig).
 *
 * Possible only for kvm_intel/kvm_amd built as modules (SYSROOT/module/NAME
 * has a refcnt file), as root, with no VM running (the vendor module's
 * refcnt is 0 and debugfs kvm/ lists no PID-FD directory). The original
 * values of every parameter changed are saved in a state file first (kept
 * if one exists: the first original wins) and put back by restore. */
#define KVM_HOST_SET_MAX 16

struct kvm_host_setting {
  char name[KVM_PARAM_NAME_MAX];   /* parameter of the vendor module ("ept") */
  char value[KVM_PARAM_VALUE_MAX]; /* as given ("0", "Y") */
};

struct kvm_host_plan {
  char module[32]; /* "kvm_intel" / "kvm_amd" */
  int n;
  struct kvm_host_setting set[KVM_HOST_SET_MAX];
};

/* Runs argv (modprobe ...); returns the exit status, or -errno. */
typedef int (*kvm_host_exec_fn)(const char *const argv[], void *arg);

struct kvm_host_env {
  const char *sysroot;    /* NULL = "/sys" */
  const char *debugfs;    /* kvm debugfs dir; NULL = SYSROOT/kernel/debug/kvm */
  const char *state_path; /* NULL = kvm_host__default_state_path() */
  kvm_host_exec_fn exec;  /* NULL = fork + execvp */
  void *exec_arg;
  bool assume_root; /* tests: skip the euid check */
};

/* $VTB_HOST_STATE, else $XDG_STATE_HOME/vtbench/host-state.json, else
 * /var/lib/vtbench/host-state.json for root, ~/.local/state/... otherwise. */
const char *kvm_host__default_state_path(char *buf, size_t len);

/* "ept=0 vpid=1 vnmi=1" words -> plan for h's vendor module. Accepts
 * MODULE.NAME, ept/npt as synonyms for the flavour's TDP parameter. -1 with
 * a message naming the word on an unknown parameter or a malformed word. */
int kvm_host__parse_settings(const struct kvm_host_info *h, int n, char *const words[],
                             struct kvm_host_plan *plan, char *err, size_t errlen);

/* 0 when the module can be reloaded now; -1 with the reason (names the
 * flavour, root, built-in module, running VMs) otherwise. */
int kvm_host__can_reload(const struct kvm_host_info *h, const struct kvm_host_env *env, char *why,
                         size_t len);

/* Save originals, reload with the plan, verify by reading sysfs back; on a
 * failed reload or verification put the originals back. 0, or -1 with msg
 * saying what happened (and that nothing changed where that is so). */
int kvm_host__reconfigure(const struct kvm_host_env *env, const struct kvm_host_plan *plan,
                          char *msg, size_t len);
/* Put back what the state file holds, verify, remove the state file. 0;
 * 1 when there is nothing to restore; -1 with msg. */
int kvm_host__restore(const struct kvm_host_env *env, char *msg, size_t len);

/* For matrices (--allow-host-reconfig): reconfigure to `plan`, run
 * fn(arg), restore, always. SIGINT/SIGTERM/SIGHUP arriving meanwhile are
 * only recorded (kvm_host__interrupted() turns true: fn should stop soon);
 * after the restore the previous handlers come back and the signal is
 * raised again. Returns fn's result, or -1 when the reconfiguration failed
 * (msg says why; fn did not run). A failed restore is reported in msg and
 * leaves the state file for `vtbench host restore`. */
int kvm_host__with_config(const struct kvm_host_env *env, const struct kvm_host_plan *plan,
                          int (*fn)(void *arg), void *arg, char *msg, size_t len);
bool kvm_host__interrupted(void);

/* Human `vtbench host show`: flavour, device, modes and where they come
 * from, parameters of the vendor and kvm modules, whether `host set` can
 * work here and a pending restore. */
void kvm_host__print(const struct kvm_host_info *h, const struct kvm_host_env *env, FILE *out);

#endif
