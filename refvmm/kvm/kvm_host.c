/* kvm_host.c - KVM host detection from sysfs and /dev/kvm, and the mapping
 * from module parameters to modes.
 */
#include "refvmm/kvm/kvm_host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const flavour_names[] = {
    [KVM_FLAVOUR_NONE] = "none",   [KVM_FLAVOUR_INTEL] = "kvm_intel", [KVM_FLAVOUR_AMD] = "kvm_amd",
    [KVM_FLAVOUR_PVM] = "kvm_pvm", [KVM_FLAVOUR_UNKNOWN] = "unknown",
};

static const char *const flavour_descriptions[] = {
    [KVM_FLAVOUR_NONE] = "no KVM",
    [KVM_FLAVOUR_INTEL] = "Intel VT-x",
    [KVM_FLAVOUR_AMD] = "AMD SVM",
    [KVM_FLAVOUR_PVM] = "paravirtual (PVM)",
    [KVM_FLAVOUR_UNKNOWN] = "unknown KVM flavour",
};

const char *kvm_flavour__name(enum kvm_flavour f) {
  return (unsigned)f <= KVM_FLAVOUR_UNKNOWN ? flavour_names[f] : "unknown";
}

const char *kvm_flavour__description(enum kvm_flavour f) {
  return (unsigned)f <= KVM_FLAVOUR_UNKNOWN ? flavour_descriptions[f] : "unknown KVM flavour";
}

static bool module_present(const char *sysroot, const char *name) {
  char path[512];
  struct stat st;
  snprintf(path, sizeof(path), "%s/module/%s", sysroot, name);
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int param_cmp(const void *a, const void *b) {
  return strcmp(((const struct kvm_param *)a)->name, ((const struct kvm_param *)b)->name);
}

/* Read every file under SYSROOT/module/NAME/parameters/, sorted by name. */
static void read_params(const char *sysroot, const char *name, struct kvm_param_set *set) {
  char dir[512];
  memset(set, 0, sizeof(*set));
  set->present = module_present(sysroot, name);
  if (!set->present) return;
  snprintf(dir, sizeof(dir), "%s/module/%s/parameters", sysroot, name);
  DIR *d = opendir(dir);
  if (!d) return; /* a module without parameters has no such directory */
  struct dirent *de;
  while ((de = readdir(d)) && set->n < KVM_PARAMS_MAX) {
    if (de->d_name[0] == '.') continue;
    struct kvm_param *p = &set->p[set->n++];
    snprintf(p->name, sizeof(p->name), "%.*s", (int)sizeof(p->name) - 1, de->d_name);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, p->value, sizeof(p->value) - 1) : -1;
    if (fd >= 0) close(fd);
    if (n < 0) {
      p->readable = false; /* write-only parameters, directories, dangling links */
      p->value[0] = '\0';
      continue;
    }
    p->readable = true;
    p->value[n] = '\0';
    while (n > 0 && (p->value[n - 1] == '\n' || p->value[n - 1] == ' '))
      p->value[--n] = '\0';
  }
  closedir(d);
  qsort(set->p, (size_t)set->n, sizeof(set->p[0]), param_cmp);
}

static int host_vnmi(const struct kvm_host_info *h);

static void probe_dev(const char *dev_path, struct kvm_host_info *h) {
  struct stat st;
  snprintf(h->dev_path, sizeof(h->dev_path), "%s", dev_path);
  h->dev_present = stat(dev_path, &st) == 0;
  if (!h->dev_present) {
    h->dev_errno = errno;
    return;
  }
  int fd = open(dev_path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    h->dev_errno = errno;
    return;
  }
  h->dev_openable = true;
  int v = ioctl(fd, KVM_GET_API_VERSION, 0);
  h->api_version = v >= 0 ? v : -1;
  close(fd);
}

int kvm_host__detect_at(const char *sysroot, const char *dev_path, struct kvm_host_info *out) {
  struct stat st;
  memset(out, 0, sizeof(*out));
  out->api_version = -1;
  out->module = "none";
  out->tdp = out->vpid = out->vnmi = -1;
  if (!sysroot) sysroot = "/sys";
  snprintf(out->sysroot, sizeof(out->sysroot), "%s", sysroot);
  if (stat(sysroot, &st) != 0) return -errno;
  if (!S_ISDIR(st.st_mode)) return -ENOTDIR;

  static const struct {
    const char *module;
    enum kvm_flavour flavour;
  } vendors[] = {
      {"kvm_intel", KVM_FLAVOUR_INTEL},
      {"kvm_amd", KVM_FLAVOUR_AMD},
      {"kvm_pvm", KVM_FLAVOUR_PVM},
  };
  int found = -1, nfound = 0;
  for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
    if (module_present(sysroot, vendors[i].module)) {
      if (found < 0) found = (int)i;
      nfound++;
    }
  }
  read_params(sysroot, "kvm", &out->kvm);
  if (nfound == 1) {
    out->flavour = vendors[found].flavour;
    out->module = vendors[found].module;
    read_params(sysroot, out->module, &out->vendor);
  } else if (nfound > 1) {
    /* KVM allows one vendor module at a time; do not guess which owns /dev/kvm. */
    out->flavour = KVM_FLAVOUR_UNKNOWN;
    out->module = "unknown";
    snprintf(out->detail, sizeof(out->detail), "more than one vendor module loaded (%s%s%s)",
             module_present(sysroot, "kvm_intel") ? "kvm_intel " : "",
             module_present(sysroot, "kvm_amd") ? "kvm_amd " : "",
             module_present(sysroot, "kvm_pvm") ? "kvm_pvm" : "");
  } else if (out->kvm.present) {
    out->flavour = KVM_FLAVOUR_UNKNOWN;
    out->module = "unknown";
    snprintf(out->detail, sizeof(out->detail),
             "kvm is loaded but no known vendor module (kvm_intel, kvm_amd, kvm_pvm)");
  } else {
    out->flavour = KVM_FLAVOUR_NONE;
  }
  enum paging_mode pm;
  enum tlb_mode tm;
  if (!kvm_host__paging_mode(out, &pm)) out->tdp = pm == PAGING_EPT;
  if (!kvm_host__tlb_mode(out, &tm)) out->vpid = tm == TLB_VPID;
  out->vnmi = host_vnmi(out);
  if (dev_path) probe_dev(dev_path, out);
  return 0;
}

int kvm_host__detect(const char *sysroot, struct kvm_host_info *out) {
  bool live = !sysroot || strcmp(sysroot, "/sys") == 0;
  return kvm_host__detect_at(sysroot, live ? "/dev/kvm" : NULL, out);
}

static const struct kvm_param_set *set_for(const struct kvm_host_info *h, const char *module) {
  if (!module) return NULL;
  if (strcmp(module, "kvm") == 0) return &h->kvm;
  if (h->vendor.present && strcmp(module, h->module) == 0) return &h->vendor;
  return NULL;
}

const char *kvm_host__param(const struct kvm_host_info *h, const char *module, const char *name) {
  const struct kvm_param_set *s = set_for(h, module);
  if (!s) return NULL;
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->p[i].name, name) == 0) return s->p[i].readable ? s->p[i].value : NULL;
  return NULL;
}

int kvm_host__param_bool(const struct kvm_host_info *h, const char *module, const char *name) {
  const char *v = kvm_host__param(h, module, name);
  if (!v) return -1;
  if (!strcmp(v, "Y") || !strcmp(v, "y") || !strcmp(v, "1")) return 1;
  if (!strcmp(v, "N") || !strcmp(v, "n") || !strcmp(v, "0")) return 0;
  return -1;
}

int kvm_host__paging_mode(const struct kvm_host_info *h, enum paging_mode *out) {
  switch (h->flavour) {
  case KVM_FLAVOUR_INTEL:
    *out = kvm_host__param_bool(h, "kvm_intel", "ept") == 1 ? PAGING_EPT : PAGING_SHADOW;
    return 0;
  case KVM_FLAVOUR_AMD:
    *out = kvm_host__param_bool(h, "kvm_amd", "npt") == 1 ? PAGING_EPT : PAGING_SHADOW;
    return 0;
  case KVM_FLAVOUR_PVM:
    *out = PAGING_SHADOW; /* PVM has no second-level translation */
    return 0;
  default:
    return -ENODEV;
  }
}

int kvm_host__tlb_mode(const struct kvm_host_info *h, enum tlb_mode *out) {
  switch (h->flavour) {
  case KVM_FLAVOUR_INTEL:
    *out = kvm_host__param_bool(h, "kvm_intel", "vpid") == 1 ? TLB_VPID : TLB_FLUSH;
    return 0;
  case KVM_FLAVOUR_AMD:
    *out = TLB_VPID; /* SVM always tags translations with ASIDs */
    return 0;
  case KVM_FLAVOUR_PVM:
    *out = TLB_FLUSH; /* no hardware tag for guest translations */
    return 0;
  default:
    return -ENODEV;
  }
}

const char *kvm_host__paging_name(const struct kvm_host_info *h) {
  enum paging_mode m;
  if (kvm_host__paging_mode(h, &m)) return NULL;
  return m == PAGING_EPT ? "ept" : "shadow";
}

const char *kvm_host__tlb_name(const struct kvm_host_info *h) {
  enum tlb_mode m;
  if (kvm_host__tlb_mode(h, &m)) return NULL;
  if (h->flavour == KVM_FLAVOUR_AMD) return "asid";
  return m == TLB_VPID ? "vpid" : "flush";
}

static int host_vnmi(const struct kvm_host_info *h) {
  switch (h->flavour) {
  case KVM_FLAVOUR_INTEL:
    return kvm_host__param_bool(h, "kvm_intel", "vnmi");
  case KVM_FLAVOUR_AMD:
    return kvm_host__param_bool(h, "kvm_amd", "vnmi");
  case KVM_FLAVOUR_PVM:
    return 0;
  default:
    return -1;
  }
}

const char *kvm_host__paging_param(const struct kvm_host_info *h) {
  if (h->flavour == KVM_FLAVOUR_INTEL) return "kvm_intel.ept";
  if (h->flavour == KVM_FLAVOUR_AMD) return "kvm_amd.npt";
  return NULL;
}

const char *kvm_host__tlb_param(const struct kvm_host_info *h) {
  return h->flavour == KVM_FLAVOUR_INTEL ? "kvm_intel.vpid" : NULL;
}

int kvm_host__check_modes(const struct kvm_host_info *h, struct vm_modes *m, char *err,
                          size_t errlen) {
  enum paging_mode pm;
  enum tlb_mode tm;
  const char *fl = kvm_flavour__name(h->flavour);
  const char *desc = kvm_flavour__description(h->flavour);
  if (m->paging_set && m->paging == PAGING_NATIVE) {
    snprintf(err, errlen,
             "--paging native: the KVM backend always virtualizes; native exists only on the "
             "model backend (use --backend model)");
    return -1;
  }
  if (kvm_host__paging_mode(h, &pm) || kvm_host__tlb_mode(h, &tm)) {
    if (!m->paging_set && !m->tlb_set) return 0; /* nothing asked, nothing to fill in */
    snprintf(err, errlen,
             "--%s: KVM flavour is %s%s%s, so this host's paging/tlb mode is unknown; "
             "use --backend model",
             m->paging_set ? "paging" : "tlb", fl, h->detail[0] ? ": " : "", h->detail);
    return -1;
  }
  if (m->paging_set && m->paging != pm) {
    const char *want = m->paging == PAGING_EPT ? "ept" : "shadow";
    const char *knob = kvm_host__paging_param(h);
    if (knob) {
      const char *name = strchr(knob, '.') + 1;
      const char *cur = kvm_host__param(h, h->module, name);
      snprintf(err, errlen,
               "--paging %s: this host's KVM (%s) runs %s paging (%s=%s); reload %s with "
               "%s=%s (vtbench host set %s=%s --yes) or use --backend model",
               want, fl, kvm_host__paging_name(h), knob, cur ? cur : "?", h->module, name,
               m->paging == PAGING_EPT ? "1" : "0", name, m->paging == PAGING_EPT ? "1" : "0");
    } else {
      snprintf(err, errlen,
               "--paging %s: this host's KVM (%s, %s) always uses %s paging and has no "
               "parameter to change it; use --backend model",
               want, fl, desc, kvm_host__paging_name(h));
    }
    return -1;
  }
  if (m->tlb_set && m->tlb != tm) {
    const char *want = m->tlb == TLB_VPID ? "vpid" : "flush";
    const char *knob = kvm_host__tlb_param(h);
    if (knob) {
      const char *cur = kvm_host__param(h, "kvm_intel", "vpid");
      snprintf(err, errlen,
               "--tlb %s: this host's KVM (%s) uses %s (%s=%s); reload kvm_intel with vpid=%s "
               "(vtbench host set vpid=%s --yes) or use --backend model",
               want, fl, kvm_host__tlb_name(h), knob, cur ? cur : "?",
               m->tlb == TLB_VPID ? "1" : "0", m->tlb == TLB_VPID ? "1" : "0");
    } else {
      snprintf(err, errlen,
               "--tlb %s: this host's KVM (%s, %s) always uses %s and has no parameter to "
               "change it; use --backend model",
               want, fl, desc, kvm_host__tlb_name(h));
    }
    return -1;
  }
  if (!m->paging_set) m->paging = pm;
  if (!m->tlb_set) m->tlb = tm;
  return 0;
}

static json_t *params_json(const struct kvm_param_set *s) {
  json_t *o = json_object();
  for (int i = 0; i < s->n; i++)
    json_object_set_new(o, s->p[i].name,
                        s->p[i].readable ? json_string(s->p[i].value) : json_null());
  return o;
}

static json_t *tri_json(int v) {
  return v < 0 ? json_null() : json_boolean(v);
}

static json_t *str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

json_t *kvm_host__to_json(const struct kvm_host_info *h) {
  json_t *o = json_object();
  json_object_set_new(o, "flavour", json_string(kvm_flavour__name(h->flavour)));
  json_object_set_new(o, "description", json_string(kvm_flavour__description(h->flavour)));
  json_object_set_new(o, "module", h->vendor.present ? json_string(h->module) : json_null());
  if (h->detail[0]) json_object_set_new(o, "detail", json_string(h->detail));
  json_object_set_new(o, "sysfs_root", json_string(h->sysroot));
  json_object_set_new(o, "params", params_json(&h->vendor));
  json_object_set_new(o, "kvm_params", params_json(&h->kvm));

  json_t *dev = json_object();
  json_object_set_new(dev, "path", h->dev_path[0] ? json_string(h->dev_path) : json_null());
  if (h->dev_path[0]) {
    json_object_set_new(dev, "present", json_boolean(h->dev_present));
    json_object_set_new(dev, "openable", json_boolean(h->dev_openable));
    json_object_set_new(dev, "error",
                        h->dev_errno ? json_string(strerror(h->dev_errno)) : json_null());
  }
  json_object_set_new(o, "dev_kvm", dev);
  json_object_set_new(o, "api_version",
                      h->api_version >= 0 ? json_integer(h->api_version) : json_null());

  json_t *modes = json_object();
  json_object_set_new(modes, "paging", str_or_null(kvm_host__paging_name(h)));
  json_object_set_new(modes, "paging_param", str_or_null(kvm_host__paging_param(h)));
  json_object_set_new(modes, "tlb", str_or_null(kvm_host__tlb_name(h)));
  json_object_set_new(modes, "tlb_param", str_or_null(kvm_host__tlb_param(h)));
  json_object_set_new(modes, "vnmi", tri_json(h->vnmi));
  json_object_set_new(o, "modes", modes);
  return o;
}
