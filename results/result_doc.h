/* result_doc.h - the versioned JSON result document (jansson).
 *
 * A session writes one document: {schema, context, runs[], aggregates[]}.
 * Sections are json_t objects built by their owners (exit_stats, kvm_stats,
 * pmu, model) and attached to a run; this module owns the envelope, the
 * atomic write and the reader. Schema: results/schema.json, docs/RESULTS.md.
 */
#ifndef RESULTS_RESULT_DOC_H
#define RESULTS_RESULT_DOC_H

#include <jansson.h>

#define VTB_SCHEMA_NAME    "vtbench-result"
#define VTB_SCHEMA_VERSION 1

/* New document with schema and the given context object (stolen). */
json_t *result_doc__new(json_t *context);
/* Append a run object (stolen) to runs[]. */
int result_doc__add_run(json_t *doc, json_t *run);
/* Write atomically: FILE.tmp.PID, fsync, rename. 0 or -errno; on error
 * the previous file at `path` is untouched. */
int result_doc__write(const json_t *doc, const char *path);
/* Read and check the envelope (schema name and a supported version).
 * NULL on error with a message naming the file and problem in err[len]. */
json_t *result_doc__read(const char *path, char *err, size_t len);
/* Check that `path` can be written (directory exists, writable) before any
 * run starts. 0 or -errno with a message in err. */
int result_doc__check_writable(const char *path, char *err, size_t len);

#endif
