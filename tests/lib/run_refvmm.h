/* run_refvmm.h - run bin/refvmm (or bin/vtbench) as a subprocess for
 * integration tests: capture stdout, stderr and the exit code, and load
 * refvmm's --json result.
 *
 * The binary is $REFVMM, else bin/refvmm relative to the current directory
 * (tests run from the repository root). */
#ifndef TESTS_LIB_RUN_REFVMM_H
#define TESTS_LIB_RUN_REFVMM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct refvmm_result {
  int exit_code; /* process exit status; -1 when killed by a signal */
  int term_signal;
  char *out, *err; /* captured, NUL-terminated (malloc'ed) */
  char json_path[256];
  json_t *doc; /* the --json document, NULL when none was written */
  json_t *run; /* borrowed: doc.runs[0] or NULL */
};

/* Run `refvmm ARGS...` (args NULL-terminated, without argv[0]). With
 * want_json, "--json TMPFILE" is appended and the file loaded afterwards.
 * 0, or -1 when the process could not be started. */
int run_refvmm(struct refvmm_result *r, bool want_json, const char *const *args);
/* Run `vtbench ARGS...` ($VTBENCH, else bin/vtbench; a missing binary fails
 * the test) with the extra environment entries `env` ("K=V" strings,
 * NULL-terminated, or NULL). exit_code, term_signal, out and err are set;
 * no JSON is loaded. 0, or -1 when the process could not be started. Free
 * with refvmm_result__free(). */
int run_vtbench(struct refvmm_result *r, const char *const *env, const char *const *args);
void refvmm_result__free(struct refvmm_result *r);
/* Load r->json_path into r->doc / r->run and check it against
 * results/schema.json (tests/lib/schema_check.h); a document that is not
 * JSON or does not validate fails the calling Check test. run_refvmm() does
 * this for every --json it requested. */
void run_refvmm__load_json(struct refvmm_result *r);

/* Helpers over r->run. */
json_t *refvmm_result__get(const struct refvmm_result *r, const char *path); /* "a.b", NULL */
int64_t refvmm_result__int(const struct refvmm_result *r, const char *path); /* "a.b.c", -1 */
const char *refvmm_result__str(const struct refvmm_result *r, const char *path);
/* Count of exits.by_sub entries of `kind` ("io_port", "hypercall", ...) and key; 0 none. */
int64_t refvmm_result__sub_count(const struct refvmm_result *r, const char *kind, uint64_t key);

#endif
