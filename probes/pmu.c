/* pmu.c - libpfm4 encoding, perf_event groups, scaling (see pmu.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np (glibc 2.32) */
#endif
#include "probes/pmu.h"

#include <errno.h>
#include <inttypes.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- default event sets -------------------------------------------------- */

/* Intel Skylake and later: walks completed and cycles with a walk active. */
static const char *const ev_intel_walk_active[] = {
    "UNHALTED_CORE_CYCLES",
    "INSTRUCTION_RETIRED",
    "DTLB_LOAD_MISSES:WALK_COMPLETED",
    "DTLB_LOAD_MISSES:WALK_ACTIVE",
    "DTLB_STORE_MISSES:WALK_COMPLETED",
    "ITLB_MISSES:WALK_COMPLETED",
    "ITLB_MISSES:WALK_ACTIVE",
};
/* Haswell/Broadwell: walk cycles are WALK_DURATION. */
static const char *const ev_intel_walk_duration[] = {
    "UNHALTED_CORE_CYCLES",
    "INSTRUCTION_RETIRED",
    "DTLB_LOAD_MISSES:WALK_COMPLETED",
    "DTLB_LOAD_MISSES:WALK_DURATION",
    "DTLB_STORE_MISSES:WALK_COMPLETED",
    "ITLB_MISSES:WALK_COMPLETED",
    "ITLB_MISSES:WALK_DURATION",
};
#define AMD_L1_DTLB_L2_MISS                                                                        \
  "L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_2M_L2_MISS:TLB_RELOAD_1G_L2_MISS:"                \
  "TLB_RELOAD_COALESCED_PAGE_MISS"
#define AMD_L1_DTLB_ALL                                                                            \
  "L1_DTLB_MISS:TLB_RELOAD_4K_L2_HIT:TLB_RELOAD_2M_L2_HIT:TLB_RELOAD_1G_L2_HIT:"                   \
  "TLB_RELOAD_COALESCED_PAGE_HIT:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_2M_L2_MISS:"                     \
  "TLB_RELOAD_1G_L2_MISS:TLB_RELOAD_COALESCED_PAGE_MISS"
/* AMD Zen 3/4: an L1 DTLB miss that also misses the L2 TLB is a table walk;
 * same for the iTLB. */
static const char *const ev_amd_zen34[] = {
    "CYCLES_NOT_IN_HALT", "RETIRED_INSTRUCTIONS",     AMD_L1_DTLB_ALL,
    AMD_L1_DTLB_L2_MISS,  "L1_ITLB_MISS_L2_ITLB_HIT", "L1_ITLB_MISS_L2_ITLB_MISS:IF4K:IF2M:IF1G",
};
/* Zen 1/2 also have PMCx046 LsTablewalker, which libpfm4 does not name:
 * raw umask 0x3 = data-side walks, 0xc = instruction-side (Linux perf's
 * ls_tablewalker.dside / .iside). */
static const char *const ev_amd_zen12[] = {
    "CYCLES_NOT_IN_HALT", "RETIRED_INSTRUCTIONS",     AMD_L1_DTLB_ALL,
    AMD_L1_DTLB_L2_MISS,  "L1_ITLB_MISS_L2_ITLB_HIT", "L1_ITLB_MISS_L2_ITLB_MISS:IF4K:IF2M:IF1G",
    "perf_raw::r0346",    "perf_raw::r0c46",
};
/* Anything else: the kernel's generic events. */
static const char *const ev_generic[] = {
    "perf::cycles",
    "perf::instructions",
    "perf::dTLB-load-misses",
    "perf::iTLB-load-misses",
};
static const char *const ev_software[] = {
    "perf::task-clock",
    "perf::context-switches",
    "perf::page-faults",
};

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct {
  const char *pmu;
  const char *const *ev;
  int n;
} default_sets[] = {
    {"skl", ev_intel_walk_active, N(ev_intel_walk_active)},
    {"skx", ev_intel_walk_active, N(ev_intel_walk_active)},
    {"clx", ev_intel_walk_active, N(ev_intel_walk_active)},
    {"icl", ev_intel_walk_active, N(ev_intel_walk_active)},
    {"icx", ev_intel_walk_active, N(ev_intel_walk_active)},
    {"spr", ev_intel_walk_active, N(ev_intel_walk_active)},
    {"hsw", ev_intel_walk_duration, N(ev_intel_walk_duration)},
    {"hsw_ep", ev_intel_walk_duration, N(ev_intel_walk_duration)},
    {"bdw", ev_intel_walk_duration, N(ev_intel_walk_duration)},
    {"bdw_ep", ev_intel_walk_duration, N(ev_intel_walk_duration)},
    {"amd64_fam17h_zen1", ev_amd_zen12, N(ev_amd_zen12)},
    {"amd64_fam17h_zen2", ev_amd_zen12, N(ev_amd_zen12)},
    {"amd64_fam19h_zen3", ev_amd_zen34, N(ev_amd_zen34)},
    {"amd64_fam19h_zen4", ev_amd_zen34, N(ev_amd_zen34)},
};

static int copy_list(const char *const *src, int n, const char **out, int max) {
  int k = 0;
  for (; k < n && k < max; k++)
    out[k] = src[k];
  return k;
}

int pmu__default_hw_events(const char *core_pmu, const char **out, int max) {
  for (int i = 0; core_pmu && i < N(default_sets); i++)
    if (!strcmp(default_sets[i].pmu, core_pmu))
      return copy_list(default_sets[i].ev, default_sets[i].n, out, max);
  return copy_list(ev_generic, N(ev_generic), out, max);
}

int pmu__default_sw_events(const char **out, int max) {
  return copy_list(ev_software, N(ev_software), out, max);
}

/* ---- library --------------------------------------------------------------- */

static bool lib_ok;

static int msg(char *err, size_t len, int rc, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int pmu__lib_init(char *err, size_t len) {
  if (lib_ok) return 0;
  int rc = pfm_initialize();
  if (rc != PFM_SUCCESS)
    return msg(err, len, -EINVAL, "libpfm4: pfm_initialize: %s", pfm_strerror(rc));
  lib_ok = true;
  return 0;
}

int pmu__lib_reinit(char *err, size_t len) {
  if (lib_ok) pfm_terminate();
  lib_ok = false;
  return pmu__lib_init(err, len);
}

const char *pmu__core_pmu_name(void) {
  if (pmu__lib_init(NULL, 0)) return NULL;
  pfm_pmu_t p;
  pfm_for_all_pmus(p) {
    pfm_pmu_info_t pi;
    memset(&pi, 0, sizeof(pi));
    pi.size = sizeof(pi);
    if (pfm_get_pmu_info(p, &pi) != PFM_SUCCESS || !pi.is_present) continue;
    if (pi.type == PFM_PMU_TYPE_CORE) return pi.name;
  }
  return NULL;
}

/* ---- encoding ------------------------------------------------------------------ */

static const char *variant_name(enum pmu_variant v) {
  return v == PMU_VARIANT_GUEST ? "guest" : v == PMU_VARIANT_HOST ? "host" : "all";
}

static bool event_has_attr(int idx, const char *attr) {
  pfm_event_info_t ei;
  memset(&ei, 0, sizeof(ei));
  ei.size = sizeof(ei);
  if (pfm_get_event_info(idx, PFM_OS_PERF_EVENT_EXT, &ei) != PFM_SUCCESS) return false;
  for (int a = 0; a < ei.nattrs; a++) {
    pfm_event_attr_info_t ai;
    memset(&ai, 0, sizeof(ai));
    ai.size = sizeof(ai);
    if (pfm_get_event_attr_info(idx, a, PFM_OS_PERF_EVENT_EXT, &ai) != PFM_SUCCESS) continue;
    if (ai.name && !strcmp(ai.name, attr)) return true;
  }
  return false;
}

/* Encode `str` into attr; the fully qualified string into fstr. PFM_* rc. */
static int encode(const char *str, struct perf_event_attr *attr, char *fstr, size_t flen,
                  int *idx) {
  pfm_perf_encode_arg_t arg;
  char *fs = NULL;
  memset(attr, 0, sizeof(*attr));
  memset(&arg, 0, sizeof(arg));
  arg.attr = attr;
  arg.fstr = &fs;
  arg.size = sizeof(arg);
  int rc = pfm_get_os_event_encoding(str, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
  if (rc == PFM_SUCCESS) {
    attr->size = sizeof(*attr);
    if (fstr) snprintf(fstr, flen, "%s", fs ? fs : str);
    if (idx) *idx = arg.idx;
  }
  free(fs);
  return rc;
}

static struct pmu_event *new_event(struct pmu *p, const char *name, enum pmu_variant v,
                                   bool labelled) {
  if (p->nev >= PMU_EVENTS_MAX) return NULL;
  struct pmu_event *e = &p->ev[p->nev++];
  memset(e, 0, sizeof(*e));
  e->fd = -1;
  e->group = -1;
  e->variant = v;
  snprintf(e->name, sizeof(e->name), "%s", name);
  if (labelled)
    snprintf(e->label, sizeof(e->label), "%s@%s", name, variant_name(v));
  else
    snprintf(e->label, sizeof(e->label), "%s", name);
  return e;
}

static void set_unsupported(struct pmu_event *e, int err, const char *fmt, ...) {
  e->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->error, sizeof(e->error), fmt, ap);
  va_end(ap);
}

/* Encode one event in variant v; a failure is recorded on the event. */
static void encode_variant(struct pmu_event *e, int idx, enum pmu_variant v) {
  static const char *const mod[] = {":mg:mh", ":mg", ":mh"};
  char str[PMU_NAME_MAX + 8];
  bool mods = event_has_attr(idx, "mg") && event_has_attr(idx, "mh");
  snprintf(str, sizeof(str), "%s%s", e->name, mods ? mod[v] : "");
  int rc = encode(str, &e->attr, e->fstr, sizeof(e->fstr), NULL);
  if (rc != PFM_SUCCESS) {
    set_unsupported(e, EINVAL, "libpfm4: cannot encode '%s': %s", str, pfm_strerror(rc));
    return;
  }
  if (!mods) { /* no modifiers on this PMU: filter with the attr bits */
    e->attr.exclude_guest = v == PMU_VARIANT_HOST;
    e->attr.exclude_host = v == PMU_VARIANT_GUEST;
  }
  e->encoded = true;
}

static int add_event(struct pmu *p, const char *name, unsigned hw_variants, char *err, size_t len) {
  struct perf_event_attr attr;
  int idx = -1;
  char fstr[512];
  int rc = encode(name, &attr, fstr, sizeof(fstr), &idx);
  if (rc != PFM_SUCCESS) {
    struct pmu_event *e = new_event(p, name, PMU_VARIANT_ALL, false);
    if (!e) return msg(err, len, -E2BIG, "pmu: more than %d events", PMU_EVENTS_MAX);
    set_unsupported(e, rc == PFM_ERR_NOTFOUND ? ENOENT : EINVAL, "libpfm4: cannot encode '%s': %s",
                    name, pfm_strerror(rc));
    return 0;
  }
  /* Explicit guest/host modifiers, or a software event: one variant. */
  bool explicit_mod = strstr(name, ":mg") || strstr(name, ":mh");
  if (explicit_mod || attr.type == PERF_TYPE_SOFTWARE) {
    enum pmu_variant v = PMU_VARIANT_ALL;
    if (explicit_mod && attr.exclude_host && !attr.exclude_guest) v = PMU_VARIANT_GUEST;
    if (explicit_mod && attr.exclude_guest && !attr.exclude_host) v = PMU_VARIANT_HOST;
    struct pmu_event *e = new_event(p, name, v, false);
    if (!e) return msg(err, len, -E2BIG, "pmu: more than %d events", PMU_EVENTS_MAX);
    if (explicit_mod) {
      e->attr = attr;
      snprintf(e->fstr, sizeof(e->fstr), "%s", fstr);
      e->encoded = true;
    } else {
      encode_variant(e, idx, PMU_VARIANT_ALL);
    }
    return 0;
  }
  for (int v = PMU_VARIANT_ALL; v <= PMU_VARIANT_HOST; v++) {
    if (!(hw_variants & (1u << v))) continue;
    struct pmu_event *e = new_event(p, name, (enum pmu_variant)v, v != PMU_VARIANT_ALL);
    if (!e) return msg(err, len, -E2BIG, "pmu: more than %d events", PMU_EVENTS_MAX);
    encode_variant(e, idx, (enum pmu_variant)v);
  }
  return 0;
}

int pmu__init(struct pmu *p, const char *events, unsigned hw_variants, char *err, size_t len) {
  memset(p, 0, sizeof(*p));
  for (int i = 0; i < PMU_EVENTS_MAX; i++)
    p->ev[i].fd = -1;
  int rc = pmu__lib_init(err, len);
  if (rc) return rc;
  if (!hw_variants) hw_variants = PMU_VARIANTS_DEFAULT;
  if (!events || !*events) {
    const char *list[32];
    int n = pmu__default_hw_events(pmu__core_pmu_name(), list, 32);
    n += pmu__default_sw_events(list + n, 32 - n);
    for (int i = 0; i < n; i++)
      if ((rc = add_event(p, list[i], hw_variants, err, len))) return rc;
    return 0;
  }
  char *copy = strdup(events), *save = NULL;
  if (!copy) return msg(err, len, -ENOMEM, "pmu: out of memory");
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ')
      tok++;
    if (!*tok) continue;
    if (strlen(tok) >= PMU_NAME_MAX) {
      free(copy);
      return msg(err, len, -EINVAL, "pmu: event name longer than %d characters: '%.40s...'",
                 PMU_NAME_MAX - 1, tok);
    }
    if ((rc = add_event(p, tok, hw_variants, err, len))) break;
  }
  free(copy);
  return rc;
}

/* ---- opening, reading ----------------------------------------------------------- */

const char *pmu__open_errstr(int err, char *buf, size_t len) {
  const char *why;
  switch (err) {
  case ENOENT:
    why = "event not supported by this host's PMU: no hardware PMU on this host?";
    break;
  case EOPNOTSUPP:
    why = "PMU lacks a needed feature (guest/host filtering, sampling)";
    break;
  case EACCES:
  case EPERM:
    why = "not permitted: see /proc/sys/kernel/perf_event_paranoid or run as root";
    break;
  case EINVAL:
    why = "attributes invalid for this PMU";
    break;
  case ENODEV:
    why = "no such PMU on this host";
    break;
  case EMFILE:
    why = "too many open files";
    break;
  case E2BIG:
    why = "perf_event_attr size not supported by this kernel";
    break;
  case ESRCH:
    why = "no such thread";
    break;
  default:
    why = strerror(err);
    break;
  }
  const char *name = strerrorname_np(err);
  snprintf(buf, len, "%s (%s)", name ? name : "E?", why);
  return buf;
}

static int perf_open(struct perf_event_attr *attr, pid_t tid, int group_fd) {
  return (int)syscall(SYS_perf_event_open, attr, tid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

static int group_key(const struct pmu_event *e) {
  return (int)e->variant * 2 + (e->attr.type == PERF_TYPE_SOFTWARE);
}

int pmu__open(struct pmu *p, pid_t tid) {
  int opened = 0;
  int cur[8]; /* open group per key, -1 none */
  for (int k = 0; k < 8; k++)
    cur[k] = -1;
  p->tid = tid;
  for (int i = 0; i < p->nev; i++) {
    struct pmu_event *e = &p->ev[i];
    if (!e->encoded || e->fd >= 0) continue;
    int key = group_key(e);
    struct pmu_group *g = cur[key] >= 0 ? &p->groups[cur[key]] : NULL;
    if (g && g->n >= PMU_GROUP_MAX) g = NULL;
    e->attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED |
                          PERF_FORMAT_TOTAL_TIME_RUNNING;
    e->attr.disabled = g ? 0 : 1; /* members follow their leader */
    e->attr.inherit = 0;
    int fd = perf_open(&e->attr, tid, g ? p->ev[g->leader].fd : -1);
    if (fd < 0 && g) { /* the group may not fit the counters: alone, it may */
      e->attr.disabled = 1;
      g = NULL;
      fd = perf_open(&e->attr, tid, -1);
    }
    if (fd < 0) {
      char why[128];
      int er = errno;
      set_unsupported(e, er, "perf_event_open: %s", pmu__open_errstr(er, why, sizeof(why)));
      continue;
    }
    if (ioctl(fd, PERF_EVENT_IOC_ID, &e->id) < 0) {
      int er = errno;
      close(fd);
      set_unsupported(e, er, "PERF_EVENT_IOC_ID: %s", strerror(er));
      continue;
    }
    e->fd = fd;
    e->opened = true;
    opened++;
    if (!g) {
      cur[key] = p->ngroups;
      g = &p->groups[p->ngroups++];
      g->leader = i;
      g->n = 0;
    }
    e->group = (int)(g - p->groups);
    g->members[g->n++] = i;
  }
  return opened;
}

/* One read of group g into the per-event `now` triple via cb. */
static int read_group(struct pmu *p, int gi, bool baseline) {
  struct pmu_group *g = &p->groups[gi];
  int fd = p->ev[g->leader].fd;
  size_t want = (3 + 2 * (size_t)g->n) * sizeof(uint64_t);
  ssize_t r = read(fd, p->readbuf, sizeof(p->readbuf));
  if (r < (ssize_t)(3 * sizeof(uint64_t))) return r < 0 ? -errno : -EIO;
  uint64_t nr = p->readbuf[0], te = p->readbuf[1], tr = p->readbuf[2];
  if (nr > PMU_GROUP_MAX || (size_t)r < (3 + 2 * nr) * sizeof(uint64_t)) return -EIO;
  (void)want;
  for (uint64_t k = 0; k < nr; k++) {
    uint64_t val = p->readbuf[3 + 2 * k], id = p->readbuf[4 + 2 * k];
    for (int m = 0; m < g->n; m++) {
      struct pmu_event *e = &p->ev[g->members[m]];
      if (e->id != id) continue;
      if (baseline) {
        e->base_value = val;
        e->base_enabled = te;
        e->base_running = tr;
      } else {
        e->value += val - e->base_value;
        e->time_enabled += te - e->base_enabled;
        e->time_running += tr - e->base_running;
      }
    }
  }
  return 0;
}

int pmu__start(struct pmu *p) {
  int rc = 0;
  for (int g = 0; g < p->ngroups; g++) {
    int r = read_group(p, g, true);
    if (!r && ioctl(p->ev[p->groups[g].leader].fd, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP))
      r = -errno;
    if (r && !rc) rc = r;
  }
  p->running = true;
  return rc;
}

int pmu__stop(struct pmu *p) {
  int rc = 0;
  if (!p->running) return 0;
  for (int g = 0; g < p->ngroups; g++) {
    int r = 0;
    if (ioctl(p->ev[p->groups[g].leader].fd, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP))
      r = -errno;
    if (!r) r = read_group(p, g, false);
    if (r && !rc) rc = r;
  }
  p->running = false;
  return rc;
}

void pmu__clear(struct pmu *p) {
  for (int i = 0; i < p->nev; i++)
    p->ev[i].value = p->ev[i].time_enabled = p->ev[i].time_running = 0;
}

void pmu__close(struct pmu *p) {
  /* members before leaders */
  for (int i = p->nev - 1; i >= 0; i--) {
    if (p->ev[i].fd >= 0) close(p->ev[i].fd);
    p->ev[i].fd = -1;
    p->ev[i].opened = false;
  }
  p->ngroups = 0;
  p->running = false;
}

int pmu__scale(uint64_t raw, uint64_t enabled, uint64_t running, uint64_t *scaled) {
  if (!running) return -1;
  if (running >= enabled) {
    *scaled = raw;
    return 0;
  }
  unsigned __int128 v = (unsigned __int128)raw * enabled / running;
  *scaled = v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
  return 0;
}

/* ---- output ------------------------------------------------------------------------------- */

static bool supported(const struct pmu_event *e) {
  return e->encoded && e->opened;
}

json_t *pmu__to_json(const struct pmu *p) {
  json_t *o = json_object();
  for (int i = 0; i < p->nev; i++) {
    const struct pmu_event *e = &p->ev[i];
    json_t *j = json_object();
    json_object_set_new(j, "event", json_string(e->name));
    json_object_set_new(j, "variant", json_string(variant_name(e->variant)));
    json_object_set_new(j, "supported", json_boolean(supported(e)));
    if (supported(e)) {
      uint64_t sc;
      json_object_set_new(j, "value", json_integer((json_int_t)e->value));
      if (pmu__scale(e->value, e->time_enabled, e->time_running, &sc) == 0) {
        json_object_set_new(j, "scaled", json_integer((json_int_t)sc));
        json_object_set_new(j, "error", json_null());
      } else {
        json_object_set_new(j, "scaled", json_null());
        json_object_set_new(j, "error",
                            json_string(e->time_enabled ? "never scheduled: too many events "
                                                          "for the counters (multiplexing)"
                                                        : "not measured: no timed region"));
      }
      json_object_set_new(j, "time_enabled", json_integer((json_int_t)e->time_enabled));
      json_object_set_new(j, "time_running", json_integer((json_int_t)e->time_running));
      json_object_set_new(j, "errno", json_null());
    } else {
      json_object_set_new(j, "value", json_null());
      json_object_set_new(j, "scaled", json_null());
      json_object_set_new(j, "time_enabled", json_null());
      json_object_set_new(j, "time_running", json_null());
      json_object_set_new(j, "error", json_string(e->error[0] ? e->error : "not opened"));
      const char *en = e->err ? strerrorname_np(e->err) : NULL;
      json_object_set_new(j, "errno", en ? json_string(en) : json_null());
    }
    json_object_set_new(j, "fstr", e->fstr[0] ? json_string(e->fstr) : json_null());
    json_object_set_new(o, e->label, j);
  }
  return o;
}

/* What a count is in: time for the clock events, cycles for cycle events,
 * occurrences for the rest. */
static const char *event_unit(const struct pmu_event *e) {
  if (e->attr.type == PERF_TYPE_SOFTWARE &&
      (e->attr.config == PERF_COUNT_SW_TASK_CLOCK || e->attr.config == PERF_COUNT_SW_CPU_CLOCK))
    return "ns";
  if ((e->attr.type == PERF_TYPE_HARDWARE && (e->attr.config == PERF_COUNT_HW_CPU_CYCLES ||
                                              e->attr.config == PERF_COUNT_HW_REF_CPU_CYCLES ||
                                              e->attr.config == PERF_COUNT_HW_BUS_CYCLES)) ||
      strstr(e->name, "CYCLES") || strstr(e->name, "cycles") || strstr(e->name, "WALK_ACTIVE") ||
      strstr(e->name, "WALK_DURATION"))
    return "cycles";
  return "events";
}

void pmu__print(const struct pmu *p, FILE *out) {
  fprintf(out, "%-44s %16s %16s %-7s %6s\n", "pmu event (timed region)", "count", "scaled", "unit",
          "run %");
  /* The unsupported ones once per reason, with the events it applies to
   * (a host without a hardware PMU refuses every hardware event alike). */
  for (int i = 0; i < p->nev; i++) {
    const struct pmu_event *e = &p->ev[i];
    if (supported(e)) continue;
    bool seen = false;
    for (int k = 0; k < i && !seen; k++)
      seen = !supported(&p->ev[k]) && !strcmp(p->ev[k].error, e->error);
    if (seen) continue;
    fprintf(out, "unsupported: %s:", e->error);
    for (int k = i; k < p->nev; k++)
      if (!supported(&p->ev[k]) && !strcmp(p->ev[k].error, e->error))
        fprintf(out, " %s", p->ev[k].label);
    fprintf(out, "\n");
  }
  for (int i = 0; i < p->nev; i++) {
    const struct pmu_event *e = &p->ev[i];
    if (!supported(e)) continue;
    uint64_t sc;
    bool ok = pmu__scale(e->value, e->time_enabled, e->time_running, &sc) == 0;
    double run = e->time_enabled ? 100.0 * (double)e->time_running / (double)e->time_enabled : 0;
    if (ok)
      fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 " %-7s %5.1f%%\n", e->label, e->value, sc,
              event_unit(e), run);
    else
      fprintf(out, "%-44s %16" PRIu64 " %16s %-7s %5.1f%%\n", e->label, e->value, "not scheduled",
              event_unit(e), run);
  }
}

/* ---- host capabilities ---------------------------------------------------------------------- */

static int try_open(uint32_t type, uint64_t config) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = type;
  a.config = config;
  a.disabled = 1;
  int fd = perf_open(&a, 0, -1);
  if (fd < 0) return -errno;
  close(fd);
  return 0;
}

json_t *pmu__context_json(void) {
  json_t *o = json_object();
  char err[160] = "";
  int ver = pfm_get_version();
  char v[32];
  snprintf(v, sizeof(v), "%d.%d", PFM_MAJ_VERSION(ver), PFM_MIN_VERSION(ver));
  json_object_set_new(o, "libpfm_api_version", json_string(v)); /* LIBPFM_VERSION */
  if (pmu__lib_init(err, sizeof(err))) {
    json_object_set_new(o, "libpfm_error", json_string(err));
  } else {
    const char *core = pmu__core_pmu_name();
    json_object_set_new(o, "core_pmu", core ? json_string(core) : json_null());
    json_t *present = json_array();
    pfm_pmu_t pm;
    pfm_for_all_pmus(pm) {
      pfm_pmu_info_t pi;
      memset(&pi, 0, sizeof(pi));
      pi.size = sizeof(pi);
      if (pfm_get_pmu_info(pm, &pi) == PFM_SUCCESS && pi.is_present)
        json_array_append_new(present, json_string(pi.name));
    }
    json_object_set_new(o, "pmus_present", present);
  }
  json_t *peo = json_object();
  int hw = try_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES);
  int sw = try_open(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
  char why[128];
  json_object_set_new(peo, "hardware", json_boolean(hw == 0));
  json_object_set_new(peo, "software", json_boolean(sw == 0));
  json_object_set_new(peo, "hardware_error",
                      hw ? json_string(pmu__open_errstr(-hw, why, sizeof(why))) : json_null());
  json_object_set_new(peo, "software_error",
                      sw ? json_string(pmu__open_errstr(-sw, why, sizeof(why))) : json_null());
  json_object_set_new(o, "perf_event_open", peo);
  FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
  int par;
  if (f && fscanf(f, "%d", &par) == 1)
    json_object_set_new(o, "perf_event_paranoid", json_integer(par));
  else
    json_object_set_new(o, "perf_event_paranoid", json_null());
  if (f) fclose(f);
  return o;
}

json_t *pmu__probe_events_json(const char *events) {
  json_t *a = json_array();
  struct pmu *p = calloc(1, sizeof(*p));
  char err[192] = "";
  if (!p) return a;
  if (pmu__init(p, events, PMU_VARIANTS_DEFAULT, err, sizeof(err))) {
    json_array_append_new(a, json_pack("{s:s}", "error", err));
    free(p);
    return a;
  }
  pmu__open(p, 0);
  for (int i = 0; i < p->nev; i++) {
    const struct pmu_event *e = &p->ev[i];
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?}", "event", e->name, "label",
                                       e->label, "variant", variant_name(e->variant), "encoded",
                                       e->encoded, "opened", e->opened, "error",
                                       e->error[0] ? e->error : NULL));
  }
  pmu__close(p);
  free(p);
  return a;
}

json_t *pmu__probe_json(void) {
  return pmu__probe_events_json(NULL);
}

void pmu__probe_events_print(const char *events, FILE *out) {
  json_t *a = pmu__probe_events_json(events);
  size_t i;
  json_t *e;
  fprintf(out, "%-56s %-8s %-7s %s\n", "event", "encoded", "opened", "reason");
  json_array_foreach(a, i, e) {
    json_t *err = json_object_get(e, "error");
    if (json_object_get(e, "label") == NULL) {
      fprintf(out, "%s\n", json_string_value(err));
      continue;
    }
    fprintf(out, "%-56s %-8s %-7s %s\n", json_string_value(json_object_get(e, "label")),
            json_is_true(json_object_get(e, "encoded")) ? "yes" : "no",
            json_is_true(json_object_get(e, "opened")) ? "yes" : "no",
            json_is_string(err) ? json_string_value(err) : "");
  }
  json_decref(a);
}

void pmu__probe_print(FILE *out) {
  const char *core = pmu__core_pmu_name();
  fprintf(out, "core PMU (libpfm4): %s\n", core ? core : "none detected");
  pmu__probe_events_print(NULL, out);
}

json_t *pmu__present_events_json(void) {
  json_t *o = json_object();
  if (pmu__lib_init(NULL, 0)) return o;
  pfm_pmu_t pm;
  pfm_for_all_pmus(pm) {
    pfm_pmu_info_t pi;
    memset(&pi, 0, sizeof(pi));
    pi.size = sizeof(pi);
    if (pfm_get_pmu_info(pm, &pi) != PFM_SUCCESS || !pi.is_present) continue;
    json_t *names = json_array();
    for (int idx = pi.first_event; idx != -1; idx = pfm_get_event_next(idx)) {
      pfm_event_info_t ei;
      memset(&ei, 0, sizeof(ei));
      ei.size = sizeof(ei);
      if (pfm_get_event_info(idx, PFM_OS_PERF_EVENT_EXT, &ei) != PFM_SUCCESS || !ei.name) continue;
      char full[PMU_NAME_MAX];
      snprintf(full, sizeof(full), "%s::%s", pi.name, ei.name);
      json_array_append_new(names, json_string(full));
    }
    json_object_set_new(o, pi.name, names);
  }
  return o;
}
