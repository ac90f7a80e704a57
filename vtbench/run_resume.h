/* run_resume.h - which of a session's jobs still have to run: a
 * repetition is done when the document holds a run with its configuration
 * key and repetition number (a resumed document, or a run recorded
 * earlier in this session); a warm-up round of a configuration runs only
 * while the configuration has repetitions left (a configuration whose
 * repetitions are all done needs no warm-up). */
#ifndef VTBENCH_RUN_RESUME_H
#define VTBENCH_RUN_RESUME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "matrix.h"
#include "run_ids.h"

struct run_todo {
  struct run_ids *done; /* identities of the document's runs */
  size_t *pending;      /* per configuration: repetitions not done when the session started */
  size_t todo;          /* jobs to run, warm-ups included */
};

/* From the document's runs and the session's jobs. 0, or -1 (out of memory). */
int run_todo__init(struct run_todo *t, const json_t *doc, const struct matrix_job *jobs,
                   size_t njobs, const struct matrix_config *cfgs, size_t ncfg);
void run_todo__free(struct run_todo *t);
/* Whether job j has to run. */
bool run_todo__needed(const struct run_todo *t, const struct matrix_job *j,
                      const struct matrix_config *cfgs);
/* Whether the document holds repetition j of its configuration. */
bool run_todo__done(const struct run_todo *t, const struct matrix_job *j,
                    const struct matrix_config *cfgs);
/* A run of job j was recorded. */
void run_todo__record(struct run_todo *t, const struct matrix_job *j,
                      const struct matrix_config *cfgs);
/* Jobs after jobs[i] that have to run, of one backend (SIZE_MAX: any) and
 * one configuration (SIZE_MAX: any). */
size_t run_todo__remaining(const struct run_todo *t, const struct matrix_job *jobs, size_t njobs,
                           size_t i, const struct matrix_config *cfgs, size_t backend,
                           size_t config);

#endif
