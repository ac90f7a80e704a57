/* run_exec.h - running a session's jobs: one refvmm process per job
 * (spawn.h) whose result document gives the run record (or a record of
 * the failure, from refvmm's exit status and the last lines of its log),
 * the jobs of one host group in the matrix's interleaved order, groups
 * whose kvm modes need the host's KVM module reloaded
 * (kvm_host__with_config: reload, run, restore, always), and the session
 * document rewritten atomically after every recorded run.
 *
 * SIGINT/SIGTERM/SIGHUP (spawn__catch_signals) end the running refvmm;
 * its run is dropped and the session stops. A backend refvmm reports as
 * not built is skipped for the rest of the session, a configuration
 * refvmm refuses (exit 5) for its other repetitions. */
#ifndef VTBENCH_RUN_EXEC_H
#define VTBENCH_RUN_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "run_plan.h"
#include "run_progress.h"
#include "run_resume.h"

struct run_session {
  const struct run_opts *o;
  const struct run_plan *p;
  json_t *doc;        /* the session document, saved to o->out */
  const char *tmpdir; /* refvmm's run.json and run.log */
  struct run_todo todo;
  struct run_progress progress;
  bool *backend_off, *cfg_off; /* skipped for the rest of the session */
  size_t failed, skipped;      /* runs recorded not ok; repetitions the document held */
};

/* Every group of the plan: the host as it is, then each reconfigured one.
 * VTB_EXIT_OK (also when stopped by a signal: run_exec__stopped() says),
 * VTB_EXIT_IO when the document could not be saved, VTB_EXIT_FAILED when
 * the host's KVM module could not be restored. */
int run_exec__all(struct run_session *s);
/* A stop signal arrived (also while the host was reconfigured). */
bool run_exec__stopped(void);
/* Set session.status, recompute the aggregates (with `aggregates`, unless
 * "running"; without, they are left empty: the session's end computes
 * them, and report and merge compute them from the runs of any document)
 * and write the document atomically. 0, or -1 after printing why. */
int run_exec__save(json_t *doc, const char *path, const char *status, const char *baseline,
                   bool aggregates);

#endif
