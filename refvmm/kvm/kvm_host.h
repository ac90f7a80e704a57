/* kvm_host.h - what KVM this host runs: flavour, module parameters, /dev/kvm,
 * and the modes (paging, tlb, vnmi) those parameters give.
 *
 * paging and tlb are properties of the host's KVM module, not choices refvmm
 * makes per VM: kvm_intel has `ept` and `vpid`, kvm_amd has `npt` (ASIDs are
 * always on), the paravirtual kvm_pvm always uses shadow paging. Detection
 * reads sysfs under a root directory ("/sys" normally, a fixture directory
 * such as tests/fixtures/sysfs/kvm_intel in tests).
 *
 * Shared file: the KVM backend's first API (struct kvm_host_info with
 * flavour/module/tdp/vpid, kvm_host__detect, kvm_flavour__name,
 * kvm_host__check_modes) is kept as it was; the rest was added for the
 * result context and host configuration (issue 8).
 */
#ifndef REFVMM_KVM_HOST_H
#define REFVMM_KVM_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
