/* session.h - one run of one guest: everything refvmm sets up around the
 * backend (memory, image, devices, hypercalls, exit accounting, watchdog),
 * the run itself, and its record (JSON run object, human summary).
 *
 *   s = session__new(&cfg, &opts);
 *   if ((code = session__prepare(s)) != 0) { fprintf(stderr, "%s\n", s->err); ... }
 *   session__add_observer(s, &probe);      optional: timed-region hooks
 *   session__run(s);
 *   summary__print(s, stdout); run = run_record__to_json(s);
 *   session__free(s);
 */
#ifndef REFVMM_SESSION_H
#define REFVMM_SESSION_H

#include <jansson.h>
#include <stdio.h>

#include "../probes/exit_stats.h"
#include "../probes/probe_set.h"
#include "console.h"
#include "devbus.h"
#include "elf_loader.h"
#include "hypercall.h"
#include "run_loop.h"
#include "vm.h"
#include "watchdog.h"

/* What to measure besides time (the CLI's --events, --no-pmu, --no-probes). */
struct session_opts {
  bool no_probes;         /* no exit accounting, KVM stats or PMU: the bare run loop */
  bool no_pmu;            /* KVM stats and exits only */
  const char *pmu_events; /* libpfm4 event list; NULL = the host's default set */
  /* backends with a cost model (docs/COST_MODEL.md): */
  const char *profile_path; /* --profile FILE; NULL = the built-in default profile */
  bool model_baseline;      /* the backend's reference run (--model-baseline run) */
};

struct session {
  struct vm vm;
  struct session_opts opts;
  struct elf_image image;
  struct device_bus bus;
  struct bench_dev bench;
  struct console console;
  struct hypercall_dev hc;
  struct exit_stats stats;
  struct run_loop rl;
  struct watchdog wd;
  const char *progress;    /* the watchdog's progress label; NULL: "the guest" unless quiet */
  struct probe_set probes; /* KVM stats + PMU over the timed region */
  bool probes_open;
  bool created; /* backend create() succeeded */
  bool ran;
  char err[1024]; /* why session__prepare failed */
};

/* Allocate; copies cfg and opts (their strings must outlive the session);
 * opts may be NULL (all probes on, default PMU events). */
struct session *session__new(const struct vm_config *cfg, const struct session_opts *opts);
/* Check modes, build memory, load the image, create the backend VM and
 * vCPU, write boot info, register devices. 0, or the process exit code
 * (EXIT_UNSUPPORTED, EXIT_IMAGE, EXIT_HOST, EXIT_USAGE) with s->err set. */
int session__prepare(struct session *s);
int session__add_observer(struct session *s, const struct run_observer *o);
/* Run with the watchdog; returns the run status (also in s->vm.status). */
enum run_status session__run(struct session *s);
void session__free(struct session *s);

/* summary.c: status, guest reports, timed region, exits table, registers. */
void summary__print(const struct session *s, FILE *out);
/* Status line and detail, for stderr on abnormal ends. */
void summary__print_status(const struct session *s, FILE *out);

/* run_record.c: the run object of the result document (results/schema.json). */
json_t *run_record__to_json(const struct session *s);
/* "compute" for ".../compute.elf" into buf. */
const char *run_record__workload_name(const char *image, char *buf, size_t len);

#endif
