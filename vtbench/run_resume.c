/* run_resume.c - see run_resume.h. */
#include "run_resume.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int run_todo__init(struct run_todo *t, const json_t *doc, const struct matrix_job *jobs,
                   size_t njobs, const struct matrix_config *cfgs, size_t ncfg) {
  memset(t, 0, sizeof(*t));
  t->done = run_ids__new();
  t->pending = calloc(ncfg + 1, sizeof(*t->pending));
  if (!t->done || !t->pending) {
    run_todo__free(t);
    return -1;
  }
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(doc, "runs"), i, r) {
    const char *k = json_string_value(json_object_get(r, "config"));
    const json_t *rep = json_object_get(r, "repetition");
    if (k && json_is_integer(rep) &&
        run_ids__add(t->done, k, json_integer_value(rep), 0, NULL) < 0) {
      run_todo__free(t);
      return -1;
    }
  }
  for (size_t j = 0; j < njobs; j++)
    t->pending[jobs[j].config] += !jobs[j].warmup && !run_todo__done(t, &jobs[j], cfgs);
  for (size_t j = 0; j < njobs; j++)
    t->todo += run_todo__needed(t, &jobs[j], cfgs);
  return 0;
}

void run_todo__free(struct run_todo *t) {
  run_ids__free(t->done);
  free(t->pending);
  memset(t, 0, sizeof(*t));
}

bool run_todo__done(const struct run_todo *t, const struct matrix_job *j,
                    const struct matrix_config *cfgs) {
  return run_ids__has(t->done, cfgs[j->config].key, j->rep);
}

bool run_todo__needed(const struct run_todo *t, const struct matrix_job *j,
                      const struct matrix_config *cfgs) {
  return j->warmup ? t->pending[j->config] > 0 : !run_todo__done(t, j, cfgs);
}

void run_todo__record(struct run_todo *t, const struct matrix_job *j,
                      const struct matrix_config *cfgs) {
  run_ids__add(t->done, cfgs[j->config].key, j->rep, 0, NULL);
}

size_t run_todo__remaining(const struct run_todo *t, const struct matrix_job *jobs, size_t njobs,
                           size_t i, const struct matrix_config *cfgs, size_t backend,
                           size_t config) {
  size_t n = 0;
  for (size_t k = i + 1; k < njobs; k++) {
    const struct matrix_config *c = &cfgs[jobs[k].config];
    if ((backend != SIZE_MAX && c->backend != backend) ||
        (config != SIZE_MAX && jobs[k].config != config))
      continue;
    n += run_todo__needed(t, &jobs[k], cfgs);
  }
  return n;
}
