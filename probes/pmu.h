/* pmu.h - PMU counters through libpfm4 and perf_event_open.
 *
 * Events are libpfm4 strings. Each is encoded with
 * pfm_get_os_event_encoding(PFM_OS_PERF_EVENT_EXT); hardware events are
 * opened twice, guest-only (`:mg`) and host-only (`:mh`) so guest and host
 * cost separate, software events once for all ("all": `:mg:mh`). Where an
 * event lacks the mg/mh modifiers the exclude_guest/exclude_host bits are set
 * directly. Events are opened disabled on one thread as groups of at most
 * PMU_GROUP_MAX (PERF_FORMAT_GROUP | ID | TOTAL_TIME_ENABLED | RUNNING);
 * pmu__start/pmu__stop enable/disable every group with PERF_IOC_FLAG_GROUP
 * and accumulate deltas. Counts are scaled for multiplexing (raw kept).
 * An event that cannot be encoded or opened is kept as unsupported with
 * errno and reason, never as zero.
 *
 * Use at the timed region (vCPU thread id `tid`):
 *   pmu__init(p, events_or_NULL, PMU_VARIANTS_DEFAULT, err, len)
 *   pmu__open(p, tid)          once before the guest runs
 *   pmu__start(p)              at mark begin
 *   pmu__stop(p)               at mark end
 *   pmu__to_json(p)            into run.pmu
 *   pmu__close(p)
 */
#ifndef PROBES_PMU_H
#define PROBES_PMU_H

#include <jansson.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define PMU_EVENTS_MAX 64  /* after expansion into variants */
#define PMU_GROUP_MAX  4   /* events per group: fits the generic counters of most PMUs */
#define PMU_NAME_MAX   320 /* AMD umask lists are long */

enum pmu_variant { PMU_VARIANT_ALL, PMU_VARIANT_GUEST, PMU_VARIANT_HOST };
/* Variants for hardware events (software events are always ALL). */
#define PMU_VAR_GUEST        (1u << PMU_VARIANT_GUEST)
#define PMU_VAR_HOST         (1u << PMU_VARIANT_HOST)
#define PMU_VAR_ALL          (1u << PMU_VARIANT_ALL)
#define PMU_VARIANTS_DEFAULT (PMU_VAR_GUEST | PMU_VAR_HOST)

struct pmu_event {
  char name[PMU_NAME_MAX];      /* as given */
  char label[PMU_NAME_MAX + 8]; /* JSON key: name (variant all), "name@guest", "name@host" */
  char fstr[512];               /* libpfm4's fully qualified string */
  enum pmu_variant variant;
  struct perf_event_attr attr;
  bool encoded, opened;
  int err;         /* errno of the failure (0 when supported) */
  char error[192]; /* "perf_event_open: ENOENT (...)" */
  int fd;          /* -1 when not open */
  uint64_t id;     /* PERF_EVENT_IOC_ID */
  int group;       /* index in pmu.groups, -1 if none */
  /* accumulated over start/stop pairs */
  uint64_t value, time_enabled, time_running;
  uint64_t base_value, base_enabled, base_running; /* at the last start */
};

struct pmu_group {
  int leader; /* event index */
  int members[PMU_GROUP_MAX];
  int n;
};

struct pmu {
  struct pmu_event ev[PMU_EVENTS_MAX];
  int nev;
  struct pmu_group groups[PMU_EVENTS_MAX];
  int ngroups;
  pid_t tid;
  bool running;
  uint64_t readbuf[3 + 2 * PMU_GROUP_MAX]; /* one group read, no allocation */
};

/* pfm_initialize once per process. 0, or a libpfm error with a message. */
int pmu__lib_init(char *err, size_t len);
/* pfm_terminate + pfm_initialize: re-reads LIBPFM_FORCE_PMU (tests). */
int pmu__lib_reinit(char *err, size_t len);
/* Name of the present core PMU libpfm4 detected ("skl", "amd64_fam19h_zen3")
 * or NULL when there is none (e.g. no hardware PMU in a VM). */
const char *pmu__core_pmu_name(void);

/* Default hardware events for a libpfm4 core PMU name (generic perf::
 * events for NULL or unknown names) and the software events that work
 * everywhere. Return the count written (at most max). */
int pmu__default_hw_events(const char *core_pmu, const char **out, int max);
int pmu__default_sw_events(const char **out, int max);

/* Encode `events` (comma-separated libpfm4 strings; NULL or "" = defaults
 * for this host) into variants. Encoding failures are recorded per event;
 * returns 0, or -E2BIG (too many events) / -EINVAL (library) with err. */
int pmu__init(struct pmu *p, const char *events, unsigned hw_variants, char *err, size_t len);
/* Open every encoded event on thread `tid` (0 = caller) as groups. Failed
 * events are marked unsupported; returns how many opened. */
int pmu__open(struct pmu *p, pid_t tid);
/* Enable every group (baseline read first); disable and accumulate. */
int pmu__start(struct pmu *p);
int pmu__stop(struct pmu *p);
/* Zero the accumulated values. */
void pmu__clear(struct pmu *p);
void pmu__close(struct pmu *p);

/* scaled = raw * enabled / running. 0 when scaled (running == enabled gives
 * raw), -1 when running == 0 (never scheduled: *scaled untouched). */
int pmu__scale(uint64_t raw, uint64_t enabled, uint64_t running, uint64_t *scaled);

/* {LABEL: {event, variant, supported, value, scaled, time_enabled,
 *  time_running, error, errno, fstr}}; value/scaled null when unsupported. */
json_t *pmu__to_json(const struct pmu *p);
/* Aligned table of the counts (or the reason an event is unsupported). */
void pmu__print(const struct pmu *p, FILE *out);

/* Context: {libpfm_api_version, core_pmu, pmus_present[], perf_event_open
 * {hardware, software, error}, perf_event_paranoid}. */
json_t *pmu__context_json(void);
/* What this host can count (`vtbench events`): each default event and
 * variant with encoded/opened status and the error. */
json_t *pmu__probe_json(void);
void pmu__probe_print(FILE *out);
/* The same for a comma-separated libpfm4 list (NULL: the defaults): each
 * event and variant as {event, label, variant, encoded, opened, error}. */
json_t *pmu__probe_events_json(const char *events);
void pmu__probe_events_print(const char *events, FILE *out);
/* Every event libpfm4 knows for each present PMU: {PMU: ["pmu::EVENT", ...]}. */
json_t *pmu__present_events_json(void);

/* Message for a perf_event_open errno, e.g. "ENOENT (event not supported by
 * this host's PMU: no hardware PMU?)". */
const char *pmu__open_errstr(int err, char *buf, size_t len);

#endif
